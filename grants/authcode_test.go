package grants_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
)

// TestCodeExchange is CONFORMANCE C.22, C.26 and C.27.
func TestCodeExchange(t *testing.T) {
	tests := []struct {
		name string
		// build returns the token request for a fresh code.
		build   func(code, verifier string) tokenReq
		advance time.Duration
		status  int
		errCode string
	}{
		{name: "valid", build: func(c, v string) tokenReq { return codeExchange(c, redirectC, v).withBasic(idC, secretC) }, status: 200},
		{name: "valid by post", build: func(c, v string) tokenReq { return codeExchange(c, redirectC, v).withPost(idC, secretC) }, status: 200},
		{name: "just before expiry", advance: grants.DefaultAuthCodeLifetime - time.Second, build: func(c, v string) tokenReq { return codeExchange(c, redirectC, v).withBasic(idC, secretC) }, status: 200},
		{name: "expired", advance: grants.DefaultAuthCodeLifetime, build: func(c, v string) tokenReq { return codeExchange(c, redirectC, v).withBasic(idC, secretC) }, status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "other client", build: func(c, v string) tokenReq { return codeExchange(c, redirectC, v).withBasic(idC2, secretC2) }, status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "redirect_uri omitted", build: func(c, v string) tokenReq { return codeExchange(c, "", v).withBasic(idC, secretC) }, status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "redirect_uri differs", build: func(c, v string) tokenReq { return codeExchange(c, loopbackC, v).withBasic(idC, secretC) }, status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "redirect_uri trailing slash", build: func(c, v string) tokenReq { return codeExchange(c, redirectC+"/", v).withBasic(idC, secretC) }, status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "missing code", build: func(c, v string) tokenReq {
			q := codeExchange(c, redirectC, v).withBasic(idC, secretC)
			q.form.Del("code")
			return q
		}, status: 400, errCode: oauth.ErrCodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			verifier, challenge := newVerifier(t)
			code := f.codeFor(authParams(idC, redirectC, challenge))
			f.clock.Advance(tt.advance)
			res := f.token(tt.build(code, verifier))
			if tt.status == 200 {
				wantTokens(t, res)
				if !f.active(res.str("access_token")) {
					t.Errorf("issued access token is not active")
				}
				return
			}
			wantError(t, res, tt.status, tt.errCode)
			if tt.advance == 0 && tt.errCode == oauth.ErrCodeInvalidGrant {
				// The code survives a refused attempt.
				wantTokens(t, f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC)))
			}
		})
	}
}

// TestCodeLifetime checks the configurable lifetime and its 10-minute cap.
func TestCodeLifetime(t *testing.T) {
	f := newFixture(t, func(c *grants.Config) { c.AuthCodeLifetime = 10 * time.Minute })
	verifier, challenge := newVerifier(t)
	code := f.codeFor(authParams(idC, redirectC, challenge))
	if rec := f.codeRecord(code); !rec.ExpiresAt.Equal(f.clock.Now().Add(10 * time.Minute)) {
		t.Errorf("code expires at %v; want now+10m", rec.ExpiresAt)
	}
	f.clock.Advance(9 * time.Minute)
	wantTokens(t, f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC)))
	for _, d := range []time.Duration{10*time.Minute + time.Second, time.Hour, -time.Second} {
		_, err := grants.New(grants.Config{Issuer: issuer, Clients: f.store, Scopes: f.store, AccessTokens: f.store, AuthCodes: f.store, AuthCodeLifetime: d})
		if err == nil {
			t.Errorf("New with AuthCodeLifetime %v succeeded; want an error", d)
		}
	}
}

