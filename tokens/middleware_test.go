package tokens_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/oauthkit/oauth/tokens"
)

// protected returns the resource server of the tests: Middleware, then
// RequireScope(scopes), then a handler echoing the token's subject.
func protected(v *tokens.Verifier, scopes []string, opts ...tokens.MiddlewareOption) http.Handler {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := tokens.FromContext(r.Context())
		if !ok {
			http.Error(w, "no claims in context", http.StatusTeapot)
			return
		}
		io.WriteString(w, "hello "+c.Subject)
	})
	if scopes != nil {
		h = tokens.RequireScope(scopes...)(h)
	}
	return tokens.Middleware(v, opts...)(h)
}

// TestMiddleware checks CONFORMANCE items 57 to 60.
func TestMiddleware(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	f.verifier.AccessTokens = f.repo
	good, c := f.issue(t, nil)
	f.store(t, c)
	revoked, rc := f.issue(t, nil)
	f.store(t, rc)
	f.repo.RevokeAccessToken(t.Context(), rc.ID)
	priv, kid, _ := privateKey(t, f.keys)
	hdr := map[string]any{"typ": "at+jwt", "kid": kid}
	signed := func(h, edit map[string]any) string {
		hh := map[string]any{}
		for k, v := range hdr {
			hh[k] = v
		}
		for k, v := range h {
			hh[k] = v
		}
		cl := claimsMap()
		cl["jti"] = c.ID
		for k, v := range edit {
			cl[k] = v
		}
		return signJWT(t, jwa.ES256, priv, hh, cl)
	}
	parts := strings.Split(good, ".")

	const realm = `Bearer realm="` + testAudience + `"`
	invalid := func(desc string) string {
		return realm + `, error="invalid_token", error_description="` + desc + `"`
	}
	badRequest := func(desc string) string {
		return realm + `, error="invalid_request", error_description="` + desc + `"`
	}

	type req struct {
		auth   []string // Authorization headers
		query  string
		scopes []string // RequireScope
		opts   []tokens.MiddlewareOption
	}
	tests := []struct {
		name      string
		req       req
		status    int
		challenge string // exact WWW-Authenticate; "" for none
		errCode   string // JSON body error, "" for no body check
	}{
		// 57: no credentials.
		{name: "57 no credentials", status: 401, challenge: realm},
		{name: "57 another scheme", req: req{auth: []string{"Basic dXNlcjpwYXNz"}}, status: 401, challenge: realm},
		{name: "57 custom realm", req: req{opts: []tokens.MiddlewareOption{tokens.WithRealm(`my "api"`)}}, status: 401, challenge: `Bearer realm="my \"api\""`},

		// A valid token, the scheme in any case.
		{name: "valid", req: req{auth: []string{"Bearer " + good}}, status: 200},
		{name: "60 scheme lowercase", req: req{auth: []string{"bearer " + good}}, status: 200},
		{name: "60 scheme uppercase", req: req{auth: []string{"BEARER " + good}}, status: 200},
		{name: "60 scheme mixed case", req: req{auth: []string{"bEaReR " + good}}, status: 200},
		{name: "valid with the scopes required", req: req{auth: []string{"Bearer " + good}, scopes: []string{"read", "write"}}, status: 200},

		// 58: invalid tokens.
		{name: "58 expired", req: req{auth: []string{"Bearer " + signed(nil, map[string]any{"exp": t0.Unix() - 1})}}, status: 401, challenge: invalid("token expired"), errCode: "invalid_token"},
		{name: "58 bad signature", req: req{auth: []string{"Bearer " + parts[0] + "." + parts[1] + "." + parts[2][:10] + "AAAA" + parts[2][14:]}}, status: 401, challenge: invalid("bad signature"), errCode: "invalid_token"},
		{name: "58 unknown kid", req: req{auth: []string{"Bearer " + signed(map[string]any{"kid": "nope"}, nil)}}, status: 401, challenge: invalid("unknown key"), errCode: "invalid_token"},
		{name: "58 alg none", req: req{auth: []string{"Bearer " + b64json(t, map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid}) + "." + parts[1] + "."}}, status: 401, challenge: invalid("algorithm not allowed"), errCode: "invalid_token"},
		{name: "58 HS256", req: req{auth: []string{"Bearer " + signJWT(t, jwa.HS256, f.keys.JWKS(), hdr, claimsMap())}}, status: 401, challenge: invalid("algorithm not allowed"), errCode: "invalid_token"},
		{name: "58 wrong typ", req: req{auth: []string{"Bearer " + signed(map[string]any{"typ": "JWT"}, nil)}}, status: 401, challenge: invalid("not an access token (typ)"), errCode: "invalid_token"},
		{name: "58 wrong iss", req: req{auth: []string{"Bearer " + signed(nil, map[string]any{"iss": "https://evil"})}}, status: 401, challenge: invalid("wrong issuer"), errCode: "invalid_token"},
		{name: "58 wrong aud", req: req{auth: []string{"Bearer " + signed(nil, map[string]any{"aud": "https://evil"})}}, status: 401, challenge: invalid("wrong audience"), errCode: "invalid_token"},
		{name: "58 revoked", req: req{auth: []string{"Bearer " + revoked}}, status: 401, challenge: invalid("token revoked"), errCode: "invalid_token"},
		{name: "58 opaque unknown", req: req{auth: []string{"Bearer oat_abc"}}, status: 401, challenge: invalid("unknown token"), errCode: "invalid_token"},

		// 59: missing scope.
		{name: "59 missing scope", req: req{auth: []string{"Bearer " + good}, scopes: []string{"read", "admin"}}, status: 403,
			challenge: realm + `, error="insufficient_scope", error_description="the token lacks a required scope", scope="read admin"`, errCode: "insufficient_scope"},

		// 60: malformed requests.
		{name: "60 scheme without token", req: req{auth: []string{"Bearer"}}, status: 400, challenge: badRequest("malformed Authorization header"), errCode: "invalid_request"},
		{name: "60 scheme and space", req: req{auth: []string{"Bearer "}}, status: 400, challenge: badRequest("malformed Authorization header"), errCode: "invalid_request"},
		{name: "60 two tokens", req: req{auth: []string{"Bearer " + good + " " + good}}, status: 400, challenge: badRequest("malformed Authorization header"), errCode: "invalid_request"},
		{name: "60 bad characters", req: req{auth: []string{"Bearer a,b"}}, status: 400, challenge: badRequest("malformed Authorization header"), errCode: "invalid_request"},
		{name: "60 padding inside", req: req{auth: []string{"Bearer a=b"}}, status: 400, challenge: badRequest("malformed Authorization header"), errCode: "invalid_request"},
		{name: "60 two Authorization headers", req: req{auth: []string{"Bearer " + good, "Bearer " + good}}, status: 400, challenge: badRequest("more than one Authorization header"), errCode: "invalid_request"},
		{name: "60 query token refused by default", req: req{query: "access_token=" + good}, status: 400, challenge: badRequest("access_token in the query is not accepted"), errCode: "invalid_request"},
		{name: "60 header and query, query refused", req: req{auth: []string{"Bearer " + good}, query: "access_token=" + good}, status: 400, challenge: badRequest("access_token in the query is not accepted"), errCode: "invalid_request"},
		{name: "60 query token when enabled", req: req{query: "x=1&access_token=" + good, opts: []tokens.MiddlewareOption{tokens.WithQueryToken()}}, status: 200},
		{name: "60 header and query, both enabled", req: req{auth: []string{"Bearer " + good}, query: "access_token=" + good, opts: []tokens.MiddlewareOption{tokens.WithQueryToken()}}, status: 400, challenge: badRequest("token sent more than one way"), errCode: "invalid_request"},
		{name: "60 query token twice", req: req{query: "access_token=" + good + "&access_token=" + good, opts: []tokens.MiddlewareOption{tokens.WithQueryToken()}}, status: 400, challenge: badRequest("malformed access_token parameter"), errCode: "invalid_request"},
		{name: "60 query token empty", req: req{query: "access_token=", opts: []tokens.MiddlewareOption{tokens.WithQueryToken()}}, status: 400, challenge: badRequest("malformed access_token parameter"), errCode: "invalid_request"},
		{name: "query without a token", req: req{auth: []string{"Bearer " + good}, query: "q=access_token"}, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/resource?"+tt.req.query, nil)
			for _, a := range tt.req.auth {
				r.Header.Add("Authorization", a)
			}
			rec := httptest.NewRecorder()
			protected(f.verifier, tt.req.scopes, tt.req.opts...).ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Fatalf("status: got %d; want %d (body %q)", rec.Code, tt.status, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Fatalf("WWW-Authenticate:\ngot  %s\nwant %s", got, tt.challenge)
			}
			if tt.status == 200 {
				if rec.Body.String() != "hello user-1" {
					t.Fatalf("body: got %q; want %q", rec.Body, "hello user-1")
				}
				wantCC := ""
				if strings.Contains(tt.req.query, "access_token=") {
					wantCC = "private"
				}
				if cc := rec.Header().Get("Cache-Control"); cc != wantCC {
					t.Fatalf("Cache-Control: got %q; want %q", cc, wantCC)
				}
				return
			}
			if tt.errCode == "" {
				if rec.Body.Len() != 0 {
					t.Fatalf("body: got %q; want none", rec.Body)
				}
				return
			}
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error != tt.errCode {
				t.Fatalf("body: got %q (%v); want JSON with error %q", rec.Body, err, tt.errCode)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Fatalf("Cache-Control: got %q; want no-store", cc)
			}
		})
	}
}

