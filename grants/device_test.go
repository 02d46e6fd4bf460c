package grants_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
)

var userCodeDisplay = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// TestDeviceAuthorization covers CONFORMANCE G.39: the device authorization
// response, its headers, and what is stored.
func TestDeviceAuthorization(t *testing.T) {
	f := newDeviceFixture(t)
	res := f.deviceAuth(tokenReq{form: form("scope", "read write")}.withBasic(idD, secretD))
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s; want 200", res.status, res.raw)
	}
	if cc, p := res.header.Get("Cache-Control"), res.header.Get("Pragma"); cc != "no-store" || p != "no-cache" {
		t.Errorf("Cache-Control %q, Pragma %q; want no-store, no-cache", cc, p)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q; want application/json", ct)
	}
	want := []string{"device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in", "interval"}
	for _, k := range want {
		if _, ok := res.body[k]; !ok {
			t.Errorf("response %s lacks %s", res.raw, k)
		}
	}
	if len(res.body) != len(want) {
		t.Errorf("response %s has %d members; want %d", res.raw, len(res.body), len(want))
	}
	dc, uc := res.str("device_code"), res.str("user_code")
	if !strings.HasPrefix(dc, "odc_") || len(dc) < 4+43 {
		t.Errorf("device_code %q; want odc_ and at least 256 bits", dc)
	}
	if !userCodeDisplay.MatchString(uc) {
		t.Errorf("user_code %q; want XXXX-XXXX from BCDFGHJKLMNPQRSTVWXZ", uc)
	}
	if got := res.str("verification_uri"); got != verifyURI {
		t.Errorf("verification_uri %q; want %q", got, verifyURI)
	}
	if got, want := res.str("verification_uri_complete"), verifyURI+"?user_code="+uc; got != want {
		t.Errorf("verification_uri_complete %q; want %q", got, want)
	}
	if got := res.body["expires_in"]; got != float64(600) {
		t.Errorf("expires_in %v; want 600", got)
	}
	if got := res.body["interval"]; got != float64(5) {
		t.Errorf("interval %v; want 5", got)
	}

	// Stored hashed, with the normalized user code, pending.
	d := f.deviceRecord(dc)
	if d.ID != oauth.HashValue(dc) || d.ID == dc {
		t.Errorf("stored ID %q; want the SHA-256 of the device_code", d.ID)
	}
	if d.UserCode != strings.ReplaceAll(uc, "-", "") || d.ClientID != idD || d.Status != oauth.DevicePending ||
		!slices.Equal(d.Scopes, []string{"read", "write"}) || d.Interval != 5*time.Second || d.FamilyID == "" ||
		!d.ExpiresAt.Equal(f.clock.Now().Add(10*time.Minute)) {
		t.Errorf("stored %+v", d)
	}
	// The device_code carries nothing of the user code.
	if strings.Contains(strings.ToUpper(dc), d.UserCode) || strings.Contains(dc, uc) {
		t.Errorf("device_code %q contains the user code %q", dc, uc)
	}
	if issued, _, _ := f.device.counts(); issued != 1 {
		t.Errorf("DeviceCodeIssued fired %d times; want 1", issued)
	}
	if ev := f.device.issued[0]; ev.Code.ID != d.ID || ev.Code.UserCode != d.UserCode || ev.RemoteAddr == "" {
		t.Errorf("DeviceCodeIssued event %+v", ev)
	}
	if strings.Contains(f.logs.String(), dc) || strings.Contains(f.logs.String(), secretD) {
		t.Errorf("logs hold the device_code or the secret:\n%s", f.logs)
	}
}

