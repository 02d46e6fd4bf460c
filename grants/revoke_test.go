package grants_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/tokens"
)

// revoke asks the revocation endpoint to revoke token as C, with an
// optional token_type_hint.
func (f *fixture) revoke(token, hint string) *response {
	f.t.Helper()
	v := form("token", token)
	if hint != "" {
		v.Set("token_type_hint", hint)
	}
	return f.post("/oauth/revoke", tokenReq{form: v}.withBasic(idC, secretC))
}

// introspectAs asks the introspection endpoint about token, authenticated
// as the client id with secret.
func (f *fixture) introspectAs(id, secret, token string, kv ...string) *response {
	f.t.Helper()
	return f.post("/oauth/introspect", tokenReq{form: form(append([]string{"token", token}, kv...)...)}.withBasic(id, secret))
}

// isActive reports whether C's introspection finds token active, failing
// the test on any answer but 200.
func (f *fixture) isActive(token string) bool {
	f.t.Helper()
	res := f.introspectAs(idC, secretC, token)
	if res.status != http.StatusOK {
		f.t.Fatalf("introspection: %d %s", res.status, res.raw)
	}
	active, _ := res.body["active"].(bool)
	return active
}

// wantRevoked checks a revocation answer: exactly 200 with an empty body,
// no-store.
func wantRevoked(t testing.TB, res *response) {
	t.Helper()
	if res.status != http.StatusOK || res.raw != "" {
		t.Fatalf("got %d %q; want 200 with an empty body", res.status, res.raw)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
}

// familyOfC runs the code flow for C and one refresh, and returns the
// first pair's access token, the second pair's tokens, and the rotated-out
// refresh token: every token of one grant family.
func (f *fixture) familyOfC() (at1, at2, rt1, rt2 string) {
	f.t.Helper()
	res := f.tokensOfC()
	at1, rt1 = res.str("access_token"), res.str("refresh_token")
	res = f.token(refreshReq(rt1).withBasic(idC, secretC))
	wantTokens(f.t, res)
	return at1, res.str("access_token"), rt1, res.str("refresh_token")
}

// TestRevokeRefreshToken is CONFORMANCE H.44: revoking a refresh token
// ends it and every access token of its grant.
func TestRevokeRefreshToken(t *testing.T) {
	for _, hint := range []string{"", "refresh_token", "access_token"} {
		t.Run("hint "+hint, func(t *testing.T) {
			f := newFixture(t)
			at1, at2, _, rt2 := f.familyOfC()
			other := f.tokensOfC() // another grant of the same client
			wantRevoked(t, f.revoke(rt2, hint))
			for name, tok := range map[string]string{"refresh token": rt2, "first access token": at1, "second access token": at2} {
				if f.isActive(tok) {
					t.Errorf("%s still active after its refresh token was revoked", name)
				}
			}
			if f.active(at2) {
				t.Errorf("a resource server still accepts the grant's access token")
			}
			wantError(t, f.token(refreshReq(rt2).withBasic(idC, secretC)), http.StatusBadRequest, oauth.ErrCodeInvalidGrant)
			if !f.isActive(other.str("access_token")) || !f.isActive(other.str("refresh_token")) {
				t.Errorf("another grant of the client was revoked too")
			}
		})
	}
}

// TestRevokeAnswers200 is CONFORMANCE H.45: unknown, garbage and
// already-revoked tokens, and wrong hints, are all exactly 200; tokens
// that exist are revoked whatever the hint says.
func TestRevokeAnswers200(t *testing.T) {
	// Each case returns the token to revoke and the tokens that must be
	// inactive afterwards.
	same := func(tok string) (string, []string) { return tok, []string{tok} }
	tests := []struct {
		name    string
		hint    string
		prepare func(f *fixture) (string, []string)
	}{
		{"unknown opaque", "", func(*fixture) (string, []string) { return "oat_" + strings.Repeat("A", 43), nil }},
		{"garbage", "", func(*fixture) (string, []string) { return "%%% not a token \x00", nil }},
		{"garbage with dots", "", func(*fixture) (string, []string) { return "a.b.c", nil }},
		{"huge", "", func(*fixture) (string, []string) { return strings.Repeat("x", tokens.MaxTokenLen+1), nil }},
		{"unknown hint", "id_token", func(f *fixture) (string, []string) { return same(f.tokensOfC().str("access_token")) }},
		{"access token hinted as refresh token", "refresh_token", func(f *fixture) (string, []string) {
			return same(f.tokensOfC().str("access_token"))
		}},
		{"refresh token hinted as access token", "access_token", func(f *fixture) (string, []string) {
			return same(f.tokensOfC().str("refresh_token"))
		}},
		{"already revoked access token", "", func(f *fixture) (string, []string) {
			tok := f.tokensOfC().str("access_token")
			wantRevoked(f.t, f.revoke(tok, ""))
			return same(tok)
		}},
		{"already revoked refresh token", "", func(f *fixture) (string, []string) {
			tok := f.tokensOfC().str("refresh_token")
			wantRevoked(f.t, f.revoke(tok, ""))
			return same(tok)
		}},
		{"expired access token", "", func(f *fixture) (string, []string) {
			tok := f.tokensOfC().str("access_token")
			f.clock.Advance(2 * time.Hour)
			return same(tok)
		}},
		{"rotated-out refresh token ends its grant", "", func(f *fixture) (string, []string) {
			_, at2, rt1, rt2 := f.familyOfC()
			return rt1, []string{at2, rt2}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok, dead := tt.prepare(f)
			wantRevoked(t, f.revoke(tok, tt.hint))
			for _, d := range dead {
				if f.isActive(d) {
					t.Errorf("token %.8s… still active", d)
				}
			}
		})
	}
}

// TestRevokeErrors is CONFORMANCE H.46.
func TestRevokeErrors(t *testing.T) {
	f := newFixture(t)
	access, refresh := f.tokensOfC().str("access_token"), f.tokensOfC().str("refresh_token")
	tests := []struct {
		name   string
		q      tokenReq
		status int
		code   string
		basic  bool
	}{
		{"missing token", tokenReq{form: form("token_type_hint", "access_token")}.withBasic(idC, secretC), 400, oauth.ErrCodeInvalidRequest, false},
		{"empty token", tokenReq{form: form("token", "")}.withBasic(idC, secretC), 400, oauth.ErrCodeInvalidRequest, false},
		{"repeated token", tokenReq{form: form("token", access, "token", refresh)}.withBasic(idC, secretC), 400, oauth.ErrCodeInvalidRequest, false},
		{"wrong secret, basic", tokenReq{form: form("token", access)}.withBasic(idC, "wrong"), 401, oauth.ErrCodeInvalidClient, true},
		{"wrong secret, post", tokenReq{form: form("token", access)}.withPost(idC, "wrong"), 401, oauth.ErrCodeInvalidClient, true},
		{"no credentials", tokenReq{form: form("token", access)}, 401, oauth.ErrCodeInvalidClient, true},
		{"unknown client", tokenReq{form: form("token", access)}.withBasic("nobody", "x"), 401, oauth.ErrCodeInvalidClient, true},
		{"bad credentials, missing token", tokenReq{form: form()}.withBasic(idC, "wrong"), 401, oauth.ErrCodeInvalidClient, true},
		{"credentials in the query", tokenReq{form: form("token", access), query: form("client_id", idC, "client_secret", secretC).Encode()}, 401, oauth.ErrCodeInvalidClient, true},
		{"json body", tokenReq{form: form("token", access), contentType: "application/json"}.withBasic(idC, secretC), 400, oauth.ErrCodeInvalidRequest, false},
		{"GET", tokenReq{method: http.MethodGet, form: form("token", access)}.withBasic(idC, secretC), 405, oauth.ErrCodeInvalidRequest, false},
		{"PUT", tokenReq{method: http.MethodPut, form: form("token", access)}.withBasic(idC, secretC), 405, oauth.ErrCodeInvalidRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/oauth/revoke"
			if tt.q.query != "" {
				path += "?" + tt.q.query
			}
			res := f.post(path, tt.q)
			wantError(t, res, tt.status, tt.code)
			if got := res.header.Get("Www-Authenticate"); (got != "") != tt.basic {
				t.Errorf("WWW-Authenticate = %q; want a Basic challenge: %v", got, tt.basic)
			}
			if tt.status == 405 && res.header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q; want POST", res.header.Get("Allow"))
			}
			if !f.isActive(access) || !f.isActive(refresh) {
				t.Fatalf("a refused revocation revoked a token")
			}
		})
	}
	t.Run("another client's tokens", func(t *testing.T) {
		for _, tok := range []string{access, refresh} {
			wantRevoked(t, f.post("/oauth/revoke", tokenReq{form: form("token", tok)}.withBasic(idC2, secretC2)))
			if !f.isActive(tok) {
				t.Errorf("C2 revoked a token of C")
			}
		}
		if !strings.Contains(f.logs.String(), "revocation of another client's") {
			t.Errorf("the attempt was not logged")
		}
	})
}

