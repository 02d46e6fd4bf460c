package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// consentForm signs a new browser in and returns it with the consent form
// of a fresh authorization request of the demo public client.
func consentForm(t *testing.T, base string) (*browser, url.Values) {
	t.Helper()
	b := newBrowser(t)
	authURL := cliConfig(base).AuthCodeURL("st-1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	resp, body := b.get(authURL)
	loc := b.signIn(expectRedirect(t, resp, body, base), base, demoUser, demoPassword)
	resp, body = b.get(loc)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Allow access?") {
		t.Fatalf("consent page: got %d\n%s", resp.StatusCode, tail(body, 1000))
	}
	return b, hiddenFields(t, body)
}

// expectNoDecision checks that a consent POST was not acted on: no
// redirect (with a code or an error) but the consent page again, for the
// request as posted, with a fresh form.
func expectNoDecision(t *testing.T, what string, resp *http.Response, body string) url.Values {
	t.Helper()
	if loc := resp.Header.Get("Location"); loc != "" || resp.StatusCode != http.StatusConflict {
		t.Fatalf("%s: got %d Location %q; want 409 and the consent page again", what, resp.StatusCode, loc)
	}
	if !strings.Contains(body, "Allow access?") || !strings.Contains(body, "choose again") {
		t.Fatalf("%s: the page is not the consent page with a note:\n%s", what, tail(body, 2000))
	}
	return hiddenFields(t, body)
}

// TestConsentBinding: a decision applies to the request the consent page
// showed, once: not to a replay of the form, not to a request changed in
// the form, not to a request whose consent page was never shown.
func TestConsentBinding(t *testing.T) {
	inst := startServer(t, "-db", sqliteURL(t))
	base := inst.base

	t.Run("a replayed form gets no second code", func(t *testing.T) {
		b, form := consentForm(t, base)
		form.Set("decision", "approve")
		resp, body := b.post(base+pathAuthz, form)
		back, err := url.Parse(expectRedirect(t, resp, body, base))
		if err != nil || back.Query().Get("code") == "" {
			t.Fatalf("first approval: got %s; want a code", back)
		}
		resp, body = b.post(base+pathAuthz, form)
		fresh := expectNoDecision(t, "the same form again", resp, body)
		deny := cloneValues(form)
		deny.Set("decision", "deny")
		resp, body = b.post(base+pathAuthz, deny)
		expectNoDecision(t, "the same form again, denying", resp, body)
		// The page shown again has a form that works.
		fresh.Set("decision", "approve")
		resp, body = b.post(base+pathAuthz, fresh)
		if back, _ := url.Parse(expectRedirect(t, resp, body, base)); back.Query().Get("code") == "" {
			t.Errorf("approval on the page shown again: got %s; want a code", back)
		}
	})

	tampered := []struct {
		name, param, value string
	}{
		{"scope", "scope", "profile notes:read notes:write"},
		{"state", "state", "st-2"},
		{"code_challenge", "code_challenge", oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		{"redirect_uri", "redirect_uri", "http://127.0.0.1:10/callback"},
		{"client_id", "client_id", demoWebID},
		{"an added parameter", "prompt", "none"},
	}
	for _, tt := range tampered {
		t.Run("changed "+tt.name+" is not approved", func(t *testing.T) {
			b, form := consentForm(t, base)
			form.Set(tt.param, tt.value)
			if tt.param == "client_id" {
				form.Set("redirect_uri", inst.issuer+pathCallback)
			}
			form.Set("decision", "approve")
			resp, body := b.post(base+pathAuthz, form)
			again := expectNoDecision(t, "approval of a changed request", resp, body)
			if got := again.Get(tt.param); got != tt.value {
				t.Errorf("consent page shown again: %s is %q; want the posted %q", tt.param, got, tt.value)
			}
		})
	}

	t.Run("a decision needs the consent page", func(t *testing.T) {
		b := newBrowser(t)
		b.signIn(base+"/login", base, demoUser, demoPassword)
		// The session's CSRF token, from a page that is not the consent page.
		_, body := b.get(base + pathDevice)
		csrf := hiddenFields(t, body).Get("csrf_token")
		authURL := cliConfig(base).AuthCodeURL("st-3", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		u, _ := url.Parse(authURL)
		form := u.Query()
		form.Set("csrf_token", csrf)
		form.Set("decision", "approve")
		resp, body := b.post(base+pathAuthz, form)
		expectNoDecision(t, "approval without the consent page", resp, body)
	})

	t.Run("a GET never decides", func(t *testing.T) {
		b, form := consentForm(t, base)
		form.Set("decision", "approve")
		resp, body := b.get(base + pathAuthz + "?" + form.Encode())
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" || !strings.Contains(body, "Allow access?") {
			t.Fatalf("GET with the consent form's fields: got %d Location %q; want 200 and the consent page", resp.StatusCode, resp.Header.Get("Location"))
		}
		// The ticket was not spent: the form still works.
		resp, body = b.post(base+pathAuthz, form)
		if back, _ := url.Parse(expectRedirect(t, resp, body, base)); back.Query().Get("code") == "" {
			t.Errorf("the form after the GET: got %s; want a code", back)
		}
	})

	t.Run("another session's form is refused", func(t *testing.T) {
		_, form := consentForm(t, base)
		other, otherForm := consentForm(t, base)
		// The other session's CSRF token with this session's consent.
		form.Set("csrf_token", otherForm.Get("csrf_token"))
		form.Set("decision", "approve")
		resp, body := other.post(base+pathAuthz, form)
		expectNoDecision(t, "another session's consent", resp, body)
	})
}
