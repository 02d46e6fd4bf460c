package grants_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
)

// wantInactive checks an introspection answer is exactly {"active":false}.
func wantInactive(t testing.TB, res *response) {
	t.Helper()
	if res.status != http.StatusOK || res.raw != `{"active":false}` {
		t.Fatalf(`got %d %s; want 200 {"active":false}`, res.status, res.raw)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
}

// members returns the member names of an introspection answer, sorted.
func members(res *response) []string {
	var names []string
	for k := range res.body {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// TestIntrospectActive is CONFORMANCE I.48.
func TestIntrospectActive(t *testing.T) {
	const aud = "https://api.example.com"
	f := newFixture(t, func(c *grants.Config) { c.OpaqueTokenAudience = []string{aud} })
	now := f.clock.Now()
	code := f.tokensOfC("scope", "read profile")
	cc := f.token(tokenReq{form: ccForm("scope", "write")}.withBasic(idC, secretC))
	all := []string{"active", "aud", "client_id", "exp", "iat", "iss", "jti", "nbf", "scope", "sub", "token_type"}
	tests := []struct {
		name      string
		token     string
		hint      string
		tokenType string
		sub       string
		scope     string
		exp       time.Time
		members   []string
	}{
		{"access token", code.str("access_token"), "", "Bearer", "alice", "read profile", now.Add(time.Hour), all},
		{"access token hinted as refresh", code.str("access_token"), "refresh_token", "Bearer", "alice", "read profile", now.Add(time.Hour), all},
		{"refresh token", code.str("refresh_token"), "", "refresh_token", "alice", "read profile", now.Add(grants.DefaultRefreshTokenLifetime),
			slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "aud" })},
		{"refresh token hinted", code.str("refresh_token"), "refresh_token", "refresh_token", "alice", "read profile", now.Add(grants.DefaultRefreshTokenLifetime),
			slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "aud" })},
		{"client credentials", cc.str("access_token"), "", "Bearer", idC, "write", now.Add(time.Hour), all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kv []string
			if tt.hint != "" {
				kv = []string{"token_type_hint", tt.hint}
			}
			res := f.introspectAs(idC, secretC, tt.token, kv...)
			if res.status != http.StatusOK || res.body["active"] != true {
				t.Fatalf("got %d %s; want active", res.status, res.raw)
			}
			if got := members(res); !slices.Equal(got, tt.members) {
				t.Errorf("members %v; want %v", got, tt.members)
			}
			want := map[string]any{
				"client_id": idC, "token_type": tt.tokenType, "sub": tt.sub, "scope": tt.scope, "iss": issuer,
				"exp": float64(tt.exp.Unix()), "iat": float64(now.Unix()), "nbf": float64(now.Unix()),
				"jti": oauth.HashValue(tt.token),
			}
			if slices.Contains(tt.members, "aud") {
				want["aud"] = aud
			}
			for k, v := range want {
				if res.body[k] != v {
					t.Errorf("%s = %v; want %v", k, res.body[k], v)
				}
			}
			if cc := res.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q; want no-store", cc)
			}
			if strings.Contains(res.raw, tt.token) {
				t.Errorf("the answer holds the token itself")
			}
		})
	}
	t.Run("no aud without OpaqueTokenAudience", func(t *testing.T) {
		f := newFixture(t)
		res := f.introspectAs(idC, secretC, f.tokensOfC().str("access_token"))
		if _, ok := res.body["aud"]; ok || res.body["active"] != true {
			t.Errorf("got %s; want active without aud", res.raw)
		}
	})
	t.Run("several audiences", func(t *testing.T) {
		f := newFixture(t, func(c *grants.Config) { c.OpaqueTokenAudience = []string{"https://a.example", "https://b.example"} })
		res := f.introspectAs(idC, secretC, f.tokensOfC().str("access_token"))
		if !strings.Contains(res.raw, `"aud":["https://a.example","https://b.example"]`) {
			t.Errorf("got %s; want aud as an array", res.raw)
		}
	})
}

