package grants_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
)

// wantErrorRedirect checks an error redirect: 302/303 to the redirect URI
// with error, the exact state and iss, no parameter twice.
func wantErrorRedirect(t testing.TB, res *response, status int, base, code, state string) url.Values {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d (%s); want %d", res.status, res.raw, status)
	}
	u := res.location(t)
	if got := u.Scheme + "://" + u.Host + u.Path; !strings.HasPrefix(base, got) {
		t.Errorf("redirect to %q; want %q", res.header.Get("Location"), base)
	}
	q := u.Query()
	for k, vs := range q {
		if len(vs) > 1 {
			t.Errorf("parameter %q appears %d times in %q", k, len(vs), res.header.Get("Location"))
		}
	}
	if q.Get("error") != code {
		t.Errorf("error = %q; want %q (%s)", q.Get("error"), code, res.header.Get("Location"))
	}
	if q.Get("iss") != issuer {
		t.Errorf("iss = %q; want %q", q.Get("iss"), issuer)
	}
	if _, ok := q["state"]; state == "" && ok {
		t.Errorf("state present though none was sent")
	} else if q.Get("state") != state {
		t.Errorf("state = %q; want %q", q.Get("state"), state)
	}
	if q.Has("code") {
		t.Errorf("error redirect carries a code")
	}
	return q
}

// wantErrorPage checks the page for an untrusted request (CONFORMANCE
// B.14, B.21): 400, no redirect, framing forbidden.
func wantErrorPage(t testing.TB, res *response) {
	t.Helper()
	if res.status != http.StatusBadRequest {
		t.Fatalf("status %d; want 400 (Location %q)", res.status, res.header.Get("Location"))
	}
	if loc := res.header.Get("Location"); loc != "" {
		t.Errorf("error page redirects to %q", loc)
	}
	wantPageHeaders(t, res)
}

func wantPageHeaders(t testing.TB, res *response) {
	t.Helper()
	if got := res.header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q; want DENY", got)
	}
	if got := res.header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q; want frame-ancestors 'none'", got)
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", got)
	}
}

// TestAuthorizeMethods is CONFORMANCE B.13 and B.18's 302/303.
func TestAuthorizeMethods(t *testing.T) {
	f := newFixture(t)
	_, challenge := newVerifier(t)
	res := f.authorize(http.MethodGet, authParams(idC, redirectC, challenge))
	if res.status != http.StatusFound || res.location(t).Query().Get("code") == "" {
		t.Fatalf("GET: %d %q; want 302 with a code", res.status, res.header.Get("Location"))
	}
	res = f.authorize(http.MethodPost, authParams(idC, redirectC, challenge))
	if res.status != http.StatusSeeOther || res.location(t).Query().Get("code") == "" {
		t.Fatalf("POST: %d %q; want 303 with a code", res.status, res.header.Get("Location"))
	}
	// A query-only POST (a consent form posting back to the request URL).
	r := httptest.NewRequest(http.MethodPost, "/oauth/authorize?"+authParams(idC, redirectC, challenge).Encode(), nil)
	res = f.do(r)
	if res.status != http.StatusSeeOther || res.location(t).Query().Get("code") == "" {
		t.Fatalf("POST with an empty body: %d %q; want 303 with a code", res.status, res.header.Get("Location"))
	}
	consents := 0
	f.consent = func(*http.Request, *grants.AuthorizeRequest) (grants.Consent, bool) {
		consents++
		return grants.Consent{UserID: "alice"}, true
	}
	for _, m := range []string{http.MethodHead, http.MethodPut, http.MethodDelete} {
		r := httptest.NewRequest(m, "/oauth/authorize?"+authParams(idC, redirectC, challenge).Encode(), nil)
		res := f.do(r)
		if res.status != http.StatusMethodNotAllowed || !strings.Contains(res.header.Get("Allow"), "GET") {
			t.Errorf("%s: status %d Allow %q; want 405 with Allow", m, res.status, res.header.Get("Allow"))
		}
		wantPageHeaders(t, res)
	}
	if consents != 0 {
		t.Errorf("the consent callback ran %d times for HEAD, PUT or DELETE", consents)
	}
}

