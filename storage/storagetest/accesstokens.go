package storagetest

import (
	"time"

	"github.com/oauthkit/oauth"
)

func accessTokenCases() []testCase {
	return []testCase{
		{"RoundTrip", func(h *harness) {
			h.client("app-1")
			want := h.accessToken("app-1", newID())
			h.wantEqual("FindAccessToken", h.findAccessToken(want.ID), want)
		}},
		{"RoundTripEveryField", func(h *harness) {
			// Created revoked, with scopes whose characters a comma- or
			// JSON-encoded column would mangle, by a JWT's jti as ID.
			h.client("app-1")
			want := &oauth.AccessToken{
				ID:        "jti-0b6f9c2e-7a1d-4c55-9d3e-1f2a3b4c5d6e",
				ClientID:  "app-1",
				UserID:    "user:42@example.com",
				Scopes:    []string{"z", "a,b", `x'y`, "[1]", "{}", "a"},
				FamilyID:  newID(),
				ExpiresAt: h.at(90*time.Minute + 123456*time.Microsecond),
				CreatedAt: h.at(-time.Second + 654321*time.Microsecond),
				Revoked:   true,
			}
			h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, want))
			h.wantEqual("FindAccessToken", h.findAccessToken(want.ID), want)
		}},
		{"ClientCredentialsToken", func(h *harness) {
			// No user and no scopes.
			h.client("app-1")
			want := h.newAccessToken("app-1", newID())
			want.UserID, want.Scopes = "", nil
			h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, want))
			h.wantEqual("FindAccessToken", h.findAccessToken(want.ID), want)
		}},
		{"ZeroCreatedAt", func(h *harness) {
			h.client("app-1")
			at := h.newAccessToken("app-1", newID())
			at.CreatedAt = time.Time{}
			h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, at))
			h.wantRecent("CreatedAt set by CreateAccessToken", h.findAccessToken(at.ID).CreatedAt)
		}},
		{"Missing", func(h *harness) {
			h.wantGone("FindAccessToken of a missing id", func() error { return h.accessGone(newID()) })
			h.wantGone("FindAccessToken of an empty id", func() error { return h.accessGone("") })
			h.wantGone("FindAccessToken of an over-long id", func() error { return h.accessGone(longString('a', oauth.MaxTokenIDLen+1)) })
			h.wantErr("RevokeAccessToken of a missing id", h.s.RevokeAccessToken(h.ctx, newID()), oauth.ErrNotFound)
		}},
		{"ExpiredIsFound", func(h *harness) {
			h.client("app-1")
			want := h.newAccessToken("app-1", newID())
			want.CreatedAt, want.ExpiresAt = h.at(-2*time.Hour), h.at(-time.Hour)
			h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, want))
			h.wantEqual("FindAccessToken of an expired token", h.findAccessToken(want.ID), want)
		}},
		{"Duplicate", func(h *harness) {
			h.client("app-1")
			want := h.accessToken("app-1", newID())
			dup := h.newAccessToken("app-1", newID())
			dup.ID = want.ID
			h.wantErr("CreateAccessToken with an existing id", h.s.CreateAccessToken(h.ctx, dup), oauth.ErrDuplicate)
			h.wantEqual("FindAccessToken after the refused duplicate", h.findAccessToken(want.ID), want)
		}},
		{"Revoke", func(h *harness) {
			h.client("app-1")
			want := h.accessToken("app-1", newID())
			other := h.accessToken("app-1", want.FamilyID)
			h.fatalIf("RevokeAccessToken", h.s.RevokeAccessToken(h.ctx, want.ID))
			want.Revoked = true
			h.wantEqual("FindAccessToken after RevokeAccessToken", h.findAccessToken(want.ID), want)
			h.fatalIf("RevokeAccessToken of a revoked token", h.s.RevokeAccessToken(h.ctx, want.ID))
			h.wantEqual("FindAccessToken after a second RevokeAccessToken", h.findAccessToken(want.ID), want)
			h.wantEqual("FindAccessToken of a token of the same family", h.findAccessToken(other.ID), other)
		}},
		{"RevokeFamily", func(h *harness) {
			h.client("app-1")
			h.client("app-2")
			fam, otherFam := newID(), newID()
			live := h.accessToken("app-1", fam)
			live2 := h.accessToken("app-2", fam)
			// Decision: an expired token that was not revoked counts; the
			// method has no time to judge expiry by.
			expired := h.newAccessToken("app-1", fam)
			expired.CreatedAt, expired.ExpiresAt = h.at(-2*time.Hour), h.at(-time.Hour)
			h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, expired))
			revoked := h.newAccessToken("app-1", fam)
			revoked.Revoked = true
			h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, revoked))
			untouched := []*oauth.AccessToken{h.accessToken("app-1", otherFam), h.accessToken("app-2", otherFam)}

			n, err := h.s.RevokeAccessTokenFamily(h.ctx, fam)
			h.wantCount("RevokeAccessTokenFamily", n, err, 3)
			for _, at := range []*oauth.AccessToken{live, live2, expired, revoked} {
				want := *at
				want.Revoked = true
				h.wantEqual("FindAccessToken of a revoked family's token", h.findAccessToken(at.ID), &want)
			}
			for _, at := range untouched {
				h.wantEqual("FindAccessToken of another family's token", h.findAccessToken(at.ID), at)
			}
			n, err = h.s.RevokeAccessTokenFamily(h.ctx, fam)
			h.wantCount("RevokeAccessTokenFamily again", n, err, 0)
			n, err = h.s.RevokeAccessTokenFamily(h.ctx, newID())
			h.wantCount("RevokeAccessTokenFamily of an unknown family", n, err, 0)
		}},
	}
}