// TestCodeReplay is CONFORMANCE C.23 and C.24.
func TestCodeReplay(t *testing.T) {
	f := newFixture(t)
	verifier, challenge := newVerifier(t)
	code := f.codeFor(authParams(idC, redirectC, challenge))
	first := f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC))
	wantTokens(t, first)
	at, rt := first.str("access_token"), first.str("refresh_token")
	// A refresh before the replay: its tokens are of the same family.
	second := f.token(tokenReq{form: form("grant_type", "refresh_token", "refresh_token", rt)}.withBasic(idC, secretC))
	wantTokens(t, second)
	at2, rt2 := second.str("access_token"), second.str("refresh_token")

	// C.24: replays that fail client authentication or PKCE revoke nothing.
	for _, q := range []tokenReq{
		codeExchange(code, redirectC, verifier).withBasic(idC, "wrong"),
		codeExchange(code, redirectC, verifier).withBasic(idC2, secretC2),
		codeExchange(code, redirectC, strings.Repeat("w", 43)).withBasic(idC, secretC),
		codeExchange(code, redirectC, "").withBasic(idC, secretC),
		codeExchange(code, redirectC2, verifier).withBasic(idC, secretC),
	} {
		res := f.token(q)
		if res.status == 200 {
			t.Fatalf("replay succeeded: %s", res.raw)
		}
	}
	if !f.active(at2) || f.refreshRecord(rt2).Revoked {
		t.Fatalf("a replay that failed authentication or PKCE revoked tokens")
	}
	if _, _, _, replays, _ := f.events.counts(); replays != 0 {
		t.Fatalf("CodeReplayDetected fired %d times for failed replays", replays)
	}

	// C.23: the real client replays the code.
	wantError(t, f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
	for name, v := range map[string]string{"first access token": at, "second access token": at2} {
		if f.active(v) {
			t.Errorf("%s still active after the replay", name)
		}
	}
	wantError(t, f.token(tokenReq{form: form("grant_type", "refresh_token", "refresh_token", rt2)}.withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
	f.events.mu.Lock()
	replays := f.events.replays
	f.events.mu.Unlock()
	if len(replays) != 1 {
		t.Fatalf("CodeReplayDetected fired %d times; want 1", len(replays))
	}
	if r := replays[0]; r.ClientID != idC || r.UserID != "alice" || r.AccessTokens != 2 || r.RefreshTokens != 1 || r.FamilyID == "" {
		t.Errorf("replay event %+v; want client C, user alice, 2 access and 1 refresh token revoked", r)
	}
	// Other families are untouched.
	other := f.tokensOfC()
	if !f.active(other.str("access_token")) {
		t.Errorf("a token of another grant is inactive")
	}
}

// TestCodeConcurrentRedemption is CONFORMANCE C.25 within one process.
func TestCodeConcurrentRedemption(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testCodeConcurrentRedemption(t) })
	// Storing an access token is slow here, so a losing replay is over long
	// before the winner could store its tokens — were they stored after the
	// code was consumed, the family revocation would miss them.
	t.Run("slow token writes", func(t *testing.T) {
		testCodeConcurrentRedemption(t, func(c *grants.Config) {
			c.AccessTokens = slowAccessTokens{c.AccessTokens}
		})
	})
}

// slowAccessTokens delays every access token write.
type slowAccessTokens struct{ oauth.AccessTokenRepository }

func (s slowAccessTokens) CreateAccessToken(ctx context.Context, t *oauth.AccessToken) error {
	time.Sleep(20 * time.Millisecond)
	return s.AccessTokenRepository.CreateAccessToken(ctx, t)
}

func testCodeConcurrentRedemption(t *testing.T, configure ...func(*grants.Config)) {
	f := newFixture(t, configure...)
	verifier, challenge := newVerifier(t)
	code := f.codeFor(authParams(idC, redirectC, challenge))
	const n = 50
	var wg sync.WaitGroup
	responses := make([]*response, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			responses[i] = f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC))
		})
	}
	close(start)
	wg.Wait()
	var winner *response
	for _, r := range responses {
		switch r.status {
		case 200:
			if winner != nil {
				t.Fatal("more than one redemption succeeded; want exactly 1")
			}
			winner = r
		case 400:
		default:
			t.Errorf("status %d; want 200 or 400", r.status)
		}
	}
	if winner == nil {
		t.Fatal("no redemption succeeded; want exactly 1")
	}
	// The losers were replays (C.23): every token of the grant is revoked,
	// the winner's too, however the requests interleaved.
	if f.active(winner.str("access_token")) {
		t.Error("the winner's access token is active after concurrent replays")
	}
	if rt := f.refreshRecord(winner.str("refresh_token")); rt == nil || !rt.Revoked {
		t.Errorf("the winner's refresh token %+v is not revoked after concurrent replays", rt)
	}
}

