package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
)

// sessionCookieOf returns the session cookie a response sets, or nil.
func sessionCookieOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, sessionCookie) {
			return c
		}
	}
	return nil
}

// signedInAs returns the user the page header names, "" if none.
func signedInAs(body string) string {
	_, rest, ok := strings.Cut(body, "Signed in as <strong>")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "</strong>")
	return name
}

// withCookie is a GET of u carrying only the session cookie value.
func withCookie(t *testing.T, u, name, value string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.AddCookie(&http.Cookie{Name: name, Value: value})
	resp, body := newBrowser(t).do(req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got %d; want 200", u, resp.StatusCode)
	}
	return body
}

func TestSessionCookie(t *testing.T) {
	tests := []struct {
		name, issuer, cookie string
		secure               bool
	}{
		{"http issuer", "", sessionCookie, false},
		// The __Host- prefix makes browsers refuse the cookie from a
		// sibling domain or plain http: no session can be planted.
		{"https issuer", "https://auth.example", "__Host-" + sessionCookie, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"-db", sqliteURL(t)}
			if tt.issuer != "" {
				args = append(args, "-issuer", tt.issuer)
			}
			inst := startServer(t, args...)
			resp, _ := newBrowser(t).get(inst.base + "/login")
			c := sessionCookieOf(resp)
			if c == nil {
				t.Fatalf("GET /login sets no session cookie: %v", resp.Header["Set-Cookie"])
			}
			hsts := resp.Header.Get("Strict-Transport-Security")
			if tt.secure != (hsts != "") || (tt.secure && !strings.HasPrefix(hsts, "max-age=")) {
				t.Errorf("Strict-Transport-Security: got %q; want a max-age only under an https issuer", hsts)
			}
			if c.Name != tt.cookie || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure != tt.secure || c.MaxAge <= 0 {
				t.Errorf("session cookie: got %q HttpOnly=%v SameSite=%v Path=%q Domain=%q Secure=%v MaxAge=%d; want %q HttpOnly SameSite=Lax Path=/ no Domain Secure=%v a MaxAge",
					c.Name, c.HttpOnly, c.SameSite, c.Path, c.Domain, c.Secure, c.MaxAge, tt.cookie, tt.secure)
			}
		})
	}
}