// TestDeviceAuthorizationClients covers the ways a client may, or may not,
// ask for a device code (CONFORMANCE G.39 with A.2–A.7, A.9, A.10).
func TestDeviceAuthorizationClients(t *testing.T) {
	f := newDeviceFixture(t)
	ok := []struct {
		name   string
		req    tokenReq
		scopes []string
	}{
		{"confidential, basic, default scopes", tokenReq{}.withBasic(idD, secretD), []string{"read", "write", "profile"}},
		{"confidential, client_secret_post", tokenReq{form: form("scope", "profile")}.withPost(idD, secretD), []string{"profile"}},
		{"confidential, basic plus the same client_id", tokenReq{form: form("client_id", idD)}.withBasic(idD, secretD), []string{"read", "write", "profile"}},
		{"public, client_id", tokenReq{form: form("scope", "read")}.withPost(idDP, ""), []string{"read"}},
		{"form content type with charset", tokenReq{form: form("scope", "read"), contentType: "application/x-www-form-urlencoded;charset=UTF-8"}.withPost(idDP, ""), []string{"read"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			res := f.deviceAuth(tc.req)
			if res.status != http.StatusOK {
				t.Fatalf("got %d %s; want 200", res.status, res.raw)
			}
			if d := f.deviceRecord(res.str("device_code")); !slices.Equal(d.Scopes, tc.scopes) {
				t.Errorf("stored scopes %v; want %v", d.Scopes, tc.scopes)
			}
		})
	}
	bad := []struct {
		name   string
		req    tokenReq
		status int
		code   string
	}{
		{"GET", tokenReq{method: http.MethodGet}.withBasic(idD, secretD), 405, oauth.ErrCodeInvalidRequest},
		{"JSON body", tokenReq{contentType: "application/json"}.withBasic(idD, secretD), 400, oauth.ErrCodeInvalidRequest},
		{"repeated scope", tokenReq{form: form("scope", "read", "scope", "write")}.withBasic(idD, secretD), 400, oauth.ErrCodeInvalidRequest},
		{"wrong secret, basic", tokenReq{}.withBasic(idD, "wrong"), 401, oauth.ErrCodeInvalidClient},
		{"wrong secret, post", tokenReq{}.withPost(idD, "wrong"), 401, oauth.ErrCodeInvalidClient},
		{"confidential without secret", tokenReq{}.withPost(idD, ""), 401, oauth.ErrCodeInvalidClient},
		{"no client", tokenReq{}, 401, oauth.ErrCodeInvalidClient},
		{"unknown client", tokenReq{}.withPost("nobody", ""), 401, oauth.ErrCodeInvalidClient},
		{"public client with a secret", tokenReq{}.withPost(idDP, "x"), 401, oauth.ErrCodeInvalidClient},
		{"credentials in the query", tokenReq{query: form("client_id", idD, "client_secret", secretD).Encode()}, 401, oauth.ErrCodeInvalidClient},
		{"basic plus body secret", tokenReq{form: form("client_secret", secretD)}.withBasic(idD, secretD), 400, oauth.ErrCodeInvalidRequest},
		{"basic plus another client_id", tokenReq{form: form("client_id", idD2)}.withBasic(idD, secretD), 400, oauth.ErrCodeInvalidRequest},
		{"client without the device grant", tokenReq{}.withBasic(idC, secretC), 400, oauth.ErrCodeUnauthorizedClient},
		{"unknown scope", tokenReq{form: form("scope", "read nosuch")}.withBasic(idD, secretD), 400, oauth.ErrCodeInvalidScope},
		{"scope not allowed to the client", tokenReq{form: form("scope", "admin")}.withBasic(idD, secretD), 400, oauth.ErrCodeInvalidScope},
		{"malformed scope", tokenReq{form: form("scope", "read \"x")}.withBasic(idD, secretD), 400, oauth.ErrCodeInvalidScope},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			before, _, _ := f.device.counts()
			res := f.deviceAuth(tc.req)
			wantError(t, res, tc.status, tc.code)
			if tc.status == 405 && res.header.Get("Allow") != "POST" {
				t.Errorf("Allow %q; want POST", res.header.Get("Allow"))
			}
			if tc.status == 401 && tc.req.basic && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate %q; want a Basic challenge", res.header.Get("WWW-Authenticate"))
			}
			if after, _, _ := f.device.counts(); after != before {
				t.Errorf("a refused request issued a device code")
			}
		})
	}
	// Seven requests above fail client authentication outright.
	if _, _, failures, _, _ := f.events.counts(); failures < 7 {
		t.Errorf("ClientAuthFailed fired %d times; want at least 7", failures)
	}
}

// TestDeviceVerificationURIWithQuery: verification_uri_complete keeps the
// verification URI's own query.
func TestDeviceVerificationURIWithQuery(t *testing.T) {
	f := newDeviceFixture(t, func(c *grants.Config) {
		c.DeviceVerificationURI = "https://as.example.com/activate?lang=en"
		c.DevicePollInterval = 2 * time.Second
		c.DeviceCodeLifetime = 90 * time.Second
	})
	res := f.deviceAuth(tokenReq{}.withBasic(idD, secretD))
	uc := res.str("user_code")
	if got, want := res.str("verification_uri_complete"), "https://as.example.com/activate?lang=en&user_code="+uc; got != want {
		t.Errorf("verification_uri_complete %q; want %q", got, want)
	}
	if res.body["interval"] != float64(2) || res.body["expires_in"] != float64(90) {
		t.Errorf("interval %v, expires_in %v; want 2, 90", res.body["interval"], res.body["expires_in"])
	}
}

// duplicatingStore refuses the first dups device codes with ErrDuplicate,
// as a store does when a live code has the same user code.
type duplicatingStore struct {
	*memory.Store
	mu        sync.Mutex
	dups      int
	userCodes []string
}

func (s *duplicatingStore) CreateDeviceCode(ctx context.Context, d *oauth.DeviceCode) error {
	s.mu.Lock()
	s.userCodes = append(s.userCodes, d.UserCode)
	dup := s.dups > 0
	s.dups--
	s.mu.Unlock()
	if dup {
		return fmt.Errorf("test: %w", oauth.ErrDuplicate)
	}
	return s.Store.CreateDeviceCode(ctx, d)
}

// TestDeviceUserCodeCollision: a user code taken by a live code is retried
// with a new one a few times (CONFORMANCE G.43: unique among live codes);
// a store that keeps refusing is a server error.
func TestDeviceUserCodeCollision(t *testing.T) {
	for _, tc := range []struct {
		dups   int
		status int
	}{{1, 200}, {4, 200}, {5, 500}} {
		t.Run(fmt.Sprint(tc.dups, " collisions"), func(t *testing.T) {
			var ds *duplicatingStore
			f := newDeviceFixture(t, func(c *grants.Config) {
				ds = &duplicatingStore{Store: c.Clients.(*memory.Store), dups: tc.dups}
				c.DeviceCodes = ds
			})
			res := f.deviceAuth(tokenReq{}.withBasic(idD, secretD))
			if res.status != tc.status {
				t.Fatalf("got %d %s; want %d", res.status, res.raw, tc.status)
			}
			attempts := min(tc.dups+1, 5)
			if len(ds.userCodes) != attempts {
				t.Errorf("%d attempts; want %d", len(ds.userCodes), attempts)
			}
			if tc.status == 500 {
				wantError(t, res, 500, oauth.ErrCodeServerError)
				return
			}
			if got := strings.ReplaceAll(res.str("user_code"), "-", ""); got != ds.userCodes[len(ds.userCodes)-1] {
				t.Errorf("user_code %q; want the last one tried, %q", got, ds.userCodes[len(ds.userCodes)-1])
			}
		})
	}
}

