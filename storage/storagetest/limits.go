package storagetest

import (
	"strings"
	"time"

	"github.com/oauthkit/oauth"
)

// Values at the root package's limits are stored whole: a column narrower
// than a Max… constant, a TIMESTAMP column ending in 2038 or a time zone
// lost on the way fails here.
func limitCases() []testCase {
	// utf8Name is MaxNameLen bytes of two-byte characters and one ASCII.
	utf8Name := strings.Repeat("é", oauth.MaxNameLen/2) + strings.Repeat("x", oauth.MaxNameLen%2)
	longURI := func(n int) string { return "https://app.example/" + longString('p', n-len("https://app.example/")) }
	firstTime := time.Unix(0, 0).UTC()
	lastTime := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	return []testCase{
		{"Client", func(h *harness) {
			want := h.newClient(longString('c', oauth.MaxClientIDLen))
			want.Name = utf8Name
			want.SecretHash = longString('h', oauth.MaxSecretHashLen)
			want.RedirectURIs = []string{longURI(oauth.MaxURILen), longURI(oauth.MaxURILen - 1)}
			want.GrantTypes = []string{longString('g', oauth.MaxScopeLen)}
			want.Scopes = manyScopes(oauth.MaxScopesLen)
			want.CreatedAt, want.UpdatedAt = firstTime, lastTime
			h.fatalIf("CreateClient at the limits", h.s.CreateClient(h.ctx, want))
			h.wantEqual("FindClient at the limits", h.findClient(want.ID), want)
		}},
		{"Scope", func(h *harness) {
			want := oauth.Scope{ID: longString('s', oauth.MaxScopeLen), Description: utf8Name}
			h.fatalIf("CreateScope at the limits", h.s.CreateScope(h.ctx, &want))
			got, err := h.s.FindScopes(h.ctx, []string{want.ID})
			h.fatalIf("FindScopes", err)
			h.wantEqual("FindScopes at the limits", got, []oauth.Scope{want})
		}},
		{"Tokens", func(h *harness) {
			h.client("app-1")
			at := &oauth.AccessToken{
				ID:        longString('a', oauth.MaxTokenIDLen),
				ClientID:  "app-1",
				UserID:    longString('u', oauth.MaxUserIDLen),
				Scopes:    manyScopes(oauth.MaxScopesLen),
				FamilyID:  longString('f', oauth.MaxTokenIDLen),
				ExpiresAt: lastTime,
				CreatedAt: firstTime,
			}
			h.fatalIf("CreateAccessToken at the limits", h.s.CreateAccessToken(h.ctx, at))
			h.wantEqual("FindAccessToken at the limits", h.findAccessToken(at.ID), at)
			rt := &oauth.RefreshToken{
				ID:            longString('r', oauth.MaxTokenIDLen),
				AccessTokenID: at.ID,
				ClientID:      "app-1",
				UserID:        at.UserID,
				Scopes:        at.Scopes,
				FamilyID:      at.FamilyID,
				ExpiresAt:     lastTime,
				CreatedAt:     firstTime,
				Revoked:       true,
				RotatedAt:     lastTime,
			}
			h.fatalIf("CreateRefreshToken at the limits", h.s.CreateRefreshToken(h.ctx, rt))
			h.wantEqual("FindRefreshToken at the limits", h.findRefreshToken(rt.ID), rt)
		}},
		{"AuthCode", func(h *harness) {
			h.client("app-1")
			want := h.newAuthCode("app-1")
			want.ID = longString('c', oauth.MaxTokenIDLen)
			want.UserID = longString('u', oauth.MaxUserIDLen)
			want.Scopes = manyScopes(oauth.MaxScopesLen)
			want.RedirectURI = longURI(oauth.MaxURILen)
			want.CodeChallenge = longString('x', oauth.MaxChallengeLen)
			want.ExpiresAt, want.CreatedAt = lastTime, firstTime
			h.fatalIf("CreateAuthCode at the limits", h.s.CreateAuthCode(h.ctx, want))
			h.wantEqual("FindAuthCode at the limits", h.findAuthCode(want.ID), want)
		}},
		{"DeviceCode", func(h *harness) {
			h.client("app-1")
			want := h.newDeviceCode("app-1")
			want.ID = longString('d', oauth.MaxTokenIDLen)
			want.UserCode = "BCDFGHJK0123456Z"[:oauth.MaxUserCodeLen]
			want.UserID = longString('u', oauth.MaxUserIDLen)
			want.Status = oauth.DeviceApproved
			want.Scopes = manyScopes(oauth.MaxScopesLen)
			want.VerificationURI = longURI(oauth.MaxURILen)
			want.VerificationURIComplete = longURI(oauth.MaxURILen)
			want.Interval = 24 * time.Hour
			want.ExpiresAt, want.CreatedAt, want.LastPolledAt = lastTime, firstTime, lastTime
			h.fatalIf("CreateDeviceCode at the limits", h.s.CreateDeviceCode(h.ctx, want))
			h.wantEqual("FindDeviceCode at the limits", h.findDeviceCode(want.ID), want)
			got, err := h.s.FindDeviceCodeByUserCode(h.ctx, want.UserCode)
			h.fatalIf("FindDeviceCodeByUserCode at the limits", err)
			h.wantEqual("FindDeviceCodeByUserCode at the limits", got, want)
		}},
		{"TimesInOtherZones", func(h *harness) {
			// Times given in any location are stored as the same instants;
			// a backend that writes the wall clock without converting to
			// UTC is off by the zone's offset here.
			east := time.FixedZone("UTC+05:30", 5*3600+1800)
			west := time.FixedZone("UTC-08:00", -8*3600)
			h.client("app-1")
			at := h.newAccessToken("app-1", newID())
			at.CreatedAt, at.ExpiresAt = h.now.In(east), h.at(time.Hour).In(west)
			h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, at))
			h.wantEqual("FindAccessToken", h.findAccessToken(at.ID), at)
			rt := h.newRefreshToken(at)
			rt.RotatedAt, rt.Revoked = h.at(time.Second).In(west), true
			h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, rt))
			h.wantEqual("FindRefreshToken", h.findRefreshToken(rt.ID), rt)
			d := h.newDeviceCode("app-1")
			d.LastPolledAt = h.now.In(east)
			d.ExpiresAt = h.at(10 * time.Minute).In(east)
			h.fatalIf("CreateDeviceCode", h.s.CreateDeviceCode(h.ctx, d))
			h.wantEqual("FindDeviceCode", h.findDeviceCode(d.ID), d)
			// Expiry compares instants too: ten minutes on, in another zone,
			// the code has just expired.
			_, err := h.s.PollDeviceCode(h.ctx, d.ID, h.at(10*time.Minute).In(west))
			h.wantErr("PollDeviceCode at the expiry given in another zone", err, oauth.ErrExpired)
			_, err = h.s.PollDeviceCode(h.ctx, d.ID, h.at(10*time.Minute-time.Microsecond).In(west))
			h.wantErr("PollDeviceCode just before the expiry given in another zone", err, nil)
		}},
	}
}
