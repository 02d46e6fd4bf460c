package tokens_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

const (
	testIssuer   = "https://as.example.com"
	testAudience = "https://api.example.com"
)

// t0 is the tests' start time, on a whole second.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

var algs = []string{tokens.ES256, tokens.RS256, tokens.EdDSA}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: t0} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// keyCache keeps one generated key set per algorithm, marshaled, so that
// tests do not generate RSA keys over and over.
var keyCache sync.Map // alg -> []byte

// newKeySet returns a fresh key set with one key for alg, on clk.
func newKeySet(tb testing.TB, alg string, clk *testClock) *tokens.KeySet {
	tb.Helper()
	ks := cachedKeySet(tb, alg, alg)
	if clk != nil {
		ks.Now = clk.Now
	}
	return ks
}

// cachedKeySet returns a fresh copy of the key set called name, generated
// for alg on first use.
func cachedKeySet(tb testing.TB, name, alg string) *tokens.KeySet {
	tb.Helper()
	data, ok := keyCache.Load(name)
	if !ok {
		ks, err := tokens.GenerateKeySet(alg)
		if err != nil {
			tb.Fatalf("GenerateKeySet(%q): %v", alg, err)
		}
		b, err := json.Marshal(ks)
		if err != nil {
			tb.Fatalf("marshal key set: %v", err)
		}
		data, _ = keyCache.LoadOrStore(name, b)
	}
	ks := &tokens.KeySet{}
	if err := json.Unmarshal(data.([]byte), ks); err != nil {
		tb.Fatalf("unmarshal key set: %v", err)
	}
	return ks
}

