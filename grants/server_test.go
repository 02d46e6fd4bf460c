package grants_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/tokens"
)

func TestNewConfig(t *testing.T) {
	store := memory.New()
	keys, err := tokens.GenerateKeySet(tokens.ES256)
	if err != nil {
		t.Fatal(err)
	}
	base := func() grants.Config {
		return grants.Config{Issuer: issuer, Clients: store, Scopes: store, AccessTokens: store}
	}
	tests := []struct {
		name   string
		change func(*grants.Config)
		ok     bool
	}{
		{"minimal", func(*grants.Config) {}, true},
		{"issuer with path", func(c *grants.Config) { c.Issuer = "https://as.example.com/tenant/1" }, true},
		{"http issuer", func(c *grants.Config) { c.Issuer = "http://127.0.0.1:8080" }, true},
		{"no issuer", func(c *grants.Config) { c.Issuer = "" }, false},
		{"relative issuer", func(c *grants.Config) { c.Issuer = "/as" }, false},
		{"issuer with query", func(c *grants.Config) { c.Issuer = "https://as.example.com?x=1" }, false},
		{"issuer with empty query", func(c *grants.Config) { c.Issuer = "https://as.example.com?" }, false},
		{"issuer with fragment", func(c *grants.Config) { c.Issuer = "https://as.example.com#x" }, false},
		{"issuer with userinfo", func(c *grants.Config) { c.Issuer = "https://u@as.example.com" }, false},
		{"ftp issuer", func(c *grants.Config) { c.Issuer = "ftp://as.example.com" }, false},
		{"no clients", func(c *grants.Config) { c.Clients = nil }, false},
		{"no scopes", func(c *grants.Config) { c.Scopes = nil }, false},
		{"no access tokens", func(c *grants.Config) { c.AccessTokens = nil }, false},
		{"tiny access lifetime", func(c *grants.Config) { c.AccessTokenLifetime = time.Millisecond }, false},
		{"negative refresh lifetime", func(c *grants.Config) { c.RefreshTokenLifetime = -time.Hour }, false},
		{"ten-year refresh lifetime", func(c *grants.Config) { c.RefreshTokenLifetime = grants.MaxTokenLifetime }, true},
		{"absurd refresh lifetime", func(c *grants.Config) { c.RefreshTokenLifetime = 1 << 62 }, false},
		{"absurd access lifetime", func(c *grants.Config) { c.AccessTokenLifetime = grants.MaxTokenLifetime + time.Second }, false},
		{"tiny body cap", func(c *grants.Config) { c.MaxBodyBytes = 10 }, false},
		{"negative max scopes", func(c *grants.Config) { c.MaxScopes = -1 }, false},
		{"jwt", func(c *grants.Config) {
			c.AccessTokenFormat = grants.AccessTokenJWT
			c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{"api"}}
		}, true},
		{"jwt without audience", func(c *grants.Config) {
			c.AccessTokenFormat = grants.AccessTokenJWT
			c.JWTIssuer = &tokens.JWTIssuer{Keys: keys}
		}, false},
		{"jwt with two audiences", func(c *grants.Config) {
			c.AccessTokenFormat = grants.AccessTokenJWT
			c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{"api", "api2"}}
		}, true},
		// An empty aud would be issued, but the verifier of the
		// revocation and introspection endpoints could check nothing:
		// every JWT would be answered 200 and left live, or inactive.
		{"jwt with an empty audience", func(c *grants.Config) {
			c.AccessTokenFormat = grants.AccessTokenJWT
			c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{""}}
		}, false},
		{"jwt with an empty first audience", func(c *grants.Config) {
			c.AccessTokenFormat = grants.AccessTokenJWT
			c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{"", "api"}}
		}, false},
		{"jwt without issuer", func(c *grants.Config) { c.AccessTokenFormat = grants.AccessTokenJWT }, false},
		{"jwt with another iss", func(c *grants.Config) {
			c.AccessTokenFormat = grants.AccessTokenJWT
			c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Issuer: issuer + "/", Audience: []string{"api"}}
		}, false},
		{"jwt issuer with opaque format", func(c *grants.Config) { c.JWTIssuer = &tokens.JWTIssuer{Keys: keys} }, false},
		{"unknown format", func(c *grants.Config) { c.AccessTokenFormat = 7 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.change(&cfg)
			s, err := grants.New(cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v; want ok %v", err, tt.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "grants: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if err == nil && s.Issuer() != cfg.Issuer {
				t.Errorf("Issuer() = %q", s.Issuer())
			}
		})
	}
}

