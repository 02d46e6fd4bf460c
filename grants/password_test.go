package grants_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
)

// users is an oauth.UserAuthenticator over a map from username to
// password; a user's id is "uid-" + the username. The username "explode"
// fails as a broken backend would, and "weird" authenticates with an id
// that cannot be stored.
type users map[string]string

func (u users) AuthenticateUser(_ context.Context, username, password string) (string, error) {
	switch username {
	case "explode":
		return "", errBackend
	case "weird":
		return "has space", nil
	}
	if pw, ok := u[username]; ok && subtle.ConstantTimeCompare([]byte(pw), []byte(password)) == 1 {
		return "uid-" + username, nil
	}
	return "", fmt.Errorf("users: %q: %w", username, oauth.ErrNotFound)
}

// Clients of the password grant tests.
const (
	idPW     = "pw-app"
	secretPW = "pw-app-secret"
	idPWPub  = "pw-public"

	alicePassword = "correct horse battery staple"
)

// attempts records PasswordAttempts.
type attempts struct {
	mu   sync.Mutex
	list []grants.PasswordAttempt
}

func (a *attempts) add(_ context.Context, at grants.PasswordAttempt) {
	a.mu.Lock()
	a.list = append(a.list, at)
	a.mu.Unlock()
}

func (a *attempts) all() []grants.PasswordAttempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]grants.PasswordAttempt(nil), a.list...)
}

// newPasswordFixture is a fixture with the password grant switched on,
// alice as the only user, and two clients allowed the grant: a
// confidential one that may refresh and a public one that may not. Failed
// attempts are recorded.
func newPasswordFixture(t *testing.T, configure ...func(*grants.Config)) (*fixture, *attempts) {
	t.Helper()
	failed := &attempts{}
	f := newFixture(t, append([]func(*grants.Config){func(c *grants.Config) {
		c.EnablePasswordGrant = true
		c.UserAuthenticator = users{"alice": alicePassword}
		c.Hooks.PasswordAuthFailed = failed.add
	}}, configure...)...)
	for _, c := range []oauth.Client{
		{ID: idPW, Name: "PW", SecretHash: sha256Secret(secretPW), Confidential: true,
			GrantTypes: []string{oauth.GrantPassword, oauth.GrantRefreshToken}, Scopes: []string{"read", "write"}},
		{ID: idPWPub, Name: "PW public", GrantTypes: []string{oauth.GrantPassword}, Scopes: []string{"read"}},
	} {
		if err := f.store.CreateClient(t.Context(), &c); err != nil {
			t.Fatal(err)
		}
	}
	return f, failed
}

func passwordReq(username, password string, kv ...string) tokenReq {
	v := form(append([]string{"grant_type", "password"}, kv...)...)
	if username != "" {
		v.Set("username", username)
	}
	if password != "" {
		v.Set("password", password)
	}
	return tokenReq{form: v}
}

// TestPasswordGrantOAuth2 drives the password grant through
// golang.org/x/oauth2's PasswordCredentialsToken: it works when the grant
// is on, refreshes through a TokenSource, and is refused with
// unsupported_grant_type when the grant is off.
func TestPasswordGrantOAuth2(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		t.Run(fmt.Sprint("style ", style), func(t *testing.T) {
			f, _ := newPasswordFixture(t)
			ts := liveServer(t, f, nil)
			conf := &oauth2.Config{
				ClientID: idPW, ClientSecret: secretPW, Scopes: []string{"read"},
				Endpoint: oauth2.Endpoint{TokenURL: ts.URL + "/oauth/token", AuthStyle: style},
			}
			ctx := context.Background()
			tok, err := conf.PasswordCredentialsToken(ctx, "alice", alicePassword)
			if err != nil {
				t.Fatalf("PasswordCredentialsToken: %v", err)
			}
			if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.Extra("scope") != "read" {
				t.Fatalf("token %+v, scope %v", tok, tok.Extra("scope"))
			}
			if r := f.introspectAs(idPW, secretPW, tok.AccessToken); r.str("sub") != "uid-alice" || r.str("client_id") != idPW {
				t.Errorf("introspection %s; want sub uid-alice, client_id %s", r.raw, idPW)
			}
			tok.Expiry = tok.Expiry.Add(-2 * tok.Expiry.Sub(f.clock.Now())) // make it expired
			next, err := conf.TokenSource(ctx, tok).Token()
			if err != nil || next.AccessToken == tok.AccessToken || next.RefreshToken == tok.RefreshToken {
				t.Fatalf("refresh through TokenSource: %+v, %v", next, err)
			}
			_, err = conf.PasswordCredentialsToken(ctx, "alice", "wrong password")
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != oauth.ErrCodeInvalidGrant {
				t.Errorf("wrong password: %v; want invalid_grant", err)
			}
		})
	}
	t.Run("off", func(t *testing.T) {
		f, _ := newPasswordFixture(t, func(c *grants.Config) { c.EnablePasswordGrant = false })
		ts := liveServer(t, f, nil)
		conf := &oauth2.Config{ClientID: idPW, ClientSecret: secretPW, Endpoint: oauth2.Endpoint{TokenURL: ts.URL + "/oauth/token"}}
		_, err := conf.PasswordCredentialsToken(context.Background(), "alice", alicePassword)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != oauth.ErrCodeUnsupportedGrantType {
			t.Errorf("PasswordCredentialsToken with the grant off: %v; want unsupported_grant_type", err)
		}
	})
}

