package grants_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/tokens"
)

// The clients of the hostile-input tests: H may use every grant, HP is a
// public client.
const (
	idH       = "h-all"
	secretH   = "h-secret"
	idHP      = "h-pub"
	redirectH = "https://h.example.com/cb"
)

// hostileStore is what the hostile-input tests need of a backend.
type hostileStore interface {
	deviceStore
	oauth.AuthCodeRepository
}

// hostileServer returns a handler with every endpoint and every grant on
// (JWT access tokens, so that the JWT paths of revocation and
// introspection run too), over store, and a buffer of its logs.
func hostileServer(t *testing.T, store hostileStore) (http.Handler, *syncBuffer) {
	t.Helper()
	ctx := context.Background()
	for _, sc := range []string{"read", "write"} {
		if err := store.CreateScope(ctx, &oauth.Scope{ID: sc}); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials,
		oauth.GrantDeviceCode, oauth.GrantPassword, oauth.GrantImplicit}
	for _, c := range []oauth.Client{
		{ID: idH, Name: "H", SecretHash: sha256Secret(secretH), Confidential: true,
			RedirectURIs: []string{redirectH, "http://127.0.0.1/cb"}, GrantTypes: all, Scopes: []string{"read", "write"}},
		{ID: idHP, Name: "HP", RedirectURIs: []string{redirectH}, GrantTypes: all, Scopes: []string{"read"}},
	} {
		if err := store.CreateClient(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := tokens.GenerateKeySet(tokens.ES256)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv, err := grants.New(grants.Config{
		Issuer: issuer, Clients: store, Scopes: store, AccessTokens: store, RefreshTokens: store,
		AuthCodes: store, DeviceCodes: store, DeviceVerificationURI: verifyURI,
		AccessTokenFormat:   grants.AccessTokenJWT,
		JWTIssuer:           &tokens.JWTIssuer{Keys: keys, Audience: []string{"https://api.example.com"}},
		EnablePasswordGrant: true, UserAuthenticator: strictUsers{users{"alice": alicePassword}},
		EnableImplicitGrant: true,
		Logger:              slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv.Mount(mux, "/oauth", srv.AuthorizeHandler(func(http.ResponseWriter, *http.Request, *grants.AuthorizeRequest) (grants.Consent, bool) {
		return grants.Consent{UserID: "alice"}, true
	}))
	return mux, logs
}

// hostileReq is a request under construction: its parts are kept apart so
// that each hostile variant can change one.
type hostileReq struct {
	method      string
	path        string
	query       string
	body        string
	contentType string
	auth        []string // Authorization headers
	chunked     bool     // send the body without a Content-Length
	bodyErr     bool     // the body fails half way
}

func (q hostileReq) build() *http.Request {
	var body io.Reader = strings.NewReader(q.body)
	if q.chunked {
		body = io.MultiReader(strings.NewReader(q.body)) // hides the length
	}
	if q.bodyErr {
		body = io.MultiReader(strings.NewReader(q.body), errReader{})
	}
	target := q.path
	if q.query != "" {
		target += "?" + q.query
	}
	r := httptest.NewRequest(q.method, target, body)
	if q.chunked || q.bodyErr {
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
	}
	if q.contentType != "" {
		r.Header.Set("Content-Type", q.contentType)
	}
	for _, a := range q.auth {
		r.Header.Add("Authorization", a)
	}
	r.RemoteAddr = "192.0.2.7:5555"
	return r
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// kv is one name=value of a hostile request, kept in order and encoded
// by hand so that variants can send what url.Values would refuse to.
type kv struct{ k, v string }

func encodeKV(ps []kv) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.v))
	}
	return b.String()
}

// hostileEndpoint is one endpoint and a request to it that is well formed.
type hostileEndpoint struct {
	name   string
	path   string
	method string
	params []kv
	basic  bool // the request authenticates H by Basic
	page   bool // the authorization endpoint: error pages and redirects, not JSON
}

func hostileEndpoints() []hostileEndpoint {
	garbageJWT := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	return []hostileEndpoint{
		{name: "token client_credentials", path: "/oauth/token", method: "POST", basic: true,
			params: []kv{{"grant_type", "client_credentials"}, {"scope", "read"}}},
		{name: "token authorization_code", path: "/oauth/token", method: "POST", basic: true,
			params: []kv{{"grant_type", "authorization_code"}, {"code", "oac_nosuchcode"}, {"redirect_uri", redirectH},
				{"code_verifier", strings.Repeat("v", 43)}}},
		{name: "token refresh_token", path: "/oauth/token", method: "POST", basic: true,
			params: []kv{{"grant_type", "refresh_token"}, {"refresh_token", "ort_nosuchtoken"}, {"scope", "read"}}},
		{name: "token password", path: "/oauth/token", method: "POST", basic: true,
			params: []kv{{"grant_type", "password"}, {"username", "alice"}, {"password", alicePassword}, {"scope", "read"}}},
		{name: "token device_code", path: "/oauth/token", method: "POST", basic: true,
			params: []kv{{"grant_type", oauth.GrantDeviceCode}, {"device_code", "odc_nosuchcode"}}},
		{name: "token public client", path: "/oauth/token", method: "POST",
			params: []kv{{"grant_type", "refresh_token"}, {"refresh_token", "ort_nosuchtoken"}, {"client_id", idHP}}},
		{name: "device_authorization", path: "/oauth/device_authorization", method: "POST", basic: true,
			params: []kv{{"scope", "read write"}}},
		{name: "revoke", path: "/oauth/revoke", method: "POST", basic: true,
			params: []kv{{"token", "ort_nosuchtoken"}, {"token_type_hint", "refresh_token"}}},
		{name: "revoke jwt", path: "/oauth/revoke", method: "POST", basic: true,
			params: []kv{{"token", garbageJWT}}},
		{name: "introspect", path: "/oauth/introspect", method: "POST", basic: true,
			params: []kv{{"token", "oat_nosuchtoken"}, {"token_type_hint", "access_token"}}},
		{name: "introspect jwt", path: "/oauth/introspect", method: "POST", basic: true,
			params: []kv{{"token", garbageJWT}}},
		{name: "authorize GET", path: "/oauth/authorize", method: "GET", page: true,
			params: []kv{{"response_type", "code"}, {"client_id", idH}, {"redirect_uri", redirectH}, {"state", "st"},
				{"scope", "read"}, {"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, {"code_challenge_method", "S256"}}},
		{name: "authorize POST", path: "/oauth/authorize", method: "POST", page: true,
			params: []kv{{"response_type", "code"}, {"client_id", idHP}, {"state", "st"},
				{"scope", "read"}, {"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, {"code_challenge_method", "S256"}}},
		{name: "authorize implicit", path: "/oauth/authorize", method: "GET", page: true,
			params: []kv{{"response_type", "token"}, {"client_id", idH}, {"redirect_uri", redirectH}, {"state", "st"}}},
	}
}

// request returns the endpoint's well-formed request with params.
func (e hostileEndpoint) request(params []kv) hostileReq {
	q := hostileReq{method: e.method, path: e.path}
	if e.method == http.MethodGet {
		q.query = encodeKV(params)
	} else {
		q.body = encodeKV(params)
		q.contentType = "application/x-www-form-urlencoded"
	}
	if e.basic {
		q.auth = []string{basicHeader(idH, secretH)}
	}
	return q
}

// hostileVariant turns an endpoint's well-formed request into a hostile one.
type hostileVariant struct {
	name string
	make func(e hostileEndpoint) hostileReq
	// status and code, when set, are the answer the JSON endpoints must
	// give (the authorization endpoint answers with pages and redirects).
	status int
	code   string
}

// want returns v expecting status and code at the JSON endpoints.
func (v hostileVariant) want(status int, code string) hostileVariant {
	v.status, v.code = status, code
	return v
}

// withParam returns params with name set to value (added when absent).
func withParam(params []kv, name, value string) []kv {
	out := make([]kv, 0, len(params)+1)
	found := false
	for _, p := range params {
		if p.k == name {
			p.v, found = value, true
		}
		out = append(out, p)
	}
	if !found {
		out = append(out, kv{name, value})
	}
	return out
}

func hostileVariants(e hostileEndpoint) []hostileVariant {
	const huge = 60 << 10 // under the body limit: the value itself is what is tested
	vs := []hostileVariant{
		hostileVariant{name: "oversized body", make: func(e hostileEndpoint) hostileReq {
			return e.request(append(e.params, kv{"pad", strings.Repeat("x", grants.DefaultMaxBodyBytes+1)}))
		}}.want(400, oauth.ErrCodeInvalidRequest),
		hostileVariant{name: "oversized chunked body", make: func(e hostileEndpoint) hostileReq {
			q := e.request(append(e.params, kv{"pad", strings.Repeat("x", grants.DefaultMaxBodyBytes+1)}))
			q.chunked = true
			return q
		}}.want(400, oauth.ErrCodeInvalidRequest),
		{name: "chunked body", make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			q.chunked = true
			return q
		}},
		hostileVariant{name: "body read fails", make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			q.bodyErr = true
			return q
		}}.want(400, oauth.ErrCodeInvalidRequest),
		hostileVariant{name: "many parameters", make: func(e hostileEndpoint) hostileReq {
			ps := append([]kv(nil), e.params...)
			for i := range 1000 {
				ps = append(ps, kv{fmt.Sprintf("p%d", i), "v"})
			}
			return e.request(ps)
		}}.want(400, oauth.ErrCodeInvalidRequest),
		hostileVariant{name: "many repeated parameters", make: func(e hostileEndpoint) hostileReq {
			ps := append([]kv(nil), e.params...)
			for range 3000 {
				ps = append(ps, e.params[0])
			}
			return e.request(ps)
		}}.want(400, oauth.ErrCodeInvalidRequest),
		hostileVariant{name: "malformed encoding", make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			if e.method == http.MethodGet {
				q.query += "&x=%zz&%%%=&&=="
			} else {
				q.body += "&x=%zz&%%%=&&=="
			}
			return q
		}}.want(400, oauth.ErrCodeInvalidRequest),
		{name: "thousands of scopes", make: func(e hostileEndpoint) hostileReq {
			return e.request(withParam(e.params, "scope", strings.TrimSpace(strings.Repeat("read write ", 2500))))
		}},
		{name: "thousands of distinct scopes", make: func(e hostileEndpoint) hostileReq {
			var b strings.Builder
			for i := range 3000 {
				fmt.Fprintf(&b, "s%d ", i)
			}
			return e.request(withParam(e.params, "scope", strings.TrimSpace(b.String())))
		}},
		hostileVariant{name: "content type multipart", make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			q.contentType = "multipart/form-data; boundary=xyz"
			q.body = "--xyz\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--xyz--\r\n"
			q.method = http.MethodPost
			return q
		}}.want(400, oauth.ErrCodeInvalidRequest),
		hostileVariant{name: "content type missing", make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			q.method, q.body, q.contentType = http.MethodPost, encodeKV(e.params), ""
			return q
		}}.want(400, oauth.ErrCodeInvalidRequest),
		hostileVariant{name: "content type json", make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			q.method, q.contentType = http.MethodPost, "application/json"
			q.body = `{"grant_type":"client_credentials"}`
			return q
		}}.want(400, oauth.ErrCodeInvalidRequest),
		hostileVariant{name: "content type garbage", make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			q.method, q.contentType = http.MethodPost, ";;;\x00"
			return q
		}}.want(400, oauth.ErrCodeInvalidRequest),
		hostileVariant{name: "basic and body credentials", make: func(e hostileEndpoint) hostileReq {
			q := e.request(withParam(withParam(e.params, "client_id", idH), "client_secret", secretH))
			q.auth = []string{basicHeader(idH, secretH)}
			return q
		}}.want(400, oauth.ErrCodeInvalidRequest),
		hostileVariant{name: "two Authorization headers", make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			q.auth = []string{basicHeader(idH, secretH), basicHeader(idHP, "")}
			return q
		}}.want(400, oauth.ErrCodeInvalidRequest),
		hostileVariant{name: "credentials in the query", make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			q.auth = nil
			q.query = encodeKV([]kv{{"client_id", idH}, {"client_secret", secretH}})
			return q
		}}.want(401, oauth.ErrCodeInvalidClient),
	}
	b64 := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, a := range []struct{ name, header string }{
		{"basic without colon", b64(idH)},
		{"basic bad base64", "Basic !!!not base64"},
		{"basic bad percent-encoding", b64("h-all:%zz")},
		{"basic bad percent-encoding in id", b64("%zz:" + secretH)},
		{"basic empty", "Basic"},
		{"basic empty id", b64(":" + secretH)},
		{"basic NUL", b64("h-all\x00:" + secretH)},
		{"basic invalid utf-8", b64("\xff\xfe:" + secretH)},
		{"basic percent-encoded NUL and invalid utf-8", b64("%00%ff:" + secretH)},
		{"basic huge", b64(strings.Repeat("a", 32<<10) + ":" + strings.Repeat("b", 32<<10))},
		{"bearer", "Bearer abc"},
		{"scheme only", "Basic    "},
	} {
		vs = append(vs, hostileVariant{name: a.name, make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			q.auth = []string{a.header}
			return q
		}}.want(401, oauth.ErrCodeInvalidClient))
	}
	for _, m := range []string{http.MethodHead, http.MethodPut, http.MethodOptions, http.MethodDelete, http.MethodPatch, http.MethodGet} {
		if m == e.method {
			continue
		}
		vs = append(vs, hostileVariant{name: "method " + m, make: func(e hostileEndpoint) hostileReq {
			q := e.request(e.params)
			q.method = m
			return q
		}}.want(405, oauth.ErrCodeInvalidRequest))
	}
	for _, p := range e.params {
		for _, v := range []struct{ name, value string }{
			{"huge", strings.Repeat("a", huge)},
			{"huge with spaces", strings.Repeat("a ", huge/2)},
			{"invalid utf-8", "\xff\xfe" + p.v},
			{"NUL", p.v + "\x00"},
			{"control characters", "\r\n\t" + p.v},
			{"empty", ""},
			{"non-ASCII", p.v + "é☃"},
		} {
			vs = append(vs, hostileVariant{name: v.name + " " + p.k, make: func(e hostileEndpoint) hostileReq {
				return e.request(withParam(e.params, p.k, v.value))
			}})
		}
		vs = append(vs, hostileVariant{name: "duplicated " + p.k, make: func(e hostileEndpoint) hostileReq {
			return e.request(append(append([]kv(nil), e.params...), p))
		}}.want(400, oauth.ErrCodeInvalidRequest))
		vs = append(vs, hostileVariant{name: "duplicated " + p.k + " differing", make: func(e hostileEndpoint) hostileReq {
			return e.request(append(append([]kv(nil), e.params...), kv{p.k, p.v + "x"}))
		}}.want(400, oauth.ErrCodeInvalidRequest))
	}
	for _, name := range []string{"client_id", "client_secret", "redirect_uri", "state"} {
		for _, v := range []struct{ name, value string }{
			{"huge", strings.Repeat("a", huge)},
			{"invalid utf-8", "\xff\xfe"},
			{"NUL", "h-all\x00"},
		} {
			vs = append(vs, hostileVariant{name: v.name + " added " + name, make: func(e hostileEndpoint) hostileReq {
				return e.request(withParam(e.params, name, v.value))
			}})
		}
	}
	return vs
}

