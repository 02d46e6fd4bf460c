package tokens

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Defaults of a [RemoteKeySet].
const (
	DefaultJWKSRefresh = 5 * time.Minute
	// MinJWKSRefetch spaces the fetches that an unknown kid triggers.
	MinJWKSRefetch = 10 * time.Second
	maxJWKSBytes   = 1 << 20
)

// RemoteKeySet is a [KeySource] over a JWKS URL, for resource servers that
// run apart from the authorization server. It fetches the set on first use
// and again once RefreshInterval has passed; a kid it does not know makes
// it fetch at once, but no more often than every MinJWKSRefetch. If a
// fetch fails, it keeps using the keys it has. Keys of another use than
// "sig", symmetric keys and RSA keys under MinRSABits are ignored.
//
// Set its fields before the first call; it is safe for concurrent use
// afterwards.
type RemoteKeySet struct {
	// URL is the jwks_uri (required).
	URL string
	// Client makes the requests; nil means a client with a 10 s timeout.
	Client *http.Client
	// RefreshInterval is the age at which the keys are fetched again; zero
	// means DefaultJWKSRefresh.
	RefreshInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	fetchMu sync.Mutex // one fetch at a time
	state   atomic.Pointer[remoteState]
}

type remoteState struct {
	keys      map[string]*PublicKey
	fetched   time.Time // last successful fetch
	attempted time.Time // last fetch, successful or not
}

var defaultJWKSClient = &http.Client{Timeout: 10 * time.Second}

func (r *RemoteKeySet) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// PublicKey returns the key with that kid from the remote JWKS. It
// implements [KeySource].
func (r *RemoteKeySet) PublicKey(ctx context.Context, kid string) (*PublicKey, error) {
	refresh := r.RefreshInterval
	if refresh <= 0 {
		refresh = DefaultJWKSRefresh
	}
	now := r.now()
	st := r.state.Load()
	if st != nil {
		k, known := st.keys[kid]
		fresh := now.Sub(st.fetched) < refresh
		mayFetch := now.Sub(st.attempted) >= MinJWKSRefetch
		switch {
		case known && (fresh || !mayFetch):
			return k, nil
		case !known && !mayFetch:
			return nil, fmt.Errorf("%w %q", ErrUnknownKey, kid)
		}
	}
	st, err := r.refresh(ctx, st)
	if st == nil {
		return nil, err
	}
	if k, ok := st.keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownKey, kid)
}

// refresh fetches the JWKS unless another caller did so since seen was
// loaded. It returns the state to use, which is the previous one if the
// fetch failed, and the fetch's error.
func (r *RemoteKeySet) refresh(ctx context.Context, seen *remoteState) (*remoteState, error) {
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	if cur := r.state.Load(); cur != seen {
		return cur, nil // refreshed while we waited
	}
	now := r.now()
	keys, err := r.fetch(ctx)
	if err != nil {
		if seen == nil {
			return nil, err
		}
		next := *seen
		next.attempted = now
		r.state.Store(&next)
		return &next, err
	}
	next := &remoteState{keys: keys, fetched: now, attempted: now}
	r.state.Store(next)
	return next, nil
}

func (r *RemoteKeySet) fetch(ctx context.Context) (map[string]*PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("tokens: fetch jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	client := r.Client
	if client == nil {
		client = defaultJWKSClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("tokens: fetch jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tokens: fetch jwks %s: status %s", r.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tokens: fetch jwks %s: %w", r.URL, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("tokens: fetch jwks %s: larger than %d bytes", r.URL, maxJWKSBytes)
	}
	return parseJWKS(body)
}

// parseJWKS returns the verification keys of a JWK Set by kid: public keys
// (the public part of any private key) of type EC, RSA (at least
// MinRSABits) or OKP Ed25519, whose use, if present, is "sig". Keys without
// a kid and other keys are skipped.
func parseJWKS(data []byte) (map[string]*PublicKey, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("tokens: parse jwks: %w", err)
	}
	keys := make(map[string]*PublicKey, set.Len())
	for i := range set.Len() {
		key, _ := set.Key(i)
		if key.KeyID() == "" || (key.KeyUsage() != "" && key.KeyUsage() != "sig") {
			continue
		}
		var raw any
		if err := key.Raw(&raw); err != nil {
			continue
		}
		pub := publicPart(raw)
		if pub == nil {
			continue
		}
		if rk, ok := pub.(*rsa.PublicKey); ok && rk.N.BitLen() < MinRSABits {
			continue
		}
		keys[key.KeyID()] = &PublicKey{ID: key.KeyID(), Algorithm: key.Algorithm().String(), Key: pub}
	}
	return keys, nil
}

// publicPart returns the public key of an asymmetric raw key, or nil.
func publicPart(raw any) crypto.PublicKey {
	switch k := raw.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
		return k
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case *rsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	}
	return nil
}
