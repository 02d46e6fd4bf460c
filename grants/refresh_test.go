package grants_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/tokens"
)

// TestClientCredentials is CONFORMANCE E.34.
func TestClientCredentials(t *testing.T) {
	f := newFixture(t)
	res := f.token(tokenReq{form: ccForm("scope", "read")}.withBasic(idCC, secretCC))
	wantTokens(t, res)
	if _, ok := res.body["refresh_token"]; ok {
		t.Errorf("client_credentials issued a refresh token")
	}
	v := &tokens.Verifier{Issuer: issuer, Audience: "api", AccessTokens: f.store, Now: f.clock.Now}
	claims, err := v.Verify(context.Background(), res.str("access_token"))
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != idCC || claims.ClientID != idCC {
		t.Errorf("sub %q client_id %q; want the client %q", claims.Subject, claims.ClientID, idCC)
	}
	rec, err := f.store.FindAccessToken(context.Background(), oauth.HashValue(res.str("access_token")))
	if err != nil {
		t.Fatal(err)
	}
	if rec.UserID != "" || rec.FamilyID == "" {
		t.Errorf("stored token: user %q family %q; want no user and a family", rec.UserID, rec.FamilyID)
	}
	// P is public: it cannot use client credentials even when listed.
	wantError(t, f.token(tokenReq{form: ccForm()}.withPost(idP, "")), 400, oauth.ErrCodeUnauthorizedClient)
	// Two requests, two families.
	res2 := f.token(tokenReq{form: ccForm("scope", "read")}.withBasic(idCC, secretCC))
	rec2, _ := f.store.FindAccessToken(context.Background(), oauth.HashValue(res2.str("access_token")))
	if rec2.FamilyID == rec.FamilyID {
		t.Errorf("two client_credentials requests share family %q", rec.FamilyID)
	}
}

func refreshReq(rt string, kv ...string) tokenReq {
	return tokenReq{form: form(append([]string{"grant_type", "refresh_token", "refresh_token", rt}, kv...)...)}
}

// TestRefresh is CONFORMANCE F.35 and F.36.
func TestRefresh(t *testing.T) {
	tests := []struct {
		name    string
		scope   string // requested at refresh; "" omits it
		client  string
		secret  string
		prepare func(f *fixture, rt string)
		status  int
		want    string // scope of the new access token, or the error code
	}{
		{name: "omitted scope keeps the grant's", client: idC, secret: secretC, status: 200, want: "read write"},
		{name: "narrower scope", scope: "read", client: idC, secret: secretC, status: 200, want: "read"},
		{name: "same scope", scope: "write read", client: idC, secret: secretC, status: 200, want: "write read"},
		{name: "wider scope", scope: "read write profile", client: idC, secret: secretC, status: 400, want: oauth.ErrCodeInvalidScope},
		{name: "unknown scope", scope: "nosuch", client: idC, secret: secretC, status: 400, want: oauth.ErrCodeInvalidScope},
		{name: "malformed scope", scope: "read  write", client: idC, secret: secretC, status: 400, want: oauth.ErrCodeInvalidScope},
		{name: "another client's", client: idC2, secret: secretC2, status: 400, want: oauth.ErrCodeInvalidGrant},
		{name: "expired", client: idC, secret: secretC, status: 400, want: oauth.ErrCodeInvalidGrant,
			prepare: func(f *fixture, _ string) { f.clock.Advance(grants.DefaultRefreshTokenLifetime) }},
		{name: "revoked", client: idC, secret: secretC, status: 400, want: oauth.ErrCodeInvalidGrant,
			prepare: func(f *fixture, rt string) {
				if err := f.store.RevokeRefreshToken(context.Background(), oauth.HashValue(rt)); err != nil {
					f.t.Fatal(err)
				}
			}},
		{name: "missing refresh_token", client: idC, secret: secretC, status: 400, want: oauth.ErrCodeInvalidRequest,
			prepare: func(*fixture, string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			first := f.tokensOfC("scope", "read write")
			rt := first.str("refresh_token")
			if tt.prepare != nil {
				tt.prepare(f, rt)
			}
			q := refreshReq(rt)
			if tt.name == "missing refresh_token" {
				q.form.Del("refresh_token")
			}
			if tt.scope != "" {
				q.form.Set("scope", tt.scope)
			}
			res := f.token(q.withBasic(tt.client, tt.secret))
			if tt.status != 200 {
				wantError(t, res, tt.status, tt.want)
				if _, _, _, _, reuses := f.events.counts(); reuses != 0 {
					t.Errorf("RefreshReuseDetected fired")
				}
				return
			}
			wantTokens(t, res)
			if got := res.str("scope"); got != tt.want {
				t.Errorf("scope = %q; want %q", got, tt.want)
			}
			if !f.active(res.str("access_token")) {
				t.Errorf("new access token inactive")
			}
			// The new refresh token keeps the grant's scopes (RFC 6749 §6).
			if next := f.refreshRecord(res.str("refresh_token")); len(next.Scopes) != 2 {
				t.Errorf("new refresh token scopes %q; want the grant's", next.Scopes)
			}
		})
	}
}