// TestDeviceUserCodeUniqueLive: the memory store refuses a second live code
// with a user code, so two live requests never share one.
func TestDeviceUserCodesDistinct(t *testing.T) {
	f := newDeviceFixture(t)
	seen := map[string]bool{}
	devices := map[string]bool{}
	for range 200 {
		c := f.newDeviceCode("read")
		if !userCodeDisplay.MatchString(c.userCode) {
			t.Fatalf("user_code %q; want XXXX-XXXX", c.userCode)
		}
		if seen[c.userCode] || devices[c.deviceCode] {
			t.Fatalf("user_code %q or its device_code issued twice", c.userCode)
		}
		seen[c.userCode], devices[c.deviceCode] = true, true
	}
}

// TestDevicePolling covers CONFORMANCE G.40–G.41 on the fixture's clock:
// pending, slow_down with a persisted interval, approval, tokens once, then
// invalid_grant.
func TestDevicePolling(t *testing.T) {
	f := newDeviceFixture(t)
	c := f.newDeviceCode("read profile")

	wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeAuthorizationPending)
	f.clock.Advance(time.Second)
	res := f.poll(c.deviceCode)
	wantError(t, res, 400, oauth.ErrCodeSlowDown)
	if d := f.deviceRecord(c.deviceCode); d.Interval != 10*time.Second {
		t.Fatalf("interval after slow_down %v; want 10s, persisted", d.Interval)
	}
	if !strings.Contains(res.str("error_description"), "10 seconds") {
		t.Errorf("slow_down description %q does not name the new interval", res.str("error_description"))
	}
	// The old interval no longer suffices; every poll counts from the last.
	f.clock.Advance(6 * time.Second)
	wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeSlowDown)
	f.clock.Advance(15 * time.Second)
	wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeAuthorizationPending)

	f.approve(c.userCode)
	f.clock.Advance(15 * time.Second)
	res = f.poll(c.deviceCode)
	wantTokens(t, res)
	if res.str("refresh_token") == "" || res.str("scope") != "read profile" {
		t.Errorf("got %s; want a refresh_token and scope \"read profile\"", res.raw)
	}
	d := f.deviceRecord(c.deviceCode)
	at, err := f.store.FindAccessToken(context.Background(), oauth.HashValue(res.str("access_token")))
	if err != nil {
		t.Fatal(err)
	}
	if at.UserID != "alice" || at.ClientID != idD || at.FamilyID != d.FamilyID || !slices.Equal(at.Scopes, []string{"read", "profile"}) {
		t.Errorf("access token %+v; want alice's, of client %s, family %s", at, idD, d.FamilyID)
	}
	if rt := f.refreshRecord(res.str("refresh_token")); rt.FamilyID != d.FamilyID || rt.UserID != "alice" {
		t.Errorf("refresh token %+v; want family %s", rt, d.FamilyID)
	}
	if !f.active(res.str("access_token")) {
		t.Error("the access token is not active")
	}
	if !d.Revoked {
		t.Error("the device code is not marked redeemed")
	}
	// Once redeemed, every poll — in time or not — is invalid_grant.
	wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeInvalidGrant)
	f.clock.Advance(time.Minute)
	wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeInvalidGrant)

	// The refresh token works like any other.
	res = f.token(tokenReq{form: form("grant_type", "refresh_token", "refresh_token", res.str("refresh_token"))}.withBasic(idD, secretD))
	wantTokens(t, res)
}

// TestDevicePollLeeway: with a leeway, devices are told the configured
// interval and a poll up to the leeway sooner is still in time.
func TestDevicePollLeeway(t *testing.T) {
	f := newDeviceFixture(t, func(c *grants.Config) { c.DevicePollLeeway = time.Second })
	res := f.deviceAuth(tokenReq{}.withBasic(idD, secretD))
	if res.body["interval"] != float64(5) {
		t.Fatalf("interval %v; want 5, as configured", res.body["interval"])
	}
	dc := res.str("device_code")
	wantError(t, f.poll(dc), 400, oauth.ErrCodeAuthorizationPending)
	f.clock.Advance(4*time.Second + 500*time.Millisecond)
	wantError(t, f.poll(dc), 400, oauth.ErrCodeAuthorizationPending)
	f.clock.Advance(3 * time.Second)
	res = f.poll(dc)
	wantError(t, res, 400, oauth.ErrCodeSlowDown)
	if !strings.Contains(res.str("error_description"), "wait at least 10 seconds") {
		t.Errorf("slow_down description %q; want the interval the device was told plus 5 s", res.str("error_description"))
	}
	f.clock.Advance(9 * time.Second)
	wantError(t, f.poll(dc), 400, oauth.ErrCodeAuthorizationPending)
}