func TestMiddlewareServerError(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	f.verifier.AccessTokens = f.repo
	f.repo.fail = errors.New("database is down")
	tok, _ := f.issue(t, nil)
	var logs bytes.Buffer
	h := protected(f.verifier, nil, tokens.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"server_error"`) || strings.Contains(rec.Body.String(), "database") {
		t.Fatalf("got %d %q; want 500 server_error without detail", rec.Code, rec.Body)
	}
	if rec.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("WWW-Authenticate: got %q; want none on a server error", rec.Header().Get("WWW-Authenticate"))
	}
	if !strings.Contains(logs.String(), "database is down") {
		t.Fatalf("log: got %q; want the repository error", logs.String())
	}
}

func TestRequireScopeWithoutMiddleware(t *testing.T) {
	h := tokens.RequireScope("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler reached without a token")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status: got %d; want 500", rec.Code)
	}
	if _, ok := tokens.FromContext(t.Context()); ok {
		t.Fatalf("FromContext of a bare context: got ok; want false")
	}
}

// TestMiddlewareOverHTTP drives the middleware through a real server and
// client, the token made by a real issuer.
func TestMiddlewareOverHTTP(t *testing.T) {
	ks, err := tokens.GenerateKeySet(tokens.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	iss := &tokens.JWTIssuer{Keys: ks, Issuer: testIssuer, Audience: []string{testAudience}}
	v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: ks, CacheSize: 16}
	srv := httptest.NewServer(protected(v, []string{"read"}))
	defer srv.Close()
	tok, err := iss.Issue(&tokens.Claims{Subject: "alice", ClientID: "c", Scopes: []string{"read"}, ExpiresAt: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "hello alice" {
			t.Fatalf("got %d %q; want 200 hello alice", resp.StatusCode, body)
		}
	}
}
