package grants_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
)

// deviceHost plays the host's verification page for tests that drive the
// device flow with a real client over HTTP: when a device code's first
// poll has been answered authorization_pending, it looks the code's user
// code up and approves or denies it through the verification API, from
// another goroutine, as a person on another device would. It also counts
// the token endpoint's answers to device polls.
type deviceHost struct {
	t      testing.TB
	f      *deviceFixture
	decide func(req *grants.DeviceRequest) (approve bool)

	wg      sync.WaitGroup
	mu      sync.Mutex
	decided map[string]bool // device code IDs
	answers map[string]int  // "tokens" or the error code
}

// newDeviceHost serves f over real HTTP on the real clock, with the device
// polling interval at its least (1 s), and returns the server.
func newDeviceHost(t *testing.T, decide func(*grants.DeviceRequest) bool, configure ...func(*grants.Config)) (*deviceHost, *httptest.Server) {
	t.Helper()
	f := newDeviceFixture(t, append([]func(*grants.Config){func(c *grants.Config) {
		c.Now = time.Now
		c.DevicePollInterval = time.Second
	}}, configure...)...)
	f.store.Now = time.Now
	h := &deviceHost{t: t, f: f, decide: decide, decided: map[string]bool{}, answers: map[string]int{}}
	ts := httptest.NewServer(h.wrap(f.handler))
	t.Cleanup(ts.Close)
	t.Cleanup(h.wg.Wait) // runs before ts.Close
	return h, ts
}