// TestDevicePollingOutcomes covers the other answers of CONFORMANCE G.41 and
// G.42 and the token endpoint items that apply to every grant.
func TestDevicePollingOutcomes(t *testing.T) {
	ctx := context.Background()
	t.Run("denied", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeAuthorizationPending)
		if err := f.srv.DenyDevice(ctx, f.lookup(c.userCode), "alice"); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(5 * time.Second)
		res := f.poll(c.deviceCode)
		wantError(t, res, 400, oauth.ErrCodeAccessDenied)
		f.clock.Advance(5 * time.Second)
		wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeAccessDenied)
		if access, _, _, _, _ := f.events.counts(); access != 0 {
			t.Errorf("%d access tokens issued; want 0", access)
		}
	})
	t.Run("expired while pending", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		req := f.lookup(c.userCode)
		f.clock.Advance(10 * time.Minute)
		wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeExpiredToken)
		if _, err := f.srv.LookupUserCode(ctx, "sess-1", c.userCode); !errors.Is(err, grants.ErrUserCodeExpired) {
			t.Errorf("LookupUserCode: got %v; want ErrUserCodeExpired", err)
		}
		if err := f.srv.ApproveDevice(ctx, req, "alice", nil); !errors.Is(err, grants.ErrUserCodeExpired) {
			t.Errorf("ApproveDevice: got %v; want ErrUserCodeExpired", err)
		}
	})
	t.Run("one second before expiry", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		f.approve(c.userCode)
		f.clock.Advance(10*time.Minute - time.Second)
		wantTokens(t, f.poll(c.deviceCode))
	})
	t.Run("approved, then expired before the poll", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		f.approve(c.userCode)
		f.clock.Advance(10*time.Minute + time.Second)
		wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeExpiredToken)
	})
	t.Run("another client's device_code", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		f.approve(c.userCode)
		wantError(t, f.token(pollReq(c.deviceCode).withBasic(idD2, secretD2)), 400, oauth.ErrCodeInvalidGrant)
		wantError(t, f.token(pollReq(c.deviceCode).withPost(idDP, "")), 400, oauth.ErrCodeInvalidGrant)
		// Nothing was recorded: the owner's first poll is in time and wins.
		if d := f.deviceRecord(c.deviceCode); !d.LastPolledAt.IsZero() || d.Revoked {
			t.Errorf("record after foreign polls: %+v", d)
		}
		wantTokens(t, f.poll(c.deviceCode))
	})
	t.Run("failed client authentication consumes nothing", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		f.approve(c.userCode)
		wantError(t, f.token(pollReq(c.deviceCode).withBasic(idD, "wrong")), 401, oauth.ErrCodeInvalidClient)
		wantError(t, f.token(pollReq(c.deviceCode).withPost(idD, "")), 401, oauth.ErrCodeInvalidClient)
		if d := f.deviceRecord(c.deviceCode); !d.LastPolledAt.IsZero() {
			t.Errorf("a poll that failed client authentication was recorded: %+v", d)
		}
		wantTokens(t, f.poll(c.deviceCode))
	})
	t.Run("public client", func(t *testing.T) {
		f := newDeviceFixture(t)
		res := f.deviceAuth(tokenReq{form: form("scope", "profile")}.withPost(idDP, ""))
		dc, uc := res.str("device_code"), res.str("user_code")
		f.approve(uc)
		res = f.token(pollReq(dc).withPost(idDP, ""))
		wantTokens(t, res)
		if res.str("refresh_token") != "" || res.str("scope") != "profile" {
			t.Errorf("got %s; want no refresh_token (the client may not refresh), scope profile", res.raw)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		for _, tc := range []struct {
			name   string
			req    tokenReq
			status int
			code   string
		}{
			{"missing device_code", tokenReq{form: form("grant_type", oauth.GrantDeviceCode)}.withBasic(idD, secretD), 400, oauth.ErrCodeInvalidRequest},
			{"garbage device_code", pollReq("odc_garbage").withBasic(idD, secretD), 400, oauth.ErrCodeInvalidGrant},
			{"the user code as device_code", pollReq(c.userCode).withBasic(idD, secretD), 400, oauth.ErrCodeInvalidGrant},
			{"repeated device_code", tokenReq{form: form("grant_type", oauth.GrantDeviceCode, "device_code", c.deviceCode, "device_code", c.deviceCode)}.withBasic(idD, secretD), 400, oauth.ErrCodeInvalidRequest},
			{"client without the device grant", pollReq(c.deviceCode).withBasic(idC, secretC), 400, oauth.ErrCodeUnauthorizedClient},
			{"GET", tokenReq{method: http.MethodGet, form: pollReq(c.deviceCode).form}.withBasic(idD, secretD), 405, oauth.ErrCodeInvalidRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.token(tc.req), tc.status, tc.code)
			})
		}
		if d := f.deviceRecord(c.deviceCode); !d.LastPolledAt.IsZero() {
			t.Errorf("a refused request was recorded as a poll: %+v", d)
		}
	})
}