// TestRevokeAccessToken is CONFORMANCE H.47: a revoked access token is
// inactive, opaque or JWT, and only that token is revoked.
func TestRevokeAccessToken(t *testing.T) {
	t.Run("opaque", func(t *testing.T) {
		f := newFixture(t)
		res := f.tokensOfC()
		at, rt := res.str("access_token"), res.str("refresh_token")
		wantRevoked(t, f.revoke(at, "access_token"))
		if f.active(at) || f.isActive(at) {
			t.Errorf("revoked access token still active")
		}
		if !f.isActive(rt) {
			t.Errorf("revoking an access token revoked its refresh token")
		}
		wantTokens(t, f.token(refreshReq(rt).withBasic(idC, secretC)))
	})
	t.Run("jwt", func(t *testing.T) {
		f, v := newJWTFixture(t)
		res := f.tokensOfC()
		at, rt := res.str("access_token"), res.str("refresh_token")
		cc := f.token(tokenReq{form: ccForm()}.withBasic(idC, secretC)).str("access_token")
		if _, err := v.Verify(t.Context(), at); err != nil {
			t.Fatal(err)
		}
		// A tampered copy (another signature) revokes nothing.
		tampered := at[:strings.LastIndexByte(at, '.')+1] + strings.Repeat("A", 86)
		wantRevoked(t, f.revoke(tampered, ""))
		if _, err := v.Verify(t.Context(), at); err != nil {
			t.Fatalf("a tampered JWT revoked the real one: %v", err)
		}
		// Another client cannot revoke it.
		wantRevoked(t, f.post("/oauth/revoke", tokenReq{form: form("token", at)}.withBasic(idC2, secretC2)))
		if _, err := v.Verify(t.Context(), at); err != nil {
			t.Fatalf("C2 revoked C's JWT: %v", err)
		}
		wantRevoked(t, f.revoke(at, ""))
		if _, err := v.Verify(t.Context(), at); err == nil {
			t.Errorf("a resource server consulting the repository still accepts the revoked JWT")
		}
		if f.isActive(at) {
			t.Errorf("revoked JWT introspects active")
		}
		if !f.isActive(rt) || !f.isActive(cc) {
			t.Errorf("revoking one JWT revoked other tokens")
		}
	})
}

