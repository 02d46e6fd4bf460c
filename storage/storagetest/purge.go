package storagetest

import (
	"time"

	"github.com/oauthkit/oauth"
)

// Purges delete what expired strictly before the cutoff: a record expiring
// exactly at the cutoff is kept, and so is a revoked one still unexpired.
func purgeCases() []testCase {
	return []testCase{
		{"AccessTokens", func(h *harness) {
			h.client("app-1")
			cutoff := h.now
			mk := func(expiresAt time.Time, revoked bool) *oauth.AccessToken {
				at := h.newAccessToken("app-1", newID())
				at.CreatedAt, at.ExpiresAt, at.Revoked = expiresAt.Add(-time.Hour), expiresAt, revoked
				h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, at))
				return at
			}
			refresh := func(at *oauth.AccessToken, expiresAt time.Time, revoked bool) {
				rt := h.newRefreshToken(at)
				rt.CreatedAt, rt.ExpiresAt, rt.Revoked = at.CreatedAt, expiresAt, revoked
				h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, rt))
			}
			gone := []*oauth.AccessToken{
				mk(cutoff.Add(-time.Hour), false),
				mk(cutoff.Add(-time.Microsecond), true),
			}
			// Expired, and so is the refresh token issued with it.
			withDeadRefresh := mk(cutoff.Add(-time.Hour), false)
			refresh(withDeadRefresh, cutoff.Add(-time.Minute), false)
			gone = append(gone, withDeadRefresh)

			kept := []*oauth.AccessToken{
				mk(cutoff, false),
				mk(cutoff.Add(time.Hour), false),
				mk(cutoff.Add(time.Hour), true),
			}
			// Expired, but a live refresh token refers to it.
			withLiveRefresh := mk(cutoff.Add(-time.Hour), false)
			refresh(withLiveRefresh, cutoff.Add(24*time.Hour), false)
			// Decision: a revoked refresh token that has not expired keeps
			// its access token too (see AccessTokenOfARotatedRefreshToken).
			withRevokedRefresh := mk(cutoff.Add(-time.Hour), false)
			refresh(withRevokedRefresh, cutoff.Add(24*time.Hour), true)
			kept = append(kept, withLiveRefresh, withRevokedRefresh)

			n, err := h.s.PurgeAccessTokens(h.ctx, cutoff)
			h.wantCount("PurgeAccessTokens", n, err, int64(len(gone)))
			for _, at := range gone {
				h.wantGone("FindAccessToken of a purged token", func() error { return h.accessGone(at.ID) })
			}
			for _, at := range kept {
				h.wantEqual("FindAccessToken of a kept token", h.findAccessToken(at.ID), at)
			}
			n, err = h.s.PurgeAccessTokens(h.ctx, cutoff)
			h.wantCount("PurgeAccessTokens again", n, err, 0)
		}},
		{"AccessTokenOfARotatedRefreshToken", func(h *harness) {
			// Decision: an access token is kept while a refresh token that
			// refers to it has not expired at the cutoff, revoked or not: a
			// rotated refresh token must survive for reuse detection, and a
			// database's ON DELETE CASCADE would delete it with the access
			// token.
			h.client("app-1")
			cutoff := h.now
			at := h.newAccessToken("app-1", newID())
			at.CreatedAt, at.ExpiresAt = cutoff.Add(-2*time.Hour), cutoff.Add(-time.Hour)
			h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, at))
			rt := h.newRefreshToken(at)
			rt.CreatedAt = at.CreatedAt
			h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, rt))
			nextAT := h.accessToken("app-1", at.FamilyID)
			h.fatalIf("RotateRefreshToken", h.s.RotateRefreshToken(h.ctx, rt.ID, h.newRefreshToken(nextAT), cutoff.Add(-90*time.Minute)))

			n, err := h.s.PurgeAccessTokens(h.ctx, cutoff)
			h.wantCount("PurgeAccessTokens", n, err, 0)
			h.wantEqual("FindAccessToken of the rotated refresh token's access token", h.findAccessToken(at.ID), at)
			got := h.findRefreshToken(rt.ID)
			if !got.Revoked || got.RotatedAt.IsZero() {
				h.t.Errorf("FindRefreshToken of the rotated token after the purge: got Revoked %v, RotatedAt %s; want it rotated", got.Revoked, fmtTime(got.RotatedAt))
			}
			// Once the refresh tokens have expired too, all go. (Refresh
			// tokens first: a database may cascade the other way.)
			late := rt.ExpiresAt.Add(time.Second)
			n, err = h.s.PurgeRefreshTokens(h.ctx, late)
			h.wantCount("PurgeRefreshTokens after the refresh tokens expired", n, err, 2)
			n, err = h.s.PurgeAccessTokens(h.ctx, late)
			h.wantCount("PurgeAccessTokens after the refresh tokens expired", n, err, 2)
		}},
		{"RefreshTokens", func(h *harness) {
			h.client("app-1")
			cutoff := h.now
			at := h.accessToken("app-1", newID())
			mk := func(expiresAt time.Time, revoked bool) *oauth.RefreshToken {
				rt := h.newRefreshToken(at)
				rt.CreatedAt, rt.ExpiresAt, rt.Revoked = expiresAt.Add(-time.Hour), expiresAt, revoked
				h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, rt))
				return rt
			}
			gone := []*oauth.RefreshToken{mk(cutoff.Add(-time.Hour), false), mk(cutoff.Add(-time.Microsecond), true)}
			kept := []*oauth.RefreshToken{mk(cutoff, false), mk(cutoff.Add(time.Hour), false), mk(cutoff.Add(time.Hour), true)}
			n, err := h.s.PurgeRefreshTokens(h.ctx, cutoff)
			h.wantCount("PurgeRefreshTokens", n, err, int64(len(gone)))
			for _, rt := range gone {
				h.wantGone("FindRefreshToken of a purged token", func() error { return h.refreshGone(rt.ID) })
			}
			for _, rt := range kept {
				h.wantEqual("FindRefreshToken of a kept token", h.findRefreshToken(rt.ID), rt)
			}
			h.wantEqual("FindAccessToken after PurgeRefreshTokens", h.findAccessToken(at.ID), at)
			n, err = h.s.PurgeRefreshTokens(h.ctx, cutoff)
			h.wantCount("PurgeRefreshTokens again", n, err, 0)
		}},
		{"AuthCodes", func(h *harness) {
			h.client("app-1")
			cutoff := h.now
			mk := func(expiresAt time.Time, used bool) *oauth.AuthCode {
				c := h.newAuthCode("app-1")
				c.CreatedAt, c.ExpiresAt, c.Revoked = expiresAt.Add(-10*time.Minute), expiresAt, used
				h.fatalIf("CreateAuthCode", h.s.CreateAuthCode(h.ctx, c))
				return c
			}
			gone := []*oauth.AuthCode{mk(cutoff.Add(-time.Hour), false), mk(cutoff.Add(-time.Microsecond), true)}
			kept := []*oauth.AuthCode{mk(cutoff, false), mk(cutoff.Add(time.Minute), false), mk(cutoff.Add(time.Minute), true)}
			n, err := h.s.PurgeAuthCodes(h.ctx, cutoff)
			h.wantCount("PurgeAuthCodes", n, err, int64(len(gone)))
			for _, c := range gone {
				h.wantGone("FindAuthCode of a purged code", func() error { return h.codeGone(c.ID) })
			}
			for _, c := range kept {
				h.wantEqual("FindAuthCode of a kept code", h.findAuthCode(c.ID), c)
			}
			n, err = h.s.PurgeAuthCodes(h.ctx, cutoff)
			h.wantCount("PurgeAuthCodes again", n, err, 0)
		}},
		{"DeviceCodes", func(h *harness) {
			h.client("app-1")
			cutoff := h.now
			mk := func(expiresAt time.Time, status oauth.DeviceStatus) *oauth.DeviceCode {
				d := h.newDeviceCode("app-1")
				d.CreatedAt, d.ExpiresAt, d.Status = expiresAt.Add(-15*time.Minute), expiresAt, status
				if status != oauth.DevicePending {
					d.UserID = "user-1"
				}
				h.fatalIf("CreateDeviceCode", h.s.CreateDeviceCode(h.ctx, d))
				return d
			}
			gone := []*oauth.DeviceCode{mk(cutoff.Add(-time.Hour), oauth.DevicePending), mk(cutoff.Add(-time.Microsecond), oauth.DeviceApproved)}
			kept := []*oauth.DeviceCode{mk(cutoff, oauth.DevicePending), mk(cutoff.Add(time.Minute), oauth.DeviceDenied)}
			n, err := h.s.PurgeDeviceCodes(h.ctx, cutoff)
			h.wantCount("PurgeDeviceCodes", n, err, int64(len(gone)))
			for _, d := range gone {
				h.wantGone("FindDeviceCode of a purged code", func() error { return h.deviceGone(d.ID) })
				_, err := h.s.FindDeviceCodeByUserCode(h.ctx, d.UserCode)
				h.wantErr("FindDeviceCodeByUserCode of a purged code", err, oauth.ErrNotFound)
			}
			for _, d := range kept {
				h.wantEqual("FindDeviceCode of a kept code", h.findDeviceCode(d.ID), d)
				got, err := h.s.FindDeviceCodeByUserCode(h.ctx, d.UserCode)
				h.fatalIf("FindDeviceCodeByUserCode of a kept code", err)
				h.wantEqual("FindDeviceCodeByUserCode of a kept code", got, d)
			}
			n, err = h.s.PurgeDeviceCodes(h.ctx, cutoff)
			h.wantCount("PurgeDeviceCodes again", n, err, 0)
		}},
	}
}
