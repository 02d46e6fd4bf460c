package grants_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/tokens"
)

// The clients of CONFORMANCE's notation.
const (
	// C: a confidential client whose id and secret need form-encoding.
	idC     = "svc-1.app"
	secretC = "a b+c%/"
	// C2: a second confidential client.
	idC2     = "c2"
	secretC2 = "second-client-secret"
	// P: a public client.
	idP = "pub-app"
	// CC: a confidential client allowed only client_credentials.
	idCC     = "cc-only"
	secretCC = "cc-secret"
	// Q: a confidential client with one registered URI that has a query.
	idQ     = "q-app"
	secretQ = "q-secret"

	issuer = "https://as.example.com"

	redirectC  = "https://app.example.com/cb"
	loopbackC  = "http://127.0.0.1/loop"
	redirectC2 = "https://two.example.com/cb"
	redirectP  = "https://pub.example.com/cb"
	redirectQ  = "https://q.example.com/cb?tenant=1"
)

// sha256Secret is the stored form of a generated secret ("sha256:" + hex
// SHA-256, as oauth.GenerateSecret writes it), used here for chosen test
// secrets so that tests do not pay bcrypt's cost on every request.
func sha256Secret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// clock is a settable time source shared by the store and the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// events records what the hooks saw.
type events struct {
	mu           sync.Mutex
	access       []grants.AccessTokenEvent
	refresh      []grants.RefreshTokenEvent
	authFailures []grants.ClientAuthFailure
	replays      []grants.FamilyRevocation
	reuses       []grants.FamilyRevocation
}

func (e *events) hooks() grants.Hooks {
	return grants.Hooks{
		AccessTokenIssued: func(_ context.Context, ev grants.AccessTokenEvent) {
			e.mu.Lock()
			e.access = append(e.access, ev)
			e.mu.Unlock()
		},
		RefreshTokenIssued: func(_ context.Context, ev grants.RefreshTokenEvent) {
			e.mu.Lock()
			e.refresh = append(e.refresh, ev)
			e.mu.Unlock()
		},
		ClientAuthFailed: func(_ context.Context, f grants.ClientAuthFailure) {
			e.mu.Lock()
			e.authFailures = append(e.authFailures, f)
			e.mu.Unlock()
		},
		CodeReplayDetected: func(_ context.Context, ev grants.FamilyRevocation) {
			e.mu.Lock()
			e.replays = append(e.replays, ev)
			e.mu.Unlock()
		},
		RefreshReuseDetected: func(_ context.Context, ev grants.FamilyRevocation) {
			e.mu.Lock()
			e.reuses = append(e.reuses, ev)
			e.mu.Unlock()
		},
	}
}

func (e *events) counts() (access, refresh, authFailures, replays, reuses int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.access), len(e.refresh), len(e.authFailures), len(e.replays), len(e.reuses)
}

