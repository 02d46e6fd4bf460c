package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestBadRequests: malformed, oversized, unknown and wrongly-sent requests
// get a 4xx answer, never a 500, and every answer forbids framing.
func TestBadRequests(t *testing.T) {
	inst := startServer(t, "-db", sqliteURL(t))
	base := inst.base
	big := "x=" + strings.Repeat("a", 100<<10)
	tests := []struct {
		name, method, path, body string
		cookie                   string
		want                     int
	}{
		{"unknown path", "GET", "/nope", "", "", http.StatusNotFound},
		{"unknown path under /oauth", "GET", "/oauth/nope", "", "", http.StatusNotFound},
		{"PUT sign-in", "PUT", "/login", "", "", http.StatusMethodNotAllowed},
		{"DELETE home", "DELETE", "/", "", "", http.StatusMethodNotAllowed},
		{"GET sign-out", "GET", "/logout", "", "", http.StatusMethodNotAllowed},
		{"GET device decision", "GET", "/device/decide", "", "", http.StatusMethodNotAllowed},
		{"PUT authorize", "PUT", "/oauth/authorize", "", "", http.StatusMethodNotAllowed},
		{"GET token", "GET", "/oauth/token", "", "", http.StatusMethodNotAllowed},
		{"oversized sign-in", "POST", "/login", big, "", http.StatusBadRequest},
		{"oversized sign-out", "POST", "/logout", big, "", http.StatusBadRequest},
		{"oversized device code", "POST", "/device", big, "", http.StatusBadRequest},
		{"oversized device decision", "POST", "/device/decide", big, "", http.StatusBadRequest},
		{"oversized authorization request", "POST", "/oauth/authorize", big, "", http.StatusBadRequest},
		{"oversized token request", "POST", "/oauth/token", big, "", http.StatusBadRequest},
		{"malformed form", "POST", "/login", "a=%zz", "", http.StatusBadRequest},
		{"sign-in without a session", "POST", "/login", "username=demo&password=x", "", http.StatusForbidden},
		{"sign-in with a forged session", "POST", "/login", "csrf_token=x&username=demo", "forged", http.StatusForbidden},
		{"long session cookie", "POST", "/login", "csrf_token=x", strings.Repeat("a", 3000), http.StatusForbidden},
		{"long device code", "GET", "/device?user_code=" + strings.Repeat("B", 3000), "", "", http.StatusBadRequest},
		{"device code not UTF-8", "GET", "/device?user_code=%ff%fe", "", "", http.StatusBadRequest},
		{"authorization request not UTF-8", "GET", "/oauth/authorize?client_id=%ff", "", "", http.StatusBadRequest},
		{"authorization request, malformed query", "GET", "/oauth/authorize?client_id=%zz", "", "", http.StatusBadRequest},
		{"token request without a grant", "POST", "/oauth/token", "a=b", "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tt.cookie})
			}
			resp, body := newBrowser(t).do(req)
			if resp.StatusCode != tt.want {
				t.Errorf("%s %s: got %d; want %d\n%s", tt.method, tt.path, resp.StatusCode, tt.want, tail(body, 500))
			}
			checkPageHeaders(t, resp)
		})
	}
	inst.stop(t) // and so its log is complete
	if strings.Contains(inst.stderr.String(), "status=500") {
		t.Errorf("the server answered 500:\n%s", tail(inst.stderr.String(), 3000))
	}
}

// TestLogsHoldNoSecrets runs a flow with every secret in it — a password,
// a client secret in Authorization, a code in a query, tokens in form
// bodies, the session cookie and its CSRF token — with debug logging, and
// requires that none of them reaches the log.
func TestLogsHoldNoSecrets(t *testing.T) {
	inst := startServer(t, "-db", sqliteURL(t), "-log-level", "debug")
	base := inst.base
	ctx := context.Background()
	b := newBrowser(t)
	conf := &oauth2.Config{
		ClientID: demoWebID, ClientSecret: demoWebSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: base + pathAuthz, TokenURL: base + pathToken, AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL: inst.issuer + pathCallback,
		Scopes:      []string{"profile"},
	}
	back := authorize(t, b, []string{base}, conf.AuthCodeURL("log-state"), "approve")
	code := back.Query().Get("code")
	if resp, _ := b.get(at(base, back.String())); resp.StatusCode != http.StatusOK {
		t.Fatalf("callback page: got %d", resp.StatusCode)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := refresh(conf, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// The failures log too.
	if _, err := conf.Exchange(ctx, code); err == nil {
		t.Fatal("second exchange of the code succeeded")
	}
	bad := *conf
	bad.ClientSecret = "wrong-secret-value"
	bad.Exchange(ctx, "not-a-code-value")
	newBrowser(t).tryLogin(base, demoUser, "wrong-password-value")

	u, _ := url.Parse(base)
	secrets := map[string]string{
		"password": demoPassword, "wrong password": "wrong-password-value",
		"client secret": demoWebSecret, "wrong client secret": "wrong-secret-value",
		"code": code, "unknown code": "not-a-code-value",
		"access token": tok.AccessToken, "refresh token": tok.RefreshToken, "rotated refresh token": tok2.RefreshToken,
		"state": "log-state", "Authorization header": "Basic ",
	}
	for _, c := range b.c.Jar.Cookies(u) {
		secrets["cookie "+c.Name] = c.Value
	}
	_, body := b.get(base + "/")
	secrets["CSRF token"] = hiddenInputValue(t, body, "csrf_token")
	inst.stop(t) // and so its log is complete
	log := inst.stderr.String()
	if !strings.Contains(log, "path=/demo/callback") || !strings.Contains(log, "level=DEBUG") {
		t.Fatalf("the log lacks the requests or debug lines:\n%s", tail(log, 2000))
	}
	for what, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("the log holds the %s", what)
		}
	}
}

// TestFormsNeedTheSessionsCSRFToken: every form that changes something
// refuses a POST without the session's CSRF token, and changes nothing.
func TestFormsNeedTheSessionsCSRFToken(t *testing.T) {
	inst := startServer(t, "-db", sqliteURL(t))
	base := inst.base
	da, err := deviceConfig(base).DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.signIn(base+"/login", base, demoUser, demoPassword)
	_, body := b.get(base + "/")
	real := hiddenInputValue(t, body, "csrf_token")
	forms := []struct {
		path string
		form url.Values
	}{
		{"/login", url.Values{"username": {demoUser}, "password": {demoPassword}}},
		{"/logout", url.Values{}},
		{pathDevice, url.Values{"user_code": {da.UserCode}}},
		{pathDevice + "/decide", url.Values{"user_code": {da.UserCode}, "decision": {"approve"}}},
	}
	for _, f := range forms {
		for _, token := range []string{"", "forged", real + "x", strings.ToUpper(real)} {
			v := cloneValues(f.form)
			if token != "" {
				v.Set("csrf_token", token)
			}
			if resp, body := b.post(base+f.path, v); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with csrf_token %q: got %d; want 403\n%s", f.path, token, resp.StatusCode, tail(body, 500))
			}
		}
	}
	if _, body := b.get(base + "/"); signedInAs(body) != demoUser {
		t.Error("the refused sign-out signed the browser out")
	}
	if _, err := deviceConfig(base).DeviceAccessToken(ctxWithTimeout(t, 3*time.Second), da); err == nil {
		t.Error("the refused device decision approved the device")
	}
}

// ctxWithTimeout is a context that ends after d or with the test.
func ctxWithTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
