package grants_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
)

// Clients of the implicit grant tests: public, allowed the implicit grant.
const (
	idImp       = "imp-app"
	redirectImp = "https://imp.example.com/cb"
	idImpQ      = "imp-q"
	redirectImQ = "https://impq.example.com/cb?tenant=7"
)

// newImplicitFixture is a fixture with the implicit grant switched on and
// two public clients allowed it.
func newImplicitFixture(t *testing.T, configure ...func(*grants.Config)) *fixture {
	t.Helper()
	f := newFixture(t, append([]func(*grants.Config){func(c *grants.Config) { c.EnableImplicitGrant = true }}, configure...)...)
	for _, c := range []oauth.Client{
		{ID: idImp, Name: "Implicit", RedirectURIs: []string{redirectImp},
			GrantTypes: []string{oauth.GrantImplicit, oauth.GrantRefreshToken}, Scopes: []string{"read", "profile"}},
		{ID: idImpQ, Name: "Implicit Q", RedirectURIs: []string{redirectImQ},
			GrantTypes: []string{oauth.GrantImplicit}, Scopes: []string{"read"}},
	} {
		if err := f.store.CreateClient(t.Context(), &c); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func implicitParams(clientID string, kv ...string) url.Values {
	return form(append([]string{"response_type", "token", "client_id", clientID, "state", "st-imp"}, kv...)...)
}

// fragmentOf checks that res redirects to base with nothing but a
// fragment added, and returns the fragment's parameters.
func fragmentOf(t *testing.T, res *response, status int, base string) url.Values {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d (%s); want %d", res.status, res.raw, status)
	}
	loc := res.header.Get("Location")
	before, frag, ok := strings.Cut(loc, "#")
	if !ok || before != base {
		t.Fatalf("Location %q; want %q with a fragment", loc, base+"#…")
	}
	q, err := url.ParseQuery(frag)
	if err != nil {
		t.Fatalf("fragment %q: %v", frag, err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			t.Errorf("parameter %q appears %d times", k, len(vs))
		}
	}
	return q
}

// TestImplicitGrant: an approved implicit request redirects with the
// access token in the fragment (RFC 6749 §4.2.2) and no refresh token.
func TestImplicitGrant(t *testing.T) {
	tests := []struct {
		name, method, client, base, scope string
		extra                             []string
		status                            int
	}{
		{"GET", http.MethodGet, idImp, redirectImp, "read profile", nil, http.StatusFound},
		{"POST", http.MethodPost, idImp, redirectImp, "read profile", nil, http.StatusSeeOther},
		{"narrower scope", http.MethodGet, idImp, redirectImp, "profile", []string{"scope", "profile"}, http.StatusFound},
		{"registered URI with a query", http.MethodGet, idImpQ, redirectImQ, "read", nil, http.StatusFound},
		{"code_challenge is ignored", http.MethodGet, idImp, redirectImp, "read profile",
			[]string{"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method", "S256"}, http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newImplicitFixture(t)
			res := f.authorize(tt.method, implicitParams(tt.client, tt.extra...))
			q := fragmentOf(t, res, tt.status, tt.base)
			want := map[string]string{"token_type": "Bearer", "expires_in": "3600", "scope": tt.scope, "state": "st-imp", "iss": issuer}
			for k, v := range want {
				if got := q.Get(k); got != v {
					t.Errorf("%s = %q; want %q", k, got, v)
				}
			}
			for _, k := range []string{"code", "refresh_token", "error"} {
				if q.Has(k) {
					t.Errorf("fragment has %s", k)
				}
			}
			if len(q) != 6 {
				t.Errorf("fragment %v; want exactly access_token, token_type, expires_in, scope, state, iss", q)
			}
			at := q.Get("access_token")
			if !f.active(at) {
				t.Errorf("the access token is not active")
			}
			access, refresh, _, _, _ := f.events.counts()
			if access != 1 || refresh != 0 || f.events.access[0].Token.UserID != "alice" || f.events.access[0].GrantType != oauth.GrantImplicit {
				t.Errorf("events: %d access (%+v), %d refresh; want one implicit access token for alice", access, f.events.access, refresh)
			}
			if cc := res.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q; want no-store", cc)
			}
		})
	}
}