// TestDevicePollingStorm: many goroutines poll one device code at once.
// Before approval one poll is pending and the rest slow down; after it,
// exactly one receives tokens, never two, and each slow_down added 5
// seconds to the stored interval.
func TestDevicePollingStorm(t *testing.T) {
	const n = 40
	f := newDeviceFixture(t)
	c := f.newDeviceCode("read")
	storm := func() map[string]int {
		var mu sync.Mutex
		var wg sync.WaitGroup
		got := map[string]int{}
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				res := f.poll(c.deviceCode)
				key := res.str("error")
				if res.status == http.StatusOK {
					key = "tokens"
				} else if res.status != http.StatusBadRequest {
					t.Errorf("status %d %s; want 200 or 400", res.status, res.raw)
				}
				mu.Lock()
				got[key]++
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		return got
	}

	got := storm()
	if got[oauth.ErrCodeAuthorizationPending] != 1 || got[oauth.ErrCodeSlowDown] != n-1 {
		t.Fatalf("pending storm: %v; want 1 authorization_pending, %d slow_down", got, n-1)
	}
	interval := f.deviceRecord(c.deviceCode).Interval
	if want := 5*time.Second + (n-1)*5*time.Second; interval != want {
		t.Fatalf("interval after the storm %v; want %v", interval, want)
	}

	f.approve(c.userCode)
	f.clock.Advance(interval)
	got = storm()
	if got["tokens"] != 1 {
		t.Fatalf("approved storm: %v; want exactly one token response", got)
	}
	for k, v := range got {
		if k != "tokens" && k != oauth.ErrCodeSlowDown && k != oauth.ErrCodeInvalidGrant {
			t.Errorf("approved storm: %d answers %q; want slow_down or invalid_grant", v, k)
		}
	}
	if access, refresh, _, _, _ := f.events.counts(); access != 1 || refresh != 1 {
		t.Errorf("%d access and %d refresh tokens issued; want 1 and 1", access, refresh)
	}
	f.clock.Advance(time.Hour)
	wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeInvalidGrant)
}

// TestDeviceLookup covers the host's side of CONFORMANCE G.43: entry
// ignores case, dashes and spaces; used, denied and expired codes are
// refused with their reason.
func TestDeviceLookup(t *testing.T) {
	ctx := context.Background()
	f := newDeviceFixture(t)
	c := f.newDeviceCode("read write")
	plain := strings.ReplaceAll(c.userCode, "-", "")
	for _, typed := range []string{
		c.userCode,
		plain,
		strings.ToLower(c.userCode),
		strings.ToLower(plain[:3]) + plain[3:],
		" " + plain[:4] + "  " + plain[4:] + " ",
		plain[:2] + "-" + plain[2:5] + "--" + plain[5:],
		plain[:4] + "\u2013" + plain[4:], // an en dash, as phones type
		"\t" + plain[:4] + "-" + strings.ToLower(plain[4:]),
	} {
		t.Run(fmt.Sprintf("%q", typed), func(t *testing.T) {
			req, err := f.srv.LookupUserCode(ctx, "sess-1", typed)
			if err != nil {
				t.Fatalf("got %v; want the request", err)
			}
			if req.UserCode != c.userCode || req.Client.ID != idD || req.Client.Name != "Living room TV" ||
				!slices.Equal(req.Scopes, []string{"read", "write"}) || !req.ExpiresAt.Equal(f.clock.Now().Add(10*time.Minute)) {
				t.Errorf("got %+v", req)
			}
		})
	}
	if f.srv.Throttled("sess-1") {
		t.Error("right codes spent the caller's budget")
	}

	for _, typed := range []string{"", "BCDF", "BCDF-GHJ", "BCDF-GHJKL", "AEIO-UAEI", "BCDF-GHJ1", "BCDF GHJ!", "ＢＣＤＦ-ＧＨＪＫ", strings.Repeat("B", 100)} {
		t.Run(fmt.Sprintf("malformed %q", typed), func(t *testing.T) {
			_, err := f.srv.LookupUserCode(ctx, "sess-"+typed, typed)
			if !errors.Is(err, grants.ErrUserCodeUnknown) || !errors.Is(err, oauth.ErrNotFound) {
				t.Errorf("got %v; want ErrUserCodeUnknown", err)
			}
		})
	}
	t.Run("well-formed but unknown", func(t *testing.T) {
		other := "BBBBBBBB"
		if plain == other {
			other = "CCCCCCCC"
		}
		if _, err := f.srv.LookupUserCode(ctx, "sess-2", other); !errors.Is(err, grants.ErrUserCodeUnknown) {
			t.Errorf("got %v; want ErrUserCodeUnknown", err)
		}
	})
	t.Run("empty caller key", func(t *testing.T) {
		if _, err := f.srv.LookupUserCode(ctx, "", c.userCode); err == nil {
			t.Error("got nil; want an error")
		}
	})

	// Decided and expired codes, each with its reason; none spends budget.
	approved, denied, redeemed, expired := f.newDeviceCode("read"), f.newDeviceCode("read"), f.newDeviceCode("read"), f.newDeviceCode("read")
	f.approve(approved.userCode)
	f.approve(redeemed.userCode)
	wantTokens(t, f.poll(redeemed.deviceCode))
	if err := f.srv.DenyDevice(ctx, f.lookup(denied.userCode), "bob"); err != nil {
		t.Fatal(err)
	}
	expiredReq := f.lookup(expired.userCode)
	f.clock.Advance(10 * time.Minute)
	for _, tc := range []struct {
		name     string
		userCode string
		want     error
		sentinel error
	}{
		{"approved", approved.userCode, grants.ErrUserCodeUsed, oauth.ErrAlreadyUsed},
		{"redeemed", redeemed.userCode, grants.ErrUserCodeUsed, oauth.ErrAlreadyUsed},
		{"denied", denied.userCode, grants.ErrUserCodeDenied, oauth.ErrAlreadyUsed},
		{"expired", expired.userCode, grants.ErrUserCodeExpired, oauth.ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 {
				_, err := f.srv.LookupUserCode(ctx, "sess-3", tc.userCode)
				if !errors.Is(err, tc.want) || !errors.Is(err, tc.sentinel) {
					t.Fatalf("got %v; want %v", err, tc.want)
				}
			}
		})
	}
	if f.srv.Throttled("sess-3") {
		t.Error("used, denied or expired codes spent the caller's budget")
	}
	if err := f.srv.DenyDevice(ctx, expiredReq, "alice"); !errors.Is(err, grants.ErrUserCodeExpired) {
		t.Errorf("DenyDevice of an expired code: got %v; want ErrUserCodeExpired", err)
	}
}