// failingStore fails the operations named in fail, with an error whose text
// must never reach a client.
type failingStore struct {
	*memory.Store
	fail string
}

var errBackend = errors.New("backend exploded at dsn=postgres://secret@db")

func (s *failingStore) FindClient(ctx context.Context, id string) (*oauth.Client, error) {
	if s.fail == "FindClient" {
		return nil, errBackend
	}
	return s.Store.FindClient(ctx, id)
}

func (s *failingStore) FindScopes(ctx context.Context, ids []string) ([]oauth.Scope, error) {
	if s.fail == "FindScopes" {
		return nil, errBackend
	}
	return s.Store.FindScopes(ctx, ids)
}

func (s *failingStore) CreateAccessToken(ctx context.Context, t *oauth.AccessToken) error {
	if s.fail == "CreateAccessToken" {
		return errBackend
	}
	return s.Store.CreateAccessToken(ctx, t)
}

func (s *failingStore) CreateAuthCode(ctx context.Context, c *oauth.AuthCode) error {
	if s.fail == "CreateAuthCode" {
		return errBackend
	}
	return s.Store.CreateAuthCode(ctx, c)
}

func (s *failingStore) FindAuthCode(ctx context.Context, id string) (*oauth.AuthCode, error) {
	if s.fail == "FindAuthCode" {
		return nil, errBackend
	}
	return s.Store.FindAuthCode(ctx, id)
}

func (s *failingStore) RotateRefreshToken(ctx context.Context, oldID string, next *oauth.RefreshToken, now time.Time) error {
	if s.fail == "RotateRefreshToken" {
		return errBackend
	}
	return s.Store.RotateRefreshToken(ctx, oldID, next, now)
}

func (s *failingStore) CreateRefreshToken(ctx context.Context, t *oauth.RefreshToken) error {
	if s.fail == "CreateRefreshToken" {
		return errBackend
	}
	return s.Store.CreateRefreshToken(ctx, t)
}

func (s *failingStore) ConsumeAuthCode(ctx context.Context, id string, now time.Time) (*oauth.AuthCode, error) {
	if s.fail == "ConsumeAuthCode" {
		return nil, errBackend
	}
	return s.Store.ConsumeAuthCode(ctx, id, now)
}

func (s *failingStore) RedeemDeviceCode(ctx context.Context, id string, now time.Time) (*oauth.DeviceCode, error) {
	if s.fail == "RedeemDeviceCode" {
		return nil, errBackend
	}
	return s.Store.RedeemDeviceCode(ctx, id, now)
}