// TestAuthorizeRepeatedParameter is CONFORMANCE B.13.
func TestAuthorizeRepeatedParameter(t *testing.T) {
	_, challenge := newVerifier(t)
	base := authParams(idC, redirectC, challenge).Encode()
	tests := []struct {
		name, extra string
		page        bool
	}{
		{"scope", "&scope=read&scope=write", false},
		{"response_type", "&response_type=code", false},
		{"code_challenge", "&code_challenge=" + challenge, false},
		{"unknown", "&x=1&x=2", false},
		{"state", "&state=other", false},
		{"client_id", "&client_id=" + idC, true},
		{"redirect_uri", "&redirect_uri=" + url.QueryEscape(redirectC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			res := f.authorizeRaw(base + tt.extra)
			if tt.page {
				wantErrorPage(t, res)
				return
			}
			wantErrorRedirect(t, res, http.StatusFound, redirectC, oauth.ErrCodeInvalidRequest, "st-123")
		})
	}
	t.Run("query and body", func(t *testing.T) {
		f := newFixture(t)
		r := httptest.NewRequest(http.MethodPost, "/oauth/authorize?scope=read", strings.NewReader(base+"&scope=write"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		wantErrorRedirect(t, f.do(r), http.StatusSeeOther, redirectC, oauth.ErrCodeInvalidRequest, "st-123")
	})
}

// TestAuthorizeUntrusted is CONFORMANCE B.14 and B.16: errors shown as a
// page, never redirected.
func TestAuthorizeUntrusted(t *testing.T) {
	_, challenge := newVerifier(t)
	tests := []struct {
		name   string
		params url.Values
	}{
		{"missing client_id", form("response_type", "code", "redirect_uri", redirectC, "code_challenge", challenge, "code_challenge_method", "S256")},
		{"unknown client_id", authParams("nobody", redirectC, challenge)},
		{"client_id too long", authParams(strings.Repeat("x", 200), redirectC, challenge)},
		{"unregistered redirect_uri", authParams(idC, "https://evil.example.com/cb", challenge)},
		{"other client's redirect_uri", authParams(idC, redirectC2, challenge)},
		{"several registered, none sent", authParams(idC, "", challenge)},
		{"relative redirect_uri", authParams(idC, "/cb", challenge)},
		{"unregistered and bad response_type", authParams(idC, "https://evil.example.com/cb", challenge, "response_type", "token")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			wantErrorPage(t, f.authorize(http.MethodGet, tt.params))
		})
	}
	t.Run("malformed query", func(t *testing.T) {
		f := newFixture(t)
		wantErrorPage(t, f.authorizeRaw("client_id=svc-1.app&redirect_uri=%zz"))
	})
}

// TestAuthorizeRedirectURIExact is CONFORMANCE B.15 through the endpoint.
func TestAuthorizeRedirectURIExact(t *testing.T) {
	_, challenge := newVerifier(t)
	tests := []struct {
		uri string
		ok  bool
	}{
		{redirectC, true},
		{redirectC + "/", false},
		{"https://APP.example.com/cb", false},
		{"https://app.example.com/Cb", false},
		{redirectC + "?x=1", false},
		{redirectC + "/more", false},
		{"https://app.example.com:444/cb", false},
		{"http://app.example.com/cb", false},
		{"https://sub.app.example.com/cb", false},
		{"https://app.example.com/x/../cb", false},
		{redirectC + "#frag", false},
		{"https://client@app.example.com/cb", false},
		{"https://app.example.com%2Fcb", false},
		{"https://app.example.com/%63b", false},
		{"http://127.0.0.1/loop", true},
		{"http://127.0.0.1:49152/loop", true},
		{"http://127.0.0.1:49152/loop2", false},
		{"http://localhost:49152/loop", false},
		{"http://[::1]:49152/loop", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			f := newFixture(t)
			res := f.authorize(http.MethodGet, authParams(idC, tt.uri, challenge))
			if !tt.ok {
				wantErrorPage(t, res)
				return
			}
			if res.status != http.StatusFound {
				t.Fatalf("status %d; want 302", res.status)
			}
			if loc := res.header.Get("Location"); !strings.HasPrefix(loc, tt.uri+"?") {
				t.Errorf("Location %q; want it to start with %q", loc, tt.uri+"?")
			}
		})
	}
}