// TestDeviceThrottle: wrong entries spend a caller's budget; once it is
// spent the caller is refused, right code or not, until the window moves
// on; other callers are not affected.
func TestDeviceThrottle(t *testing.T) {
	ctx := context.Background()
	f := newDeviceFixture(t, func(c *grants.Config) {
		c.DeviceLookupBudget = 3
		c.DeviceLookupWindow = time.Minute
		c.DeviceCodeLifetime = time.Hour
	})
	c := f.newDeviceCode("read")
	wrong := "BBBB-BBBB"
	if strings.ReplaceAll(c.userCode, "-", "") == "BBBBBBBB" {
		wrong = "CCCC-CCCC"
	}
	for i := range 3 {
		if f.srv.Throttled("mallory") {
			t.Fatalf("throttled after %d wrong entries; want after 3", i)
		}
		if _, err := f.srv.LookupUserCode(ctx, "mallory", wrong); !errors.Is(err, grants.ErrUserCodeUnknown) {
			t.Fatalf("wrong entry %d: got %v; want ErrUserCodeUnknown", i, err)
		}
	}
	if !f.srv.Throttled("mallory") {
		t.Fatal("not throttled after 3 wrong entries")
	}
	if _, err := f.srv.LookupUserCode(ctx, "mallory", c.userCode); !errors.Is(err, grants.ErrThrottled) {
		t.Fatalf("right code while throttled: got %v; want ErrThrottled", err)
	}
	if _, err := f.srv.LookupUserCode(ctx, "mallory", wrong); !errors.Is(err, grants.ErrThrottled) {
		t.Fatalf("wrong code while throttled: got %v; want ErrThrottled", err)
	}
	// Another caller is unaffected.
	if f.srv.Throttled("alice-session") {
		t.Error("another caller is throttled")
	}
	f.lookup(c.userCode)

	f.clock.Advance(30 * time.Second)
	if !f.srv.Throttled("mallory") {
		t.Error("not throttled within the window")
	}
	// Half a window later the three entries weigh half (a sliding window):
	// one more wrong entry is allowed, the second is one too many.
	f.clock.Advance(time.Minute)
	if f.srv.Throttled("mallory") {
		t.Error("throttled when the first entries left the window half-way")
	}
	if _, err := f.srv.LookupUserCode(ctx, "mallory", wrong); !errors.Is(err, grants.ErrUserCodeUnknown) {
		t.Fatalf("got %v; want ErrUserCodeUnknown", err)
	}
	if f.srv.Throttled("mallory") {
		t.Error("throttled after 1.5 + 1 weighted entries; want after 3")
	}
	f.srv.LookupUserCode(ctx, "mallory", wrong)
	if !f.srv.Throttled("mallory") {
		t.Error("not throttled after 1.5 + 2 weighted entries")
	}
	f.clock.Advance(2 * time.Minute)
	if f.srv.Throttled("mallory") {
		t.Error("still throttled two windows later")
	}
	if _, err := f.srv.LookupUserCode(ctx, "mallory", c.userCode); err != nil {
		t.Errorf("right code after the throttle: %v", err)
	}
}