// TestPKCE is CONFORMANCE D.28–D.33.
func TestPKCE(t *testing.T) {
	const rfcVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	tests := []struct {
		name      string
		client    string
		plain     bool // Config.AllowPlainPKCE
		require   bool // Config.RequirePKCE
		challenge string
		method    string // "-" for none
		authError string // expected error redirect code at authorization
		verifier  string // "-" for none
		status    int
		errCode   string
	}{
		{name: "S256 right verifier", client: idC, challenge: rfcChallenge, method: "S256", verifier: rfcVerifier, status: 200},
		{name: "S256 public client", client: idP, challenge: rfcChallenge, method: "S256", verifier: rfcVerifier, status: 200},
		{name: "S256 wrong verifier", client: idC, challenge: rfcChallenge, method: "S256", verifier: strings.Repeat("a", 43), status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "S256 missing verifier", client: idC, challenge: rfcChallenge, method: "S256", verifier: "-", status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "S256 challenge as verifier", client: idC, challenge: rfcChallenge, method: "S256", verifier: rfcChallenge, status: 400, errCode: oauth.ErrCodeInvalidGrant},
		// D.31: malformed verifiers.
		{name: "verifier 42 chars", client: idC, challenge: rfcChallenge, method: "S256", verifier: rfcVerifier[:42], status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "verifier 129 chars", client: idC, challenge: rfcChallenge, method: "S256", verifier: strings.Repeat("a", 129), status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "verifier with +", client: idC, challenge: rfcChallenge, method: "S256", verifier: rfcVerifier[:42] + "+", status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "verifier with /", client: idC, challenge: rfcChallenge, method: "S256", verifier: rfcVerifier[:42] + "/", status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "verifier with =", client: idC, challenge: rfcChallenge, method: "S256", verifier: rfcVerifier[:42] + "=", status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "verifier with space", client: idC, challenge: rfcChallenge, method: "S256", verifier: rfcVerifier[:42] + " ", status: 400, errCode: oauth.ErrCodeInvalidGrant},
		// D.29: plain only where configured; unknown methods refused.
		{name: "plain off by default", client: idC, challenge: rfcVerifier, method: "plain", authError: oauth.ErrCodeInvalidRequest},
		{name: "no method means plain", client: idC, challenge: rfcVerifier, method: "-", authError: oauth.ErrCodeInvalidRequest},
		{name: "plain when allowed", client: idC, plain: true, challenge: rfcVerifier, method: "plain", verifier: rfcVerifier, status: 200},
		{name: "plain wrong verifier", client: idC, plain: true, challenge: rfcVerifier, method: "plain", verifier: rfcVerifier[:42] + "x", status: 400, errCode: oauth.ErrCodeInvalidGrant},
		{name: "unsupported method", client: idC, challenge: rfcChallenge, method: "S512", authError: oauth.ErrCodeInvalidRequest},
		{name: "lowercase s256", client: idC, challenge: rfcChallenge, method: "s256", authError: oauth.ErrCodeInvalidRequest},
		{name: "method without challenge", client: idC, challenge: "", method: "S256", authError: oauth.ErrCodeInvalidRequest},
		{name: "malformed S256 challenge", client: idC, challenge: rfcChallenge[:42], method: "S256", authError: oauth.ErrCodeInvalidRequest},
		{name: "S256 challenge with padding", client: idC, challenge: rfcChallenge + "=", method: "S256", authError: oauth.ErrCodeInvalidRequest},
		// D.30: public clients need a challenge; a policy extends that.
		{name: "public client without challenge", client: idP, method: "-", authError: oauth.ErrCodeInvalidRequest},
		{name: "confidential client without challenge", client: idC, method: "-", verifier: "-", status: 200},
		{name: "confidential client, PKCE required", client: idC, require: true, method: "-", authError: oauth.ErrCodeInvalidRequest},
		{name: "confidential client, PKCE required, S256", client: idC, require: true, challenge: rfcChallenge, method: "S256", verifier: rfcVerifier, status: 200},
		// D.32: downgrade.
		{name: "verifier without challenge", client: idC, method: "-", verifier: rfcVerifier, status: 400, errCode: oauth.ErrCodeInvalidGrant},
	}
	redirects := map[string]string{idC: redirectC, idP: redirectP}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *grants.Config) {
				c.AllowPlainPKCE = tt.plain
				c.RequirePKCE = tt.require
			})
			p := authParams(tt.client, redirects[tt.client], "")
			if tt.challenge != "" {
				p.Set("code_challenge", tt.challenge)
			}
			if tt.method != "-" {
				p.Set("code_challenge_method", tt.method)
			}
			res := f.authorize(http.MethodGet, p)
			if tt.authError != "" {
				wantErrorRedirect(t, res, http.StatusFound, redirects[tt.client], tt.authError, "st-123")
				return
			}
			if res.status != http.StatusFound {
				t.Fatalf("authorize: %d", res.status)
			}
			// D.33: the challenge never appears in a response.
			if tt.challenge != "" && strings.Contains(res.header.Get("Location"), tt.challenge) {
				t.Errorf("authorization response holds the challenge")
			}
			code := res.location(t).Query().Get("code")
			verifier := tt.verifier
			if verifier == "-" {
				verifier = ""
			}
			q := codeExchange(code, redirects[tt.client], verifier)
			if tt.client == idP {
				q = q.withPost(idP, "")
			} else {
				q = q.withBasic(idC, secretC)
			}
			res = f.token(q)
			if tt.challenge != "" && strings.Contains(res.raw, tt.challenge) {
				t.Errorf("token response holds the challenge")
			}
			if tt.status == 200 {
				wantTokens(t, res)
				return
			}
			wantError(t, res, tt.status, tt.errCode)
		})
	}
}

// TestCodeReplayAfterExpiry: a consumed code replayed after it expired is
// still a replay (RFC 6749 §4.1.2), and revokes its family.
func TestCodeReplayAfterExpiry(t *testing.T) {
	f := newFixture(t)
	verifier, challenge := newVerifier(t)
	code := f.codeFor(authParams(idC, redirectC, challenge))
	res := f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC))
	wantTokens(t, res)
	f.clock.Advance(time.Hour)
	wantError(t, f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
	if f.refreshRecord(res.str("refresh_token")).Revoked != true {
		t.Errorf("refresh token of the family not revoked by a late replay")
	}
	if _, _, _, n, _ := f.events.counts(); n != 1 {
		t.Errorf("CodeReplayDetected fired %d times; want 1", n)
	}
}