// TestServerErrors: a repository failure is a 500 server_error without
// detail at the token endpoint, a server_error redirect or page at the
// authorization endpoint, and is logged.
func TestServerErrors(t *testing.T) {
	tests := []struct {
		fail     string
		endpoint string
	}{
		{"FindClient", "token"},
		{"FindScopes", "token"},
		{"CreateAccessToken", "token"},
		{"FindAuthCode", "code"},
		{"RotateRefreshToken", "refresh"},
		{"FindClient", "authorize"},
		{"FindScopes", "authorize"},
		{"CreateAuthCode", "authorize"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint+"/"+tt.fail, func(t *testing.T) {
			fs := &failingStore{}
			f := newFixture(t, func(c *grants.Config) {
				fs.Store = c.Clients.(*memory.Store)
				c.Clients, c.Scopes, c.AccessTokens, c.AuthCodes, c.RefreshTokens = fs, fs, fs, fs, fs
			})
			verifier, challenge := newVerifier(t)
			var code, rt string
			if tt.endpoint == "code" || tt.endpoint == "refresh" {
				code = f.codeFor(authParams(idC, redirectC, challenge))
			}
			if tt.endpoint == "refresh" {
				rt = f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC)).str("refresh_token")
			}
			fs.fail = tt.fail
			var res *response
			switch tt.endpoint {
			case "token":
				res = f.token(tokenReq{form: ccForm()}.withBasic(idC, secretC))
			case "code":
				res = f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC))
			case "refresh":
				res = f.token(refreshReq(rt).withBasic(idC, secretC))
			case "authorize":
				res = f.authorize(http.MethodGet, authParams(idC, redirectC, challenge))
			}
			if strings.Contains(res.raw+res.header.Get("Location"), "exploded") {
				t.Errorf("response leaks the internal error: %s %s", res.raw, res.header.Get("Location"))
			}
			if !strings.Contains(f.logs.String(), "exploded") || !strings.Contains(f.logs.String(), "level=ERROR") {
				t.Errorf("internal error not logged: %s", f.logs.String())
			}
			if tt.endpoint != "authorize" {
				wantError(t, res, http.StatusInternalServerError, oauth.ErrCodeServerError)
				if res.str("error_description") != "" {
					t.Errorf("server_error has a description: %s", res.raw)
				}
				return
			}
			if tt.fail == "FindClient" {
				if res.status != http.StatusInternalServerError {
					t.Fatalf("status %d; want 500 page", res.status)
				}
				wantPageHeaders(t, res)
				return
			}
			wantErrorRedirect(t, res, http.StatusFound, redirectC, oauth.ErrCodeServerError, "st-123")
		})
	}
}

// TestRotateFailureRevokesUnusedAccessToken: when rotation fails after the
// new access token was stored, that token is revoked.
func TestRotateFailureRevokesUnusedAccessToken(t *testing.T) {
	var issued []grants.AccessTokenEvent
	fs := &failingStore{}
	f := newFixture(t, func(c *grants.Config) {
		fs.Store = c.Clients.(*memory.Store)
		c.RefreshTokens = fs
		c.Hooks.AccessTokenIssued = func(_ context.Context, e grants.AccessTokenEvent) { issued = append(issued, e) }
	})
	rt := f.tokensOfC().str("refresh_token")
	fs.fail = "RotateRefreshToken"
	before := len(issued)
	wantError(t, f.token(refreshReq(rt).withBasic(idC, secretC)), 500, oauth.ErrCodeServerError)
	if len(issued) != before {
		t.Errorf("AccessTokenIssued fired for a token nobody received")
	}
}

// TestUnsentAccessTokensRevoked: when a refresh fails after its new access
// token was stored — the rotation fails, or, for a retry within the grace
// period, storing the new refresh token fails — the client is told
// server_error and the access token it never received is revoked.
func TestUnsentAccessTokensRevoked(t *testing.T) {
	for _, fail := range []string{"RotateRefreshToken", "CreateRefreshToken"} {
		t.Run(fail, func(t *testing.T) {
			fs := &failingStore{}
			f := newFixture(t, func(c *grants.Config) {
				fs.Store = c.Clients.(*memory.Store)
				c.RefreshTokens = fs
				c.RefreshGracePeriod = time.Minute
			})
			rt := f.tokensOfC().str("refresh_token")
			family := f.refreshRecord(rt).FamilyID
			if fail == "CreateRefreshToken" {
				// Rotate once; the retry within the grace period creates
				// its refresh token beside the successor.
				wantTokens(t, f.token(refreshReq(rt).withBasic(idC, secretC)))
			}
			fs.fail = fail
			wantError(t, f.token(refreshReq(rt).withBasic(idC, secretC)), 500, oauth.ErrCodeServerError)
			fs.fail = ""
			// Live in the family: the access tokens that were sent, one per
			// successful response.
			want := int64(1)
			if fail == "CreateRefreshToken" {
				want = 2
			}
			if n, err := f.store.RevokeAccessTokenFamily(t.Context(), family); err != nil || n != want {
				t.Errorf("%d live access tokens in the family (%v); want %d, the ones sent", n, err, want)
			}
		})
	}
}

