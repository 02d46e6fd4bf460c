package storagetest

import (
	"strings"
	"time"

	"github.com/oauthkit/oauth"
)

// mutation makes a valid record invalid.
type mutation[T any] struct {
	name string
	mut  func(*T)
}

// wantInvalid creates, for each mutation, a fresh valid record changed by
// it, and checks that create refuses it with ErrInvalid and that nothing
// was written: find of its ID is ErrNotFound.
func wantInvalid[T any](h *harness, kind string, fresh func() *T, id func(*T) string, create func(*T) error, find func(string) error, ms []mutation[T]) {
	h.t.Helper()
	ok := fresh()
	h.fatalIf("Create"+kind+" of the valid record", create(ok))
	for _, m := range ms {
		r := fresh()
		m.mut(r)
		h.wantErr("Create"+kind+" with "+m.name, create(r), oauth.ErrInvalid)
		if id(r) != id(ok) {
			h.wantGone("Find"+kind+" after the refused create with "+m.name, func() error { return find(id(r)) })
		}
	}
}

// Times outside what storage accepts: before the Unix epoch, after the
// start of 9999-12-31 UTC.
var (
	tooEarly = time.Unix(0, 0).Add(-time.Second)
	tooLate  = time.Date(9999, 12, 31, 0, 0, 0, 1000, time.UTC)
)

// tokenMutations are the invalid values the four token-like records share,
// through accessors to their fields.
func tokenMutations[T any](id, clientID, userID, familyID func(*T) *string, scopes func(*T) *[]string, expiresAt, createdAt func(*T) *time.Time) []mutation[T] {
	return []mutation[T]{
		{"an empty id", func(r *T) { *id(r) = "" }},
		{"an id too long", func(r *T) { *id(r) = longString('i', oauth.MaxTokenIDLen+1) }},
		{"an id with a space", func(r *T) { *id(r) = "id with space" }},
		{"an id with a non-ASCII character", func(r *T) { *id(r) = "id-é" }},
		{"an empty client id", func(r *T) { *clientID(r) = "" }},
		{"a client id too long", func(r *T) { *clientID(r) = longString('c', oauth.MaxClientIDLen+1) }},
		{"an unknown client", func(r *T) { *clientID(r) = "nobody" }},
		{"a user id too long", func(r *T) { *userID(r) = longString('u', oauth.MaxUserIDLen+1) }},
		{"a user id with a space", func(r *T) { *userID(r) = "user 1" }},
		{"an empty family id", func(r *T) { *familyID(r) = "" }},
		{"a family id too long", func(r *T) { *familyID(r) = longString('f', oauth.MaxTokenIDLen+1) }},
		{"an empty scope", func(r *T) { *scopes(r) = []string{"openid", ""} }},
		{"a scope with a space", func(r *T) { *scopes(r) = []string{"open id"} }},
		{`a scope with '"'`, func(r *T) { *scopes(r) = []string{`a"b`} }},
		{"a scope too long", func(r *T) { *scopes(r) = []string{longString('s', oauth.MaxScopeLen+1)} }},
		{"scopes too long together", func(r *T) { *scopes(r) = manyScopes(oauth.MaxScopesLen + 1) }},
		{"a zero expiry", func(r *T) { *expiresAt(r) = time.Time{} }},
		{"an expiry before 1970", func(r *T) { *expiresAt(r) = tooEarly }},
		{"an expiry after 9999-12-31", func(r *T) { *expiresAt(r) = tooLate }},
		{"a creation time before 1970", func(r *T) { *createdAt(r) = tooEarly }},
	}
}

// manyScopes returns scopes of at most MaxScopeLen bytes whose space-joined
// length plus one is total (as the root package counts them).
func manyScopes(total int) []string {
	var out []string
	for i := 0; total > 0; i++ {
		n := min(total, oauth.MaxScopeLen+1) // a scope and its separator
		if rest := total - n; rest > 0 && rest < 2 {
			n-- // leave at least two bytes: one scope byte and a separator
		}
		s := []byte(longString('a'+byte(i%26), n-1))
		s[0] = 'A' + byte(i%26)
		out = append(out, string(s))
		total -= n
	}
	return out
}