// fixture is a Server over a memory store holding the clients above, mounted
// on a mux under /oauth with the convenience authorization handler.
type fixture struct {
	t       testing.TB
	store   *memory.Store
	clock   *clock
	srv     *grants.Server
	handler http.Handler
	events  *events
	logs    *syncBuffer
	// consent decides authorization requests; the default approves as
	// user "alice" with every requested scope.
	consent func(r *http.Request, ar *grants.AuthorizeRequest) (grants.Consent, bool)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newFixture(t testing.TB, configure ...func(*grants.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{
		t:      t,
		store:  memory.New(),
		clock:  &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		events: &events{},
		logs:   &syncBuffer{},
	}
	f.store.Now = f.clock.Now
	for _, id := range []string{"read", "write", "profile", "admin"} {
		if err := f.store.CreateScope(ctx, &oauth.Scope{ID: id, Description: "the " + id + " scope"}); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials}
	clients := []oauth.Client{
		{ID: idC, Name: "C", SecretHash: sha256Secret(secretC), Confidential: true,
			RedirectURIs: []string{redirectC, loopbackC}, GrantTypes: all, Scopes: []string{"read", "write", "profile"}},
		{ID: idC2, Name: "C2", SecretHash: sha256Secret(secretC2), Confidential: true,
			RedirectURIs: []string{redirectC2}, GrantTypes: all, Scopes: []string{"read"}},
		{ID: idP, Name: "P", RedirectURIs: []string{redirectP},
			GrantTypes: []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials},
			Scopes:     []string{"read", "profile"}},
		{ID: idCC, Name: "CC", SecretHash: sha256Secret(secretCC), Confidential: true,
			GrantTypes: []string{oauth.GrantClientCredentials}, Scopes: []string{"read", "write"}, RedirectURIs: []string{"https://cc.example.com/cb"}},
		{ID: idQ, Name: "Q", SecretHash: sha256Secret(secretQ), Confidential: true,
			RedirectURIs: []string{redirectQ}, GrantTypes: all, Scopes: []string{"read"}},
	}
	for i := range clients {
		if err := f.store.CreateClient(ctx, &clients[i]); err != nil {
			t.Fatal(err)
		}
	}
	cfg := grants.Config{
		Issuer:        issuer,
		Clients:       f.store,
		Scopes:        f.store,
		AccessTokens:  f.store,
		RefreshTokens: f.store,
		AuthCodes:     f.store,
		Now:           f.clock.Now,
		Logger:        slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hooks:         f.events.hooks(),
	}
	for _, c := range configure {
		c(&cfg)
	}
	srv, err := grants.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	f.consent = func(*http.Request, *grants.AuthorizeRequest) (grants.Consent, bool) {
		return grants.Consent{UserID: "alice"}, true
	}
	mux := http.NewServeMux()
	srv.Mount(mux, "/oauth", srv.AuthorizeHandler(func(w http.ResponseWriter, r *http.Request, ar *grants.AuthorizeRequest) (grants.Consent, bool) {
		return f.consent(r, ar)
	}))
	f.handler = mux
	return f
}

// response is a recorded answer with its JSON body decoded.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r *response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// tokenReq is a token endpoint request under construction.
type tokenReq struct {
	form        url.Values
	basicUser   string
	basicPass   string
	basic       bool
	rawAuth     string
	contentType string
	method      string
	query       string
}

// withBasic authenticates with client_secret_basic, form-encoding id and
// secret as RFC 6749 appendix B says.
func (q tokenReq) withBasic(id, secret string) tokenReq {
	q.basic, q.basicUser, q.basicPass = true, url.QueryEscape(id), url.QueryEscape(secret)
	return q
}

// withPost authenticates with client_secret_post.
func (q tokenReq) withPost(id, secret string) tokenReq {
	q.form = cloneValues(q.form)
	q.form.Set("client_id", id)
	if secret != "" {
		q.form.Set("client_secret", secret)
	}
	return q
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func (f *fixture) do(r *http.Request) *response {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, r)
	res := &response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
			f.t.Fatalf("response body %q is not JSON: %v", rec.Body.String(), err)
		}
	}
	return res
}

func (f *fixture) token(q tokenReq) *response {
	f.t.Helper()
	return f.post("/oauth/token", q)
}

// post sends q to the endpoint at path (say "/oauth/revoke"): its form as
// the body, its query, method, content type and credentials.
func (f *fixture) post(path string, q tokenReq) *response {
	f.t.Helper()
	method := q.method
	if method == "" {
		method = http.MethodPost
	}
	if q.query != "" {
		path += "?" + q.query
	}
	r := httptest.NewRequest(method, path, strings.NewReader(q.form.Encode()))
	ct := q.contentType
	if ct == "" {
		ct = "application/x-www-form-urlencoded"
	}
	r.Header.Set("Content-Type", ct)
	if q.basic {
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(q.basicUser+":"+q.basicPass)))
	}
	if q.rawAuth != "" {
		r.Header.Set("Authorization", q.rawAuth)
	}
	return f.do(r)
}

// tokenRaw posts a raw body.
func (f *fixture) tokenRaw(body, contentType, auth string) *response {
	f.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return f.do(r)
}

// authorize sends an authorization request and returns the response.
func (f *fixture) authorize(method string, params url.Values) *response {
	f.t.Helper()
	var r *http.Request
	if method == http.MethodPost {
		r = httptest.NewRequest(method, "/oauth/authorize", strings.NewReader(params.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, "/oauth/authorize?"+params.Encode(), nil)
	}
	return f.do(r)
}

func (f *fixture) authorizeRaw(rawQuery string) *response {
	f.t.Helper()
	return f.do(httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+rawQuery, nil))
}

