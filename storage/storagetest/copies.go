package storagetest

import (
	"time"

	"github.com/oauthkit/oauth"
)

// A store keeps its own copies: changing a record after passing it in, or
// one it returned, changes nothing stored. (A database gets this for free;
// an in-memory store that keeps or hands out its pointers does not.)
func copyCases() []testCase {
	scribble := func(s []string) {
		for i := range s {
			s[i] = "changed"
		}
	}
	return []testCase{
		{"Client", func(h *harness) {
			c := h.newClient("app-1")
			want := h.newClient("app-1")
			h.fatalIf("CreateClient", h.s.CreateClient(h.ctx, c))
			c.Name = "changed"
			scribble(c.RedirectURIs)
			scribble(c.GrantTypes)
			scribble(c.Scopes)
			got := h.findClient("app-1")
			h.wantEqual("FindClient after changing the created record", got, want)
			got.Name = "changed"
			scribble(got.RedirectURIs)
			scribble(got.Scopes)
			scribble(got.GrantTypes)
			h.wantEqual("FindClient after changing a found record", h.findClient("app-1"), want)
			list, err := h.s.ListClients(h.ctx)
			h.fatalIf("ListClients", err)
			for i := range list {
				list[i].Name = "changed"
				scribble(list[i].Scopes)
			}
			h.wantEqual("FindClient after changing a listed record", h.findClient("app-1"), want)

			upd := h.newClient("app-1")
			upd.Name = "Updated"
			want.Name = "Updated"
			h.fatalIf("UpdateClient", h.s.UpdateClient(h.ctx, upd))
			scribble(upd.Scopes)
			h.wantEqual("FindClient after changing the updating record", h.findClient("app-1"), want)
		}},
		{"Scopes", func(h *harness) {
			sc := oauth.Scope{ID: "read", Description: "Read"}
			h.fatalIf("CreateScope", h.s.CreateScope(h.ctx, &sc))
			sc.Description = "changed"
			got, err := h.s.FindScopes(h.ctx, []string{"read"})
			h.fatalIf("FindScopes", err)
			h.wantEqual("FindScopes after changing the created record", got, []oauth.Scope{{ID: "read", Description: "Read"}})
			got[0].Description = "changed"
			list, err := h.s.ListScopes(h.ctx)
			h.fatalIf("ListScopes", err)
			h.wantEqual("ListScopes after changing a found record", list, []oauth.Scope{{ID: "read", Description: "Read"}})
		}},
		{"Tokens", func(h *harness) {
			h.client("app-1")
			at := h.newAccessToken("app-1", newID())
			wantAT := *at
			wantAT.Scopes = append([]string(nil), at.Scopes...)
			h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, at))
			scribble(at.Scopes)
			at.UserID = "changed"
			got := h.findAccessToken(wantAT.ID)
			h.wantEqual("FindAccessToken after changing the created record", got, &wantAT)
			scribble(got.Scopes)
			got.Revoked = true
			h.wantEqual("FindAccessToken after changing a found record", h.findAccessToken(wantAT.ID), &wantAT)

			rt := h.newRefreshToken(&wantAT)
			wantRT := *rt
			wantRT.Scopes = append([]string(nil), rt.Scopes...)
			h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, rt))
			scribble(rt.Scopes)
			gotRT := h.findRefreshToken(wantRT.ID)
			h.wantEqual("FindRefreshToken after changing the created record", gotRT, &wantRT)
			scribble(gotRT.Scopes)
			gotRT.Revoked = true
			h.wantEqual("FindRefreshToken after changing a found record", h.findRefreshToken(wantRT.ID), &wantRT)

			next := h.newRefreshToken(&wantAT)
			wantNext := *next
			wantNext.Scopes = append([]string(nil), next.Scopes...)
			h.fatalIf("RotateRefreshToken", h.s.RotateRefreshToken(h.ctx, wantRT.ID, next, h.now))
			scribble(next.Scopes)
			h.wantEqual("FindRefreshToken after changing the rotation's next record", h.findRefreshToken(wantNext.ID), &wantNext)
		}},
		{"AuthCode", func(h *harness) {
			h.client("app-1")
			c := h.newAuthCode("app-1")
			want := *c
			want.Scopes = append([]string(nil), c.Scopes...)
			h.fatalIf("CreateAuthCode", h.s.CreateAuthCode(h.ctx, c))
			scribble(c.Scopes)
			got := h.findAuthCode(want.ID)
			h.wantEqual("FindAuthCode after changing the created record", got, &want)
			scribble(got.Scopes)
			consumed, err := h.s.ConsumeAuthCode(h.ctx, want.ID, h.now)
			h.fatalIf("ConsumeAuthCode", err)
			h.wantEqual("ConsumeAuthCode's result after changing a found record", consumed, &want)
			scribble(consumed.Scopes)
			consumed.Revoked = false
			want.Revoked = true
			h.wantEqual("FindAuthCode after changing the consumed record", h.findAuthCode(want.ID), &want)
		}},
		{"DeviceCode", func(h *harness) {
			h.client("app-1")
			d := h.newDeviceCode("app-1")
			want := *d
			want.Scopes = append([]string(nil), d.Scopes...)
			h.fatalIf("CreateDeviceCode", h.s.CreateDeviceCode(h.ctx, d))
			scribble(d.Scopes)
			got := h.findDeviceCode(want.ID)
			h.wantEqual("FindDeviceCode after changing the created record", got, &want)
			scribble(got.Scopes)
			got.Status = oauth.DeviceApproved
			byUser, err := h.s.FindDeviceCodeByUserCode(h.ctx, want.UserCode)
			h.fatalIf("FindDeviceCodeByUserCode", err)
			h.wantEqual("FindDeviceCodeByUserCode after changing a found record", byUser, &want)
			scribble(byUser.Scopes)
			polled, err := h.s.PollDeviceCode(h.ctx, want.ID, h.now)
			h.fatalIf("PollDeviceCode", err)
			want.LastPolledAt = h.now
			h.wantEqual("PollDeviceCode after changing found records", polled, &want)
			polled.Interval = time.Hour
			scribble(polled.Scopes)

			granted := []string{"openid"}
			h.fatalIf("ApproveDeviceCode", h.s.ApproveDeviceCode(h.ctx, want.ID, "user-1", granted, h.now))
			scribble(granted)
			want.Status, want.UserID, want.Scopes = oauth.DeviceApproved, "user-1", []string{"openid"}
			h.wantEqual("FindDeviceCode after changing the granted scopes", h.findDeviceCode(want.ID), &want)
			redeemed, err := h.s.RedeemDeviceCode(h.ctx, want.ID, h.now)
			h.fatalIf("RedeemDeviceCode", err)
			scribble(redeemed.Scopes)
			redeemed.Revoked = false
			want.Revoked = true
			h.wantEqual("FindDeviceCode after changing the redeemed record", h.findDeviceCode(want.ID), &want)
		}},
	}
}
