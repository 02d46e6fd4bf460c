package grants_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/tokens"
)

// get sends a GET to path on the fixture's mux.
func (f *fixture) get(path string) *response {
	f.t.Helper()
	return f.do(httptest.NewRequest(http.MethodGet, path, nil))
}

// wantMetadata checks the general rules of a metadata document (CONFORMANCE
// J.51): 200 JSON, the issuer, absolute http(s) URLs, no empty arrays, and
// returns the document.
func wantMetadata(t testing.TB, res *response, iss string) map[string]any {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("metadata: got %d %s; want 200", res.status, res.raw)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	if got := res.str("issuer"); got != iss {
		t.Errorf("issuer = %q; want %q", got, iss)
	}
	for k, v := range res.body {
		switch v := v.(type) {
		case []any:
			if len(v) == 0 {
				t.Errorf("%s is an empty array", k)
			}
		case string:
			if strings.HasSuffix(k, "_endpoint") || strings.HasSuffix(k, "_uri") || k == "issuer" {
				if u, err := url.Parse(v); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
					t.Errorf("%s = %q is not an absolute URL", k, v)
				}
			}
		}
	}
	return res.body
}

func strs(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

var (
	allAuthMethods    = strs("client_secret_basic", "client_secret_post", "none")
	secretAuthMethods = strs("client_secret_basic", "client_secret_post")
)

// TestMetadata is CONFORMANCE J.51: the metadata lists exactly what the
// server is configured to do.
func TestMetadata(t *testing.T) {
	const base = issuer + "/oauth"
	common := map[string]any{
		"issuer":                                        issuer,
		"token_endpoint":                                base + "/token",
		"token_endpoint_auth_methods_supported":         allAuthMethods,
		"revocation_endpoint":                           base + "/revoke",
		"revocation_endpoint_auth_methods_supported":    allAuthMethods,
		"introspection_endpoint":                        base + "/introspect",
		"introspection_endpoint_auth_methods_supported": secretAuthMethods,
	}
	with := func(kv map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range common {
			m[k] = v
		}
		for k, v := range kv {
			m[k] = v
		}
		return m
	}
	keys, err := tokens.GenerateKeySet(tokens.ES256)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		configure func(*grants.Config)
		want      map[string]any
	}{
		{"default", func(*grants.Config) {}, with(map[string]any{
			"authorization_endpoint":                         base + "/authorize",
			"response_types_supported":                       strs("code"),
			"response_modes_supported":                       strs("query"),
			"grant_types_supported":                          strs("authorization_code", "refresh_token", "client_credentials"),
			"code_challenge_methods_supported":               strs("S256"),
			"authorization_response_iss_parameter_supported": true,
		})},
		{"everything on", func(c *grants.Config) {
			c.AccessTokenFormat = grants.AccessTokenJWT
			c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{"https://api.example.com"}}
			c.DeviceCodes = c.Clients.(*memory.Store)
			c.DeviceVerificationURI = issuer + "/device"
			c.EnablePasswordGrant = true
			c.UserAuthenticator = users{}
			c.EnableImplicitGrant = true
			c.AllowPlainPKCE = true
			c.PublicScopes = []string{"read", "write", "not-a-scope"}
		}, with(map[string]any{
			"authorization_endpoint":        base + "/authorize",
			"jwks_uri":                      base + "/jwks.json",
			"device_authorization_endpoint": base + "/device_authorization",
			"scopes_supported":              strs("read", "write"),
			"response_types_supported":      strs("code", "token"),
			"response_modes_supported":      strs("query", "fragment"),
			"grant_types_supported": strs("authorization_code", "implicit", "refresh_token", "client_credentials",
				oauth.GrantDeviceCode, "password"),
			"code_challenge_methods_supported":               strs("S256", "plain"),
			"authorization_response_iss_parameter_supported": true,
		})},
		{"implicit only", func(c *grants.Config) {
			c.AuthCodes, c.RefreshTokens = nil, nil
			c.EnableImplicitGrant = true
			c.PublicScopes = []string{"not-a-scope"}
		}, with(map[string]any{
			"authorization_endpoint":                         base + "/authorize",
			"response_types_supported":                       strs("token"),
			"response_modes_supported":                       strs("fragment"),
			"grant_types_supported":                          strs("implicit", "client_credentials"),
			"authorization_response_iss_parameter_supported": true,
		})},
		{"client credentials only", func(c *grants.Config) {
			c.AuthCodes, c.RefreshTokens = nil, nil
		}, with(map[string]any{
			"grant_types_supported": strs("client_credentials"),
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.configure)
			res := f.get(grants.MetadataWellKnown)
			got := wantMetadata(t, res, issuer)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", res.raw, mustJSON(tt.want))
			}
			for k, v := range got {
				if u, ok := v.(string); ok && strings.HasPrefix(u, base) {
					if r := f.get(strings.TrimPrefix(u, issuer)); r.status == http.StatusNotFound {
						t.Errorf("%s = %s is not served", k, u)
					}
				}
			}
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestMetadataPath: the metadata is at the well-known path, with the
// issuer's path appended (RFC 8414 §3.1), and answers GET and HEAD only.
func TestMetadataPath(t *testing.T) {
	tests := []struct {
		issuer, prefix, path string
	}{
		{"https://as.example.com", "", "/.well-known/oauth-authorization-server"},
		{"https://as.example.com/", "/oauth", "/.well-known/oauth-authorization-server"},
		{"https://as.example.com/tenant1", "/tenant1", "/.well-known/oauth-authorization-server/tenant1"},
		{"https://as.example.com/tenant1/", "/tenant1", "/.well-known/oauth-authorization-server/tenant1"},
		{"http://127.0.0.1:8080/a/b", "/a/b/oauth", "/.well-known/oauth-authorization-server/a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			f := newFixture(t, func(c *grants.Config) { c.Issuer = tt.issuer })
			if got := f.srv.MetadataPath(); got != tt.path {
				t.Errorf("MetadataPath() = %q; want %q", got, tt.path)
			}
			u, _ := url.Parse(tt.issuer)
			if got, want := f.srv.MetadataURL(), u.Scheme+"://"+u.Host+tt.path; got != want {
				t.Errorf("MetadataURL() = %q; want %q", got, want)
			}
			mux := http.NewServeMux()
			f.srv.Mount(mux, tt.prefix, f.srv.AuthorizeHandler(func(http.ResponseWriter, *http.Request, *grants.AuthorizeRequest) (grants.Consent, bool) {
				return grants.Consent{UserID: "alice"}, true
			}))
			f.handler = mux
			md := wantMetadata(t, f.get(tt.path), tt.issuer)
			origin := u.Scheme + "://" + u.Host
			if got, want := md["token_endpoint"], origin+tt.prefix+"/token"; got != want {
				t.Errorf("token_endpoint = %v; want %v", got, want)
			}
			if tt.path != grants.MetadataWellKnown {
				if r := f.get(grants.MetadataWellKnown); r.status != http.StatusNotFound {
					t.Errorf("GET %s: %d; want 404 for an issuer with a path", grants.MetadataWellKnown, r.status)
				}
			}
			head := httptest.NewRecorder()
			mux.ServeHTTP(head, httptest.NewRequest(http.MethodHead, tt.path, nil))
			if head.Code != http.StatusOK || head.Body.Len() != 0 {
				t.Errorf("HEAD: %d %q; want 200 without a body", head.Code, head.Body)
			}
			post := f.do(httptest.NewRequest(http.MethodPost, tt.path, nil))
			if post.status != http.StatusMethodNotAllowed || post.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("POST: %d, Allow %q; want 405, GET, HEAD", post.status, post.header.Get("Allow"))
			}
		})
	}
}

