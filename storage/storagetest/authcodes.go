package storagetest

import (
	"time"

	"github.com/oauthkit/oauth"
)

func authCodeCases() []testCase {
	return []testCase{
		{"RoundTrip", func(h *harness) {
			h.client("app-1")
			want := h.authCode("app-1")
			h.wantEqual("FindAuthCode", h.findAuthCode(want.ID), want)
		}},
		{"RoundTripWithoutOptionalFields", func(h *harness) {
			// No redirect_uri, no PKCE, no scopes; created consumed.
			h.client("app-1")
			want := h.newAuthCode("app-1")
			want.RedirectURI, want.CodeChallenge, want.CodeChallengeMethod, want.Scopes = "", "", "", nil
			want.Revoked = true
			h.fatalIf("CreateAuthCode", h.s.CreateAuthCode(h.ctx, want))
			h.wantEqual("FindAuthCode", h.findAuthCode(want.ID), want)
		}},
		{"RoundTripPlainPKCE", func(h *harness) {
			h.client("app-1")
			want := h.newAuthCode("app-1")
			want.CodeChallengeMethod = oauth.PKCEMethodPlain
			want.CodeChallenge = longString('v', oauth.MaxChallengeLen)
			want.RedirectURI = "http://[::1]:8080/cb?state=a,b&x=%20"
			h.fatalIf("CreateAuthCode", h.s.CreateAuthCode(h.ctx, want))
			h.wantEqual("FindAuthCode", h.findAuthCode(want.ID), want)
		}},
		{"ZeroCreatedAt", func(h *harness) {
			h.client("app-1")
			c := h.newAuthCode("app-1")
			c.CreatedAt = time.Time{}
			h.fatalIf("CreateAuthCode", h.s.CreateAuthCode(h.ctx, c))
			h.wantRecent("CreatedAt set by CreateAuthCode", h.findAuthCode(c.ID).CreatedAt)
		}},
		{"Missing", func(h *harness) {
			h.wantGone("FindAuthCode of a missing id", func() error { return h.codeGone(newID()) })
			h.wantGone("FindAuthCode of an empty id", func() error { return h.codeGone("") })
			_, err := h.s.ConsumeAuthCode(h.ctx, newID(), h.now)
			h.wantErr("ConsumeAuthCode of a missing id", err, oauth.ErrNotFound)
		}},
		{"Duplicate", func(h *harness) {
			h.client("app-1")
			want := h.authCode("app-1")
			dup := h.newAuthCode("app-1")
			dup.ID = want.ID
			h.wantErr("CreateAuthCode with an existing id", h.s.CreateAuthCode(h.ctx, dup), oauth.ErrDuplicate)
			h.wantEqual("FindAuthCode after the refused duplicate", h.findAuthCode(want.ID), want)
		}},
		{"Consume", func(h *harness) {
			h.client("app-1")
			want := h.authCode("app-1")
			other := h.authCode("app-1")
			got, err := h.s.ConsumeAuthCode(h.ctx, want.ID, h.at(time.Minute))
			h.fatalIf("ConsumeAuthCode", err)
			if got == nil {
				h.t.Fatal("ConsumeAuthCode: got nil code and nil error")
			}
			// Returned as it was before: Revoked false.
			h.wantEqual("ConsumeAuthCode's result", got, want)
			used := *want
			used.Revoked = true
			h.wantEqual("FindAuthCode after ConsumeAuthCode", h.findAuthCode(want.ID), &used)
			h.wantEqual("FindAuthCode of another code", h.findAuthCode(other.ID), other)

			got, err = h.s.ConsumeAuthCode(h.ctx, want.ID, h.at(time.Minute))
			h.wantErr("ConsumeAuthCode again", err, oauth.ErrAlreadyUsed)
			if got != nil {
				h.t.Errorf("ConsumeAuthCode again: got a code %+v; want nil", got)
			}
			// Used wins over expired (the interface doc says so).
			_, err = h.s.ConsumeAuthCode(h.ctx, want.ID, want.ExpiresAt.Add(time.Hour))
			h.wantErr("ConsumeAuthCode of a used code since expired", err, oauth.ErrAlreadyUsed)
		}},
		{"ConsumeExpired", func(h *harness) {
			h.client("app-1")
			want := h.authCode("app-1")
			_, err := h.s.ConsumeAuthCode(h.ctx, want.ID, want.ExpiresAt)
			h.wantErr("ConsumeAuthCode at the expiry", err, oauth.ErrExpired)
			_, err = h.s.ConsumeAuthCode(h.ctx, want.ID, want.ExpiresAt.Add(time.Microsecond))
			h.wantErr("ConsumeAuthCode after the expiry", err, oauth.ErrExpired)
			h.wantEqual("FindAuthCode after the refused consumes", h.findAuthCode(want.ID), want)
			// One microsecond before the expiry it is still good.
			_, err = h.s.ConsumeAuthCode(h.ctx, want.ID, want.ExpiresAt.Add(-time.Microsecond))
			h.wantErr("ConsumeAuthCode just before the expiry", err, nil)
		}},
	}
}