// location parses the Location of a redirect.
func (r *response) location(t testing.TB) *url.URL {
	t.Helper()
	loc := r.header.Get("Location")
	if loc == "" {
		t.Fatalf("no Location; status %d, body %q", r.status, r.raw)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// newVerifier returns a random PKCE verifier and its S256 challenge.
func newVerifier(t testing.TB) (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// codeFor runs an approved authorization request and returns the code.
func (f *fixture) codeFor(params url.Values) string {
	f.t.Helper()
	res := f.authorize(http.MethodGet, params)
	if res.status != http.StatusFound {
		f.t.Fatalf("authorize: status %d, body %q; want 302", res.status, res.raw)
	}
	q := res.location(f.t).Query()
	if q.Get("error") != "" {
		f.t.Fatalf("authorize: error redirect %v", q)
	}
	return q.Get("code")
}

// authParams returns authorization request parameters for C with S256.
func authParams(clientID, redirectURI, challenge string, extra ...string) url.Values {
	v := form("response_type", "code", "client_id", clientID, "state", "st-123")
	if redirectURI != "" {
		v.Set("redirect_uri", redirectURI)
	}
	if challenge != "" {
		v.Set("code_challenge", challenge)
		v.Set("code_challenge_method", "S256")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// codeExchange is a token request redeeming code for C by Basic.
func codeExchange(code, redirectURI, verifier string) tokenReq {
	v := form("grant_type", "authorization_code", "code", code)
	if redirectURI != "" {
		v.Set("redirect_uri", redirectURI)
	}
	if verifier != "" {
		v.Set("code_verifier", verifier)
	}
	return tokenReq{form: v}
}

// tokensOfC runs the full code flow for C and returns the token response.
func (f *fixture) tokensOfC(extra ...string) *response {
	f.t.Helper()
	verifier, challenge := newVerifier(f.t)
	code := f.codeFor(authParams(idC, redirectC, challenge, extra...))
	res := f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC))
	if res.status != http.StatusOK {
		f.t.Fatalf("code exchange: status %d, body %q", res.status, res.raw)
	}
	return res
}

// active reports whether an access token is live, as a resource server
// consulting the repository sees it.
func (f *fixture) active(accessToken string) bool {
	f.t.Helper()
	v := &tokens.Verifier{Issuer: issuer, Audience: "api", AccessTokens: f.store, Now: f.clock.Now}
	_, err := v.Verify(context.Background(), accessToken)
	return err == nil
}

// refreshRecord returns the stored record of a refresh token value.
func (f *fixture) refreshRecord(value string) *oauth.RefreshToken {
	f.t.Helper()
	rt, err := f.store.FindRefreshToken(context.Background(), oauth.HashValue(value))
	if err != nil {
		f.t.Fatal(err)
	}
	return rt
}

func (f *fixture) codeRecord(value string) *oauth.AuthCode {
	f.t.Helper()
	c, err := f.store.FindAuthCode(context.Background(), oauth.HashValue(value))
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// wantError checks a JSON error response: status, error code, no-store.
func wantError(t testing.TB, res *response, status int, code string) {
	t.Helper()
	if res.status != status || res.str("error") != code {
		t.Fatalf("got %d %q (%s); want %d %q", res.status, res.str("error"), res.raw, status, code)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
	if desc := res.str("error_description"); !validDescription(desc) {
		t.Errorf("error_description %q has characters RFC 6749 §5.2 forbids", desc)
	}
}

// wantTokens checks a successful token response (CONFORMANCE A.8).
func wantTokens(t testing.TB, res *response) {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s; want 200", res.status, res.raw)
	}
	if res.str("access_token") == "" || res.str("token_type") != "Bearer" {
		t.Errorf("body %s lacks access_token or token_type Bearer", res.raw)
	}
	if n, ok := res.body["expires_in"].(float64); !ok || n != float64(int64(n)) || n <= 0 {
		t.Errorf("expires_in = %v; want a positive integer", res.body["expires_in"])
	}
	if cc, p := res.header.Get("Cache-Control"), res.header.Get("Pragma"); cc != "no-store" || p != "no-cache" {
		t.Errorf("Cache-Control %q, Pragma %q; want no-store, no-cache", cc, p)
	}
}

func validDescription(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