// TestIntrospectJWT is CONFORMANCE I.48 and I.49 for JWT access tokens:
// verified like a resource server would, and checked against the
// repository.
func TestIntrospectJWT(t *testing.T) {
	f, v := newJWTFixture(t)
	res := f.tokensOfC("scope", "read")
	at := res.str("access_token")
	claims, err := v.Verify(t.Context(), at)
	if err != nil {
		t.Fatal(err)
	}
	got := f.introspectAs(idC, secretC, at)
	want := fmt.Sprintf(`{"active":true,"scope":"read","client_id":%q,"sub":"alice","token_type":"Bearer","exp":%d,"iat":%d,"aud":"https://api.example.com","iss":%q,"jti":%q}`,
		idC, claims.ExpiresAt.Unix(), claims.IssuedAt.Unix(), issuer, claims.ID)
	if got.raw != want {
		t.Errorf("got  %s\nwant %s", got.raw, want)
	}
	// The refresh token is introspectable beside it.
	if r := f.introspectAs(idC, secretC, res.str("refresh_token")); r.body["active"] != true || r.str("token_type") != "refresh_token" {
		t.Errorf("refresh token: %s", r.raw)
	}

	dot := strings.LastIndexByte(at, '.')
	sig := []byte(at[dot+1:])
	sig[0] ^= 'A' ^ 'B'
	for name, tok := range map[string]string{
		"bad signature":  at[:dot+1] + string(sig),
		"no signature":   at[:dot+1],
		"header only":    at[:strings.IndexByte(at, '.')],
		"garbage":        "eyJhbGciOiJub25lIn0.e30.",
		"another issuer": signedElsewhere(t),
	} {
		t.Run(name, func(t *testing.T) { wantInactive(t, f.introspectAs(idC, secretC, tok)) })
	}
	t.Run("revoked", func(t *testing.T) {
		f, _ := newJWTFixture(t)
		at := f.tokensOfC().str("access_token")
		wantRevoked(t, f.revoke(at, ""))
		wantInactive(t, f.introspectAs(idC, secretC, at))
	})
	t.Run("expired", func(t *testing.T) {
		f, _ := newJWTFixture(t)
		at := f.tokensOfC().str("access_token")
		f.clock.Advance(time.Hour)
		wantInactive(t, f.introspectAs(idC, secretC, at))
	})
	t.Run("record gone", func(t *testing.T) {
		f, _ := newJWTFixture(t)
		at := f.tokensOfC().str("access_token")
		f.clock.Advance(time.Hour + time.Second)
		f.store.PurgeAccessTokens(t.Context(), f.clock.Now().Add(grants.DefaultRefreshTokenLifetime+time.Hour))
		f.clock.Advance(-time.Hour)
		wantInactive(t, f.introspectAs(idC, secretC, at))
	})
}

// signedElsewhere returns a JWT access token signed by another server's
// keys for C.
func signedElsewhere(t *testing.T) string {
	t.Helper()
	f, _ := newJWTFixture(t)
	return f.tokensOfC().str("access_token")
}

// TestIntrospectInactive is CONFORMANCE I.49: expired, revoked,
// rotated-out, unknown or garbage tokens are exactly {"active":false}.
func TestIntrospectInactive(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(f *fixture) string
	}{
		{"unknown", func(*fixture) string { return "oat_" + strings.Repeat("Q", 43) }},
		{"garbage", func(*fixture) string { return "\x00\xff<script>" }},
		{"dots", func(*fixture) string { return "..." }},
		{"huge", func(*fixture) string { return strings.Repeat("A", 9000) }},
		{"expired access token", func(f *fixture) string {
			tok := f.tokensOfC().str("access_token")
			f.clock.Advance(time.Hour)
			return tok
		}},
		{"expired refresh token", func(f *fixture) string {
			tok := f.tokensOfC().str("refresh_token")
			f.clock.Advance(grants.DefaultRefreshTokenLifetime)
			return tok
		}},
		{"revoked access token", func(f *fixture) string {
			tok := f.tokensOfC().str("access_token")
			wantRevoked(f.t, f.revoke(tok, ""))
			return tok
		}},
		{"revoked refresh token", func(f *fixture) string {
			tok := f.tokensOfC().str("refresh_token")
			wantRevoked(f.t, f.revoke(tok, ""))
			return tok
		}},
		{"rotated-out refresh token", func(f *fixture) string {
			_, _, rt1, _ := f.familyOfC()
			return rt1
		}},
		{"access token of a replayed code", func(f *fixture) string {
			verifier, challenge := newVerifier(f.t)
			code := f.codeFor(authParams(idC, redirectC, challenge))
			tok := f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC)).str("access_token")
			f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC))
			return tok
		}},
		{"access token of a reused refresh token", func(f *fixture) string {
			_, at2, rt1, _ := f.familyOfC()
			f.token(refreshReq(rt1).withBasic(idC, secretC))
			return at2
		}},
		{"authorization code", func(f *fixture) string {
			_, challenge := newVerifier(f.t)
			return f.codeFor(authParams(idC, redirectC, challenge))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok := tt.prepare(f)
			wantInactive(t, f.introspectAs(idC, secretC, tok))
			wantInactive(t, f.introspectAs(idC, secretC, tok, "token_type_hint", "refresh_token"))
		})
	}
}

