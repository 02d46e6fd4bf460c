package tokens

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Signature algorithms a [KeySet] signs with. The [Verifier] also accepts
// ES384, ES512, RS384, RS512, PS256, PS384 and PS512 from a remote JWKS when
// they are in its allow-list; it never accepts "none" or the HMAC family.
const (
	ES256 = "ES256" // ECDSA on P-256 with SHA-256: the default
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys
	EdDSA = "EdDSA" // Ed25519
)

// MinRSABits is the smallest RSA modulus a key set or a verifier accepts.
const MinRSABits = 2048

// ErrUnknownKey is returned, wrapped, by a [KeySource] that has no key with
// the requested kid. The [Verifier] reports it as invalid_token.
var ErrUnknownKey = errors.New("tokens: unknown key id")

// PublicKey is a key that verifies token signatures.
type PublicKey struct {
	// ID is the key's kid.
	ID string
	// Algorithm is the JWK's alg, or "" when the JWKS did not name one; the
	// verifier then requires only that the token's alg fits the key type.
	Algorithm string
	// Key is an *ecdsa.PublicKey, *rsa.PublicKey or ed25519.PublicKey.
	Key crypto.PublicKey
}

// KeySource finds the public key a token names by its kid. A [KeySet] is
// one (for the authorization server itself and resource servers in the same
// process); a [RemoteKeySet] is another (for resource servers elsewhere).
type KeySource interface {
	// PublicKey returns the published key with that kid, or an error
	// wrapping ErrUnknownKey. Any other error is a failure to look keys up.
	PublicKey(ctx context.Context, kid string) (*PublicKey, error)
}

// KeySet holds an authorization server's signing keys. It is safe for
// concurrent use.
//
// Each key has a kid, its RFC 7638 JWK thumbprint (SHA-256, base64url). One
// key signs at a time; every published key verifies. [KeySet.Rotate] adds a
// key that is published at once but signs only later, and keeps the key it
// replaces published until the tokens it signed have expired. The JWKS that
// [KeySet.Handler] serves lists the published keys' public parts.
//
// A KeySet marshals to JSON with its private keys and their schedule (see
// [KeySet.MarshalJSON]), so a server can persist it and instances can share
// it: they agree on which key signs because the schedule is in absolute
// times.
type KeySet struct {
	// Now is the clock that decides which key signs and which are
	// published; nil means time.Now. Set it before the set is shared.
	Now func() time.Time

	mu   sync.RWMutex
	keys []*signingKey // in activation order; ties keep load order
}

// signingKey is one private key, parsed once, with everything signing and
// publishing need precomputed.
type signingKey struct {
	pub       PublicKey
	priv      crypto.Signer
	privJWK   jwk.Key
	pubJSON   []byte     // the public JWK with kid, use and alg
	header    string     // the base64url protected header of its tokens
	signer    jws.Signer // jwx's signer for its algorithm
	activates time.Time  // it signs from then on (zero: from the start)
	expires   time.Time  // it is withdrawn then (zero: never scheduled)
}

func (s *KeySet) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// GenerateKeySet returns a key set holding one new key for alg (ES256,
// RS256 or EdDSA; "" means ES256), which signs at once.
func GenerateKeySet(alg string) (*KeySet, error) {
	k, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	return &KeySet{keys: []*signingKey{k}}, nil
}

// KeySetFromPEM returns a key set of the private keys in the PEM blocks of
// data (PKCS #8, SEC 1 "EC PRIVATE KEY" or PKCS #1 "RSA PRIVATE KEY"). The
// first key signs; the others are published for verification only. alg
// names the algorithm of every key; "" infers it from the key type (ES256
// for P-256, EdDSA for Ed25519, RS256 for RSA).
func KeySetFromPEM(data []byte, alg string) (*KeySet, error) {
	set, err := jwk.Parse(data, jwk.WithPEM(true))
	if err != nil {
		return nil, fmt.Errorf("tokens: parse pem: %w", err)
	}
	return keySetFrom(set, alg, "pem")
}

// KeySetFromJWK returns a key set of the private keys in data, a JWK or a
// JWK Set. The first key signs; the others are published for verification
// only. Each key's algorithm is its alg member, or inferred from the key
// type when absent. A kid in the input is replaced by the key's thumbprint.
func KeySetFromJWK(data []byte) (*KeySet, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("tokens: parse jwk: %w", err)
	}
	return keySetFrom(set, "", "jwk")
}

func keySetFrom(set jwk.Set, alg, what string) (*KeySet, error) {
	if set.Len() == 0 {
		return nil, fmt.Errorf("tokens: %s holds no key", what)
	}
	ks := &KeySet{}
	for i := range set.Len() {
		key, _ := set.Key(i)
		k, err := keyFromJWK(key, alg)
		if err != nil {
			return nil, fmt.Errorf("tokens: %s key %d: %w", what, i, err)
		}
		ks.keys = append(ks.keys, k)
	}
	return ks, nil
}