// TestImplicitRefused is CONFORMANCE B.19: response_type=token is
// unsupported_response_type unless the implicit grant is on for the
// client.
func TestImplicitRefused(t *testing.T) {
	tests := []struct {
		name   string
		on     bool
		client string
		base   string
	}{
		{"off", false, idImp, redirectImp},
		{"on, client not allowed", true, idC, redirectC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newImplicitFixture(t, func(c *grants.Config) { c.EnableImplicitGrant = tt.on })
			p := implicitParams(tt.client)
			if tt.client == idC {
				p.Set("redirect_uri", redirectC)
			}
			res := f.authorize(http.MethodGet, p)
			wantErrorRedirect(t, res, http.StatusFound, tt.base, oauth.ErrCodeUnsupportedResponseType, "st-imp")
			if strings.Contains(res.header.Get("Location"), "#") {
				t.Errorf("error in a fragment for an unsupported response type: %s", res.header.Get("Location"))
			}
			if n, _, _, _, _ := f.events.counts(); n != 0 {
				t.Errorf("%d access tokens issued", n)
			}
		})
	}
	t.Run("code client may not use token", func(t *testing.T) {
		f := newImplicitFixture(t)
		_, challenge := newVerifier(t)
		res := f.authorize(http.MethodGet, authParams(idImp, redirectImp, challenge))
		wantErrorRedirect(t, res, http.StatusFound, redirectImp, oauth.ErrCodeUnauthorizedClient, "st-123")
	})
}

// TestImplicitErrors: errors of an implicit request go back in the
// fragment (RFC 6749 §4.2.2.1), with state and iss.
func TestImplicitErrors(t *testing.T) {
	tests := []struct {
		name    string
		params  url.Values
		consent func(*http.Request, *grants.AuthorizeRequest) (grants.Consent, bool)
		code    string
	}{
		{"invalid scope", implicitParams(idImp, "scope", "admin"), nil, oauth.ErrCodeInvalidScope},
		{"denied", implicitParams(idImp), func(*http.Request, *grants.AuthorizeRequest) (grants.Consent, bool) {
			return grants.Consent{Denied: true}, true
		}, oauth.ErrCodeAccessDenied},
		{"bad user id at approval", implicitParams(idImp), func(*http.Request, *grants.AuthorizeRequest) (grants.Consent, bool) {
			return grants.Consent{UserID: "two words"}, true
		}, oauth.ErrCodeServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newImplicitFixture(t)
			if tt.consent != nil {
				f.consent = tt.consent
			}
			q := fragmentOf(t, f.authorize(http.MethodGet, tt.params), http.StatusFound, redirectImp)
			if q.Get("error") != tt.code || q.Get("state") != "st-imp" || q.Get("iss") != issuer || q.Has("access_token") {
				t.Errorf("fragment %v; want error %s with state and iss", q, tt.code)
			}
		})
	}
	t.Run("finalize scopes refuses", func(t *testing.T) {
		var seen string
		f := newImplicitFixture(t, func(c *grants.Config) {
			c.FinalizeScopes = func(_ context.Context, req grants.ScopeRequest) ([]string, error) {
				seen = req.GrantType
				return nil, oauth.NewError(oauth.ErrCodeInvalidScope, "no")
			}
		})
		q := fragmentOf(t, f.authorize(http.MethodGet, implicitParams(idImp)), http.StatusFound, redirectImp)
		if q.Get("error") != oauth.ErrCodeInvalidScope || seen != oauth.GrantImplicit {
			t.Errorf("fragment %v, FinalizeScopes saw grant %q; want invalid_scope, implicit", q, seen)
		}
	})
}

// TestImplicitBesideCode: with the implicit grant on, the code flow is
// unchanged, PKCE included.
func TestImplicitBesideCode(t *testing.T) {
	f := newImplicitFixture(t)
	wantTokens(t, f.tokensOfC())
	res := f.authorize(http.MethodGet, authParams(idP, redirectP, ""))
	wantErrorRedirect(t, res, http.StatusFound, redirectP, oauth.ErrCodeInvalidRequest, "st-123")
}