// serve runs one request, turning a panic into a test failure.
func serve(t *testing.T, h http.Handler, r *http.Request) (rec *httptest.ResponseRecorder) {
	t.Helper()
	rec = httptest.NewRecorder()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("handler panicked: %v", p)
		}
	}()
	h.ServeHTTP(rec, r)
	return rec
}

// checkHostileAnswer checks that an answer is a clear one: never a 5xx;
// at a JSON endpoint an error object with an error code (or a 200 that is
// a proper answer); at the authorization endpoint an error page, or a
// redirect to the registered redirect URI.
func checkHostileAnswer(t *testing.T, e hostileEndpoint, method string, rec *httptest.ResponseRecorder) {
	t.Helper()
	body := rec.Body.String()
	if rec.Code >= 500 {
		t.Fatalf("status %d, body %.300q; want < 500", rec.Code, body)
	}
	if method == http.MethodHead {
		return
	}
	if e.page {
		switch {
		case rec.Code == http.StatusFound || rec.Code == http.StatusSeeOther:
			loc := rec.Header().Get("Location")
			if !strings.HasPrefix(loc, redirectH+"?") && !strings.HasPrefix(loc, redirectH+"#") {
				t.Fatalf("redirect to %.200q; want the registered %s", loc, redirectH)
			}
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("Location %.200q: %v", loc, err)
			}
			params := u.Query()
			if u.Fragment != "" {
				params, _ = url.ParseQuery(u.Fragment)
			}
			if params.Get("iss") != issuer {
				t.Errorf("redirect %.200q has no iss", loc)
			}
			if params.Get("error") == "" && params.Get("code") == "" && params.Get("access_token") == "" {
				t.Errorf("redirect %.200q has neither error, code nor access_token", loc)
			}
		case rec.Code >= 400:
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("error page Content-Type %q; want text/html", ct)
			}
			if rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Errorf("error page without X-Frame-Options: DENY")
			}
		default:
			t.Fatalf("status %d, headers %v; want a redirect or an error page", rec.Code, rec.Header())
		}
		return
	}
	if rec.Code == http.StatusOK && (e.path == "/oauth/revoke") {
		if body != "" {
			t.Errorf("revocation 200 with body %q", body)
		}
		return
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("status %d Content-Type %q body %.300q; want JSON", rec.Code, ct, body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %.300q is not a JSON object: %v", body, err)
	}
	if rec.Code == http.StatusOK {
		return
	}
	if code, _ := m["error"].(string); code == "" {
		t.Fatalf("status %d body %.300q has no error member", rec.Code, body)
	}
	if d, _ := m["error_description"].(string); !validDescription(d) {
		t.Errorf("error_description %q has characters RFC 6749 §5.2 forbids", d)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("error without Cache-Control: no-store")
	}
	if rec.Code == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("401 without a Basic challenge")
	}
}

