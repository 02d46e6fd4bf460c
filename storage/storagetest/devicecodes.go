package storagetest

import (
	"time"

	"github.com/oauthkit/oauth"
)

func deviceCodeCases() []testCase {
	return []testCase{
		{"RoundTrip", func(h *harness) {
			h.client("app-1")
			want := h.deviceCode("app-1")
			h.wantEqual("FindDeviceCode", h.findDeviceCode(want.ID), want)
		}},
		{"RoundTripEveryField", func(h *harness) {
			// Created approved, polled and redeemed, with a long interval.
			h.client("app-1")
			want := h.newDeviceCode("app-1")
			want.UserID = "user-7"
			want.Status = oauth.DeviceApproved
			want.Interval = 24 * time.Hour
			want.LastPolledAt = h.at(-17 * time.Microsecond)
			want.Revoked = true
			want.Scopes = []string{"b", "a,b", "a"}
			h.fatalIf("CreateDeviceCode", h.s.CreateDeviceCode(h.ctx, want))
			h.wantEqual("FindDeviceCode", h.findDeviceCode(want.ID), want)
		}},
		{"RoundTripWithoutOptionalFields", func(h *harness) {
			h.client("app-1")
			want := h.newDeviceCode("app-1")
			want.VerificationURIComplete, want.Scopes = "", nil
			want.Interval = time.Second
			want.Status = oauth.DeviceDenied
			h.fatalIf("CreateDeviceCode", h.s.CreateDeviceCode(h.ctx, want))
			h.wantEqual("FindDeviceCode", h.findDeviceCode(want.ID), want)
		}},
		{"ZeroCreatedAt", func(h *harness) {
			h.client("app-1")
			d := h.newDeviceCode("app-1")
			d.CreatedAt = time.Time{}
			d.ExpiresAt = time.Now().Add(time.Hour).Truncate(time.Microsecond)
			h.fatalIf("CreateDeviceCode", h.s.CreateDeviceCode(h.ctx, d))
			h.wantRecent("CreatedAt set by CreateDeviceCode", h.findDeviceCode(d.ID).CreatedAt)
		}},
		{"Missing", func(h *harness) {
			h.wantGone("FindDeviceCode of a missing id", func() error { return h.deviceGone(newID()) })
			h.wantGone("FindDeviceCode of an empty id", func() error { return h.deviceGone("") })
			_, err := h.s.FindDeviceCodeByUserCode(h.ctx, "BCDFGHJK")
			h.wantErr("FindDeviceCodeByUserCode of a missing code", err, oauth.ErrNotFound)
			_, err = h.s.FindDeviceCodeByUserCode(h.ctx, "")
			h.wantErr("FindDeviceCodeByUserCode of an empty code", err, oauth.ErrNotFound)
			_, err = h.s.PollDeviceCode(h.ctx, newID(), h.now)
			h.wantErr("PollDeviceCode of a missing id", err, oauth.ErrNotFound)
			h.wantErr("ApproveDeviceCode of a missing id", h.s.ApproveDeviceCode(h.ctx, newID(), "user-1", nil, h.now), oauth.ErrNotFound)
			h.wantErr("DenyDeviceCode of a missing id", h.s.DenyDeviceCode(h.ctx, newID(), "user-1", h.now), oauth.ErrNotFound)
			_, err = h.s.RedeemDeviceCode(h.ctx, newID(), h.now)
			h.wantErr("RedeemDeviceCode of a missing id", err, oauth.ErrNotFound)
		}},
		{"Duplicate", func(h *harness) {
			h.client("app-1")
			want := h.deviceCode("app-1")
			dup := h.newDeviceCode("app-1")
			dup.ID = want.ID
			h.wantErr("CreateDeviceCode with an existing id", h.s.CreateDeviceCode(h.ctx, dup), oauth.ErrDuplicate)
			h.wantEqual("FindDeviceCode after the refused duplicate", h.findDeviceCode(want.ID), want)
			_, err := h.s.FindDeviceCodeByUserCode(h.ctx, dup.UserCode)
			h.wantErr("FindDeviceCodeByUserCode of the refused duplicate's user code", err, oauth.ErrNotFound)
		}},
		{"FindByUserCode", func(h *harness) {
			h.client("app-1")
			want := h.deviceCode("app-1")
			h.deviceCode("app-1")
			got, err := h.s.FindDeviceCodeByUserCode(h.ctx, want.UserCode)
			h.fatalIf("FindDeviceCodeByUserCode", err)
			h.wantEqual("FindDeviceCodeByUserCode", got, want)
		}},
		{"UserCodeOfALiveCodeIsTaken", func(h *harness) {
			h.client("app-1")
			live := h.deviceCode("app-1")
			for _, c := range []struct {
				name      string
				createdAt time.Time
				want      error
			}{
				{"while the other is live", live.ExpiresAt.Add(-time.Second), oauth.ErrDuplicate},
				// "Has not expired at d.CreatedAt": at its expiry it has.
				{"at the other's expiry", live.ExpiresAt, nil},
			} {
				d := h.newDeviceCode("app-1")
				d.UserCode = live.UserCode
				d.CreatedAt = c.createdAt
				d.ExpiresAt = c.createdAt.Add(15 * time.Minute)
				err := h.s.CreateDeviceCode(h.ctx, d)
				h.wantErr("CreateDeviceCode with a taken user code, "+c.name, err, c.want)
				if c.want != nil {
					h.wantGone("FindDeviceCode of the refused code", func() error { return h.deviceGone(d.ID) })
				}
			}
		}},
		{"UserCodeOfADecidedCodeIsTaken", func(h *harness) {
			// The rule is expiry, not status: a denied or redeemed code
			// still holds its user code until it expires.
			h.client("app-1")
			d := h.deviceCode("app-1")
			h.fatalIf("DenyDeviceCode", h.s.DenyDeviceCode(h.ctx, d.ID, "user-1", h.now))
			n := h.newDeviceCode("app-1")
			n.UserCode = d.UserCode
			n.CreatedAt = h.at(time.Minute)
			h.wantErr("CreateDeviceCode with the user code of a denied live code", h.s.CreateDeviceCode(h.ctx, n), oauth.ErrDuplicate)
		}},
		{"UserCodeOfAnExpiredCodeIsFree", func(h *harness) {
			// The live code is live by the wall clock (CreatedAt zero: "now"),
			// the expired one expired an hour before.
			h.client("app-1")
			old := h.newDeviceCode("app-1")
			old.CreatedAt, old.ExpiresAt = h.at(-2*time.Hour), h.at(-time.Hour)
			h.fatalIf("CreateDeviceCode of an expired code", h.s.CreateDeviceCode(h.ctx, old))
			// Decision: the only code with a user code is found, expired.
			got, err := h.s.FindDeviceCodeByUserCode(h.ctx, old.UserCode)
			h.fatalIf("FindDeviceCodeByUserCode of an expired code", err)
			h.wantEqual("FindDeviceCodeByUserCode of an expired code", got, old)

			live := h.newDeviceCode("app-1")
			live.UserCode = old.UserCode
			live.CreatedAt = time.Time{}
			live.ExpiresAt = time.Now().Add(time.Hour).Truncate(time.Microsecond)
			h.fatalIf("CreateDeviceCode reusing an expired code's user code", h.s.CreateDeviceCode(h.ctx, live))
			got, err = h.s.FindDeviceCodeByUserCode(h.ctx, live.UserCode)
			h.fatalIf("FindDeviceCodeByUserCode", err)
			if got.ID != live.ID {
				h.t.Errorf("FindDeviceCodeByUserCode where an expired and a live code share it: got ID %s (expires %s); want the live one %s",
					got.ID, fmtTime(got.ExpiresAt), live.ID)
			}
			h.wantEqual("FindDeviceCode of the expired code", h.findDeviceCode(old.ID), old)
		}},
		{"Poll", func(h *harness) {
			h.client("app-1")
			d := h.deviceCode("app-1") // Interval 5s
			want := *d

			t0 := h.at(time.Second)
			got, err := h.s.PollDeviceCode(h.ctx, d.ID, t0)
			h.fatalIf("first PollDeviceCode", err)
			want.LastPolledAt = t0
			h.wantEqual("first PollDeviceCode's result", got, &want)
			h.wantEqual("FindDeviceCode after the first poll", h.findDeviceCode(d.ID), &want)

			// Too fast: slow_down, the interval grows by 5s, persisted.
			t1 := t0.Add(5*time.Second - time.Microsecond)
			got, err = h.s.PollDeviceCode(h.ctx, d.ID, t1)
			h.wantErr("PollDeviceCode before the interval", err, oauth.ErrSlowDown)
			want.Interval = 10 * time.Second
			// Decision: a too-fast poll is a poll too: LastPolledAt moves.
			want.LastPolledAt = t1
			if got == nil {
				h.t.Errorf("PollDeviceCode before the interval: got nil record; want the updated one with ErrSlowDown")
			} else {
				h.wantEqual("too-fast PollDeviceCode's result", got, &want)
			}
			h.wantEqual("FindDeviceCode after slow_down", h.findDeviceCode(d.ID), &want)

			// The grown interval counts from the too-fast poll.
			t2 := t1.Add(10*time.Second - time.Second)
			_, err = h.s.PollDeviceCode(h.ctx, d.ID, t2)
			h.wantErr("PollDeviceCode before the grown interval", err, oauth.ErrSlowDown)
			want.Interval, want.LastPolledAt = 15*time.Second, t2

			// Exactly the interval after the previous poll is fine.
			t3 := t2.Add(15 * time.Second)
			got, err = h.s.PollDeviceCode(h.ctx, d.ID, t3)
			h.fatalIf("PollDeviceCode after the grown interval", err)
			want.LastPolledAt = t3
			h.wantEqual("PollDeviceCode after the grown interval", got, &want)
			h.wantEqual("FindDeviceCode after the last poll", h.findDeviceCode(d.ID), &want)
		}},
		{"PollExpired", func(h *harness) {
			h.client("app-1")
			d := h.deviceCode("app-1")
			_, err := h.s.PollDeviceCode(h.ctx, d.ID, d.ExpiresAt)
			h.wantErr("PollDeviceCode at the expiry", err, oauth.ErrExpired)
			_, err = h.s.PollDeviceCode(h.ctx, d.ID, d.ExpiresAt.Add(time.Hour))
			h.wantErr("PollDeviceCode after the expiry", err, oauth.ErrExpired)
			h.wantEqual("FindDeviceCode after the refused polls", h.findDeviceCode(d.ID), d)
		}},
		{"PollReportsDecision", func(h *harness) {
			// A poll returns the record as it is; the caller reads Status.
			h.client("app-1")
			d := h.deviceCode("app-1")
			h.fatalIf("ApproveDeviceCode", h.s.ApproveDeviceCode(h.ctx, d.ID, "user-9", []string{"openid"}, h.now))
			got, err := h.s.PollDeviceCode(h.ctx, d.ID, h.at(time.Second))
			h.fatalIf("PollDeviceCode of an approved code", err)
			want := *d
			want.Status, want.UserID, want.Scopes, want.LastPolledAt = oauth.DeviceApproved, "user-9", []string{"openid"}, h.at(time.Second)
			h.wantEqual("PollDeviceCode of an approved code", got, &want)
		}},
		{"Approve", func(h *harness) {
			h.client("app-1")
			d := h.deviceCode("app-1")
			other := h.deviceCode("app-1")
			h.fatalIf("ApproveDeviceCode", h.s.ApproveDeviceCode(h.ctx, d.ID, "user-9", []string{"read:all"}, h.at(time.Minute)))
			want := *d
			want.Status, want.UserID, want.Scopes = oauth.DeviceApproved, "user-9", []string{"read:all"}
			h.wantEqual("FindDeviceCode after ApproveDeviceCode", h.findDeviceCode(d.ID), &want)
			h.wantEqual("FindDeviceCode of another code", h.findDeviceCode(other.ID), other)

			got, err := h.s.RedeemDeviceCode(h.ctx, d.ID, h.at(2*time.Minute))
			h.fatalIf("RedeemDeviceCode", err)
			want.Revoked = true
			// Decision: returned as after the redemption.
			h.wantEqual("RedeemDeviceCode's result", got, &want)
			h.wantEqual("FindDeviceCode after RedeemDeviceCode", h.findDeviceCode(d.ID), &want)
			_, err = h.s.RedeemDeviceCode(h.ctx, d.ID, h.at(3*time.Minute))
			h.wantErr("RedeemDeviceCode again", err, oauth.ErrAlreadyUsed)
			// Decision: used wins over expired.
			_, err = h.s.RedeemDeviceCode(h.ctx, d.ID, d.ExpiresAt.Add(time.Hour))
			h.wantErr("RedeemDeviceCode of a redeemed code since expired", err, oauth.ErrAlreadyUsed)
			h.wantEqual("FindDeviceCode after the refused redemptions", h.findDeviceCode(d.ID), &want)
		}},
		{"ApproveNoScopes", func(h *harness) {
			h.client("app-1")
			d := h.deviceCode("app-1")
			h.fatalIf("ApproveDeviceCode with no scopes", h.s.ApproveDeviceCode(h.ctx, d.ID, "user-9", nil, h.now))
			want := *d
			want.Status, want.UserID, want.Scopes = oauth.DeviceApproved, "user-9", nil
			h.wantEqual("FindDeviceCode after ApproveDeviceCode with no scopes", h.findDeviceCode(d.ID), &want)
		}},
		{"Deny", func(h *harness) {
			h.client("app-1")
			d := h.deviceCode("app-1")
			h.fatalIf("DenyDeviceCode", h.s.DenyDeviceCode(h.ctx, d.ID, "user-9", h.at(time.Minute)))
			want := *d
			// Decision: denial keeps the requested scopes.
			want.Status, want.UserID = oauth.DeviceDenied, "user-9"
			h.wantEqual("FindDeviceCode after DenyDeviceCode", h.findDeviceCode(d.ID), &want)
			_, err := h.s.RedeemDeviceCode(h.ctx, d.ID, h.at(2*time.Minute))
			h.wantErr("RedeemDeviceCode of a denied code", err, oauth.ErrNotApproved)
			h.wantEqual("FindDeviceCode after the refused redemption", h.findDeviceCode(d.ID), &want)
		}},
		{"DecisionsAreFinal", func(h *harness) {
			h.client("app-1")
			approved := h.deviceCode("app-1")
			h.fatalIf("ApproveDeviceCode", h.s.ApproveDeviceCode(h.ctx, approved.ID, "user-1", []string{"openid"}, h.now))
			denied := h.deviceCode("app-1")
			h.fatalIf("DenyDeviceCode", h.s.DenyDeviceCode(h.ctx, denied.ID, "user-1", h.now))
			redeemed := h.deviceCode("app-1")
			h.fatalIf("ApproveDeviceCode", h.s.ApproveDeviceCode(h.ctx, redeemed.ID, "user-1", nil, h.now))
			_, err := h.s.RedeemDeviceCode(h.ctx, redeemed.ID, h.now)
			h.fatalIf("RedeemDeviceCode", err)
			before := map[string]*oauth.DeviceCode{}
			for _, d := range []*oauth.DeviceCode{approved, denied, redeemed} {
				before[d.ID] = h.findDeviceCode(d.ID)
			}
			later := h.at(time.Minute)
			expired := approved.ExpiresAt.Add(time.Hour)
			for _, c := range []struct {
				name string
				id   string
				now  time.Time
			}{
				{"approved", approved.ID, later},
				{"denied", denied.ID, later},
				{"redeemed", redeemed.ID, later},
				// Decision: used wins over expired.
				{"approved and since expired", approved.ID, expired},
			} {
				h.wantErr("ApproveDeviceCode of a code "+c.name, h.s.ApproveDeviceCode(h.ctx, c.id, "user-2", []string{"write"}, c.now), oauth.ErrAlreadyUsed)
				h.wantErr("DenyDeviceCode of a code "+c.name, h.s.DenyDeviceCode(h.ctx, c.id, "user-2", c.now), oauth.ErrAlreadyUsed)
			}
			for id, want := range before {
				h.wantEqual("FindDeviceCode after refused decisions", h.findDeviceCode(id), want)
			}
		}},
		{"DecideExpired", func(h *harness) {
			h.client("app-1")
			d := h.deviceCode("app-1")
			h.wantErr("ApproveDeviceCode at the expiry", h.s.ApproveDeviceCode(h.ctx, d.ID, "user-1", nil, d.ExpiresAt), oauth.ErrExpired)
			h.wantErr("DenyDeviceCode at the expiry", h.s.DenyDeviceCode(h.ctx, d.ID, "user-1", d.ExpiresAt), oauth.ErrExpired)
			h.wantEqual("FindDeviceCode after the refused decisions", h.findDeviceCode(d.ID), d)
		}},
		{"DecideInvalid", func(h *harness) {
			// Decision: a decision needs a user, and approval valid scopes.
			h.client("app-1")
			d := h.deviceCode("app-1")
			h.wantErr("ApproveDeviceCode without a user", h.s.ApproveDeviceCode(h.ctx, d.ID, "", nil, h.now), oauth.ErrInvalid)
			h.wantErr("DenyDeviceCode without a user", h.s.DenyDeviceCode(h.ctx, d.ID, "", h.now), oauth.ErrInvalid)
			h.wantErr("ApproveDeviceCode with a user id too long",
				h.s.ApproveDeviceCode(h.ctx, d.ID, longString('u', oauth.MaxUserIDLen+1), nil, h.now), oauth.ErrInvalid)
			h.wantErr("ApproveDeviceCode with an invalid scope",
				h.s.ApproveDeviceCode(h.ctx, d.ID, "user-1", []string{"two words"}, h.now), oauth.ErrInvalid)
			h.wantEqual("FindDeviceCode after the refused decisions", h.findDeviceCode(d.ID), d)
			h.fatalIf("ApproveDeviceCode after the refusals", h.s.ApproveDeviceCode(h.ctx, d.ID, "user-1", nil, h.now))
		}},
		{"RedeemRefused", func(h *harness) {
			h.client("app-1")
			pending := h.deviceCode("app-1")
			approved := h.deviceCode("app-1")
			h.fatalIf("ApproveDeviceCode", h.s.ApproveDeviceCode(h.ctx, approved.ID, "user-1", []string{"openid"}, h.now))
			approvedBefore := h.findDeviceCode(approved.ID)
			for _, c := range []struct {
				name string
				id   string
				now  time.Time
				want error
			}{
				{"pending", pending.ID, h.now, oauth.ErrNotApproved},
				// Decision: expired wins over not approved.
				{"pending and expired", pending.ID, pending.ExpiresAt, oauth.ErrExpired},
				{"approved at its expiry", approved.ID, approved.ExpiresAt, oauth.ErrExpired},
				{"approved after its expiry", approved.ID, approved.ExpiresAt.Add(time.Hour), oauth.ErrExpired},
			} {
				got, err := h.s.RedeemDeviceCode(h.ctx, c.id, c.now)
				h.wantErr("RedeemDeviceCode of a code "+c.name, err, c.want)
				if got != nil {
					h.t.Errorf("RedeemDeviceCode of a code %s: got a record; want nil", c.name)
				}
			}
			h.wantEqual("FindDeviceCode of the pending code", h.findDeviceCode(pending.ID), pending)
			h.wantEqual("FindDeviceCode of the approved code", h.findDeviceCode(approved.ID), approvedBefore)
		}},
	}
}