// TestPasswordGrant covers the grant's answers at the token endpoint.
func TestPasswordGrant(t *testing.T) {
	tests := []struct {
		name    string
		q       tokenReq
		status  int
		code    string
		refresh bool
		scope   string
		failed  bool // PasswordAuthFailed fires
	}{
		{name: "confidential", q: passwordReq("alice", alicePassword).withBasic(idPW, secretPW), status: 200, refresh: true, scope: "read write"},
		{name: "narrower scope", q: passwordReq("alice", alicePassword, "scope", "write").withPost(idPW, secretPW), status: 200, refresh: true, scope: "write"},
		{name: "public client, no refresh grant", q: passwordReq("alice", alicePassword).withPost(idPWPub, ""), status: 200, scope: "read"},
		{name: "wrong password", q: passwordReq("alice", "nope").withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidGrant, failed: true},
		{name: "unknown user", q: passwordReq("mallory", alicePassword).withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidGrant, failed: true},
		{name: "missing username", q: passwordReq("", alicePassword).withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "missing password", q: passwordReq("alice", "").withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "scope not allowed", q: passwordReq("alice", alicePassword, "scope", "admin").withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidScope},
		{name: "client not allowed the grant", q: passwordReq("alice", alicePassword).withBasic(idC, secretC), status: 400, code: oauth.ErrCodeUnauthorizedClient},
		{name: "bad client credentials", q: passwordReq("alice", alicePassword).withBasic(idPW, "wrong"), status: 401, code: oauth.ErrCodeInvalidClient},
		{name: "backend failure", q: passwordReq("explode", "explode-password").withBasic(idPW, secretPW), status: 500, code: oauth.ErrCodeServerError},
		{name: "unstorable user id", q: passwordReq("weird", "weird-password").withBasic(idPW, secretPW), status: 500, code: oauth.ErrCodeServerError},
		// RFC 6749 appendix A.15, A.16: UNICODECHARNOCRLF.
		{name: "non-ASCII and tab allowed", q: passwordReq("zoë", "pass\tphrase ünïcode 🔑").withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidGrant, failed: true},
		{name: "NUL in username", q: passwordReq("alice\x00", alicePassword).withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "newline in username", q: passwordReq("alice\n", alicePassword).withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "invalid UTF-8 in username", q: passwordReq("al\xffice", alicePassword).withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "carriage return in password", q: passwordReq("alice", alicePassword+"\r").withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "DEL in password", q: passwordReq("alice", alicePassword+"\x7f").withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "U+FFFF in password", q: passwordReq("alice", alicePassword+"\uffff").withBasic(idPW, secretPW), status: 400, code: oauth.ErrCodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, failed := newPasswordFixture(t)
			res := f.token(tt.q)
			if tt.status != 200 {
				wantError(t, res, tt.status, tt.code)
			} else {
				wantTokens(t, res)
				if _, ok := res.body["refresh_token"]; ok != tt.refresh {
					t.Errorf("refresh_token issued: %v; want %v", ok, tt.refresh)
				}
				if got := res.str("scope"); got != tt.scope {
					t.Errorf("scope = %q; want %q", got, tt.scope)
				}
				if r := f.introspectAs(idC, secretC, res.str("access_token")); r.raw != `{"active":false}` {
					t.Errorf("another client introspects the token: %s", r.raw)
				}
			}
			got := failed.all()
			if tt.failed {
				if len(got) != 1 || got[0].Username != tt.q.form.Get("username") || got[0].ClientID != idPW || got[0].RemoteAddr == "" {
					t.Errorf("PasswordAuthFailed saw %+v", got)
				}
			} else if len(got) != 0 {
				t.Errorf("PasswordAuthFailed fired: %+v", got)
			}
			if pw := tt.q.form.Get("password"); pw != "" && strings.Contains(f.logs.String(), pw) {
				t.Errorf("logs hold the password")
			}
		})
	}
}