// TestRevokePublicClient: a public client revokes its own tokens by
// naming its client_id (RFC 7009 §2.1).
func TestRevokePublicClient(t *testing.T) {
	f := newFixture(t)
	verifier, challenge := newVerifier(t)
	code := f.codeFor(authParams(idP, redirectP, challenge))
	res := f.token(codeExchange(code, redirectP, verifier).withPost(idP, ""))
	wantTokens(t, res)
	at, rt := res.str("access_token"), res.str("refresh_token")
	wantRevoked(t, f.post("/oauth/revoke", tokenReq{form: form("token", rt)}.withPost(idP, "")))
	if f.isActive(rt) || f.isActive(at) {
		t.Errorf("public client's grant still active after revocation")
	}
}

// tokenFailStore fails the token operations named in fail.
type tokenFailStore struct {
	*memory.Store
	fail string
}

func (s *tokenFailStore) FindAccessToken(ctx context.Context, id string) (*oauth.AccessToken, error) {
	if s.fail == "FindAccessToken" {
		return nil, errBackend
	}
	return s.Store.FindAccessToken(ctx, id)
}

func (s *tokenFailStore) RevokeAccessToken(ctx context.Context, id string) error {
	if s.fail == "RevokeAccessToken" {
		return errBackend
	}
	return s.Store.RevokeAccessToken(ctx, id)
}

