package grants_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthkit/oauth"
)

// liveServer serves a fixture over real HTTP.
func liveServer(t *testing.T, f *fixture, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	h := f.handler
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// browser follows nothing: it returns the authorization endpoint's redirect
// so the test can read the code, as a user agent handing it to the client.
func browser() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authorizeVia runs the authorization request of an x/oauth2 Config and
// returns the code and state of the redirect.
func authorizeVia(t *testing.T, conf *oauth2.Config, state string, opts ...oauth2.AuthCodeOption) (code string) {
	t.Helper()
	resp, err := browser().Get(conf.AuthCodeURL(state, opts...))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if q.Get("state") != state || q.Get("iss") != issuer || q.Get("error") != "" {
		t.Fatalf("authorize redirect %q", loc)
	}
	if want, _ := url.Parse(conf.RedirectURL); loc.Host != want.Host || loc.Path != want.Path {
		t.Fatalf("redirected to %q; want %q", loc, conf.RedirectURL)
	}
	return q.Get("code")
}

// TestOAuth2AuthorizationCode drives the authorization code flow with PKCE
// through golang.org/x/oauth2 in each of its client authentication styles,
// then refreshes through a TokenSource.
func TestOAuth2AuthorizationCode(t *testing.T) {
	tests := []struct {
		name     string
		clientID string
		secret   string
		redirect string
		style    oauth2.AuthStyle
	}{
		{"confidential, header", idC, secretC, redirectC, oauth2.AuthStyleInHeader},
		{"confidential, params", idC, secretC, redirectC, oauth2.AuthStyleInParams},
		{"confidential, autodetect", idC, secretC, redirectC, oauth2.AuthStyleAutoDetect},
		{"confidential, loopback any port", idC, secretC, "http://127.0.0.1:53124/loop", oauth2.AuthStyleAutoDetect},
		{"public, params", idP, "", redirectP, oauth2.AuthStyleInParams},
		{"public, header", idP, "", redirectP, oauth2.AuthStyleInHeader},
		{"public, autodetect", idP, "", redirectP, oauth2.AuthStyleAutoDetect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ts := liveServer(t, f, nil)
			conf := &oauth2.Config{
				ClientID:     tt.clientID,
				ClientSecret: tt.secret,
				RedirectURL:  tt.redirect,
				Scopes:       []string{"read", "profile"},
				Endpoint: oauth2.Endpoint{
					AuthURL:   ts.URL + "/oauth/authorize",
					TokenURL:  ts.URL + "/oauth/token",
					AuthStyle: tt.style,
				},
			}
			ctx := context.Background()
			verifier := oauth2.GenerateVerifier()
			code := authorizeVia(t, conf, "state-"+tt.name, oauth2.S256ChallengeOption(verifier))
			tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
				t.Fatalf("token %+v", tok)
			}
			if got := tok.Extra("scope"); got != "read profile" {
				t.Errorf("scope = %v; want read profile", got)
			}
			if !f.active(tok.AccessToken) {
				t.Errorf("access token inactive")
			}
			// A second exchange is a replay: invalid_grant, family revoked.
			_, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != oauth.ErrCodeInvalidGrant {
				t.Fatalf("replayed Exchange: %v; want invalid_grant", err)
			}
			if f.active(tok.AccessToken) {
				t.Errorf("access token active after a replay")
			}

			// A fresh grant, refreshed through a TokenSource.
			verifier = oauth2.GenerateVerifier()
			code = authorizeVia(t, conf, "s2", oauth2.S256ChallengeOption(verifier))
			tok, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			rt1 := tok.RefreshToken
			tok.Expiry = time.Now().Add(-time.Minute) // make the source refresh
			src := conf.TokenSource(ctx, tok)
			tok2, err := src.Token()
			if err != nil {
				t.Fatalf("refresh through TokenSource: %v", err)
			}
			if tok2.AccessToken == tok.AccessToken || tok2.RefreshToken == rt1 || tok2.RefreshToken == "" {
				t.Errorf("refresh did not rotate: %+v", tok2)
			}
			if !f.active(tok2.AccessToken) {
				t.Errorf("refreshed access token inactive")
			}
			// The rotated-out token is reuse.
			old := &oauth2.Token{RefreshToken: rt1, Expiry: time.Now().Add(-time.Minute)}
			_, err = conf.TokenSource(ctx, old).Token()
			if !errors.As(err, &re) || re.ErrorCode != oauth.ErrCodeInvalidGrant {
				t.Fatalf("reused refresh token: %v; want invalid_grant", err)
			}
			if f.active(tok2.AccessToken) {
				t.Errorf("family active after refresh token reuse")
			}
		})
	}
}

