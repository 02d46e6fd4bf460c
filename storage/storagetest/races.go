package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oauthkit/oauth"
)

// racers is how many goroutines race for each single-use operation.
const racers = 100

// race runs fn(i) for i in [0, racers) on as many goroutines, released
// together, and returns their errors by i.
func race(fn func(i int) error) []error {
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// wantOneWinner reports a failure unless exactly one error is nil and every
// other wraps loser; it returns the winner's index, or -1.
func (h *harness) wantOneWinner(what string, errs []error, loser error) int {
	h.t.Helper()
	winner := -1
	var wins int
	other := map[string]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
			winner = i
		case !errors.Is(err, loser):
			other[err.Error()]++
		}
	}
	if wins != 1 {
		h.t.Errorf("%s: got %d winners among %d racers; want exactly 1", what, wins, racers)
	}
	if len(other) > 0 {
		var lines []string
		for msg, n := range other {
			lines = append(lines, fmt.Sprintf("%d× %s", n, msg))
		}
		slices.Sort(lines)
		h.t.Errorf("%s: losers got errors other than %q: %s", what, loser, strings.Join(lines, "; "))
	}
	if wins != 1 {
		return -1
	}
	return winner
}

func raceCases() []testCase {
	return []testCase{
		{"ConsumeAuthCode", func(h *harness) {
			h.client("app-1")
			c := h.authCode("app-1")
			got := make([]*oauth.AuthCode, racers)
			errs := race(func(i int) error {
				var err error
				got[i], err = h.s.ConsumeAuthCode(h.ctx, c.ID, h.at(time.Second))
				return err
			})
			if w := h.wantOneWinner("ConsumeAuthCode", errs, oauth.ErrAlreadyUsed); w >= 0 {
				h.wantEqual("the winner's code", got[w], c)
			}
			used := *c
			used.Revoked = true
			h.wantEqual("FindAuthCode after the race", h.findAuthCode(c.ID), &used)
		}},
		{"RotateRefreshToken", func(h *harness) {
			h.client("app-1")
			at, old := h.refreshToken("app-1", newID())
			nexts := make([]*oauth.RefreshToken, racers)
			for i := range nexts {
				nexts[i] = h.newRefreshToken(at)
			}
			now := h.at(time.Second)
			errs := race(func(i int) error { return h.s.RotateRefreshToken(h.ctx, old.ID, nexts[i], now) })
			w := h.wantOneWinner("RotateRefreshToken", errs, oauth.ErrAlreadyUsed)
			for i, n := range nexts {
				if i == w {
					h.wantEqual("FindRefreshToken of the winner's successor", h.findRefreshToken(n.ID), n)
					continue
				}
				h.wantGone(fmt.Sprintf("FindRefreshToken of loser %d's successor", i), func() error { return h.refreshGone(n.ID) })
			}
			rotated := *old
			rotated.Revoked, rotated.RotatedAt = true, now
			h.wantEqual("FindRefreshToken of the rotated token", h.findRefreshToken(old.ID), &rotated)
		}},
		{"RedeemDeviceCode", func(h *harness) {
			h.client("app-1")
			d := h.deviceCode("app-1")
			h.fatalIf("ApproveDeviceCode", h.s.ApproveDeviceCode(h.ctx, d.ID, "user-1", []string{"openid"}, h.now))
			want := h.findDeviceCode(d.ID)
			want.Revoked = true
			got := make([]*oauth.DeviceCode, racers)
			errs := race(func(i int) error {
				var err error
				got[i], err = h.s.RedeemDeviceCode(h.ctx, d.ID, h.at(time.Second))
				return err
			})
			if w := h.wantOneWinner("RedeemDeviceCode", errs, oauth.ErrAlreadyUsed); w >= 0 {
				h.wantEqual("the winner's device code", got[w], want)
			}
			h.wantEqual("FindDeviceCode after the race", h.findDeviceCode(d.ID), want)
		}},
		{"DecideDeviceCode", func(h *harness) {
			// Half approve, half deny: one decision stands.
			h.client("app-1")
			d := h.deviceCode("app-1")
			errs := race(func(i int) error {
				user := fmt.Sprintf("user-%d", i)
				if i%2 == 0 {
					return h.s.ApproveDeviceCode(h.ctx, d.ID, user, []string{"openid"}, h.now)
				}
				return h.s.DenyDeviceCode(h.ctx, d.ID, user, h.now)
			})
			w := h.wantOneWinner("ApproveDeviceCode and DenyDeviceCode", errs, oauth.ErrAlreadyUsed)
			if w < 0 {
				return
			}
			want := *d
			want.UserID = fmt.Sprintf("user-%d", w)
			if w%2 == 0 {
				want.Status, want.Scopes = oauth.DeviceApproved, []string{"openid"}
			} else {
				want.Status = oauth.DeviceDenied
			}
			h.wantEqual("FindDeviceCode after the race", h.findDeviceCode(d.ID), &want)
		}},
		{"PollDeviceCode", func(h *harness) {
			// Polls at one instant: one passes, the others are too fast,
			// and each adds its 5 seconds (no update is lost).
			h.client("app-1")
			d := h.deviceCode("app-1")
			now := h.at(time.Second)
			errs := race(func(int) error {
				_, err := h.s.PollDeviceCode(h.ctx, d.ID, now)
				return err
			})
			h.wantOneWinner("PollDeviceCode", errs, oauth.ErrSlowDown)
			want := *d
			want.LastPolledAt = now
			want.Interval = d.Interval + (racers-1)*5*time.Second
			h.wantEqual("FindDeviceCode after the race", h.findDeviceCode(d.ID), &want)
		}},
		{"CreateWithOneID", func(h *harness) {
			// Creates of one ID: one is stored, the others are duplicates.
			h.client("app-1")
			id := newID()
			ats := make([]*oauth.AccessToken, racers)
			for i := range ats {
				ats[i] = h.newAccessToken("app-1", newID())
				ats[i].ID = id
			}
			w := h.wantOneWinner("CreateAccessToken", race(func(i int) error { return h.s.CreateAccessToken(h.ctx, ats[i]) }), oauth.ErrDuplicate)
			if w >= 0 {
				h.wantEqual("FindAccessToken after the race", h.findAccessToken(id), ats[w])
			}
		}},
		{"CreateDeviceCodeWithOneUserCode", func(h *harness) {
			h.client("app-1")
			uc := userCode()
			ds := make([]*oauth.DeviceCode, racers)
			for i := range ds {
				ds[i] = h.newDeviceCode("app-1")
				ds[i].UserCode = uc
			}
			w := h.wantOneWinner("CreateDeviceCode", race(func(i int) error { return h.s.CreateDeviceCode(h.ctx, ds[i]) }), oauth.ErrDuplicate)
			if w >= 0 {
				got, err := h.s.FindDeviceCodeByUserCode(h.ctx, uc)
				h.fatalIf("FindDeviceCodeByUserCode", err)
				h.wantEqual("FindDeviceCodeByUserCode after the race", got, ds[w])
			}
		}},
	}
}