// strictClients is a host's own ClientRepository over a database that
// rejects, rather than fails to find, ids it could not store, as
// PostgreSQL does with NUL or invalid UTF-8.
type strictClients struct{ *memory.Store }

func (s strictClients) FindClient(ctx context.Context, id string) (*oauth.Client, error) {
	if !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 {
		return nil, errors.New("pq: invalid byte sequence for encoding \"UTF8\"")
	}
	return s.Store.FindClient(ctx, id)
}

// strictUsers is a host's UserAuthenticator over a database that rejects
// what it could not store, as strictClients does.
type strictUsers struct{ users }

func (u strictUsers) AuthenticateUser(ctx context.Context, username, password string) (string, error) {
	for _, s := range []string{username, password} {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return "", errors.New("pq: invalid byte sequence for encoding \"UTF8\"")
		}
	}
	return u.users.AuthenticateUser(ctx, username, password)
}

// TestHostileInput sends hostile input to every endpoint over every
// backend, and over a host's client repository that errs on ids it could
// not store: every answer is a clear OAuth error (or an error page before
// the authorization endpoint trusts a redirect URI), never a 5xx or a
// panic, and no log line holds a secret.
func TestHostileInput(t *testing.T) {
	backends := append(deviceBackends[:len(deviceBackends):len(deviceBackends)], struct {
		name string
		open func(t *testing.T) deviceStore
	}{"host client repository", func(*testing.T) deviceStore { return strictClients{memory.New()} }})
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store, ok := b.open(t).(hostileStore)
			if !ok {
				t.Fatalf("%s store is not a hostileStore", b.name)
			}
			h, logs := hostileServer(t, store)
			for _, e := range hostileEndpoints() {
				t.Run(e.name, func(t *testing.T) {
					for _, v := range hostileVariants(e) {
						t.Run(v.name, func(t *testing.T) {
							q := v.make(e)
							ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
							defer cancel()
							rec := serve(t, h, q.build().WithContext(ctx))
							checkHostileAnswer(t, e, q.method, rec)
							if v.status != 0 && !e.page && (e.basic || v.status != http.StatusUnauthorized) {
								var m map[string]any
								json.Unmarshal(rec.Body.Bytes(), &m)
								if rec.Code != v.status || (q.method != http.MethodHead && m["error"] != v.code) {
									t.Errorf("got %d %v; want %d %s", rec.Code, m["error"], v.status, v.code)
								}
								if v.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
									t.Errorf("405 without Allow")
								}
							}
						})
					}
				})
			}
			l := logs.String()
			for _, secret := range []string{secretH, alicePassword, basicHeader(idH, secretH)} {
				if strings.Contains(l, secret) {
					t.Errorf("logs hold %q", secret)
				}
			}
		})
	}
}