// keyFromJWK builds a signing key from a private JWK. alg overrides the
// JWK's alg when not empty.
func keyFromJWK(key jwk.Key, alg string) (*signingKey, error) {
	if alg == "" {
		alg = key.Algorithm().String()
	}
	var raw any
	if err := key.Raw(&raw); err != nil {
		return nil, err
	}
	priv, ok := raw.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T is not a private signing key", raw)
	}
	return newSigningKey(priv, alg)
}

// generateKey returns a new key for alg.
func generateKey(alg string) (*signingKey, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case ES256, "":
		alg = ES256
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, MinRSABits)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("tokens: cannot sign with algorithm %q: use ES256, RS256 or EdDSA", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("tokens: generate %s key: %w", alg, err)
	}
	return newSigningKey(priv, alg)
}

// inferAlg names the algorithm a key of this type signs with by default.
func inferAlg(pub crypto.PublicKey) string {
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve == elliptic.P256() {
			return ES256
		}
	case *rsa.PublicKey:
		return RS256
	case ed25519.PublicKey:
		return EdDSA
	}
	return ""
}

// newSigningKey checks that priv suits alg and precomputes its kid, JWKs,
// token header and signer.
func newSigningKey(priv crypto.Signer, alg string) (*signingKey, error) {
	if alg == "" {
		if alg = inferAlg(priv.Public()); alg == "" {
			return nil, fmt.Errorf("cannot sign with a %s key: use P-256 (ES256), RSA (RS256) or Ed25519 (EdDSA)", keyType(priv.Public()))
		}
	}
	switch alg {
	case ES256, RS256, EdDSA:
	default:
		return nil, fmt.Errorf("cannot sign with algorithm %q: use ES256, RS256 or EdDSA", alg)
	}
	if !keyFits(alg, priv.Public()) {
		return nil, fmt.Errorf("a %s key cannot sign %s", keyType(priv.Public()), alg)
	}
	privJWK, err := jwk.FromRaw(priv)
	if err != nil {
		return nil, err
	}
	tp, err := privJWK.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: alg, jwk.KeyUsageKey: "sig"} {
		if err := privJWK.Set(name, v); err != nil {
			return nil, err
		}
	}
	pubJWK, err := privJWK.PublicKey()
	if err != nil {
		return nil, err
	}
	pubJSON, err := json.Marshal(pubJWK)
	if err != nil {
		return nil, err
	}
	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{alg, kid, "at+jwt"})
	if err != nil {
		return nil, err
	}
	signer, err := jws.NewSigner(jwa.SignatureAlgorithm(alg))
	if err != nil {
		return nil, err
	}
	return &signingKey{
		pub:     PublicKey{ID: kid, Algorithm: alg, Key: priv.Public()},
		priv:    priv,
		privJWK: privJWK,
		pubJSON: pubJSON,
		header:  base64.RawURLEncoding.EncodeToString(header),
		signer:  signer,
	}, nil
}

// keyFits reports whether pub can verify signatures of alg: the right key
// type, the curve the algorithm names, an RSA modulus of at least
// MinRSABits.
func keyFits(alg string, pub crypto.PublicKey) bool {
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return pub.Curve == elliptic.P256()
		case "ES384":
			return pub.Curve == elliptic.P384()
		case "ES512":
			return pub.Curve == elliptic.P521()
		}
	case *rsa.PublicKey:
		switch alg {
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
			return pub.N.BitLen() >= MinRSABits
		}
	case ed25519.PublicKey:
		return alg == EdDSA && len(pub) == ed25519.PublicKeySize
	}
	return false
}

func keyType(pub crypto.PublicKey) string {
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + pub.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("%d-bit RSA", pub.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	default:
		return fmt.Sprintf("%T", pub)
	}
}

// signing returns the key that signs at now: of the keys active and
// published then, the one that activated last.
func (s *KeySet) signing(now time.Time) *signingKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.signingLocked(now)
}

func (s *KeySet) signingLocked(now time.Time) *signingKey {
	var cur *signingKey
	for _, k := range s.keys {
		if k.activates.After(now) {
			break
		}
		if k.publishedAt(now) && (cur == nil || k.activates.After(cur.activates)) {
			cur = k
		}
	}
	return cur
}

func (k *signingKey) publishedAt(now time.Time) bool {
	return k.expires.IsZero() || now.Before(k.expires)
}

// SigningKey returns the kid and algorithm of the key that signs now; both
// are empty if the set has no key.
func (s *KeySet) SigningKey() (kid, alg string) {
	if k := s.signing(s.now()); k != nil {
		return k.pub.ID, k.pub.Algorithm
	}
	return "", ""
}