// TestSingleUseFailureDiscardsTokens: the code and device grants store
// their tokens before the single-use write; when that write, or storing the
// refresh token, fails, the client is told server_error, no token of the
// family stays live, and the code or device code still works on a retry.
func TestSingleUseFailureDiscardsTokens(t *testing.T) {
	for _, fail := range []string{"ConsumeAuthCode", "RedeemDeviceCode", "CreateRefreshToken"} {
		t.Run(fail, func(t *testing.T) {
			fs := &failingStore{}
			f := newDeviceFixture(t, func(c *grants.Config) {
				fs.Store = c.Clients.(*memory.Store)
				c.AuthCodes, c.DeviceCodes, c.RefreshTokens = fs, fs, fs
			})
			var retry func() *response
			var family string
			if fail == "RedeemDeviceCode" {
				dc := f.newDeviceCode("")
				f.approve(dc.userCode)
				family = f.deviceRecord(dc.deviceCode).FamilyID
				retry = func() *response {
					f.clock.Advance(grants.DefaultDevicePollInterval)
					return f.poll(dc.deviceCode)
				}
			} else {
				verifier, challenge := newVerifier(t)
				code := f.codeFor(authParams(idC, redirectC, challenge))
				family = f.codeRecord(code).FamilyID
				retry = func() *response { return f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC)) }
			}
			fs.fail = fail
			wantError(t, retry(), 500, oauth.ErrCodeServerError)
			fs.fail = ""
			if n, err := f.store.RevokeRefreshTokenFamily(t.Context(), family); err != nil || n != 0 {
				t.Errorf("%d live refresh tokens in the family (%v); want 0", n, err)
			}
			if n, err := f.store.RevokeAccessTokenFamily(t.Context(), family); err != nil || n != 0 {
				t.Errorf("%d live access tokens in the family (%v); want 0", n, err)
			}
			res := retry()
			wantTokens(t, res)
			if !f.active(res.str("access_token")) {
				t.Errorf("the retry's access token is not active")
			}
		})
	}
}

// TestLogsHoldNoSecrets runs every flow, failures included, with debug
// logging, and checks no secret, code or token value was logged.
func TestLogsHoldNoSecrets(t *testing.T) {
	f := newFixture(t)
	var values []string
	add := func(r *response) {
		for _, k := range []string{"access_token", "refresh_token"} {
			if v := r.str(k); v != "" {
				values = append(values, v)
			}
		}
	}
	verifier, challenge := newVerifier(t)
	code := f.codeFor(authParams(idC, redirectC, challenge))
	values = append(values, code, verifier, challenge)
	res := f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC))
	add(res)
	f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC)) // replay
	f.token(codeExchange(code, redirectC, verifier).withBasic(idC, "wrong-secret-value"))
	values = append(values, "wrong-secret-value")
	res = f.tokensOfC()
	add(res)
	rt := res.str("refresh_token")
	res = f.token(refreshReq(rt).withBasic(idC, secretC))
	add(res)
	f.token(refreshReq(rt).withBasic(idC, secretC)) // reuse
	add(f.token(tokenReq{form: ccForm()}.withPost(idC, secretC)))
	f.token(tokenReq{form: ccForm()}.withPost(idC2, "another-wrong-secret"))
	values = append(values, "another-wrong-secret", secretC2)
	f.authorize(http.MethodGet, authParams(idC, redirectC, challenge, "scope", "admin"))

	logs := f.logs.String()
	for _, want := range []string{"authorization code replayed", "refresh token reused", "client authentication failed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}
	for _, v := range append(values, secretC, "a+b%2Bc%25%2F", "a b+c") {
		if strings.Contains(logs, v) {
			t.Errorf("logs hold %q", v)
		}
	}
}

