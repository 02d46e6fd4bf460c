package tokens_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// jwksServer serves a JWKS over loopback and counts requests; body, when
// set, replaces the key set's JWKS; fail makes it answer 500.
type jwksServer struct {
	*httptest.Server
	mu    sync.Mutex
	n     int
	fail  bool
	body  []byte
	keys  *tokens.KeySet
	delay time.Duration
}

func newJWKSServer(t *testing.T, ks *tokens.KeySet) *jwksServer {
	s := &jwksServer{keys: ks}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.n++
		fail, body, delay := s.fail, s.body, s.delay
		s.mu.Unlock()
		time.Sleep(delay)
		switch {
		case fail:
			http.Error(w, "down", http.StatusInternalServerError)
		case body != nil:
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		default:
			s.keys.Handler().ServeHTTP(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *jwksServer) set(fail bool, body []byte) {
	s.mu.Lock()
	s.fail, s.body = fail, body
	s.mu.Unlock()
}

func TestRemoteKeySet(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	srv := newJWKSServer(t, f.keys)
	remote := &tokens.RemoteKeySet{URL: srv.URL, RefreshInterval: time.Minute, Now: f.clk.Now}
	v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: remote, Now: f.clk.Now}
	ctx := t.Context()
	verify := func(tok string) error { _, err := v.Verify(ctx, tok); return err }

	tok, _ := f.issue(t, nil)
	for range 5 {
		if err := verify(tok); err != nil {
			t.Fatalf("Verify through the remote JWKS: %v", err)
		}
	}
	if n := srv.requests(); n != 1 {
		t.Fatalf("JWKS fetches after 5 checks: got %d; want 1", n)
	}

	// A key rotated in to sign at once: its kid is unknown until a fetch,
	// which an unknown kid triggers at most every MinJWKSRefetch.
	if _, err := f.keys.Rotate("", 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	fresh, _ := f.issue(t, nil)
	f.clk.Advance(tokens.MinJWKSRefetch - time.Second)
	wantInvalid(t, verify(fresh), "unknown key")
	if n := srv.requests(); n != 1 {
		t.Fatalf("JWKS fetches for an unknown kid within MinJWKSRefetch: got %d; want still 1", n)
	}
	f.clk.Advance(time.Second)
	if err := verify(fresh); err != nil {
		t.Fatalf("token of the rotated-in key after a refetch: %v", err)
	}
	if n := srv.requests(); n != 2 {
		t.Fatalf("JWKS fetches: got %d; want 2", n)
	}
	wantInvalid(t, verify(strings.Replace(fresh, ".", ".x", 1)), "")

	// The set is fetched again once RefreshInterval has passed.
	f.clk.Advance(time.Minute)
	if err := verify(tok); err != nil {
		t.Fatal(err)
	}
	if n := srv.requests(); n != 3 {
		t.Fatalf("JWKS fetches after RefreshInterval: got %d; want 3", n)
	}

	// The server fails: the keys in hand keep working, and fetches are
	// retried no more often than MinJWKSRefetch.
	srv.set(true, nil)
	f.clk.Advance(2 * time.Minute)
	for range 5 {
		if err := verify(tok); err != nil {
			t.Fatalf("Verify while the JWKS is down: %v", err)
		}
	}
	if n := srv.requests(); n != 4 {
		t.Fatalf("JWKS fetches while down: got %d; want 4 (one failed attempt)", n)
	}
	f.clk.Advance(tokens.MinJWKSRefetch)
	if err := verify(tok); err != nil {
		t.Fatal(err)
	}
	if n := srv.requests(); n != 5 {
		t.Fatalf("JWKS fetches while down, after MinJWKSRefetch: got %d; want 5", n)
	}
}

func TestRemoteKeySetFirstFetchFails(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	srv := newJWKSServer(t, f.keys)
	srv.set(true, nil)
	v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: &tokens.RemoteKeySet{URL: srv.URL}, Now: f.clk.Now}
	tok, _ := f.issue(t, nil)
	_, err := v.Verify(t.Context(), tok)
	var oe *oauth.Error
	if err == nil || errors.As(err, &oe) || !strings.Contains(err.Error(), "status 500") {
		t.Fatalf("Verify with an unreachable JWKS: got %v; want a server-side error", err)
	}
	for name, body := range map[string][]byte{"not JSON": []byte("<html>"), "too large": make([]byte, 1<<20+10)} {
		srv.set(false, body)
		remote := &tokens.RemoteKeySet{URL: srv.URL}
		if _, err := remote.PublicKey(t.Context(), "kid"); err == nil || errors.Is(err, tokens.ErrUnknownKey) {
			t.Errorf("%s: got %v; want a fetch error", name, err)
		}
	}
	remote := &tokens.RemoteKeySet{URL: "http://127.0.0.1:1/jwks", Client: &http.Client{Timeout: time.Second}}
	if _, err := remote.PublicKey(t.Context(), "kid"); err == nil || errors.Is(err, tokens.ErrUnknownKey) {
		t.Errorf("closed port: got %v; want a fetch error", err)
	}
}

// TestRemoteKeySetFiltersKeys: only public signing keys of adequate
// strength are taken from a JWKS; a key without alg fits by its type.
func TestRemoteKeySetFiltersKeys(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	kid, _ := f.keys.SigningKey()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	json.Unmarshal(f.keys.JWKS(), &set)
	noAlg := set.Keys[0]
	delete(noAlg, "alg")
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallJWK := must(jwk.FromRaw(&small.PublicKey))
	smallJWK.Set("kid", "small")
	encKey := map[string]any{}
	for k, v := range noAlg {
		encKey[k] = v
	}
	encKey["kid"], encKey["use"] = "enc-key", "enc"
	body, _ := json.Marshal(map[string]any{"keys": []any{
		noAlg,
		encKey,
		map[string]any{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
		smallJWK,
	}})
	srv := newJWKSServer(t, f.keys)
	srv.set(false, body)
	remote := &tokens.RemoteKeySet{URL: srv.URL, Now: f.clk.Now}
	ctx := context.Background()
	pk, err := remote.PublicKey(ctx, kid)
	if err != nil || pk.Algorithm != "" {
		t.Fatalf("key without alg: got %+v, %v; want it, with no algorithm", pk, err)
	}
	for _, ignored := range []string{"enc-key", "hmac", "small"} {
		if _, err := remote.PublicKey(ctx, ignored); !errors.Is(err, tokens.ErrUnknownKey) {
			t.Errorf("key %q: got %v; want ErrUnknownKey", ignored, err)
		}
	}
	v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: remote, Now: f.clk.Now}
	tok, _ := f.issue(t, nil)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("ES256 token, key without alg: %v", err)
	}
}

// TestRemoteKeySetConcurrent: many goroutines needing keys at once cause
// one fetch.
func TestRemoteKeySetConcurrent(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	srv := newJWKSServer(t, f.keys)
	srv.mu.Lock()
	srv.delay = 50 * time.Millisecond
	srv.mu.Unlock()
	v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: &tokens.RemoteKeySet{URL: srv.URL}, Now: f.clk.Now}
	tok, _ := f.issue(t, nil)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := srv.requests(); n != 1 {
		t.Fatalf("JWKS fetches by 10 concurrent checks: got %d; want 1", n)
	}
}