// Rotate adds a new key for alg ("" means the algorithm of the key signing
// now) and returns its kid. The new key is published at once and starts
// signing after publishAhead; choose that longer than the time resource
// servers cache the JWKS. The key it replaces stays published for retain
// after that; choose it at least the lifetime of an access token plus any
// verifier leeway. Keys whose time has passed are dropped.
func (s *KeySet) Rotate(alg string, publishAhead, retain time.Duration) (kid string, err error) {
	if publishAhead < 0 || retain < 0 {
		return "", errors.New("tokens: rotate: negative duration")
	}
	if alg == "" {
		_, alg = s.SigningKey()
	}
	k, err := generateKey(alg)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k.activates = now.Add(publishAhead)
	if n := len(s.keys); n > 0 && s.keys[n-1].activates.After(k.activates) {
		return "", fmt.Errorf("tokens: rotate: key %s is scheduled to sign after the new key would", s.keys[n-1].pub.ID)
	}
	// The key that signs until k activates is the one k replaces.
	if prev := s.signingLocked(k.activates); prev != nil {
		if until := k.activates.Add(retain); prev.expires.IsZero() || until.Before(prev.expires) {
			prev.expires = until
		}
	}
	s.keys = slices.DeleteFunc(s.keys, func(old *signingKey) bool { return !old.publishedAt(now) })
	s.keys = append(s.keys, k)
	return k.pub.ID, nil
}

// sortKeys puts keys in activation order, which signingLocked relies on,
// keeping the order of keys that activate together.
func sortKeys(keys []*signingKey) {
	slices.SortStableFunc(keys, func(a, b *signingKey) int { return a.activates.Compare(b.activates) })
}

// PublicKey returns the published key with that kid. It implements
// [KeySource].
func (s *KeySet) PublicKey(_ context.Context, kid string) (*PublicKey, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.keys {
		if k.pub.ID == kid && k.publishedAt(now) {
			return &k.pub, nil
		}
	}
	return nil, ErrUnknownKey
}

// JWKS returns the public JWK Set of the keys published now: each key's
// public part with kid, kty, use "sig" and alg.
func (s *KeySet) JWKS() []byte {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	buf := []byte(`{"keys":[`)
	n := 0
	for _, k := range s.keys {
		if !k.publishedAt(now) {
			continue
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, k.pubJSON...)
		n++
	}
	return append(buf, "]}"...)
}

// Handler returns an http.Handler that serves [KeySet.JWKS] to GET and
// HEAD requests, with Cache-Control: public, max-age=300; other methods get
// 405.
func (s *KeySet) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body := s.JWKS()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=300")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// persistedKey is one key of the JSON form of a KeySet.
type persistedKey struct {
	JWK       json.RawMessage `json:"jwk"`
	Activates time.Time       `json:"activates,omitzero"`
	Expires   time.Time       `json:"expires,omitzero"`
}

type persistedSet struct {
	Keys []persistedKey `json:"keys"`
}

// MarshalJSON returns the whole set, private keys included, as
// {"keys":[{"jwk":{…},"activates":"…","expires":"…"}]}: each private JWK
// with its kid, alg and use, and the times at which it starts signing and
// is withdrawn (omitted when unset). Keep it as secret as the keys.
func (s *KeySet) MarshalJSON() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := persistedSet{Keys: make([]persistedKey, 0, len(s.keys))}
	for _, k := range s.keys {
		j, err := json.Marshal(k.privJWK)
		if err != nil {
			return nil, fmt.Errorf("tokens: marshal key %s: %w", k.pub.ID, err)
		}
		out.Keys = append(out.Keys, persistedKey{JWK: j, Activates: k.activates.UTC(), Expires: k.expires.UTC()})
	}
	return json.Marshal(out)
}

// UnmarshalJSON replaces the set's keys with those of data, in the form
// MarshalJSON writes. Every key must be a private key for ES256, RS256 or
// EdDSA; kids are recomputed from the keys.
func (s *KeySet) UnmarshalJSON(data []byte) error {
	var in persistedSet
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("tokens: unmarshal key set: %w", err)
	}
	keys := make([]*signingKey, 0, len(in.Keys))
	for i, p := range in.Keys {
		key, err := jwk.ParseKey(p.JWK)
		if err != nil {
			return fmt.Errorf("tokens: unmarshal key set: key %d: %w", i, err)
		}
		k, err := keyFromJWK(key, "")
		if err != nil {
			return fmt.Errorf("tokens: unmarshal key set: key %d: %w", i, err)
		}
		k.activates, k.expires = p.Activates, p.Expires
		keys = append(keys, k)
	}
	sortKeys(keys)
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
	return nil
}