// TestDeviceDecisions covers ApproveDevice and DenyDevice: granted scopes,
// FinalizeScopes, races between decisions, hooks, misuse.
func TestDeviceDecisions(t *testing.T) {
	ctx := context.Background()
	t.Run("narrower scopes", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read write profile")
		if err := f.srv.ApproveDevice(ctx, f.lookup(c.userCode), "alice", []string{"write"}); err != nil {
			t.Fatal(err)
		}
		res := f.poll(c.deviceCode)
		wantTokens(t, res)
		if res.str("scope") != "write" {
			t.Errorf("scope %q; want write", res.str("scope"))
		}
		_, approved, _ := f.device.counts()
		if ev := f.device.approved[0]; approved != 1 || ev.Code.Status != oauth.DeviceApproved || ev.Code.UserID != "alice" ||
			!slices.Equal(ev.Code.Scopes, []string{"write"}) || ev.Code.ID != oauth.HashValue(c.deviceCode) {
			t.Errorf("DeviceApproved: %d events, %+v", approved, ev)
		}
	})
	t.Run("scopes beyond the request", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		if err := f.srv.ApproveDevice(ctx, f.lookup(c.userCode), "alice", []string{"read", "write"}); err == nil {
			t.Fatal("got nil; want an error")
		}
		wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeAuthorizationPending)
	})
	t.Run("exported fields changed by the host", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		req := f.lookup(c.userCode)
		req.Scopes = append(req.Scopes, "write", "admin")
		req.Client.ID = idD2
		if err := f.srv.ApproveDevice(ctx, req, "alice", nil); err != nil {
			t.Fatal(err)
		}
		res := f.poll(c.deviceCode)
		wantTokens(t, res)
		if res.str("scope") != "read" {
			t.Errorf("scope %q; want read, as requested", res.str("scope"))
		}
	})
	t.Run("FinalizeScopes", func(t *testing.T) {
		var seen []grants.ScopeRequest
		f := newDeviceFixture(t, func(c *grants.Config) {
			c.FinalizeScopes = func(_ context.Context, r grants.ScopeRequest) ([]string, error) {
				seen = append(seen, r)
				if r.UserID == "mallory" {
					return nil, oauth.NewError(oauth.ErrCodeInvalidScope, "not for you")
				}
				return append(r.Scopes, "profile"), nil
			}
		})
		c := f.newDeviceCode("read")
		err := f.srv.ApproveDevice(ctx, f.lookup(c.userCode), "mallory", nil)
		if pe := (*oauth.Error)(nil); !errors.As(err, &pe) || pe.Code != oauth.ErrCodeInvalidScope {
			t.Fatalf("got %v; want the policy's invalid_scope", err)
		}
		wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeAuthorizationPending)
		if err := f.srv.ApproveDevice(ctx, f.lookup(c.userCode), "alice", nil); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(5 * time.Second)
		res := f.poll(c.deviceCode)
		wantTokens(t, res)
		if res.str("scope") != "read profile" {
			t.Errorf("scope %q; want the policy's \"read profile\"", res.str("scope"))
		}
		if len(seen) != 2 || seen[1].GrantType != oauth.GrantDeviceCode || seen[1].Client.ID != idD || seen[1].UserID != "alice" {
			t.Errorf("FinalizeScopes saw %+v", seen)
		}
	})
	t.Run("decided twice", func(t *testing.T) {
		f := newDeviceFixture(t)
		a, d := f.newDeviceCode("read"), f.newDeviceCode("read")
		reqA, reqD := f.lookup(a.userCode), f.lookup(d.userCode)
		if err := f.srv.ApproveDevice(ctx, reqA, "alice", nil); err != nil {
			t.Fatal(err)
		}
		if err := f.srv.DenyDevice(ctx, reqD, "alice"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			err  error
			want error
		}{
			{"approve approved", f.srv.ApproveDevice(ctx, reqA, "bob", nil), grants.ErrUserCodeUsed},
			{"deny approved", f.srv.DenyDevice(ctx, reqA, "bob"), grants.ErrUserCodeUsed},
			{"approve denied", f.srv.ApproveDevice(ctx, reqD, "bob", nil), grants.ErrUserCodeDenied},
			{"deny denied", f.srv.DenyDevice(ctx, reqD, "bob"), grants.ErrUserCodeDenied},
		} {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("%s: got %v; want %v", tc.name, tc.err, tc.want)
			}
		}
		_, approved, denied := f.device.counts()
		if approved != 1 || denied != 1 {
			t.Errorf("hooks: %d approved, %d denied; want 1, 1", approved, denied)
		}
		if ev := f.device.denied[0]; ev.Code.Status != oauth.DeviceDenied || ev.Code.UserID != "alice" {
			t.Errorf("DeviceDenied event %+v", ev)
		}
	})
	t.Run("racing decisions", func(t *testing.T) {
		f := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 20 {
			wg.Go(func() {
				req, err := f.srv.LookupUserCode(ctx, fmt.Sprint("sess-", i), c.userCode)
				if err == nil {
					if i%2 == 0 {
						err = f.srv.ApproveDevice(ctx, req, fmt.Sprint("user-", i), nil)
					} else {
						err = f.srv.DenyDevice(ctx, req, fmt.Sprint("user-", i))
					}
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case !errors.Is(err, grants.ErrUserCodeUsed) && !errors.Is(err, grants.ErrUserCodeDenied):
					t.Errorf("decision %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		_, approved, denied := f.device.counts()
		if won != 1 || approved+denied != 1 {
			t.Errorf("%d decisions won, %d hooks fired; want 1, 1", won, approved+denied)
		}
	})
	t.Run("misuse", func(t *testing.T) {
		f := newDeviceFixture(t)
		other := newDeviceFixture(t)
		c := f.newDeviceCode("read")
		foreign := other.lookup(other.newDeviceCode("read").userCode)
		req := f.lookup(c.userCode)
		for _, tc := range []struct {
			name string
			err  error
		}{
			{"nil request", f.srv.ApproveDevice(ctx, nil, "alice", nil)},
			{"another server's request", f.srv.ApproveDevice(ctx, foreign, "alice", nil)},
			{"zero request", f.srv.DenyDevice(ctx, &grants.DeviceRequest{UserCode: c.userCode}, "alice")},
			{"empty user", f.srv.ApproveDevice(ctx, req, "", nil)},
			{"user with a space", f.srv.DenyDevice(ctx, req, "a b")},
		} {
			if tc.err == nil {
				t.Errorf("%s: got nil; want an error", tc.name)
			}
		}
		wantError(t, f.poll(c.deviceCode), 400, oauth.ErrCodeAuthorizationPending)
	})
}

// TestDeviceOff: without Config.DeviceCodes nothing of the device grant is
// served.
func TestDeviceOff(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	res := f.do(httptest.NewRequest(http.MethodPost, "/oauth/device_authorization", strings.NewReader("client_id="+idP)))
	if res.status != http.StatusNotFound {
		t.Errorf("device_authorization: got %d; want 404 (not mounted)", res.status)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("client_id="+idP))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	f.srv.DeviceAuthorizationHandler().ServeHTTP(w, r)
	if w.Code != 400 || !strings.Contains(w.Body.String(), oauth.ErrCodeUnsupportedGrantType) {
		t.Errorf("DeviceAuthorizationHandler: got %d %s; want 400 unsupported_grant_type", w.Code, w.Body)
	}
	wantError(t, f.token(pollReq("odc_x").withBasic(idC, secretC)), 400, oauth.ErrCodeUnsupportedGrantType)
	if _, err := f.srv.LookupUserCode(ctx, "k", "BCDF-GHJK"); err == nil {
		t.Error("LookupUserCode: got nil; want an error")
	}
	if f.srv.Throttled("k") {
		t.Error("Throttled: got true; want false")
	}
}

// TestDeviceConfig: New checks the device grant's fields.
func TestDeviceConfig(t *testing.T) {
	store := memory.New()
	base := func() grants.Config {
		return grants.Config{Issuer: issuer, Clients: store, Scopes: store, AccessTokens: store,
			DeviceCodes: store, DeviceVerificationURI: verifyURI}
	}
	for _, tc := range []struct {
		name   string
		change func(*grants.Config)
		ok     bool
	}{
		{"defaults", func(*grants.Config) {}, true},
		{"interval and lifetime", func(c *grants.Config) { c.DevicePollInterval, c.DeviceCodeLifetime = time.Second, 2*time.Second }, true},
		{"longest lifetime", func(c *grants.Config) { c.DeviceCodeLifetime = grants.MaxDeviceCodeLifetime }, true},
		{"http verification URI", func(c *grants.Config) { c.DeviceVerificationURI = "http://localhost:8080/device" }, true},
		{"no verification URI", func(c *grants.Config) { c.DeviceVerificationURI = "" }, false},
		{"relative verification URI", func(c *grants.Config) { c.DeviceVerificationURI = "/device" }, false},
		{"verification URI with fragment", func(c *grants.Config) { c.DeviceVerificationURI = verifyURI + "#x" }, false},
		{"verification URI with userinfo", func(c *grants.Config) { c.DeviceVerificationURI = "https://u@as.example.com/device" }, false},
		{"verification URI of another scheme", func(c *grants.Config) { c.DeviceVerificationURI = "ftp://as.example.com/device" }, false},
		{"verification URI too long", func(c *grants.Config) { c.DeviceVerificationURI = verifyURI + "/" + strings.Repeat("x", 2000) }, false},
		{"verification URI without DeviceCodes", func(c *grants.Config) { c.DeviceCodes = nil }, false},
		{"fractional interval", func(c *grants.Config) { c.DevicePollInterval = 1500 * time.Millisecond }, false},
		{"negative interval", func(c *grants.Config) { c.DevicePollInterval = -time.Second }, false},
		{"lifetime not above the interval", func(c *grants.Config) { c.DevicePollInterval, c.DeviceCodeLifetime = 5*time.Second, 5*time.Second }, false},
		{"lifetime too long", func(c *grants.Config) { c.DeviceCodeLifetime = grants.MaxDeviceCodeLifetime + time.Second }, false},
		{"leeway", func(c *grants.Config) { c.DevicePollLeeway = 4 * time.Second }, true},
		{"leeway of the whole interval", func(c *grants.Config) { c.DevicePollLeeway = 5 * time.Second }, false},
		{"fractional leeway", func(c *grants.Config) { c.DevicePollLeeway = 500 * time.Millisecond }, false},
		{"negative leeway", func(c *grants.Config) { c.DevicePollLeeway = -time.Second }, false},
		{"negative budget", func(c *grants.Config) { c.DeviceLookupBudget = -1 }, false},
		{"window under a second", func(c *grants.Config) { c.DeviceLookupWindow = time.Millisecond }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.change(&cfg)
			_, err := grants.New(cfg)
			if (err == nil) != tc.ok {
				t.Errorf("New: got %v; want ok %v", err, tc.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "grants: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// unthrottledStore lets every poll through, too fast or not, so that
// concurrent polls all reach the redemption.
type unthrottledStore struct{ *memory.Store }

func (s unthrottledStore) PollDeviceCode(ctx context.Context, id string, now time.Time) (*oauth.DeviceCode, error) {
	d, err := s.Store.PollDeviceCode(ctx, id, now)
	if errors.Is(err, oauth.ErrSlowDown) {
		return d, nil
	}
	return d, err
}

// TestDeviceConcurrentRedemption: when concurrent polls all pass the
// interval check (here a store that never slows down), the redemption's
// compare-and-set still lets exactly one of them have tokens.
func TestDeviceConcurrentRedemption(t *testing.T) {
	const n = 40
	f := newDeviceFixture(t, func(c *grants.Config) {
		c.DeviceCodes = unthrottledStore{c.Clients.(*memory.Store)}
	})
	c := f.newDeviceCode("read")
	f.approve(c.userCode)
	var mu sync.Mutex
	var wg sync.WaitGroup
	got := map[string]int{}
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			res := f.poll(c.deviceCode)
			key := res.str("error")
			if res.status == http.StatusOK {
				key = "tokens"
			}
			mu.Lock()
			got[key]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if got["tokens"] != 1 || got[oauth.ErrCodeInvalidGrant] != n-1 {
		t.Fatalf("%v; want 1 token response and %d invalid_grant", got, n-1)
	}
	if access, _, _, _, _ := f.events.counts(); access != 1 {
		t.Errorf("%d access tokens issued; want 1", access)
	}
}
