package storagetest

import (
	"github.com/oauthkit/oauth"
)

func scopeCases() []testCase {
	create := func(h *harness, scopes ...oauth.Scope) {
		h.t.Helper()
		for _, sc := range scopes {
			h.fatalIf("CreateScope "+sc.ID, h.s.CreateScope(h.ctx, &sc))
		}
	}
	return []testCase{
		{"CreateFindList", func(h *harness) {
			got, err := h.s.ListScopes(h.ctx)
			h.fatalIf("ListScopes of an empty store", err)
			h.wantEqual("ListScopes of an empty store", got, []oauth.Scope(nil))
			// Scope tokens may hold any printable ASCII but space, '"' and '\'.
			create(h,
				oauth.Scope{ID: "scope-c", Description: "Read posts — ✓"},
				oauth.Scope{ID: "scope-a", Description: ""},
				oauth.Scope{ID: "scope-b:{x,y}", Description: "Punctuation: !#$%&'()*+,-./:;<=>?@[]^_`{|}~"},
			)
			got, err = h.s.ListScopes(h.ctx)
			h.fatalIf("ListScopes", err)
			h.wantEqual("ListScopes", got, []oauth.Scope{
				{ID: "scope-a", Description: ""},
				{ID: "scope-b:{x,y}", Description: "Punctuation: !#$%&'()*+,-./:;<=>?@[]^_`{|}~"},
				{ID: "scope-c", Description: "Read posts — ✓"},
			})
		}},
		{"FindScopes", func(h *harness) {
			create(h,
				oauth.Scope{ID: "openid", Description: "Sign you in"},
				oauth.Scope{ID: "email", Description: "Your address"},
				oauth.Scope{ID: "read", Description: "Read"},
			)
			got, err := h.s.FindScopes(h.ctx, []string{"read", "unknown", "openid"})
			h.fatalIf("FindScopes", err)
			h.wantEqual("FindScopes in the order of ids, unknown left out", got, []oauth.Scope{
				{ID: "read", Description: "Read"},
				{ID: "openid", Description: "Sign you in"},
			})
			// Decision: a repeated id yields its scope once, at its first
			// position; an empty or invalid id is unknown.
			got, err = h.s.FindScopes(h.ctx, []string{"email", "", "read", "email", "not valid"})
			h.fatalIf("FindScopes with repeats", err)
			h.wantEqual("FindScopes with repeats", got, []oauth.Scope{
				{ID: "email", Description: "Your address"},
				{ID: "read", Description: "Read"},
			})
			for _, ids := range [][]string{nil, {}, {"unknown"}} {
				got, err = h.s.FindScopes(h.ctx, ids)
				h.fatalIf("FindScopes of no known id", err)
				h.wantEqual("FindScopes of no known id", got, []oauth.Scope(nil))
			}
		}},
		{"CaseSensitiveID", func(h *harness) {
			// Decision: scope tokens are case-sensitive (RFC 6749 §3.3).
			create(h, oauth.Scope{ID: "read", Description: "lower"}, oauth.Scope{ID: "READ", Description: "upper"})
			got, err := h.s.FindScopes(h.ctx, []string{"read", "Read"})
			h.fatalIf("FindScopes", err)
			h.wantEqual("FindScopes", got, []oauth.Scope{{ID: "read", Description: "lower"}})
		}},
		{"Duplicate", func(h *harness) {
			create(h, oauth.Scope{ID: "read", Description: "Read"})
			h.wantErr("CreateScope with an existing id", h.s.CreateScope(h.ctx, &oauth.Scope{ID: "read", Description: "Other"}), oauth.ErrDuplicate)
			got, err := h.s.FindScopes(h.ctx, []string{"read"})
			h.fatalIf("FindScopes", err)
			h.wantEqual("FindScopes after the refused duplicate", got, []oauth.Scope{{ID: "read", Description: "Read"}})
		}},
		{"Update", func(h *harness) {
			create(h, oauth.Scope{ID: "read", Description: "Read"})
			h.fatalIf("UpdateScope", h.s.UpdateScope(h.ctx, &oauth.Scope{ID: "read", Description: "Read everything"}))
			got, err := h.s.FindScopes(h.ctx, []string{"read"})
			h.fatalIf("FindScopes", err)
			h.wantEqual("FindScopes after UpdateScope", got, []oauth.Scope{{ID: "read", Description: "Read everything"}})

			h.wantErr("UpdateScope of a missing scope", h.s.UpdateScope(h.ctx, &oauth.Scope{ID: "write", Description: "x"}), oauth.ErrNotFound)
			h.wantErr("UpdateScope with a description too long",
				h.s.UpdateScope(h.ctx, &oauth.Scope{ID: "read", Description: longString('d', oauth.MaxNameLen+1)}), oauth.ErrInvalid)
			list, err := h.s.ListScopes(h.ctx)
			h.fatalIf("ListScopes", err)
			h.wantEqual("ListScopes after the refused updates", list, []oauth.Scope{{ID: "read", Description: "Read everything"}})
		}},
		{"Delete", func(h *harness) {
			create(h, oauth.Scope{ID: "read", Description: "Read"}, oauth.Scope{ID: "write", Description: "Write"})
			h.fatalIf("DeleteScope", h.s.DeleteScope(h.ctx, "read"))
			h.wantErr("DeleteScope again", h.s.DeleteScope(h.ctx, "read"), oauth.ErrNotFound)
			h.wantErr("DeleteScope of a missing scope", h.s.DeleteScope(h.ctx, "nothing"), oauth.ErrNotFound)
			list, err := h.s.ListScopes(h.ctx)
			h.fatalIf("ListScopes", err)
			h.wantEqual("ListScopes after DeleteScope", list, []oauth.Scope{{ID: "write", Description: "Write"}})
			create(h, oauth.Scope{ID: "read", Description: "Again"})
		}},
	}
}
