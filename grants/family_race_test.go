package grants_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
)

// gatedStore holds a refresh request and a family revocation at chosen
// points, to run them in the interleaving that a busy server may produce:
//
//  1. the refresh has found its refresh token live and is about to store
//     the new access token;
//  2. the revocation revokes the family's access tokens;
//  3. the refresh stores its access token and rotates the refresh token;
//  4. the revocation revokes the family's refresh tokens.
//
// Each gate waits only when the other side has reached its point, so an
// implementation that revokes in another order is not held at all.
type gatedStore struct {
	*memory.Store

	mu            sync.Mutex
	armed         bool          // hold the next CreateAccessToken
	accessRevoked chan struct{} // closed once an access family was revoked
	rotated       chan struct{} // closed once the held refresh rotated (or failed to)
	holding       bool          // a CreateAccessToken is being held
}

func newGatedStore(s *memory.Store) *gatedStore {
	return &gatedStore{Store: s, accessRevoked: make(chan struct{}), rotated: make(chan struct{})}
}

const gateTimeout = 10 * time.Second // only a safety net against a hung test

func wait(ch chan struct{}) {
	select {
	case <-ch:
	case <-time.After(gateTimeout):
	}
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (g *gatedStore) CreateAccessToken(ctx context.Context, t *oauth.AccessToken) error {
	g.mu.Lock()
	hold := g.armed
	g.armed, g.holding = false, hold
	g.mu.Unlock()
	if hold {
		wait(g.accessRevoked)
	}
	return g.Store.CreateAccessToken(ctx, t)
}

func (g *gatedStore) RotateRefreshToken(ctx context.Context, oldID string, next *oauth.RefreshToken, now time.Time) error {
	err := g.Store.RotateRefreshToken(ctx, oldID, next, now)
	g.mu.Lock()
	if g.holding {
		g.holding = false
		close(g.rotated)
	}
	g.mu.Unlock()
	return err
}

func (g *gatedStore) RevokeAccessTokenFamily(ctx context.Context, familyID string) (int64, error) {
	n, err := g.Store.RevokeAccessTokenFamily(ctx, familyID)
	if !closed(g.accessRevoked) {
		close(g.accessRevoked)
	}
	return n, err
}

func (g *gatedStore) RevokeRefreshTokenFamily(ctx context.Context, familyID string) (int64, error) {
	if closed(g.accessRevoked) {
		// The access tokens went first: let the held refresh store its
		// access token and rotate before the refresh tokens go.
		wait(g.rotated)
	}
	return g.Store.RevokeRefreshTokenFamily(ctx, familyID)
}

// TestFamilyRevocationRacingRefresh: a family revoked while one of its
// refresh tokens is being rotated leaves no live token behind, whatever
// the interleaving — for reuse detection (CONFORMANCE F.38) and for
// revocation (H.44) alike.
func TestFamilyRevocationRacingRefresh(t *testing.T) {
	for _, trigger := range []string{"reuse", "revocation"} {
		t.Run(trigger, func(t *testing.T) {
			var g *gatedStore
			f := newFixture(t, func(c *grants.Config) {
				g = newGatedStore(c.Clients.(*memory.Store))
				c.AccessTokens, c.RefreshTokens = g, g
			})
			first := f.tokensOfC()
			rt1 := first.str("refresh_token")
			second := f.token(refreshReq(rt1).withBasic(idC, secretC))
			wantTokens(t, second)
			rt2 := second.str("refresh_token")
			family := f.refreshRecord(rt2).FamilyID

			g.mu.Lock()
			g.armed = true
			g.mu.Unlock()
			done := make(chan *response)
			go func() { done <- f.token(refreshReq(rt2).withBasic(idC, secretC)) }()
			for { // until the refresh is held
				g.mu.Lock()
				held := g.holding
				g.mu.Unlock()
				if held {
					break
				}
				time.Sleep(time.Millisecond)
			}
			switch trigger {
			case "reuse":
				wantError(t, f.token(refreshReq(rt1).withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
			case "revocation":
				if res := f.post("/oauth/revoke", tokenReq{form: form("token", rt1)}.withBasic(idC, secretC)); res.status != 200 {
					t.Fatalf("revocation: %d %s", res.status, res.raw)
				}
			}
			res := <-done

			for _, tok := range []string{first.str("access_token"), second.str("access_token"), res.str("access_token")} {
				if tok != "" && f.active(tok) {
					t.Errorf("access token of the revoked family is live (refresh answered %d %s)", res.status, res.raw)
				}
			}
			if rt := res.str("refresh_token"); rt != "" && f.refreshRecord(rt).Active(f.clock.Now()) {
				t.Errorf("refresh token of the revoked family is live")
			}
			if n, _ := f.store.RevokeAccessTokenFamily(context.Background(), family); n != 0 {
				t.Errorf("%d access tokens of the family were still live", n)
			}
		})
	}
}