func TestSessionLifecycle(t *testing.T) {
	db := sqliteURL(t)
	inst := startServer(t, "-db", db)
	base := inst.base
	store := openTestStore(t, db)
	ctx := context.Background()

	// The cookie before sign-in (an anonymous session, for the form's CSRF
	// token), and after.
	b := newBrowser(t)
	resp, body := b.get(base + "/login")
	before := sessionCookieOf(resp)
	if before == nil {
		t.Fatal("GET /login sets no session cookie")
	}
	form := hiddenFields(t, body)
	form.Set("username", demoUser)
	form.Set("password", demoPassword)
	resp, _ = b.post(base+"/login", form)
	after := sessionCookieOf(resp)
	if resp.StatusCode != http.StatusSeeOther || after == nil {
		t.Fatalf("sign-in: got %d, cookie %v; want 303 and a new cookie", resp.StatusCode, after)
	}

	t.Run("sign-in starts a new session", func(t *testing.T) {
		if after.Value == before.Value {
			t.Fatal("the session cookie is the same before and after sign-in")
		}
		// The cookie from before sign-in is worth nothing: not signed in,
		// and a new session is started for it.
		req, _ := http.NewRequest(http.MethodGet, base+"/login", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: before.Value})
		resp, body := newBrowser(t).do(req)
		if who := signedInAs(body); who != "" {
			t.Errorf("the pre-sign-in cookie is signed in as %q", who)
		}
		if c := sessionCookieOf(resp); c == nil || c.Value == before.Value {
			t.Errorf("the pre-sign-in cookie's session still exists")
		}
		if who := signedInAs(withCookie(t, base+"/", sessionCookie, after.Value)); who != demoUser {
			t.Errorf("the new cookie: signed in as %q; want %q", who, demoUser)
		}
	})

	t.Run("only the hash of the cookie is stored", func(t *testing.T) {
		var n int
		q := store.DB().Rebind(`SELECT COUNT(*) FROM example_sessions WHERE id = ?`)
		if err := store.DB().QueryRowxContext(ctx, q, after.Value).Scan(&n); err != nil || n != 0 {
			t.Errorf("rows named by the cookie value: got %d, %v; want 0", n, err)
		}
		if err := store.DB().QueryRowxContext(ctx, q, oauth.HashValue(after.Value)).Scan(&n); err != nil || n != 1 {
			t.Errorf("rows named by the cookie's hash: got %d, %v; want 1", n, err)
		}
	})

	t.Run("an expired session is not signed in", func(t *testing.T) {
		b2 := newBrowser(t)
		b2.signIn(base+"/login", base, demoUser, demoPassword)
		u, _ := url.Parse(base)
		var value string
		for _, c := range b2.c.Jar.Cookies(u) {
			if c.Name == sessionCookie {
				value = c.Value
			}
		}
		if who := signedInAs(withCookie(t, base+"/", sessionCookie, value)); who != demoUser {
			t.Fatalf("before expiry: signed in as %q; want %q", who, demoUser)
		}
		if _, err := store.DB().ExecContext(ctx, store.DB().Rebind(`UPDATE example_sessions SET expires_at = ? WHERE id = ?`),
			time.Now().Add(-time.Second).Unix(), oauth.HashValue(value)); err != nil {
			t.Fatal(err)
		}
		if who := signedInAs(withCookie(t, base+"/", sessionCookie, value)); who != "" {
			t.Errorf("after expiry: signed in as %q; want nobody", who)
		}
	})

	t.Run("sign-out ends the session on the server", func(t *testing.T) {
		_, body := b.get(base + "/")
		if who := signedInAs(body); who != demoUser {
			t.Fatalf("before sign-out: signed in as %q; want %q", who, demoUser)
		}
		// The sign-out form is in the page header.
		out := url.Values{"csrf_token": {hiddenInputValue(t, body, "csrf_token")}}
		resp, _ := b.post(base+"/logout", out)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out: got %d; want 303", resp.StatusCode)
		}
		if c := sessionCookieOf(resp); c == nil || c.MaxAge >= 0 {
			t.Errorf("sign-out does not clear the cookie: %v", resp.Header["Set-Cookie"])
		}
		// The old cookie, kept by someone, is not signed in any more.
		if who := signedInAs(withCookie(t, base+"/", sessionCookie, after.Value)); who != "" {
			t.Errorf("the cookie after sign-out: signed in as %q; want nobody", who)
		}
	})

	t.Run("sign-out by GET is refused", func(t *testing.T) {
		b3 := newBrowser(t)
		b3.signIn(base+"/login", base, demoUser, demoPassword)
		if resp, _ := b3.get(base + "/logout"); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /logout: got %d; want 405", resp.StatusCode)
		}
		if _, body := b3.get(base + "/"); signedInAs(body) != demoUser {
			t.Errorf("after GET /logout: no longer signed in")
		}
	})
}

// hiddenInputValue returns the value of the hidden input name in body.
func hiddenInputValue(t *testing.T, body, name string) string {
	t.Helper()
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	t.Fatalf("no hidden input %q in:\n%s", name, tail(body, 1000))
	return ""
}

// TestSignInNext: after sign-in the browser goes to next only when it is
// a plain path on this server, through the login page's form as a real
// browser sends it.
func TestSignInNext(t *testing.T) {
	inst := startServer(t, "-db", sqliteURL(t))
	base := inst.base
	tests := map[string]string{
		"/oauth/authorize?client_id=x&state=a%26b": "/oauth/authorize?client_id=x&state=a%26b",
		"//evil.example/":                          "/",
		"/\\evil.example":                          "/",
		"/%5Cevil.example":                         "/",
		"/%2F%2Fevil.example":                      "/",
		"/.//evil.example":                         "/",
		"https://evil.example/":                    "/",
		"javascript:alert(1)":                      "/",
		"\t//evil.example":                         "/",
	}
	for next, want := range tests {
		b := newBrowser(t)
		loc := b.signIn(base+"/login?next="+url.QueryEscape(next), base, demoUser, demoPassword)
		if loc != base+want {
			t.Errorf("sign-in with next=%q: redirected to %s; want %s", next, loc, base+want)
		}
	}
}