// TestIntrospectErrors is CONFORMANCE I.50.
func TestIntrospectErrors(t *testing.T) {
	f := newFixture(t)
	tok := f.tokensOfC().str("access_token")
	tests := []struct {
		name   string
		q      tokenReq
		status int
		code   string
	}{
		{"no credentials", tokenReq{form: form("token", tok)}, 401, oauth.ErrCodeInvalidClient},
		{"wrong secret, basic", tokenReq{form: form("token", tok)}.withBasic(idC, "wrong"), 401, oauth.ErrCodeInvalidClient},
		{"wrong secret, post", tokenReq{form: form("token", tok)}.withPost(idC, "wrong"), 401, oauth.ErrCodeInvalidClient},
		{"unknown client", tokenReq{form: form("token", tok)}.withBasic("ghost", "x"), 401, oauth.ErrCodeInvalidClient},
		{"public client", tokenReq{form: form("token", tok)}.withPost(idP, ""), 401, oauth.ErrCodeInvalidClient},
		{"bearer token as credentials", tokenReq{form: form("token", tok), rawAuth: "Bearer " + tok}, 401, oauth.ErrCodeInvalidClient},
		{"missing token", tokenReq{form: form("token_type_hint", "access_token")}.withBasic(idC, secretC), 400, oauth.ErrCodeInvalidRequest},
		{"repeated token", tokenReq{form: form("token", tok, "token", tok)}.withBasic(idC, secretC), 400, oauth.ErrCodeInvalidRequest},
		{"json body", tokenReq{form: form("token", tok), contentType: "application/json"}.withBasic(idC, secretC), 400, oauth.ErrCodeInvalidRequest},
		{"GET", tokenReq{method: http.MethodGet, form: form("token", tok)}.withBasic(idC, secretC), 405, oauth.ErrCodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.post("/oauth/introspect", tt.q)
			wantError(t, res, tt.status, tt.code)
			if tt.status == 401 && !strings.HasPrefix(res.header.Get("Www-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate = %q; want a Basic challenge", res.header.Get("Www-Authenticate"))
			}
			if tt.status == 405 && res.header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q; want POST", res.header.Get("Allow"))
			}
		})
	}
	_, _, failures, _, _ := f.events.counts()
	if failures < 6 {
		t.Errorf("ClientAuthFailed fired %d times; want at least 6", failures)
	}
}

// TestIntrospectionPolicy: by default a client sees only its own tokens;
// IntrospectAny and custom policies let others see more; a refusal is
// {"active":false}.
func TestIntrospectionPolicy(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		f := newFixture(t)
		res := f.tokensOfC()
		for _, tok := range []string{res.str("access_token"), res.str("refresh_token")} {
			wantInactive(t, f.introspectAs(idC2, secretC2, tok))
			if !f.isActive(tok) {
				t.Errorf("C cannot introspect its own token")
			}
		}
	})
	t.Run("IntrospectAny", func(t *testing.T) {
		f := newFixture(t, func(c *grants.Config) { c.IntrospectionPolicy = grants.IntrospectAny(idCC) })
		tok := f.tokensOfC().str("access_token")
		if r := f.introspectAs(idCC, secretCC, tok); r.body["active"] != true || r.str("client_id") != idC {
			t.Errorf("resource server CC: %s; want C's token active", r.raw)
		}
		wantInactive(t, f.introspectAs(idC2, secretC2, tok))
		if !f.isActive(tok) {
			t.Errorf("C cannot introspect its own token under IntrospectAny")
		}
	})
	t.Run("custom", func(t *testing.T) {
		var seen []string
		f := newFixture(t, func(c *grants.Config) {
			c.IntrospectionPolicy = func(_ context.Context, caller *oauth.Client, in *grants.Introspection) bool {
				seen = append(seen, caller.ID+">"+in.ClientID+":"+in.TokenType)
				return in.TokenType == grants.TokenTypeBearer && slices.Contains(in.Scopes, "read")
			}
		})
		res := f.tokensOfC("scope", "read")
		if r := f.introspectAs(idC2, secretC2, res.str("access_token")); r.body["active"] != true {
			t.Errorf("policy allowed it, got %s", r.raw)
		}
		wantInactive(t, f.introspectAs(idC, secretC, res.str("refresh_token")))
		wantInactive(t, f.introspectAs(idC, secretC, f.tokensOfC("scope", "write").str("access_token")))
		want := []string{idC2 + ">" + idC + ":Bearer", idC + ">" + idC + ":refresh_token", idC + ">" + idC + ":Bearer"}
		if !slices.Equal(seen, want) {
			t.Errorf("policy saw %v; want %v", seen, want)
		}
	})
	t.Run("not asked about inactive tokens", func(t *testing.T) {
		asked := 0
		f := newFixture(t, func(c *grants.Config) {
			c.IntrospectionPolicy = func(context.Context, *oauth.Client, *grants.Introspection) bool { asked++; return true }
		})
		wantInactive(t, f.introspectAs(idC, secretC, "unknown"))
		if asked != 0 {
			t.Errorf("policy asked %d times about an unknown token", asked)
		}
	})
}

