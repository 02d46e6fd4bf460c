package storagetest

import (
	"context"
	"errors"
	"time"

	"github.com/oauthkit/oauth"
)

// Decision: a call with a cancelled context fails with an error wrapping
// context.Canceled — it does not succeed silently — and a write under it
// writes nothing. database/sql gives a SQL backend this for free, and a
// backend in memory checks ctx.Err() first.
func contextCases() []testCase {
	return []testCase{
		{"Cancelled", func(h *harness) {
			h.client("app-1")
			at, rt := h.refreshToken("app-1", newID())
			code := h.authCode("app-1")
			dev := h.deviceCode("app-1")
			approved := h.deviceCode("app-1")
			h.fatalIf("ApproveDeviceCode", h.s.ApproveDeviceCode(h.ctx, approved.ID, "user-1", nil, h.now))
			h.fatalIf("CreateScope", h.s.CreateScope(h.ctx, &oauth.Scope{ID: "read"}))
			before := snapshot(h, at.ID, rt.ID, code.ID, dev.ID, approved.ID)

			ctx, cancel := context.WithCancel(h.ctx)
			cancel()
			later := h.at(time.Minute)
			newAT := h.newAccessToken("app-1", newID())
			calls := []struct {
				name string
				call func() error
			}{
				{"FindClient", func() error { _, err := h.s.FindClient(ctx, "app-1"); return err }},
				{"CreateClient", func() error { return h.s.CreateClient(ctx, h.newClient("app-2")) }},
				{"UpdateClient", func() error { c := h.newClient("app-1"); c.Name = "changed"; return h.s.UpdateClient(ctx, c) }},
				{"DeleteClient", func() error { return h.s.DeleteClient(ctx, "app-1") }},
				{"ListClients", func() error { _, err := h.s.ListClients(ctx); return err }},
				{"FindScopes", func() error { _, err := h.s.FindScopes(ctx, []string{"read"}); return err }},
				{"ListScopes", func() error { _, err := h.s.ListScopes(ctx); return err }},
				{"CreateScope", func() error { return h.s.CreateScope(ctx, &oauth.Scope{ID: "write"}) }},
				{"UpdateScope", func() error { return h.s.UpdateScope(ctx, &oauth.Scope{ID: "read", Description: "changed"}) }},
				{"DeleteScope", func() error { return h.s.DeleteScope(ctx, "read") }},
				{"CreateAccessToken", func() error { return h.s.CreateAccessToken(ctx, newAT) }},
				{"FindAccessToken", func() error { _, err := h.s.FindAccessToken(ctx, at.ID); return err }},
				{"RevokeAccessToken", func() error { return h.s.RevokeAccessToken(ctx, at.ID) }},
				{"RevokeAccessTokenFamily", func() error { _, err := h.s.RevokeAccessTokenFamily(ctx, at.FamilyID); return err }},
				{"PurgeAccessTokens", func() error { _, err := h.s.PurgeAccessTokens(ctx, h.at(1000*time.Hour)); return err }},
				{"CreateRefreshToken", func() error { return h.s.CreateRefreshToken(ctx, h.newRefreshToken(at)) }},
				{"FindRefreshToken", func() error { _, err := h.s.FindRefreshToken(ctx, rt.ID); return err }},
				{"RotateRefreshToken", func() error { return h.s.RotateRefreshToken(ctx, rt.ID, h.newRefreshToken(at), later) }},
				{"RevokeRefreshToken", func() error { return h.s.RevokeRefreshToken(ctx, rt.ID) }},
				{"RevokeRefreshTokenFamily", func() error { _, err := h.s.RevokeRefreshTokenFamily(ctx, rt.FamilyID); return err }},
				{"PurgeRefreshTokens", func() error { _, err := h.s.PurgeRefreshTokens(ctx, h.at(1000*time.Hour)); return err }},
				{"CreateAuthCode", func() error { return h.s.CreateAuthCode(ctx, h.newAuthCode("app-1")) }},
				{"FindAuthCode", func() error { _, err := h.s.FindAuthCode(ctx, code.ID); return err }},
				{"ConsumeAuthCode", func() error { _, err := h.s.ConsumeAuthCode(ctx, code.ID, later); return err }},
				{"PurgeAuthCodes", func() error { _, err := h.s.PurgeAuthCodes(ctx, h.at(1000*time.Hour)); return err }},
				{"CreateDeviceCode", func() error { return h.s.CreateDeviceCode(ctx, h.newDeviceCode("app-1")) }},
				{"FindDeviceCode", func() error { _, err := h.s.FindDeviceCode(ctx, dev.ID); return err }},
				{"FindDeviceCodeByUserCode", func() error { _, err := h.s.FindDeviceCodeByUserCode(ctx, dev.UserCode); return err }},
				{"PollDeviceCode", func() error { _, err := h.s.PollDeviceCode(ctx, dev.ID, later); return err }},
				{"ApproveDeviceCode", func() error { return h.s.ApproveDeviceCode(ctx, dev.ID, "user-1", nil, later) }},
				{"DenyDeviceCode", func() error { return h.s.DenyDeviceCode(ctx, dev.ID, "user-1", later) }},
				{"RedeemDeviceCode", func() error { _, err := h.s.RedeemDeviceCode(ctx, approved.ID, later); return err }},
				{"PurgeDeviceCodes", func() error { _, err := h.s.PurgeDeviceCodes(ctx, h.at(1000*time.Hour)); return err }},
			}
			for _, c := range calls {
				if err := c.call(); !errors.Is(err, context.Canceled) {
					h.t.Errorf("%s with a cancelled context: got error %v; want one wrapping context.Canceled", c.name, err)
				}
			}
			h.wantEqual("records after the cancelled calls", snapshot(h, at.ID, rt.ID, code.ID, dev.ID, approved.ID), before)
			h.wantGone("FindClient of the client created with a cancelled context", func() error { return h.clientGone("app-2") })
			h.wantGone("FindAccessToken of the token created with a cancelled context", func() error { return h.accessGone(newAT.ID) })
		}},
	}
}

// storeSnapshot is what a store holds of the records the context case uses.
type storeSnapshot struct {
	Clients []oauth.Client
	Scopes  []oauth.Scope
	Access  *oauth.AccessToken
	Refresh *oauth.RefreshToken
	Code    *oauth.AuthCode
	Devices []*oauth.DeviceCode
}

func snapshot(h *harness, atID, rtID, codeID string, deviceIDs ...string) storeSnapshot {
	h.t.Helper()
	var s storeSnapshot
	var err error
	s.Clients, err = h.s.ListClients(h.ctx)
	h.fatalIf("ListClients", err)
	s.Scopes, err = h.s.ListScopes(h.ctx)
	h.fatalIf("ListScopes", err)
	s.Access = h.findAccessToken(atID)
	s.Refresh = h.findRefreshToken(rtID)
	s.Code = h.findAuthCode(codeID)
	for _, id := range deviceIDs {
		s.Devices = append(s.Devices, h.findDeviceCode(id))
	}
	return s
}