// TestAuthorizeRedirectURIOptional is CONFORMANCE B.16 and B.17.
func TestAuthorizeRedirectURIOptional(t *testing.T) {
	f := newFixture(t)
	verifier, challenge := newVerifier(t)
	// Q has one registered URI, with a query: redirect_uri may be omitted,
	// and the query is kept.
	res := f.authorize(http.MethodGet, authParams(idQ, "", challenge))
	if res.status != http.StatusFound {
		t.Fatalf("status %d; want 302", res.status)
	}
	u := res.location(t)
	if got := u.Scheme + "://" + u.Host + u.Path; got != "https://q.example.com/cb" {
		t.Errorf("redirect to %q", got)
	}
	q := u.Query()
	if q.Get("tenant") != "1" || q.Get("code") == "" || q.Get("state") != "st-123" || q.Get("iss") != issuer {
		t.Errorf("redirect query %v; want tenant=1, code, state and iss", q)
	}
	// Omitted at authorization: the token request may omit it, or send the
	// registered URI.
	code := q.Get("code")
	wantTokens(t, f.token(codeExchange(code, "", verifier).withBasic(idQ, secretQ)))
	code = f.codeFor(authParams(idQ, "", challenge))
	wantTokens(t, f.token(codeExchange(code, redirectQ, verifier).withBasic(idQ, secretQ)))
	code = f.codeFor(authParams(idQ, "", challenge))
	wantError(t, f.token(codeExchange(code, "https://q.example.com/cb", verifier).withBasic(idQ, secretQ)), 400, oauth.ErrCodeInvalidGrant)
	// Error redirects keep the query too.
	res = f.authorize(http.MethodGet, authParams(idQ, "", challenge, "scope", "admin"))
	q = wantErrorRedirect(t, res, http.StatusFound, "https://q.example.com/cb", oauth.ErrCodeInvalidScope, "st-123")
	if q.Get("tenant") != "1" {
		t.Errorf("error redirect lost the registered query: %v", q)
	}
}

// TestAuthorizeSuccess is CONFORMANCE B.18.
func TestAuthorizeSuccess(t *testing.T) {
	_, challenge := newVerifier(t)
	tests := []struct {
		name  string
		state string
	}{
		{"no state", ""},
		{"plain state", "xyz"},
		{"state needing encoding", "a b&c=d+e%f/é?#"},
		{"state that looks like a parameter", "x&code=evil&iss=evil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := authParams(idC, redirectC, challenge)
			p.Del("state")
			if tt.state != "" {
				p.Set("state", tt.state)
			}
			res := f.authorize(http.MethodGet, p)
			if res.status != http.StatusFound {
				t.Fatalf("status %d; want 302", res.status)
			}
			q := res.location(t).Query()
			if len(q["code"]) != 1 || len(q["iss"]) != 1 || q.Get("iss") != issuer {
				t.Errorf("query %v; want one code and iss", q)
			}
			if st, ok := q["state"]; tt.state == "" && ok {
				t.Errorf("state %q present though none was sent", st)
			} else if tt.state != "" && (len(st) != 1 || st[0] != tt.state) {
				t.Errorf("state = %q; want exactly %q", st, tt.state)
			}
			for k, vs := range q {
				if len(vs) > 1 {
					t.Errorf("parameter %q appears %d times", k, len(vs))
				}
			}
			if strings.Contains(res.header.Get("Location"), challenge) {
				t.Errorf("Location holds the code challenge")
			}
		})
	}
}

// TestAuthorizeResponseType is CONFORMANCE B.19.
func TestAuthorizeResponseType(t *testing.T) {
	_, challenge := newVerifier(t)
	tests := []struct {
		rt   string
		code string
	}{
		{"", oauth.ErrCodeInvalidRequest},
		{"token", oauth.ErrCodeUnsupportedResponseType},
		{"code token", oauth.ErrCodeUnsupportedResponseType},
		{"id_token", oauth.ErrCodeUnsupportedResponseType},
		{"CODE", oauth.ErrCodeUnsupportedResponseType},
		{"nonsense", oauth.ErrCodeUnsupportedResponseType},
	}
	for _, tt := range tests {
		t.Run(tt.rt, func(t *testing.T) {
			f := newFixture(t)
			p := authParams(idC, redirectC, challenge)
			p.Del("response_type")
			if tt.rt != "" {
				p.Set("response_type", tt.rt)
			}
			wantErrorRedirect(t, f.authorize(http.MethodGet, p), http.StatusFound, redirectC, tt.code, "st-123")
		})
	}
}

