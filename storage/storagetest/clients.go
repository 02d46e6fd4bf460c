package storagetest

import (
	"time"

	"github.com/oauthkit/oauth"
)

func clientCases() []testCase {
	return []testCase{
		{"RoundTrip", func(h *harness) {
			want := h.client("app-1")
			h.wantEqual("FindClient", h.findClient("app-1"), want)
		}},
		{"PublicClientWithEmptyFields", func(h *harness) {
			// A public client: no secret, no redirect URIs, grant types or
			// scopes (nil and empty both read back as empty).
			want := &oauth.Client{ID: "public-1", Name: "Public", Scopes: []string{}, CreatedAt: h.now, UpdatedAt: h.now}
			h.fatalIf("CreateClient", h.s.CreateClient(h.ctx, want))
			got := h.findClient("public-1")
			h.wantEqual("FindClient", got, want)
			if !got.Public() {
				h.t.Errorf("FindClient: Public() = false; want true")
			}
		}},
		{"UnicodeName", func(h *harness) {
			// Names are UTF-8 text, four-byte characters included.
			want := h.newClient("app-utf8")
			want.Name = "Ĉamp — 名前 ✓ 🚀"
			h.fatalIf("CreateClient", h.s.CreateClient(h.ctx, want))
			h.wantEqual("FindClient", h.findClient("app-utf8"), want)
		}},
		{"ZeroTimesSetOnCreate", func(h *harness) {
			c := h.newClient("app-1")
			c.CreatedAt, c.UpdatedAt = time.Time{}, time.Time{}
			h.fatalIf("CreateClient", h.s.CreateClient(h.ctx, c))
			got := h.findClient("app-1")
			h.wantRecent("CreatedAt", got.CreatedAt)
			h.wantRecent("UpdatedAt", got.UpdatedAt)
		}},
		{"Missing", func(h *harness) {
			h.wantGone("FindClient of a missing id", func() error { return h.clientGone("nobody") })
			// Decision: an empty or over-long ID is simply not found.
			h.wantGone("FindClient of an empty id", func() error { return h.clientGone("") })
			h.wantGone("FindClient of an over-long id", func() error { return h.clientGone(longString('c', oauth.MaxClientIDLen+1)) })
		}},
		{"CaseSensitiveID", func(h *harness) {
			// Decision: IDs are exact byte strings. A database collation that
			// folds case would let "App-1" authenticate as "app-1".
			h.client("app-1")
			h.wantGone("FindClient with another case", func() error { return h.clientGone("APP-1") })
			h.fatalIf("CreateClient differing only in case", h.s.CreateClient(h.ctx, h.newClient("APP-1")))
			h.wantEqual("FindClient app-1 after creating APP-1", h.findClient("app-1").Name, "App app-1")
		}},
		{"Duplicate", func(h *harness) {
			want := h.client("app-1")
			dup := h.newClient("app-1")
			dup.Name = "Other"
			h.wantErr("CreateClient with an existing id", h.s.CreateClient(h.ctx, dup), oauth.ErrDuplicate)
			h.wantEqual("FindClient after the refused duplicate", h.findClient("app-1"), want)
		}},
		{"Update", func(h *harness) {
			old := h.client("app-1")
			upd := &oauth.Client{
				ID:           "app-1",
				Name:         "Renamed",
				RedirectURIs: []string{"https://new.example/cb"},
				GrantTypes:   []string{oauth.GrantClientCredentials},
				Scopes:       []string{"write"},
				// CreatedAt is not replaced; UpdatedAt is.
				CreatedAt: h.at(time.Hour),
				UpdatedAt: h.at(time.Minute),
			}
			h.fatalIf("UpdateClient", h.s.UpdateClient(h.ctx, upd))
			want := *upd
			want.CreatedAt = old.CreatedAt
			h.wantEqual("FindClient after UpdateClient", h.findClient("app-1"), &want)
		}},
		{"UpdateZeroUpdatedAt", func(h *harness) {
			h.client("app-1")
			upd := h.newClient("app-1")
			upd.UpdatedAt = time.Time{}
			h.fatalIf("UpdateClient", h.s.UpdateClient(h.ctx, upd))
			h.wantRecent("UpdatedAt set by UpdateClient", h.findClient("app-1").UpdatedAt)
		}},
		{"UpdateMissing", func(h *harness) {
			h.wantErr("UpdateClient of a missing client", h.s.UpdateClient(h.ctx, h.newClient("nobody")), oauth.ErrNotFound)
			h.wantGone("FindClient after the refused update", func() error { return h.clientGone("nobody") })
		}},
		{"UpdateInvalid", func(h *harness) {
			want := h.client("app-1")
			bad := h.newClient("app-1")
			bad.Name = ""
			h.wantErr("UpdateClient with an empty name", h.s.UpdateClient(h.ctx, bad), oauth.ErrInvalid)
			h.wantEqual("FindClient after the refused update", h.findClient("app-1"), want)
		}},
		{"Delete", func(h *harness) {
			h.client("app-1")
			h.fatalIf("DeleteClient", h.s.DeleteClient(h.ctx, "app-1"))
			h.wantGone("FindClient after DeleteClient", func() error { return h.clientGone("app-1") })
			h.wantErr("DeleteClient again", h.s.DeleteClient(h.ctx, "app-1"), oauth.ErrNotFound)
			h.wantErr("DeleteClient of a missing client", h.s.DeleteClient(h.ctx, "nobody"), oauth.ErrNotFound)
			// The ID can be registered again.
			h.client("app-1")
		}},
		{"DeleteRemovesIssuedRecords", func(h *harness) {
			h.client("gone")
			h.client("kept")
			at, rt := h.refreshToken("gone", newID())
			code := h.authCode("gone")
			dev := h.deviceCode("gone")
			keptAT, keptRT := h.refreshToken("kept", newID())
			keptCode := h.authCode("kept")
			keptDev := h.deviceCode("kept")

			h.fatalIf("DeleteClient", h.s.DeleteClient(h.ctx, "gone"))
			h.wantGone("FindAccessToken of the deleted client's token", func() error { return h.accessGone(at.ID) })
			h.wantGone("FindRefreshToken of the deleted client's token", func() error { return h.refreshGone(rt.ID) })
			h.wantGone("FindAuthCode of the deleted client's code", func() error { return h.codeGone(code.ID) })
			h.wantGone("FindDeviceCode of the deleted client's code", func() error { return h.deviceGone(dev.ID) })
			_, err := h.s.FindDeviceCodeByUserCode(h.ctx, dev.UserCode)
			h.wantErr("FindDeviceCodeByUserCode of the deleted client's code", err, oauth.ErrNotFound)

			h.wantEqual("other client's access token", h.findAccessToken(keptAT.ID), keptAT)
			h.wantEqual("other client's refresh token", h.findRefreshToken(keptRT.ID), keptRT)
			h.wantEqual("other client's auth code", h.findAuthCode(keptCode.ID), keptCode)
			h.wantEqual("other client's device code", h.findDeviceCode(keptDev.ID), keptDev)
		}},
		{"List", func(h *harness) {
			got, err := h.s.ListClients(h.ctx)
			h.fatalIf("ListClients of an empty store", err)
			h.wantEqual("ListClients of an empty store", got, []oauth.Client(nil))
			// IDs that sort alike under any collation: lowercase, differing
			// at one position.
			var want []oauth.Client
			for _, id := range []string{"client-c", "client-a", "client-d", "client-b"} {
				h.client(id)
			}
			for _, id := range []string{"client-a", "client-b", "client-c", "client-d"} {
				want = append(want, *h.newClient(id))
			}
			got, err = h.s.ListClients(h.ctx)
			h.fatalIf("ListClients", err)
			h.wantEqual("ListClients", got, want)
		}},
	}
}

func longString(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
