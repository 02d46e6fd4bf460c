package storagetest

import (
	"time"

	"github.com/oauthkit/oauth"
)

func refreshTokenCases() []testCase {
	// rotated returns the record a successful rotation at now leaves of rt.
	rotated := func(rt *oauth.RefreshToken, now time.Time) *oauth.RefreshToken {
		out := *rt
		out.Revoked, out.RotatedAt = true, now
		return &out
	}
	return []testCase{
		{"RoundTrip", func(h *harness) {
			h.client("app-1")
			_, want := h.refreshToken("app-1", newID())
			h.wantEqual("FindRefreshToken", h.findRefreshToken(want.ID), want)
		}},
		{"RoundTripEveryField", func(h *harness) {
			h.client("app-1")
			at := h.accessToken("app-1", newID())
			want := &oauth.RefreshToken{
				ID:            newID(),
				AccessTokenID: at.ID,
				ClientID:      "app-1",
				UserID:        "user:42",
				Scopes:        []string{"offline_access", "a,b", "openid"},
				FamilyID:      at.FamilyID,
				ExpiresAt:     h.at(30*24*time.Hour + 1*time.Microsecond),
				CreatedAt:     h.at(-999999 * time.Microsecond),
				Revoked:       true,
				RotatedAt:     h.at(-123 * time.Microsecond),
			}
			h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, want))
			h.wantEqual("FindRefreshToken", h.findRefreshToken(want.ID), want)
		}},
		{"ZeroCreatedAt", func(h *harness) {
			h.client("app-1")
			rt := h.newRefreshToken(h.accessToken("app-1", newID()))
			rt.CreatedAt = time.Time{}
			h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, rt))
			h.wantRecent("CreatedAt set by CreateRefreshToken", h.findRefreshToken(rt.ID).CreatedAt)
		}},
		{"Missing", func(h *harness) {
			h.wantGone("FindRefreshToken of a missing id", func() error { return h.refreshGone(newID()) })
			h.wantGone("FindRefreshToken of an empty id", func() error { return h.refreshGone("") })
			h.wantErr("RevokeRefreshToken of a missing id", h.s.RevokeRefreshToken(h.ctx, newID()), oauth.ErrNotFound)
		}},
		{"Duplicate", func(h *harness) {
			h.client("app-1")
			at, want := h.refreshToken("app-1", newID())
			dup := h.newRefreshToken(at)
			dup.ID = want.ID
			dup.Scopes = []string{"other"}
			h.wantErr("CreateRefreshToken with an existing id", h.s.CreateRefreshToken(h.ctx, dup), oauth.ErrDuplicate)
			h.wantEqual("FindRefreshToken after the refused duplicate", h.findRefreshToken(want.ID), want)
		}},
		{"UnknownAccessToken", func(h *harness) {
			// Decision: "its access token must have been stored first" means
			// a refresh token naming an unknown one is invalid.
			h.client("app-1")
			rt := h.newRefreshToken(h.newAccessToken("app-1", newID()))
			h.wantErr("CreateRefreshToken of an unknown access token", h.s.CreateRefreshToken(h.ctx, rt), oauth.ErrInvalid)
			h.wantGone("FindRefreshToken after the refused create", func() error { return h.refreshGone(rt.ID) })
		}},
		{"Revoke", func(h *harness) {
			h.client("app-1")
			at, want := h.refreshToken("app-1", newID())
			h.fatalIf("RevokeRefreshToken", h.s.RevokeRefreshToken(h.ctx, want.ID))
			want.Revoked = true
			// Revoked outright: RotatedAt stays zero.
			h.wantEqual("FindRefreshToken after RevokeRefreshToken", h.findRefreshToken(want.ID), want)
			h.fatalIf("RevokeRefreshToken of a revoked token", h.s.RevokeRefreshToken(h.ctx, want.ID))
			h.wantEqual("FindRefreshToken after a second revoke", h.findRefreshToken(want.ID), want)
			h.wantEqual("FindAccessToken of its access token", h.findAccessToken(at.ID), at)
		}},
		{"RevokeFamily", func(h *harness) {
			h.client("app-1")
			fam := newID()
			_, a := h.refreshToken("app-1", fam)
			_, b := h.refreshToken("app-1", fam)
			expAT := h.accessToken("app-1", fam)
			expired := h.newRefreshToken(expAT)
			expired.CreatedAt, expired.ExpiresAt = h.at(-48*time.Hour), h.at(-24*time.Hour)
			h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, expired))
			revAT := h.accessToken("app-1", fam)
			revoked := h.newRefreshToken(revAT)
			revoked.Revoked = true
			h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, revoked))
			otherAT, other := h.refreshToken("app-1", newID())

			n, err := h.s.RevokeRefreshTokenFamily(h.ctx, fam)
			h.wantCount("RevokeRefreshTokenFamily", n, err, 3)
			for _, rt := range []*oauth.RefreshToken{a, b, expired, revoked} {
				want := *rt
				want.Revoked = true
				h.wantEqual("FindRefreshToken of a revoked family's token", h.findRefreshToken(rt.ID), &want)
			}
			h.wantEqual("FindRefreshToken of another family's token", h.findRefreshToken(other.ID), other)
			// The access tokens are a separate revocation.
			h.wantEqual("FindAccessToken of the family's access token", h.findAccessToken(expAT.ID), expAT)
			h.wantEqual("FindAccessToken of another family's access token", h.findAccessToken(otherAT.ID), otherAT)
			n, err = h.s.RevokeRefreshTokenFamily(h.ctx, fam)
			h.wantCount("RevokeRefreshTokenFamily again", n, err, 0)
			n, err = h.s.RevokeRefreshTokenFamily(h.ctx, newID())
			h.wantCount("RevokeRefreshTokenFamily of an unknown family", n, err, 0)
		}},
		{"Rotate", func(h *harness) {
			h.client("app-1")
			at, old := h.refreshToken("app-1", newID())
			nextAT := h.accessToken("app-1", old.FamilyID)
			next := h.newRefreshToken(nextAT)
			next.CreatedAt = h.at(time.Minute)
			now := h.at(time.Minute)
			h.fatalIf("RotateRefreshToken", h.s.RotateRefreshToken(h.ctx, old.ID, next, now))
			h.wantEqual("FindRefreshToken of the rotated token", h.findRefreshToken(old.ID), rotated(old, now))
			h.wantEqual("FindRefreshToken of its successor", h.findRefreshToken(next.ID), next)
			h.wantEqual("FindAccessToken of the old access token", h.findAccessToken(at.ID), at)

			// The successor rotates in turn; the old one never again.
			third := h.newRefreshToken(nextAT)
			h.wantErr("RotateRefreshToken of the rotated token",
				h.s.RotateRefreshToken(h.ctx, old.ID, third, h.at(2*time.Minute)), oauth.ErrAlreadyUsed)
			h.wantGone("FindRefreshToken of the refused successor", func() error { return h.refreshGone(third.ID) })
			h.wantEqual("FindRefreshToken of the rotated token after a replay", h.findRefreshToken(old.ID), rotated(old, now))
			h.fatalIf("RotateRefreshToken of the successor", h.s.RotateRefreshToken(h.ctx, next.ID, third, h.at(2*time.Minute)))
			h.wantEqual("FindRefreshToken of the third token", h.findRefreshToken(third.ID), third)
		}},
		{"RotateZeroCreatedAt", func(h *harness) {
			h.client("app-1")
			_, old := h.refreshToken("app-1", newID())
			next := h.newRefreshToken(h.accessToken("app-1", old.FamilyID))
			next.CreatedAt = time.Time{}
			h.fatalIf("RotateRefreshToken", h.s.RotateRefreshToken(h.ctx, old.ID, next, h.now))
			if got := h.findRefreshToken(next.ID).CreatedAt; got.IsZero() {
				h.t.Errorf("CreatedAt of a successor stored with a zero one: got zero time; want it set")
			}
		}},
		{"RotateRefused", func(h *harness) {
			h.client("app-1")
			at, live := h.refreshToken("app-1", newID())
			_, revoked := h.refreshToken("app-1", newID())
			h.fatalIf("RevokeRefreshToken", h.s.RevokeRefreshToken(h.ctx, revoked.ID))
			revoked.Revoked = true
			_, rotatedAndExpired := h.refreshToken("app-1", newID())
			h.fatalIf("RotateRefreshToken", h.s.RotateRefreshToken(h.ctx, rotatedAndExpired.ID, h.newRefreshToken(at), h.now))
			rotatedAndExpired = rotated(rotatedAndExpired, h.now)
			existing := h.findRefreshToken(live.ID)

			badNext := func(mut func(*oauth.RefreshToken)) *oauth.RefreshToken {
				n := h.newRefreshToken(at)
				mut(n)
				return n
			}
			for _, c := range []struct {
				name  string
				oldID string
				next  *oauth.RefreshToken
				now   time.Time
				want  error
			}{
				{"missing", newID(), h.newRefreshToken(at), h.now, oauth.ErrNotFound},
				{"revoked outright", revoked.ID, h.newRefreshToken(at), h.now, oauth.ErrAlreadyUsed},
				// Decision: used wins over expired, as for ConsumeAuthCode.
				{"rotated and since expired", rotatedAndExpired.ID, h.newRefreshToken(at), h.at(25 * time.Hour), oauth.ErrAlreadyUsed},
				{"expired at now", live.ID, h.newRefreshToken(at), live.ExpiresAt, oauth.ErrExpired},
				{"expired before now", live.ID, h.newRefreshToken(at), live.ExpiresAt.Add(time.Hour), oauth.ErrExpired},
				{"next's id exists", live.ID, badNext(func(n *oauth.RefreshToken) { n.ID = revoked.ID }), h.now, oauth.ErrDuplicate},
				{"next's id is the old id", live.ID, badNext(func(n *oauth.RefreshToken) { n.ID = live.ID }), h.now, oauth.ErrDuplicate},
				{"next is invalid", live.ID, badNext(func(n *oauth.RefreshToken) { n.FamilyID = "" }), h.now, oauth.ErrInvalid},
				{"next's client is unknown", live.ID, badNext(func(n *oauth.RefreshToken) { n.ClientID = "nobody" }), h.now, oauth.ErrInvalid},
				{"next's access token is unknown", live.ID, badNext(func(n *oauth.RefreshToken) { n.AccessTokenID = newID() }), h.now, oauth.ErrInvalid},
			} {
				err := h.s.RotateRefreshToken(h.ctx, c.oldID, c.next, c.now)
				h.wantErr("RotateRefreshToken, "+c.name, err, c.want)
				if c.next.ID != revoked.ID && c.next.ID != live.ID {
					h.wantGone("FindRefreshToken of the refused successor, "+c.name, func() error { return h.refreshGone(c.next.ID) })
				}
			}
			h.wantEqual("FindRefreshToken of the live token after refused rotations", h.findRefreshToken(live.ID), existing)
			h.wantEqual("FindRefreshToken of the revoked token after refused rotations", h.findRefreshToken(revoked.ID), revoked)
			h.wantEqual("FindRefreshToken of the rotated token after refused rotations", h.findRefreshToken(rotatedAndExpired.ID), rotatedAndExpired)
			// The live token still rotates.
			h.fatalIf("RotateRefreshToken after the refusals", h.s.RotateRefreshToken(h.ctx, live.ID, h.newRefreshToken(at), h.at(time.Second)))
		}},
	}
}