// TestAuthorizeErrorRedirects is CONFORMANCE B.20.
func TestAuthorizeErrorRedirects(t *testing.T) {
	_, challenge := newVerifier(t)
	tests := []struct {
		name     string
		client   string
		redirect string
		extra    []string
		deny     bool
		method   string
		code     string
	}{
		{name: "unknown scope", client: idC, redirect: redirectC, extra: []string{"scope", "read nosuch"}, code: oauth.ErrCodeInvalidScope},
		{name: "scope not allowed", client: idC, redirect: redirectC, extra: []string{"scope", "admin"}, code: oauth.ErrCodeInvalidScope},
		{name: "malformed scope", client: idC, redirect: redirectC, extra: []string{"scope", "read\twrite"}, code: oauth.ErrCodeInvalidScope},
		{name: "unauthorized client", client: idCC, redirect: "https://cc.example.com/cb", code: oauth.ErrCodeUnauthorizedClient},
		{name: "access denied", client: idC, redirect: redirectC, deny: true, code: oauth.ErrCodeAccessDenied},
		{name: "access denied after POST", client: idC, redirect: redirectC, deny: true, method: http.MethodPost, code: oauth.ErrCodeAccessDenied},
		{name: "invalid_scope after POST", client: idC, redirect: redirectC, extra: []string{"scope", "admin"}, method: http.MethodPost, code: oauth.ErrCodeInvalidScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.deny {
				f.consent = func(*http.Request, *grants.AuthorizeRequest) (grants.Consent, bool) {
					return grants.Consent{UserID: "alice", Denied: true}, true
				}
			}
			method, status := http.MethodGet, http.StatusFound
			if tt.method == http.MethodPost {
				method, status = http.MethodPost, http.StatusSeeOther
			}
			res := f.authorize(method, authParams(tt.client, tt.redirect, challenge, tt.extra...))
			wantErrorRedirect(t, res, status, tt.redirect, tt.code, "st-123")
		})
	}
}

// TestAuthorizeDefaultScope is CONFORMANCE A.10 at the authorization
// endpoint: an omitted scope is the client's default.
func TestAuthorizeDefaultScope(t *testing.T) {
	f := newFixture(t)
	var seen []string
	f.consent = func(_ *http.Request, ar *grants.AuthorizeRequest) (grants.Consent, bool) {
		seen = ar.Scopes
		return grants.Consent{UserID: "alice"}, true
	}
	res := f.tokensOfC()
	if got := res.str("scope"); got != "read write profile" {
		t.Errorf("scope = %q; want the client's default", got)
	}
	if strings.Join(seen, " ") != "read write profile" {
		t.Errorf("AuthorizeRequest.Scopes = %q", seen)
	}
}