func (h *deviceHost) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/token") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		params, _ := url.ParseQuery(string(body))
		if params.Get("grant_type") != oauth.GrantDeviceCode {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var answer struct {
			Error string `json:"error"`
		}
		json.Unmarshal(rec.Body.Bytes(), &answer)
		key := answer.Error
		if rec.Code == http.StatusOK {
			key = "tokens"
		}
		id := oauth.HashValue(params.Get("device_code"))
		h.mu.Lock()
		h.answers[key]++
		first := answer.Error == oauth.ErrCodeAuthorizationPending && !h.decided[id]
		h.decided[id] = h.decided[id] || first
		h.mu.Unlock()
		if first {
			h.wg.Go(func() { h.decideCode(id) })
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// decideCode finds the user code of a device code, as the person would read
// it off the device, and decides through the verification API.
func (h *deviceHost) decideCode(id string) {
	ctx := context.Background()
	d, err := h.f.store.FindDeviceCode(ctx, id)
	if err != nil {
		h.t.Errorf("host: find device code: %v", err)
		return
	}
	req, err := h.f.srv.LookupUserCode(ctx, "host-session", strings.ToLower(d.UserCode))
	if err != nil {
		h.t.Errorf("host: LookupUserCode: %v", err)
		return
	}
	if h.decide(req) {
		err = h.f.srv.ApproveDevice(ctx, req, "alice", nil)
	} else {
		err = h.f.srv.DenyDevice(ctx, req, "alice")
	}
	if err != nil {
		h.t.Errorf("host: decision: %v", err)
	}
}

func (h *deviceHost) answerCounts() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, v := range h.answers {
		out[k] = v
	}
	return out
}

// denyProfile approves every request except those asking for the profile
// scope.
func denyProfile(req *grants.DeviceRequest) bool { return !slices.Contains(req.Scopes, "profile") }

// TestOAuth2DeviceFlow drives the device flow with golang.org/x/oauth2's
// DeviceAuth and DeviceAccessToken against httptest.NewServer, the user's
// decision made through the host API from another goroutine while the
// client polls: a public client, a confidential one (whose tokens then
// refresh through a TokenSource), and a denial.
//
// The client authentication style is set explicitly: with AuthStyleAutoDetect
// x/oauth2 answers a first failed token request (authorization_pending is
// one) by retrying at once with the other style, which is a poll too fast.
//
// x/oauth2 polls on a ticker, so against an exact interval about half its
// polls arrive a little early and are answered slow_down (which it obeys,
// so the flow still completes, later). Most cases run with a second of
// Config.DevicePollLeeway, which spares it that; the public client's runs
// with the exact interval.
func TestOAuth2DeviceFlow(t *testing.T) {
	tests := []struct {
		name     string
		clientID string
		secret   string
		style    oauth2.AuthStyle
		scopes   []string
		denied   bool
		refresh  bool
		exact    bool // no leeway
	}{
		{"public client, exact interval", idDP, "", oauth2.AuthStyleInParams, []string{"read"}, false, false, true},
		{"confidential client, header", idD, secretD, oauth2.AuthStyleInHeader, []string{"read", "write"}, false, true, false},
		{"confidential client, params", idD, secretD, oauth2.AuthStyleInParams, []string{"read"}, false, true, false},
		{"denied", idD, secretD, oauth2.AuthStyleInHeader, []string{"read", "profile"}, true, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			interval := 1
			h, ts := newDeviceHost(t, denyProfile, func(c *grants.Config) {
				if !tc.exact {
					interval = 2
					c.DevicePollInterval, c.DevicePollLeeway = 2*time.Second, time.Second
				}
			})
			conf := &oauth2.Config{
				ClientID:     tc.clientID,
				ClientSecret: tc.secret,
				Scopes:       tc.scopes,
				Endpoint: oauth2.Endpoint{
					DeviceAuthURL: ts.URL + "/oauth/device_authorization",
					TokenURL:      ts.URL + "/oauth/token",
					AuthStyle:     tc.style,
				},
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			var opts []oauth2.AuthCodeOption
			if tc.secret != "" {
				// DeviceAuth sends only client_id (RFC 8628 §3.1 names no
				// other): a confidential client adds its secret itself.
				opts = append(opts, oauth2.SetAuthURLParam("client_secret", tc.secret))
			}
			da, err := conf.DeviceAuth(ctx, opts...)
			if err != nil {
				t.Fatalf("DeviceAuth: %v", err)
			}
			if !userCodeDisplay.MatchString(da.UserCode) || da.VerificationURI != verifyURI ||
				da.VerificationURIComplete != verifyURI+"?user_code="+da.UserCode || da.Interval != int64(interval) ||
				time.Until(da.Expiry) < 9*time.Minute || time.Until(da.Expiry) > 10*time.Minute {
				t.Errorf("DeviceAuth: %+v", da)
			}
			tok, err := conf.DeviceAccessToken(ctx, da)
			t.Logf("token endpoint answers: %v", h.answerCounts())
			if tc.denied {
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != oauth.ErrCodeAccessDenied || re.Response.StatusCode != 400 {
					t.Fatalf("DeviceAccessToken: got %v; want access_denied", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DeviceAccessToken: %v", err)
			}
			answers := h.answerCounts()
			if answers["tokens"] != 1 || answers[oauth.ErrCodeAuthorizationPending] < 1 {
				t.Errorf("token endpoint answers %v; want at least one authorization_pending, then tokens once", answers)
			}
			if tok.TokenType != "Bearer" || !h.f.active(tok.AccessToken) || tok.Extra("scope") != strings.Join(tc.scopes, " ") {
				t.Errorf("token %+v, scope %v", tok, tok.Extra("scope"))
			}
			if (tok.RefreshToken != "") != tc.refresh {
				t.Fatalf("refresh token %q; want one: %v", tok.RefreshToken, tc.refresh)
			}
			// The device_code is spent.
			if _, err := conf.Exchange(ctx, "", oauth2.SetAuthURLParam("grant_type", oauth.GrantDeviceCode),
				oauth2.SetAuthURLParam("device_code", da.DeviceCode)); err == nil {
				t.Error("a second redemption succeeded")
			}
			if !tc.refresh {
				return
			}
			tok.Expiry = time.Now().Add(-time.Minute)
			next, err := conf.TokenSource(ctx, tok).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if next.AccessToken == tok.AccessToken || next.RefreshToken == tok.RefreshToken || !h.f.active(next.AccessToken) {
				t.Errorf("refresh returned %+v", next)
			}
		})
	}
}