// TestOAuth2AutodetectRetry is CONFORMANCE A.12 with the real client: a
// proxy mangles the Authorization header, so x/oauth2's first attempt fails
// client authentication; its retry with the credentials in the body must
// still find the code and the refresh token unconsumed.
func TestOAuth2AutodetectRetry(t *testing.T) {
	f := newFixture(t)
	var mangled atomic.Int32
	ts := liveServer(t, f, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				mangled.Add(1)
				r.Header.Set("Authorization", basicHeader(idC, "mangled"))
			}
			h.ServeHTTP(w, r)
		})
	})
	newConf := func() *oauth2.Config {
		return &oauth2.Config{
			ClientID: idC, ClientSecret: secretC, RedirectURL: redirectC, Scopes: []string{"read"},
			Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/oauth/authorize", TokenURL: ts.URL + "/oauth/token"},
		}
	}
	conf := newConf()
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	code := authorizeVia(t, conf, "st", oauth2.S256ChallengeOption(verifier))
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange after the header attempt failed: %v", err)
	}
	if mangled.Load() != 1 {
		t.Fatalf("%d header attempts; want 1 (the probe)", mangled.Load())
	}
	// The style is now cached as params in conf; a new Config probes
	// again on the refresh.
	conf2 := newConf()
	tok.Expiry = time.Now().Add(-time.Minute)
	tok2, err := conf2.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh after the header attempt failed: %v", err)
	}
	if tok2.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh did not rotate")
	}
	if mangled.Load() != 2 {
		t.Errorf("%d header attempts; want 2", mangled.Load())
	}
	if _, _, fails, replays, reuses := f.events.counts(); fails != 2 || replays != 0 || reuses != 0 {
		t.Errorf("auth failures %d, replays %d, reuses %d; want 2, 0, 0", fails, replays, reuses)
	}
}

// TestOAuth2ClientCredentials drives client_credentials through
// golang.org/x/oauth2/clientcredentials in each authentication style.
func TestOAuth2ClientCredentials(t *testing.T) {
	f := newFixture(t)
	ts := liveServer(t, f, nil)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams, oauth2.AuthStyleAutoDetect} {
		conf := &clientcredentials.Config{
			ClientID: idC, ClientSecret: secretC, TokenURL: ts.URL + "/oauth/token",
			Scopes: []string{"read", "write"}, AuthStyle: style,
		}
		tok, err := conf.Token(context.Background())
		if err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
		if tok.RefreshToken != "" || tok.Extra("scope") != "read write" || !f.active(tok.AccessToken) {
			t.Errorf("style %d: token %+v scope %v", style, tok, tok.Extra("scope"))
		}
		// The token authenticates a request through the client's transport.
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !f.active(at) {
				w.WriteHeader(http.StatusUnauthorized)
			}
		}))
		resp, err := conf.Client(context.Background()).Get(api.URL)
		api.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("style %d: API call %v %v", style, resp, err)
		}
	}
	bad := &clientcredentials.Config{ClientID: idC, ClientSecret: "wrong", TokenURL: ts.URL + "/oauth/token"}
	_, err := bad.Token(context.Background())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != oauth.ErrCodeInvalidClient || re.Response.StatusCode != 401 {
		t.Errorf("wrong secret: %v; want 401 invalid_client", err)
	}
	scoped := &clientcredentials.Config{ClientID: idC, ClientSecret: secretC, TokenURL: ts.URL + "/oauth/token", Scopes: []string{"admin"}}
	if _, err := scoped.Token(context.Background()); !errors.As(err, &re) || re.ErrorCode != oauth.ErrCodeInvalidScope {
		t.Errorf("scope admin: %v; want invalid_scope", err)
	}
}