// TestMount checks the routes Mount registers.
func TestMount(t *testing.T) {
	f := newFixture(t)
	_, challenge := newVerifier(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPost, "/oauth/token", http.StatusOK, ""},
		{http.MethodGet, "/oauth/token", http.StatusMethodNotAllowed, "POST"},
		{http.MethodHead, "/oauth/token", http.StatusMethodNotAllowed, "POST"},
		{http.MethodGet, "/oauth/authorize?" + authParams(idC, redirectC, challenge).Encode(), http.StatusFound, ""},
		{http.MethodDelete, "/oauth/authorize", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodPost, "/token", http.StatusNotFound, ""},
		{http.MethodPost, "/oauth/token/", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(ccForm().Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", basicHeader(idC, secretC))
			res := f.do(r)
			if res.status != tt.status {
				t.Fatalf("status %d; want %d", res.status, tt.status)
			}
			if got := res.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q; want %q", got, tt.allow)
			}
			if tt.path == "/oauth/token" && tt.method != http.MethodHead && res.status == 405 && res.str("error") == "" {
				t.Errorf("405 at the token endpoint is not a JSON error: %q", res.raw)
			}
		})
	}
	t.Run("no prefix, no authorize", func(t *testing.T) {
		mux := http.NewServeMux()
		f.srv.Mount(mux, "", nil)
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(ccForm().Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", basicHeader(idC, secretC))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		if rec.Code != 200 {
			t.Errorf("POST /token: %d", rec.Code)
		}
		rec = httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/authorize", nil))
		if rec.Code != 404 {
			t.Errorf("GET /authorize: %d; want 404 when no handler is given", rec.Code)
		}
	})
	for _, bad := range []string{"oauth", "/oauth/", "/{x}"} {
		t.Run("bad prefix "+bad, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Mount(%q) did not panic", bad)
				}
			}()
			f.srv.Mount(http.NewServeMux(), bad, nil)
		})
	}
}

// TestDisabledGrants: without AuthCodes or RefreshTokens, those grants are
// off.
func TestDisabledGrants(t *testing.T) {
	f := newFixture(t, func(c *grants.Config) { c.AuthCodes = nil })
	wantError(t, f.token(codeExchange("x", redirectC, "").withBasic(idC, secretC)), 400, oauth.ErrCodeUnsupportedGrantType)
	_, challenge := newVerifier(t)
	r := httptest.NewRequest(http.MethodGet, "/authorize?"+authParams(idC, redirectC, challenge).Encode(), nil)
	rec := httptest.NewRecorder()
	_, err := f.srv.ParseAuthorizeRequest(r)
	f.srv.WriteAuthorizeError(rec, r, err)
	res := &response{status: rec.Code, header: rec.Header()}
	wantErrorRedirect(t, res, http.StatusFound, redirectC, oauth.ErrCodeUnsupportedResponseType, "st-123")

	f = newFixture(t, func(c *grants.Config) { c.RefreshTokens = nil })
	res = f.tokensOfC()
	if _, ok := res.body["refresh_token"]; ok {
		t.Errorf("refresh token issued without a RefreshTokenRepository")
	}
	wantError(t, f.token(refreshReq("x").withBasic(idC, secretC)), 400, oauth.ErrCodeUnsupportedGrantType)
}