// TestMetadataIssuerIdentical is CONFORMANCE J.52: the metadata's issuer is
// byte-identical to the iss of redirects and JWTs.
func TestMetadataIssuerIdentical(t *testing.T) {
	for _, iss := range []string{"https://as.example.com", "https://as.example.com/tenant%201/", "http://127.0.0.1:9999"} {
		t.Run(iss, func(t *testing.T) {
			f, _ := newJWTFixture(t, func(c *grants.Config) { c.Issuer = iss })
			md := wantMetadata(t, f.get(f.srv.MetadataPath()), iss)
			_, challenge := newVerifier(t)
			res := f.authorize(http.MethodGet, authParams(idC, redirectC, challenge))
			if got := res.location(t).Query().Get("iss"); got != md["issuer"] {
				t.Errorf("redirect iss %q; metadata issuer %q", got, md["issuer"])
			}
			at := f.token(tokenReq{form: ccForm()}.withBasic(idC, secretC)).str("access_token")
			var claims struct{ Iss string }
			payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[1])
			if err := json.Unmarshal(payload, &claims); err != nil || claims.Iss != md["issuer"] {
				t.Errorf("JWT iss %q (%v); metadata issuer %q", claims.Iss, err, md["issuer"])
			}
		})
	}
}

// TestJWKS is CONFORMANCE J.53 as Mount serves it: public keys only, each
// with kid, kty, use and alg; RSA of at least 2048 bits; every JWT's kid
// names exactly one key; no JWKS without JWT access tokens.
func TestJWKS(t *testing.T) {
	for _, alg := range []string{tokens.ES256, tokens.RS256, tokens.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			keys, err := tokens.GenerateKeySet(alg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := keys.Rotate(alg, 0, 0); err != nil { // two published keys
				t.Fatal(err)
			}
			f := newFixture(t, func(c *grants.Config) {
				c.AccessTokenFormat = grants.AccessTokenJWT
				c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{"https://api.example.com"}}
			})
			md := wantMetadata(t, f.get(grants.MetadataWellKnown), issuer)
			jwksURI, _ := md["jwks_uri"].(string)
			res := f.get(strings.TrimPrefix(jwksURI, issuer))
			if res.status != http.StatusOK {
				t.Fatalf("GET %s: %d", jwksURI, res.status)
			}
			var set struct{ Keys []map[string]any }
			if err := json.Unmarshal([]byte(res.raw), &set); err != nil || len(set.Keys) == 0 {
				t.Fatalf("JWKS %s: %v", res.raw, err)
			}
			for _, k := range set.Keys {
				if k["kid"] == nil || k["kty"] == nil || (k["use"] != "sig" && k["alg"] == nil) {
					t.Errorf("key %v lacks kid, kty, or use/alg", k)
				}
				for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
					if _, ok := k[private]; ok {
						t.Errorf("key %v has private member %q", k["kid"], private)
					}
				}
				if n, ok := k["n"].(string); ok {
					b, _ := base64.RawURLEncoding.DecodeString(n)
					if bits := new(big.Int).SetBytes(b).BitLen(); bits < 2048 {
						t.Errorf("RSA key of %d bits", bits)
					}
				}
			}
			at := f.token(tokenReq{form: ccForm()}.withBasic(idC, secretC)).str("access_token")
			var header struct{ Kid string }
			raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[0])
			json.Unmarshal(raw, &header)
			n := 0
			for _, k := range set.Keys {
				if k["kid"] == header.Kid {
					n++
				}
			}
			if n != 1 {
				t.Errorf("JWT kid %q names %d keys; want 1", header.Kid, n)
			}
		})
	}
	t.Run("opaque", func(t *testing.T) {
		f := newFixture(t)
		if r := f.get("/oauth/jwks.json"); r.status != http.StatusNotFound {
			t.Errorf("JWKS served without JWT access tokens: %d", r.status)
		}
	})
}