// TestErrorPage is CONFORMANCE B.21 for the library's page: headers, and
// nothing the request sent is echoed unescaped.
func TestErrorPage(t *testing.T) {
	f := newFixture(t)
	res := f.authorizeRaw("response_type=code&client_id=" + url.QueryEscape("<script>alert(1)</script>") + "&redirect_uri=" + url.QueryEscape("https://x/<img>"))
	wantErrorPage(t, res)
	if strings.Contains(res.raw, "<script>") || strings.Contains(res.raw, "<img>") {
		t.Errorf("page echoes markup: %s", res.raw)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
	// A host's own page gets the same headers.
	f = newFixture(t, func(c *grants.Config) {
		c.ErrorPage = func(w http.ResponseWriter, r *http.Request, e *oauth.Error) {
			w.WriteHeader(e.Status)
			w.Write([]byte("custom: " + e.Code))
		}
	})
	res = f.authorizeRaw("response_type=code&client_id=nobody")
	wantErrorPage(t, res)
	if res.raw != "custom: invalid_request" {
		t.Errorf("body = %q; want the host's page", res.raw)
	}
}

// TestTwoCallAuthorize drives the host-side API: ParseAuthorizeRequest,
// then Approve (with narrowed scopes) or Deny, from a host handler that
// carries the request across a consent POST with Query.
func TestTwoCallAuthorize(t *testing.T) {
	f := newFixture(t)
	var approveErr error
	host := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ar, err := f.srv.ParseAuthorizeRequest(r)
		if err != nil {
			f.srv.WriteAuthorizeError(w, r, err)
			return
		}
		if r.Method == http.MethodGet {
			// The consent page: post back to the same request.
			w.Write([]byte(ar.Query()))
			return
		}
		switch ar.Param("decision") {
		case "deny":
			f.srv.Deny(w, r, ar)
		case "bad-scope":
			approveErr = f.srv.Approve(w, r, ar, "alice", []string{"admin"})
		case "bad-user":
			approveErr = f.srv.Approve(w, r, ar, "", nil)
		case "tampered":
			// Changing the exported fields changes nothing Approve does.
			ar.RedirectURI = "https://evil.example/cb"
			ar.State = "forged"
			ar.Scopes = append(ar.Scopes, "admin")
			ar.Client.ID = idC2
			approveErr = f.srv.Approve(w, r, ar, "alice", nil)
		default:
			approveErr = f.srv.Approve(w, r, ar, "alice", []string{"read"})
		}
	})
	verifier, challenge := newVerifier(t)
	p := authParams(idC, redirectC, challenge, "scope", "read write", "login_hint", "a@b")
	rec := httptest.NewRecorder()
	host.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/authorize?"+p.Encode(), nil))
	carried := rec.Body.String()
	if got, _ := url.ParseQuery(carried); got.Get("login_hint") != "a@b" || got.Get("code_challenge") != challenge {
		t.Fatalf("Query() = %q; want every parameter", carried)
	}
	post := func(decision string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/authorize?"+carried, strings.NewReader("decision="+decision))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		host.ServeHTTP(rec, r)
		return rec
	}
	rec = post("allow")
	if rec.Code != http.StatusSeeOther || approveErr != nil {
		t.Fatalf("approve: %d, %v; want 303", rec.Code, approveErr)
	}
	loc, _ := url.Parse(rec.Header().Get("Location"))
	res := f.token(codeExchange(loc.Query().Get("code"), redirectC, verifier).withBasic(idC, secretC))
	wantTokens(t, res)
	if res.str("scope") != "read" {
		t.Errorf("scope = %q; want the narrowed grant read", res.str("scope"))
	}

	rec = post("tampered")
	loc, _ = url.Parse(rec.Header().Get("Location"))
	if approveErr != nil || loc.Host != "app.example.com" || loc.Query().Get("state") != "st-123" {
		t.Fatalf("tampered request: %v, Location %q; want the validated redirect and state", approveErr, loc)
	}
	res = f.token(codeExchange(loc.Query().Get("code"), redirectC, verifier).withBasic(idC, secretC))
	wantTokens(t, res)
	if res.str("scope") != "read write" {
		t.Errorf("tampered request: scope %q; want the validated read write", res.str("scope"))
	}

	rec = post("deny")
	res = &response{status: rec.Code, header: rec.Header()}
	wantErrorRedirect(t, res, http.StatusSeeOther, redirectC, oauth.ErrCodeAccessDenied, "st-123")

	for _, d := range []string{"bad-scope", "bad-user"} {
		approveErr = nil
		rec = post(d)
		res = &response{status: rec.Code, header: rec.Header()}
		wantErrorRedirect(t, res, http.StatusSeeOther, redirectC, oauth.ErrCodeServerError, "st-123")
		if approveErr == nil {
			t.Errorf("%s: Approve returned nil", d)
		}
	}
	// An AuthorizeRequest not from this server is refused.
	rec = httptest.NewRecorder()
	err := f.srv.Approve(rec, httptest.NewRequest(http.MethodGet, "/authorize", nil), &grants.AuthorizeRequest{Client: &oauth.Client{ID: idC}, RedirectURI: "https://evil.example/"}, "alice", nil)
	if err == nil || rec.Header().Get("Location") != "" {
		t.Errorf("Approve of a forged request: %v, Location %q; want an error and no redirect", err, rec.Header().Get("Location"))
	}
	var ae *grants.AuthorizeError
	_, perr := f.srv.ParseAuthorizeRequest(httptest.NewRequest(http.MethodGet, "/authorize?client_id=nobody", nil))
	if !errors.As(perr, &ae) || ae.RedirectURI != "" || ae.Err.Code != oauth.ErrCodeInvalidRequest {
		t.Errorf("ParseAuthorizeRequest(unknown client) = %v; want an AuthorizeError for a page", perr)
	}
}