// TestPasswordGrantFamilies: every password grant request starts a grant
// family; revoking its refresh token ends only that one.
func TestPasswordGrantFamilies(t *testing.T) {
	f, _ := newPasswordFixture(t)
	a := f.token(passwordReq("alice", alicePassword).withBasic(idPW, secretPW))
	b := f.token(passwordReq("alice", alicePassword).withBasic(idPW, secretPW))
	f.events.mu.Lock()
	fa, fb := f.events.access[0].Token.FamilyID, f.events.access[1].Token.FamilyID
	ga := f.events.access[0].GrantType
	f.events.mu.Unlock()
	if fa == "" || fa == fb || ga != oauth.GrantPassword {
		t.Fatalf("families %q and %q, grant type %q; want two distinct families of grant type password", fa, fb, ga)
	}
	wantRevoked(t, f.post("/oauth/revoke", tokenReq{form: form("token", a.str("refresh_token"))}.withBasic(idPW, secretPW)))
	if f.isActiveAs(idPW, secretPW, a.str("access_token")) || !f.isActiveAs(idPW, secretPW, b.str("access_token")) {
		t.Errorf("revoking one password grant did not end exactly that grant")
	}
}

// isActiveAs reports whether the client's introspection finds token active.
func (f *fixture) isActiveAs(id, secret, token string) bool {
	f.t.Helper()
	res := f.introspectAs(id, secret, token)
	if res.status != http.StatusOK {
		f.t.Fatalf("introspection: %d %s", res.status, res.raw)
	}
	return res.body["active"] == true
}

// TestPasswordThrottle: the throttle runs before the credentials are
// checked, and its *oauth.Error reaches the client.
func TestPasswordThrottle(t *testing.T) {
	var seen []grants.PasswordAttempt
	var verdict error
	f, _ := newPasswordFixture(t, func(c *grants.Config) {
		c.PasswordThrottle = func(_ context.Context, a grants.PasswordAttempt) error {
			seen = append(seen, a)
			return verdict
		}
	})
	wantTokens(t, f.token(passwordReq("alice", alicePassword).withBasic(idPW, secretPW)))
	if len(seen) != 1 || seen[0].Username != "alice" || seen[0].ClientID != idPW {
		t.Fatalf("throttle saw %+v", seen)
	}
	verdict = oauth.NewError(oauth.ErrCodeInvalidGrant, "too many attempts; try later")
	res := f.token(passwordReq("alice", alicePassword).withBasic(idPW, secretPW))
	wantError(t, res, http.StatusBadRequest, oauth.ErrCodeInvalidGrant)
	if res.str("error_description") != "too many attempts; try later" {
		t.Errorf("error_description = %q", res.str("error_description"))
	}
	verdict = oauth.NewError(oauth.ErrCodeTemporarilyUnavailable, "")
	wantError(t, f.token(passwordReq("alice", alicePassword).withBasic(idPW, secretPW)), http.StatusServiceUnavailable, oauth.ErrCodeTemporarilyUnavailable)
	verdict = errBackend
	wantError(t, f.token(passwordReq("alice", alicePassword).withBasic(idPW, secretPW)), http.StatusInternalServerError, oauth.ErrCodeServerError)
	if n, _, _, _, _ := f.events.counts(); n != 1 {
		t.Errorf("%d access tokens issued; want 1 (none while throttled)", n)
	}
}