func invalidCases() []testCase {
	return []testCase{
		{"NilRecords", func(h *harness) {
			// Decision: a nil record is invalid, not a panic.
			h.client("app-1")
			at := h.accessToken("app-1", newID())
			rt := h.newRefreshToken(at)
			h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, rt))
			for _, c := range []struct {
				name string
				call func() error
			}{
				{"CreateClient", func() error { return h.s.CreateClient(h.ctx, nil) }},
				{"UpdateClient", func() error { return h.s.UpdateClient(h.ctx, nil) }},
				{"CreateScope", func() error { return h.s.CreateScope(h.ctx, nil) }},
				{"UpdateScope", func() error { return h.s.UpdateScope(h.ctx, nil) }},
				{"CreateAccessToken", func() error { return h.s.CreateAccessToken(h.ctx, nil) }},
				{"CreateRefreshToken", func() error { return h.s.CreateRefreshToken(h.ctx, nil) }},
				{"RotateRefreshToken", func() error { return h.s.RotateRefreshToken(h.ctx, rt.ID, nil, h.now) }},
				{"CreateAuthCode", func() error { return h.s.CreateAuthCode(h.ctx, nil) }},
				{"CreateDeviceCode", func() error { return h.s.CreateDeviceCode(h.ctx, nil) }},
			} {
				h.wantErr(c.name+" of nil", c.call(), oauth.ErrInvalid)
			}
			h.wantEqual("FindRefreshToken after a rotation to nil", h.findRefreshToken(rt.ID), rt)
		}},
		{"Clients", func(h *harness) {
			wantInvalid(h, "Client",
				func() *oauth.Client { return h.newClient("app-1") },
				func(c *oauth.Client) string { return c.ID },
				func(c *oauth.Client) error { return h.s.CreateClient(h.ctx, c) },
				h.clientGone,
				[]mutation[oauth.Client]{
					{"an empty id", func(c *oauth.Client) { c.ID = "" }},
					{"an id too long", func(c *oauth.Client) { c.ID = longString('c', oauth.MaxClientIDLen+1) }},
					{"an id with a space", func(c *oauth.Client) { c.ID = "app 2" }},
					{"an empty name", func(c *oauth.Client) { c.ID, c.Name = "app-2", "" }},
					{"a name too long", func(c *oauth.Client) { c.ID, c.Name = "app-2", longString('n', oauth.MaxNameLen+1) }},
					{"a name with NUL", func(c *oauth.Client) { c.ID, c.Name = "app-2", "a\x00b" }},
					{"a name of invalid UTF-8", func(c *oauth.Client) { c.ID, c.Name = "app-2", "a\xffb" }},
					{"a secret hash too long", func(c *oauth.Client) { c.ID, c.SecretHash = "app-2", longString('h', oauth.MaxSecretHashLen+1) }},
					{"a confidential client without secret", func(c *oauth.Client) { c.ID, c.SecretHash = "app-2", "" }},
					{"an empty redirect uri", func(c *oauth.Client) { c.ID, c.RedirectURIs = "app-2", []string{""} }},
					{"a redirect uri with a space", func(c *oauth.Client) { c.ID, c.RedirectURIs = "app-2", []string{"https://a.example/c b"} }},
					{"a redirect uri too long", func(c *oauth.Client) {
						c.ID, c.RedirectURIs = "app-2", []string{"https://a.example/" + longString('p', oauth.MaxURILen)}
					}},
					{"a grant type with a space", func(c *oauth.Client) { c.ID, c.GrantTypes = "app-2", []string{"client credentials"} }},
					{"an invalid scope", func(c *oauth.Client) { c.ID, c.Scopes = "app-2", []string{`a\b`} }},
					{"a creation time before 1970", func(c *oauth.Client) { c.ID, c.CreatedAt = "app-2", tooEarly }},
					{"an update time after 9999-12-31", func(c *oauth.Client) { c.ID, c.UpdatedAt = "app-2", tooLate }},
				})
		}},
		{"Scopes", func(h *harness) {
			wantInvalid(h, "Scope",
				func() *oauth.Scope { return &oauth.Scope{ID: "read", Description: "Read"} },
				func(s *oauth.Scope) string { return s.ID },
				func(s *oauth.Scope) error { return h.s.CreateScope(h.ctx, s) },
				func(id string) error {
					got, err := h.s.FindScopes(h.ctx, []string{id})
					if err == nil && len(got) == 0 {
						return oauth.ErrNotFound
					}
					return err
				},
				[]mutation[oauth.Scope]{
					{"an empty id", func(s *oauth.Scope) { s.ID = "" }},
					{"an id too long", func(s *oauth.Scope) { s.ID = longString('s', oauth.MaxScopeLen+1) }},
					{"an id with a space", func(s *oauth.Scope) { s.ID = "read all" }},
					{`an id with '\'`, func(s *oauth.Scope) { s.ID = `read\all` }},
					{"a description too long", func(s *oauth.Scope) { s.ID, s.Description = "write", longString('d', oauth.MaxNameLen+1) }},
					{"a description of invalid UTF-8", func(s *oauth.Scope) { s.ID, s.Description = "write", "\xc3" }},
				})
		}},
		{"AccessTokens", func(h *harness) {
			h.client("app-1")
			fresh := h.newAccessToken("app-1", newID())
			wantInvalid(h, "AccessToken",
				func() *oauth.AccessToken { c := *fresh; return &c },
				func(t *oauth.AccessToken) string { return t.ID },
				func(t *oauth.AccessToken) error { return h.s.CreateAccessToken(h.ctx, t) },
				h.accessGone,
				withNewIDs(tokenMutations(
					func(t *oauth.AccessToken) *string { return &t.ID },
					func(t *oauth.AccessToken) *string { return &t.ClientID },
					func(t *oauth.AccessToken) *string { return &t.UserID },
					func(t *oauth.AccessToken) *string { return &t.FamilyID },
					func(t *oauth.AccessToken) *[]string { return &t.Scopes },
					func(t *oauth.AccessToken) *time.Time { return &t.ExpiresAt },
					func(t *oauth.AccessToken) *time.Time { return &t.CreatedAt },
				), func(t *oauth.AccessToken) *string { return &t.ID }))
		}},
		{"RefreshTokens", func(h *harness) {
			h.client("app-1")
			fresh := h.newRefreshToken(h.accessToken("app-1", newID()))
			ms := tokenMutations(
				func(t *oauth.RefreshToken) *string { return &t.ID },
				func(t *oauth.RefreshToken) *string { return &t.ClientID },
				func(t *oauth.RefreshToken) *string { return &t.UserID },
				func(t *oauth.RefreshToken) *string { return &t.FamilyID },
				func(t *oauth.RefreshToken) *[]string { return &t.Scopes },
				func(t *oauth.RefreshToken) *time.Time { return &t.ExpiresAt },
				func(t *oauth.RefreshToken) *time.Time { return &t.CreatedAt },
			)
			ms = append(ms,
				mutation[oauth.RefreshToken]{"an empty access token id", func(t *oauth.RefreshToken) { t.AccessTokenID = "" }},
				mutation[oauth.RefreshToken]{"an access token id too long", func(t *oauth.RefreshToken) { t.AccessTokenID = longString('a', oauth.MaxTokenIDLen+1) }},
				mutation[oauth.RefreshToken]{"an unknown access token", func(t *oauth.RefreshToken) { t.AccessTokenID = newID() }},
				mutation[oauth.RefreshToken]{"a rotation time after 9999-12-31", func(t *oauth.RefreshToken) { t.RotatedAt = tooLate }},
			)
			wantInvalid(h, "RefreshToken",
				func() *oauth.RefreshToken { c := *fresh; return &c },
				func(t *oauth.RefreshToken) string { return t.ID },
				func(t *oauth.RefreshToken) error { return h.s.CreateRefreshToken(h.ctx, t) },
				h.refreshGone,
				withNewIDs(ms, func(t *oauth.RefreshToken) *string { return &t.ID }))
		}},
		{"AuthCodes", func(h *harness) {
			h.client("app-1")
			fresh := h.newAuthCode("app-1")
			ms := tokenMutations(
				func(c *oauth.AuthCode) *string { return &c.ID },
				func(c *oauth.AuthCode) *string { return &c.ClientID },
				func(c *oauth.AuthCode) *string { return &c.UserID },
				func(c *oauth.AuthCode) *string { return &c.FamilyID },
				func(c *oauth.AuthCode) *[]string { return &c.Scopes },
				func(c *oauth.AuthCode) *time.Time { return &c.ExpiresAt },
				func(c *oauth.AuthCode) *time.Time { return &c.CreatedAt },
			)
			ms = append(ms,
				mutation[oauth.AuthCode]{"no user", func(c *oauth.AuthCode) { c.UserID = "" }},
				mutation[oauth.AuthCode]{"a redirect uri with a space", func(c *oauth.AuthCode) { c.RedirectURI = "https://a.example/c b" }},
				mutation[oauth.AuthCode]{"a redirect uri too long", func(c *oauth.AuthCode) { c.RedirectURI = "https://a.example/" + longString('p', oauth.MaxURILen) }},
				mutation[oauth.AuthCode]{"a code challenge too long", func(c *oauth.AuthCode) { c.CodeChallenge = longString('x', oauth.MaxChallengeLen+1) }},
				mutation[oauth.AuthCode]{"a challenge without a method", func(c *oauth.AuthCode) { c.CodeChallengeMethod = "" }},
				mutation[oauth.AuthCode]{"a method without a challenge", func(c *oauth.AuthCode) { c.CodeChallenge = "" }},
				mutation[oauth.AuthCode]{"an unknown challenge method", func(c *oauth.AuthCode) { c.CodeChallengeMethod = "S512" }},
			)
			wantInvalid(h, "AuthCode",
				func() *oauth.AuthCode { c := *fresh; return &c },
				func(c *oauth.AuthCode) string { return c.ID },
				func(c *oauth.AuthCode) error { return h.s.CreateAuthCode(h.ctx, c) },
				h.codeGone,
				withNewIDs(ms, func(c *oauth.AuthCode) *string { return &c.ID }))
		}},
		{"DeviceCodes", func(h *harness) {
			h.client("app-1")
			fresh := h.newDeviceCode("app-1")
			ms := tokenMutations(
				func(d *oauth.DeviceCode) *string { return &d.ID },
				func(d *oauth.DeviceCode) *string { return &d.ClientID },
				func(d *oauth.DeviceCode) *string { return &d.UserID },
				func(d *oauth.DeviceCode) *string { return &d.FamilyID },
				func(d *oauth.DeviceCode) *[]string { return &d.Scopes },
				func(d *oauth.DeviceCode) *time.Time { return &d.ExpiresAt },
				func(d *oauth.DeviceCode) *time.Time { return &d.CreatedAt },
			)
			ms = append(ms,
				mutation[oauth.DeviceCode]{"an empty user code", func(d *oauth.DeviceCode) { d.UserCode = "" }},
				mutation[oauth.DeviceCode]{"a user code too long", func(d *oauth.DeviceCode) { d.UserCode = longString('B', oauth.MaxUserCodeLen+1) }},
				mutation[oauth.DeviceCode]{"a lowercase user code", func(d *oauth.DeviceCode) { d.UserCode = strings.ToLower(d.UserCode) }},
				mutation[oauth.DeviceCode]{"a user code with a dash", func(d *oauth.DeviceCode) { d.UserCode = d.UserCode[:4] + "-" + d.UserCode[4:] }},
				mutation[oauth.DeviceCode]{"an empty verification uri", func(d *oauth.DeviceCode) { d.VerificationURI = "" }},
				mutation[oauth.DeviceCode]{"a verification uri too long", func(d *oauth.DeviceCode) { d.VerificationURI = "https://a.example/" + longString('p', oauth.MaxURILen) }},
				mutation[oauth.DeviceCode]{"a complete verification uri with a space", func(d *oauth.DeviceCode) { d.VerificationURIComplete = "https://a.example/ x" }},
				mutation[oauth.DeviceCode]{"a zero interval", func(d *oauth.DeviceCode) { d.Interval = 0 }},
				mutation[oauth.DeviceCode]{"an interval of 1.5s", func(d *oauth.DeviceCode) { d.Interval = 1500 * time.Millisecond }},
				mutation[oauth.DeviceCode]{"an interval over 24h", func(d *oauth.DeviceCode) { d.Interval = 25 * time.Hour }},
				mutation[oauth.DeviceCode]{"an empty status", func(d *oauth.DeviceCode) { d.Status = "" }},
				mutation[oauth.DeviceCode]{"an unknown status", func(d *oauth.DeviceCode) { d.Status = "maybe" }},
				mutation[oauth.DeviceCode]{"a poll time before 1970", func(d *oauth.DeviceCode) { d.LastPolledAt = tooEarly }},
			)
			wantInvalid(h, "DeviceCode",
				func() *oauth.DeviceCode { c := *fresh; c.UserCode = userCode(); return &c },
				func(d *oauth.DeviceCode) string { return d.ID },
				func(d *oauth.DeviceCode) error { return h.s.CreateDeviceCode(h.ctx, d) },
				h.deviceGone,
				withNewIDs(ms, func(d *oauth.DeviceCode) *string { return &d.ID }))
		}},
	}
}

// withNewIDs gives each mutation's record a fresh ID before the mutation,
// so that a refused record is told apart from the valid one stored first.
func withNewIDs[T any](ms []mutation[T], id func(*T) *string) []mutation[T] {
	out := make([]mutation[T], len(ms))
	for i, m := range ms {
		out[i] = mutation[T]{m.name, func(r *T) { *id(r) = newID(); m.mut(r) }}
	}
	return out
}