// privateKey returns the raw private key of the set's signing key.
func privateKey(tb testing.TB, ks *tokens.KeySet) (priv crypto.Signer, kid, alg string) {
	tb.Helper()
	kid, alg = ks.SigningKey()
	data, err := json.Marshal(ks)
	if err != nil {
		tb.Fatal(err)
	}
	var p struct {
		Keys []struct {
			JWK json.RawMessage `json:"jwk"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		tb.Fatal(err)
	}
	for _, k := range p.Keys {
		key, err := jwk.ParseKey(k.JWK)
		if err != nil {
			tb.Fatal(err)
		}
		if key.KeyID() != kid {
			continue
		}
		var raw any
		if err := key.Raw(&raw); err != nil {
			tb.Fatal(err)
		}
		return raw.(crypto.Signer), kid, alg
	}
	tb.Fatalf("signing key %s not in the marshaled set", kid)
	return nil, "", ""
}

// validClaims returns claims that issue into a valid token at t0.
func validClaims() *tokens.Claims {
	return &tokens.Claims{
		Subject:   "user-1",
		ClientID:  "client-1",
		Scopes:    []string{"read", "write"},
		ExpiresAt: t0.Add(time.Hour),
	}
}

// claimsMap returns the JSON claims of validClaims as a map, for tokens
// built by hand.
func claimsMap() map[string]any {
	return map[string]any{
		"iss":       testIssuer,
		"sub":       "user-1",
		"aud":       testAudience,
		"client_id": "client-1",
		"scope":     "read write",
		"iat":       t0.Unix(),
		"exp":       t0.Add(time.Hour).Unix(),
		"jti":       "jti-1",
	}
}

// signJWT signs claims with jwx's jws.Sign and the given key, with the
// protected header members of hdr (alg is set by jws.Sign).
func signJWT(tb testing.TB, alg jwa.SignatureAlgorithm, key any, hdr map[string]any, claims map[string]any) string {
	tb.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	return signPayload(tb, alg, key, hdr, payload)
}

// signPayload signs any payload with jws.Sign.
func signPayload(tb testing.TB, alg jwa.SignatureAlgorithm, key any, hdr map[string]any, payload []byte) string {
	tb.Helper()
	h := jws.NewHeaders()
	for k, v := range hdr {
		if err := h.Set(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	tok, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		tb.Fatalf("jws.Sign: %v", err)
	}
	return string(tok)
}

// b64json returns the base64url JSON of v.
func b64json(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// fixture is a key set, an issuer and a verifier on one clock.
type fixture struct {
	clk      *testClock
	keys     *tokens.KeySet
	issuer   *tokens.JWTIssuer
	verifier *tokens.Verifier
	repo     *memRepo
}

func newFixture(tb testing.TB, alg string) *fixture {
	tb.Helper()
	clk := newClock()
	ks := newKeySet(tb, alg, clk)
	return &fixture{
		clk:      clk,
		keys:     ks,
		issuer:   &tokens.JWTIssuer{Keys: ks, Issuer: testIssuer, Audience: []string{testAudience}, Now: clk.Now},
		verifier: &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: ks, Now: clk.Now},
		repo:     newMemRepo(),
	}
}

// issue issues validClaims (changed by edit, if not nil).
func (f *fixture) issue(tb testing.TB, edit func(*tokens.Claims)) (string, *tokens.Claims) {
	tb.Helper()
	c := validClaims()
	if edit != nil {
		edit(c)
	}
	tok, err := f.issuer.Issue(c)
	if err != nil {
		tb.Fatalf("Issue: %v", err)
	}
	return tok, c
}

// store records the issued token in the fixture's repository.
func (f *fixture) store(tb testing.TB, c *tokens.Claims) {
	tb.Helper()
	err := f.repo.CreateAccessToken(context.Background(), &oauth.AccessToken{
		ID: c.ID, ClientID: c.ClientID, UserID: c.Subject, Scopes: c.Scopes,
		FamilyID: "family-1", ExpiresAt: c.ExpiresAt, CreatedAt: c.IssuedAt,
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// memRepo is a minimal in-memory oauth.AccessTokenRepository for these
// tests; it counts lookups.
type memRepo struct {
	mu    sync.Mutex
	toks  map[string]oauth.AccessToken
	finds int
	fail  error
}

func newMemRepo() *memRepo { return &memRepo{toks: map[string]oauth.AccessToken{}} }

func (r *memRepo) CreateAccessToken(_ context.Context, t *oauth.AccessToken) error {
	if err := t.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.toks[t.ID]; ok {
		return oauth.ErrDuplicate
	}
	r.toks[t.ID] = *t
	return nil
}

func (r *memRepo) FindAccessToken(_ context.Context, id string) (*oauth.AccessToken, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finds++
	if r.fail != nil {
		return nil, r.fail
	}
	t, ok := r.toks[id]
	if !ok {
		return nil, oauth.ErrNotFound
	}
	return &t, nil
}

func (r *memRepo) RevokeAccessToken(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.toks[id]
	if !ok {
		return oauth.ErrNotFound
	}
	t.Revoked = true
	r.toks[id] = t
	return nil
}

func (r *memRepo) RevokeAccessTokenFamily(_ context.Context, familyID string) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for id, t := range r.toks {
		if t.FamilyID == familyID && !t.Revoked {
			t.Revoked = true
			r.toks[id] = t
			n++
		}
	}
	return n, nil
}

func (r *memRepo) PurgeAccessTokens(_ context.Context, before time.Time) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for id, t := range r.toks {
		if t.ExpiresAt.Before(before) {
			delete(r.toks, id)
			n++
		}
	}
	return n, nil
}

func (r *memRepo) findCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.finds
}

var _ oauth.AccessTokenRepository = (*memRepo)(nil)

// countingKeys counts PublicKey lookups of a KeySource.
type countingKeys struct {
	tokens.KeySource
	mu sync.Mutex
	n  int
}

func (c *countingKeys) PublicKey(ctx context.Context, kid string) (*tokens.PublicKey, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.KeySource.PublicKey(ctx, kid)
}

func (c *countingKeys) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// decodeSegment decodes the JSON of segment i (0 header, 1 claims) of a
// compact JWS.
func decodeSegment(tb testing.TB, tok string, i int) map[string]any {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("token has %d segments; want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(parts[i])
	if err != nil {
		tb.Fatalf("segment %d: %v", i, err)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		tb.Fatalf("segment %d: %v", i, err)
	}
	return m
}