// TestJWTAccessTokens: with AccessTokenJWT the grants issue RFC 9068 JWTs,
// stored by jti so that family revocation reaches them.
func TestJWTAccessTokens(t *testing.T) {
	keys, err := tokens.GenerateKeySet(tokens.ES256)
	if err != nil {
		t.Fatal(err)
	}
	var clk *clock
	f := newFixture(t, func(c *grants.Config) {
		c.AccessTokenFormat = grants.AccessTokenJWT
		c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{"https://api.example.com"}, Now: c.Now}
	})
	clk = f.clock
	v := &tokens.Verifier{Issuer: issuer, Audience: "https://api.example.com", Keys: keys, AccessTokens: f.store, Now: clk.Now}

	res := f.token(tokenReq{form: ccForm("scope", "read write")}.withBasic(idCC, secretCC))
	wantTokens(t, res)
	claims, err := v.Verify(t.Context(), res.str("access_token"))
	if err != nil {
		t.Fatalf("client_credentials JWT: %v", err)
	}
	if claims.Subject != idCC || claims.ClientID != idCC || claims.Issuer != issuer || strings.Join(claims.Scopes, " ") != "read write" {
		t.Errorf("claims %+v", claims)
	}
	if !claims.ExpiresAt.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("exp %v; want now+1h", claims.ExpiresAt)
	}
	rec, err := f.store.FindAccessToken(t.Context(), claims.ID)
	if err != nil || rec.ClientID != idCC {
		t.Fatalf("JWT not stored by jti %q: %v", claims.ID, err)
	}

	// Authorization code: sub is the user; a replay revokes the JWT.
	verifier, challenge := newVerifier(t)
	code := f.codeFor(authParams(idC, redirectC, challenge))
	res = f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC))
	wantTokens(t, res)
	claims, err = v.Verify(t.Context(), res.str("access_token"))
	if err != nil || claims.Subject != "alice" || claims.ClientID != idC {
		t.Fatalf("code JWT: %+v, %v", claims, err)
	}
	// Refresh issues a JWT too.
	res2 := f.token(refreshReq(res.str("refresh_token"), "scope", "read").withBasic(idC, secretC))
	wantTokens(t, res2)
	if c2, err := v.Verify(t.Context(), res2.str("access_token")); err != nil || strings.Join(c2.Scopes, " ") != "read" {
		t.Fatalf("refreshed JWT: %+v, %v", c2, err)
	}
	f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC))
	for _, at := range []string{res.str("access_token"), res2.str("access_token")} {
		if _, err := v.Verify(t.Context(), at); err == nil {
			t.Errorf("JWT of a revoked family still verifies")
		}
	}
}

// TestLogsCapRequestValues: what an unauthenticated request chooses is
// logged capped, so that one request cannot write tens of kilobytes of log.
func TestLogsCapRequestValues(t *testing.T) {
	f := newFixture(t)
	huge := strings.Repeat("g", 60<<10)
	for _, q := range []tokenReq{
		{form: form("grant_type", huge)},
		tokenReq{form: form("grant_type", huge)}.withBasic(idC, secretC),
		tokenReq{form: ccForm()}.withPost(huge, "x"),
		tokenReq{form: ccForm()}.withBasic(huge, "x"),
	} {
		f.token(q)
	}
	for _, line := range strings.Split(f.logs.String(), "\n") {
		if len(line) > 1000 {
			t.Errorf("log line of %d bytes: %.200s…", len(line), line)
		}
	}
}

// TestWriteAuthorizeErrorWithoutErr: an AuthorizeError a host built without
// its protocol error is a server failure on the error page, not a panic and
// never a redirect.
func TestWriteAuthorizeErrorWithoutErr(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest(http.MethodGet, "/authorize", nil)
	rec := httptest.NewRecorder()
	f.srv.WriteAuthorizeError(rec, r, &grants.AuthorizeError{RedirectURI: redirectC, State: "s"})
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Location") != "" {
		t.Fatalf("status %d, Location %q; want 500 and no redirect", rec.Code, rec.Header().Get("Location"))
	}
}