// TestFinalizeScopes checks the host's scope policy hook at both places it
// runs.
func TestFinalizeScopes(t *testing.T) {
	var calls []grants.ScopeRequest
	f := newFixture(t, func(c *grants.Config) {
		c.FinalizeScopes = func(_ context.Context, req grants.ScopeRequest) ([]string, error) {
			calls = append(calls, req)
			if req.Client.ID == idC2 {
				return nil, oauth.NewError(oauth.ErrCodeInvalidScope, "policy says no")
			}
			// Drop write; always add profile.
			var out []string
			for _, s := range req.Scopes {
				if s != "write" {
					out = append(out, s)
				}
			}
			return append(out, "profile", "profile"), nil
		}
	})
	res := f.token(tokenReq{form: ccForm("scope", "read write")}.withBasic(idC, secretC))
	wantTokens(t, res)
	if got := res.str("scope"); got != "read profile" {
		t.Errorf("client_credentials scope = %q; want read profile", got)
	}
	wantError(t, f.token(tokenReq{form: ccForm()}.withBasic(idC2, secretC2)), 400, oauth.ErrCodeInvalidScope)

	res = f.tokensOfC("scope", "write")
	if got := res.str("scope"); got != "profile" {
		t.Errorf("authorization_code scope = %q; want profile", got)
	}
	last := calls[len(calls)-1]
	if last.GrantType != oauth.GrantAuthorizationCode || last.UserID != "alice" || last.Client.ID != idC {
		t.Errorf("last FinalizeScopes call %+v", last)
	}
	_, challenge := newVerifier(t)
	res = f.authorize(http.MethodGet, authParams(idC2, redirectC2, challenge))
	wantErrorRedirect(t, res, http.StatusFound, redirectC2, oauth.ErrCodeInvalidScope, "st-123")
}

// TestHostErrorText: an *oauth.Error a host hook returns reaches the client
// with an error, error_description and error_uri that keep to the
// characters RFC 6749 §4.1.2.1 and §5.2 allow, at the token endpoint and in
// an error redirect alike.
func TestHostErrorText(t *testing.T) {
	hostErr := &oauth.Error{
		Code:        "invalid_scope",
		Description: "Zu viele Bereiche – \"admin\" ist\nverboten\\",
		URI:         "https://as.example.com/errors?q=\"a b\"",
		Status:      http.StatusBadRequest,
	}
	f := newFixture(t, func(c *grants.Config) {
		c.FinalizeScopes = func(context.Context, grants.ScopeRequest) ([]string, error) { return nil, hostErr }
	})
	uriOK := func(s string) bool {
		return validDescription(s) && !strings.Contains(s, " ")
	}
	res := f.token(tokenReq{form: ccForm()}.withBasic(idC, secretC))
	wantError(t, res, 400, oauth.ErrCodeInvalidScope)
	if d := res.str("error_description"); d == "" || !strings.HasPrefix(d, "Zu viele Bereiche") {
		t.Errorf("error_description = %q; want the host's text, cleaned", d)
	}
	if u := res.str("error_uri"); u == "" || !uriOK(u) {
		t.Errorf("error_uri = %q; want the host's URI with only URI-reference characters", u)
	}
	_, challenge := newVerifier(t)
	loc := f.authorize(http.MethodGet, authParams(idC, redirectC, challenge)).location(t).Query()
	if loc.Get("error") != oauth.ErrCodeInvalidScope || !validDescription(loc.Get("error_description")) || !uriOK(loc.Get("error_uri")) {
		t.Errorf("error redirect %v; want error_description and error_uri of allowed characters", loc)
	}
}

// TestApproveDuplicateScopes: scopes a host grants twice are granted once,
// at the authorization endpoint and on the device verification page.
func TestApproveDuplicateScopes(t *testing.T) {
	f := newDeviceFixture(t)
	f.consent = func(*http.Request, *grants.AuthorizeRequest) (grants.Consent, bool) {
		return grants.Consent{UserID: "alice", Scopes: []string{"read", "write", "read"}}, true
	}
	if got := f.tokensOfC("scope", "read write").str("scope"); got != "read write" {
		t.Errorf("authorization code grant: scope %q; want read write", got)
	}
	dc := f.newDeviceCode("read write")
	if err := f.srv.ApproveDevice(t.Context(), f.lookup(dc.userCode), "alice", []string{"write", "write"}); err != nil {
		t.Fatal(err)
	}
	res := f.poll(dc.deviceCode)
	wantTokens(t, res)
	if got := res.str("scope"); got != "write" {
		t.Errorf("device grant: scope %q; want write", got)
	}
}