// TestIntrospectStorageErrors: a repository failure is a 500, not an
// inactive answer.
func TestIntrospectStorageErrors(t *testing.T) {
	for _, fail := range []string{"FindAccessToken", "FindRefreshToken"} {
		t.Run(fail, func(t *testing.T) {
			fs := &tokenFailStore{}
			f := newFixture(t, func(c *grants.Config) {
				fs.Store = c.Clients.(*memory.Store)
				c.AccessTokens, c.RefreshTokens = fs, fs
			})
			tok := f.tokensOfC().str("refresh_token")
			fs.fail = fail
			res := f.introspectAs(idC, secretC, tok)
			wantError(t, res, http.StatusInternalServerError, oauth.ErrCodeServerError)
			if strings.Contains(res.raw, "exploded") {
				t.Errorf("response leaks the internal error: %s", res.raw)
			}
		})
	}
}

// TestIntrospectionEncoding: the hand-built JSON is valid and escapes
// what it must.
func TestIntrospectionEncoding(t *testing.T) {
	f := newFixture(t, func(c *grants.Config) {
		c.OpaqueTokenAudience = []string{`https://api.example.com/"quoted"<&>`}
	})
	res := f.introspectAs(idC, secretC, f.tokensOfC().str("access_token"))
	var v map[string]any
	if err := json.Unmarshal([]byte(res.raw), &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", res.raw, err)
	}
	if v["aud"] != `https://api.example.com/"quoted"<&>` {
		t.Errorf("aud = %v", v["aud"])
	}
	if strings.ContainsAny(res.raw, "<>&") {
		t.Errorf("HTML characters are not escaped: %s", res.raw)
	}
}

// ExampleIntrospectAny serves introspection to a resource server that
// checks opaque tokens of every client.
func ExampleIntrospectAny() {
	ctx := context.Background()
	store := memory.New()
	billingSecret, billingHash, _ := oauth.GenerateSecret()
	apiSecret, apiHash, _ := oauth.GenerateSecret()
	store.CreateScope(ctx, &oauth.Scope{ID: "reports:read"})
	store.CreateClient(ctx, &oauth.Client{
		ID: "billing", Name: "Billing", SecretHash: billingHash, Confidential: true,
		GrantTypes: []string{oauth.GrantClientCredentials}, Scopes: []string{"reports:read"},
	})
	// The resource server's own credentials; it may use no grant.
	store.CreateClient(ctx, &oauth.Client{
		ID: "reports-api", Name: "Reports API", SecretHash: apiHash, Confidential: true,
	})
	srv, err := grants.New(grants.Config{
		Issuer: "https://auth.example.com", Clients: store, Scopes: store, AccessTokens: store,
		IntrospectionPolicy: grants.IntrospectAny("reports-api"),
		OpaqueTokenAudience: []string{"https://reports.example.com"},
		Now:                 func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		Logger:              slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	srv.Mount(mux, "/oauth", nil)

	post := func(path, id, secret string, body url.Values) string {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Body.String()
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(post("/oauth/token", "billing", billingSecret, url.Values{"grant_type": {"client_credentials"}})), &tok)
	answer := post("/oauth/introspect", "reports-api", apiSecret, url.Values{"token": {tok.AccessToken}})
	fmt.Println(strings.Split(answer, `,"jti"`)[0])
	// Output: {"active":true,"scope":"reports:read","client_id":"billing","sub":"billing","token_type":"Bearer","exp":1767326645,"iat":1767323045,"nbf":1767323045,"aud":"https://reports.example.com","iss":"https://auth.example.com"
}