// scopeFailStore fails FindScopes.
type scopeFailStore struct{ *memory.Store }

func (scopeFailStore) FindScopes(context.Context, []string) ([]oauth.Scope, error) {
	return nil, errBackend
}

// TestMetadataErrors: a repository failure is a 500, and
// MetadataHandler refuses relative URLs.
func TestMetadataErrors(t *testing.T) {
	f := newFixture(t, func(c *grants.Config) {
		c.Scopes = scopeFailStore{c.Clients.(*memory.Store)}
		c.PublicScopes = []string{"read"}
	})
	res := f.get(grants.MetadataWellKnown)
	wantError(t, res, http.StatusInternalServerError, oauth.ErrCodeServerError)
	if strings.Contains(res.raw, "exploded") {
		t.Errorf("response leaks the internal error")
	}
	defer func() {
		if recover() == nil {
			t.Errorf("MetadataHandler accepted a relative URL")
		}
	}()
	f.srv.MetadataHandler(grants.Endpoints{Token: "/oauth/token"})
}

// TestNewMetadataConfig: New checks the metadata's and the legacy grants'
// configuration.
func TestNewMetadataConfig(t *testing.T) {
	store := memory.New()
	tests := []struct {
		name   string
		change func(*grants.Config)
		ok     bool
	}{
		{"public scopes", func(c *grants.Config) { c.PublicScopes = []string{"read", "a:b"} }, true},
		{"malformed public scope", func(c *grants.Config) { c.PublicScopes = []string{"two words"} }, false},
		{"empty public scope", func(c *grants.Config) { c.PublicScopes = []string{""} }, false},
		{"empty audience", func(c *grants.Config) { c.OpaqueTokenAudience = []string{""} }, false},
		{"password grant", func(c *grants.Config) { c.EnablePasswordGrant, c.UserAuthenticator = true, users{} }, true},
		{"password grant without authenticator", func(c *grants.Config) { c.EnablePasswordGrant = true }, false},
		{"authenticator without the switch", func(c *grants.Config) { c.UserAuthenticator = users{} }, true},
		{"implicit", func(c *grants.Config) { c.EnableImplicitGrant = true }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := grants.Config{Issuer: issuer, Clients: store, Scopes: store, AccessTokens: store}
			tt.change(&cfg)
			_, err := grants.New(cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v; want ok %v", err, tt.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "grants: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// ExampleServer_MetadataHandler serves the metadata for endpoints the host
// routes itself, without Mount.
func ExampleServer_MetadataHandler() {
	store := memory.New()
	srv, err := grants.New(grants.Config{
		Issuer: "https://auth.example.com", Clients: store, Scopes: store, AccessTokens: store,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/oauth2/token", srv.TokenHandler())
	mux.Handle("POST /api/oauth2/revoke", srv.RevocationHandler())
	mux.Handle(srv.MetadataPath(), srv.MetadataHandler(grants.Endpoints{
		Token:      "https://auth.example.com/api/oauth2/token",
		Revocation: "https://auth.example.com/api/oauth2/revoke",
	}))

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, srv.MetadataPath(), nil))
	var md map[string]any
	json.Unmarshal(w.Body.Bytes(), &md)
	for _, k := range slices.Sorted(maps.Keys(md)) {
		fmt.Println(k, md[k])
	}
	// Output:
	// grant_types_supported [client_credentials]
	// issuer https://auth.example.com
	// revocation_endpoint https://auth.example.com/api/oauth2/revoke
	// revocation_endpoint_auth_methods_supported [client_secret_basic client_secret_post none]
	// token_endpoint https://auth.example.com/api/oauth2/token
	// token_endpoint_auth_methods_supported [client_secret_basic client_secret_post none]
}