func (s *tokenFailStore) FindRefreshToken(ctx context.Context, id string) (*oauth.RefreshToken, error) {
	if s.fail == "FindRefreshToken" {
		return nil, errBackend
	}
	return s.Store.FindRefreshToken(ctx, id)
}

func (s *tokenFailStore) RevokeAccessTokenFamily(ctx context.Context, family string) (int64, error) {
	if s.fail == "RevokeAccessTokenFamily" {
		return 0, errBackend
	}
	return s.Store.RevokeAccessTokenFamily(ctx, family)
}

func (s *tokenFailStore) RevokeRefreshTokenFamily(ctx context.Context, family string) (int64, error) {
	if s.fail == "RevokeRefreshTokenFamily" {
		return 0, errBackend
	}
	return s.Store.RevokeRefreshTokenFamily(ctx, family)
}

// TestRevokeStorageErrors: a repository failure is a 500 server_error,
// never a 200 while the token stays valid.
func TestRevokeStorageErrors(t *testing.T) {
	tests := []struct {
		fail    string
		refresh bool // revoke the refresh token, not the access token
		// partial: the failure comes after the refresh tokens were
		// revoked (they go first), so only the access tokens stay live.
		partial bool
	}{
		{"FindAccessToken", false, false},
		{"RevokeAccessToken", false, false},
		{"FindAccessToken", true, false}, // looked up first without a hint
		{"FindRefreshToken", true, false},
		{"RevokeAccessTokenFamily", true, true},
		{"RevokeRefreshTokenFamily", true, false},
	}
	for _, tt := range tests {
		name := tt.fail + "/access"
		if tt.refresh {
			name = tt.fail + "/refresh"
		}
		t.Run(name, func(t *testing.T) {
			fs := &tokenFailStore{}
			f := newFixture(t, func(c *grants.Config) {
				fs.Store = c.Clients.(*memory.Store)
				c.AccessTokens, c.RefreshTokens = fs, fs
			})
			res := f.tokensOfC()
			tok := res.str("access_token")
			if tt.refresh {
				tok = res.str("refresh_token")
			}
			fs.fail = tt.fail
			got := f.revoke(tok, "")
			wantError(t, got, http.StatusInternalServerError, oauth.ErrCodeServerError)
			if strings.Contains(got.raw, "exploded") {
				t.Errorf("response leaks the internal error: %s", got.raw)
			}
			if !strings.Contains(f.logs.String(), "exploded") {
				t.Errorf("internal error not logged")
			}
			fs.fail = ""
			if tt.partial {
				if f.isActive(tok) || !f.isActive(res.str("access_token")) {
					t.Errorf("after a failure revoking the access tokens: refresh token active %v, access token active %v; want false, true",
						f.isActive(tok), f.isActive(res.str("access_token")))
				}
			} else if !f.isActive(tok) {
				t.Errorf("token revoked although the answer was an error")
			}
			// The client retries, and the revocation completes.
			if got := f.revoke(tok, ""); got.status != http.StatusOK {
				t.Fatalf("retry: %d %s; want 200", got.status, got.raw)
			}
			if f.isActive(tok) || f.isActive(res.str("access_token")) {
				t.Errorf("a token is active after the retried revocation")
			}
		})
	}
}

// newJWTFixture is a fixture issuing ES256 JWT access tokens, and a
// verifier that consults its repository, as a resource server would.
func newJWTFixture(t *testing.T, configure ...func(*grants.Config)) (*fixture, *tokens.Verifier) {
	t.Helper()
	keys, err := tokens.GenerateKeySet(tokens.ES256)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, append([]func(*grants.Config){func(c *grants.Config) {
		c.AccessTokenFormat = grants.AccessTokenJWT
		c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{"https://api.example.com"}, Now: c.Now}
	}}, configure...)...)
	v := &tokens.Verifier{Issuer: issuer, Audience: "https://api.example.com", Keys: keys, AccessTokens: f.store, Now: f.clock.Now}
	return f, v
}