// TestRefreshPublicClient: a public client refreshes with its client_id
// alone, and only its own tokens.
func TestRefreshPublicClient(t *testing.T) {
	f := newFixture(t)
	verifier, challenge := newVerifier(t)
	code := f.codeFor(authParams(idP, redirectP, challenge))
	res := f.token(codeExchange(code, redirectP, verifier).withPost(idP, ""))
	wantTokens(t, res)
	rt := res.str("refresh_token")
	wantError(t, f.token(refreshReq(rt).withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
	wantError(t, f.token(refreshReq(rt)), 401, oauth.ErrCodeInvalidClient)
	wantTokens(t, f.token(refreshReq(rt).withPost(idP, "")))
}

// TestRefreshRotation is CONFORMANCE F.37 and F.38.
func TestRefreshRotation(t *testing.T) {
	f := newFixture(t)
	first := f.tokensOfC()
	at1, rt1 := first.str("access_token"), first.str("refresh_token")
	f.clock.Advance(time.Minute)
	second := f.token(refreshReq(rt1).withBasic(idC, secretC))
	wantTokens(t, second)
	at2, rt2 := second.str("access_token"), second.str("refresh_token")
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("refresh returned refresh_token %q; want a new one", rt2)
	}
	old := f.refreshRecord(rt1)
	if !old.Revoked || !old.RotatedAt.Equal(f.clock.Now()) {
		t.Errorf("old refresh token: revoked %v rotated %v; want rotated now", old.Revoked, old.RotatedAt)
	}
	f.events.mu.Lock()
	ev := f.events.refresh[len(f.events.refresh)-1]
	f.events.mu.Unlock()
	if ev.PreviousID != oauth.HashValue(rt1) || ev.Token.ID != oauth.HashValue(rt2) || ev.GrantType != oauth.GrantRefreshToken {
		t.Errorf("refresh event %+v; want rotation from rt1 to rt2", ev)
	}
	// The old access token lives on until it expires; the family is whole.
	if !f.active(at1) || !f.active(at2) {
		t.Fatalf("access tokens inactive before any reuse")
	}

	// F.38: RT1 again.
	f.clock.Advance(time.Second)
	wantError(t, f.token(refreshReq(rt1).withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
	if f.active(at1) || f.active(at2) {
		t.Errorf("access tokens of the family still active after reuse")
	}
	wantError(t, f.token(refreshReq(rt2).withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
	f.events.mu.Lock()
	reuses := append([]grants.FamilyRevocation(nil), f.events.reuses...)
	f.events.mu.Unlock()
	if len(reuses) != 1 {
		t.Fatalf("RefreshReuseDetected fired %d times; want 1", len(reuses))
	}
	if r := reuses[0]; r.ClientID != idC || r.UserID != "alice" || r.AccessTokens != 2 || r.RefreshTokens != 1 {
		t.Errorf("reuse event %+v; want 2 access and 1 refresh token revoked", r)
	}
	// Presenting RT2 (revoked by the family revocation, never rotated) is
	// simply refused: it fires no second reuse event.
	if _, _, _, _, n := f.events.counts(); n != 1 {
		t.Errorf("RefreshReuseDetected fired %d times; want 1", n)
	}
}

// TestRefreshGracePeriod is F.37's configurable grace period.
func TestRefreshGracePeriod(t *testing.T) {
	f := newFixture(t, func(c *grants.Config) { c.RefreshGracePeriod = 10 * time.Second })
	first := f.tokensOfC()
	rt1 := first.str("refresh_token")
	second := f.token(refreshReq(rt1).withBasic(idC, secretC))
	wantTokens(t, second)
	rt2 := second.str("refresh_token")

	// A retry within the grace period gets a fresh pair; the family lives.
	f.clock.Advance(5 * time.Second)
	retry := f.token(refreshReq(rt1, "scope", "read").withBasic(idC, secretC))
	wantTokens(t, retry)
	rt2b := retry.str("refresh_token")
	if rt2b == "" || rt2b == rt2 || rt2b == rt1 {
		t.Fatalf("retry refresh_token %q; want a new one", rt2b)
	}
	if retry.str("scope") != "read" {
		t.Errorf("retry scope %q; want read", retry.str("scope"))
	}
	if !f.active(second.str("access_token")) || !f.active(retry.str("access_token")) {
		t.Errorf("tokens inactive after a retry within the grace period")
	}
	if _, _, _, _, n := f.events.counts(); n != 0 {
		t.Errorf("RefreshReuseDetected fired within the grace period")
	}
	// The retry's refresh token works, and rotates.
	wantTokens(t, f.token(refreshReq(rt2b).withBasic(idC, secretC)))

	// Another client is still refused within the grace period.
	wantError(t, f.token(refreshReq(rt1).withBasic(idC2, secretC2)), 400, oauth.ErrCodeInvalidGrant)

	// After the grace period: reuse, and the family is revoked.
	f.clock.Advance(6 * time.Second)
	wantError(t, f.token(refreshReq(rt1).withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
	if f.active(second.str("access_token")) || f.active(retry.str("access_token")) {
		t.Errorf("family still active after reuse past the grace period")
	}
	wantError(t, f.token(refreshReq(rt2).withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
	if _, _, _, _, n := f.events.counts(); n != 1 {
		t.Errorf("RefreshReuseDetected fired %d times; want 1", n)
	}
	if _, err := grants.New(grants.Config{Issuer: issuer, Clients: f.store, Scopes: f.store, AccessTokens: f.store, RefreshGracePeriod: -time.Second}); err == nil {
		t.Errorf("New accepted a negative grace period")
	}
}

// TestRefreshConcurrent: of many concurrent refreshes with one token, one
// wins; without a grace period the others are reuse and revoke the family.
func TestRefreshConcurrent(t *testing.T) {
	for _, grace := range []time.Duration{0, time.Minute} {
		t.Run(grace.String(), func(t *testing.T) {
			f := newFixture(t, func(c *grants.Config) { c.RefreshGracePeriod = grace })
			rt := f.tokensOfC().str("refresh_token")
			const n = 30
			var wg sync.WaitGroup
			results := make([]*response, n)
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					results[i] = f.token(refreshReq(rt).withBasic(idC, secretC))
				})
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, r := range results {
				if r.status == http.StatusOK {
					ok++
				} else if r.status != 400 || r.str("error") != oauth.ErrCodeInvalidGrant {
					t.Errorf("status %d %s", r.status, r.raw)
				}
			}
			if grace == 0 && ok != 1 {
				t.Fatalf("%d refreshes succeeded; want exactly 1", ok)
			}
			if grace > 0 && ok != n {
				t.Fatalf("%d refreshes succeeded within the grace period; want %d", ok, n)
			}
			rec := f.refreshRecord(rt)
			if !rec.Revoked || rec.RotatedAt.IsZero() {
				t.Errorf("old token not rotated")
			}
			_, _, _, _, reuses := f.events.counts()
			if grace == 0 && reuses != n-1 {
				t.Errorf("reuse detected %d times; want %d", reuses, n-1)
			}
			if grace > 0 && reuses != 0 {
				t.Errorf("reuse detected within the grace period")
			}
		})
	}
}
