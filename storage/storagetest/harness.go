package storagetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
)

// harness is one subtest's store, clock and helpers.
type harness struct {
	t   *testing.T
	s   Store
	ctx context.Context
	// now is the subtest's base time: the wall clock at its start, in UTC,
	// truncated to the microsecond every backend keeps.
	now time.Time
}

func newHarness(t *testing.T, s Store) *harness {
	if s == nil {
		t.Fatal("storagetest: open returned a nil Store")
	}
	return &harness{t: t, s: s, ctx: t.Context(), now: time.Now().UTC().Truncate(time.Microsecond)}
}

// at returns the base time plus d.
func (h *harness) at(d time.Duration) time.Time { return h.now.Add(d) }

// newID returns a fresh storage ID: the oauth.HashValue of a random value,
// as backends see them in production.
func newID() string { return oauth.HashValue(rand.Text()) }

// fatalIf stops the subtest when a setup step fails.
func (h *harness) fatalIf(what string, err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("%s: got error %v; want nil", what, err)
	}
}

// wantErr reports a failure unless errors.Is(err, target); a nil target
// wants a nil error.
func (h *harness) wantErr(what string, err, target error) bool {
	h.t.Helper()
	if target == nil {
		if err != nil {
			h.t.Errorf("%s: got error %v; want nil", what, err)
			return false
		}
		return true
	}
	if !errors.Is(err, target) {
		h.t.Errorf("%s: got error %v; want one wrapping %q", what, err, target)
		return false
	}
	return true
}

// wantCount reports a failure unless n == want and err is nil.
func (h *harness) wantCount(what string, n int64, err error, want int64) {
	h.t.Helper()
	if err != nil {
		h.t.Errorf("%s: got error %v; want nil", what, err)
		return
	}
	if n != want {
		h.t.Errorf("%s: got %d; want %d", what, n, want)
	}
}

// wantEqual reports every field in which got differs from want. Times
// compare with Equal, nil and empty slices are equal, order counts.
func (h *harness) wantEqual(what string, got, want any) bool {
	h.t.Helper()
	d := diff(got, want)
	for _, line := range d {
		h.t.Errorf("%s: %s", what, line)
	}
	return len(d) == 0
}

var timeType = reflect.TypeFor[time.Time]()

// diff lists the differences between two values of the same type, field by
// field for structs, element by element for slices.
func diff(got, want any) []string {
	return diffValue("", reflect.ValueOf(got), reflect.ValueOf(want))
}

func diffValue(path string, got, want reflect.Value) []string {
	name := path
	if name == "" {
		name = "value"
	}
	if !got.IsValid() || !want.IsValid() {
		if got.IsValid() != want.IsValid() {
			return []string{fmt.Sprintf("%s: got %v; want %v", name, got, want)}
		}
		return nil
	}
	if got.Type() != want.Type() {
		return []string{fmt.Sprintf("%s: got type %v; want %v", name, got.Type(), want.Type())}
	}
	switch {
	case got.Type() == timeType:
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) {
			return []string{fmt.Sprintf("%s: got %s; want %s", name, fmtTime(g), fmtTime(w))}
		}
		return nil
	case got.Kind() == reflect.Pointer:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				return []string{fmt.Sprintf("%s: got %v; want %v", name, got.Interface(), want.Interface())}
			}
			return nil
		}
		return diffValue(path, got.Elem(), want.Elem())
	case got.Kind() == reflect.Struct:
		var out []string
		for i := range got.NumField() {
			f := got.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			out = append(out, diffValue(p, got.Field(i), want.Field(i))...)
		}
		return out
	case got.Kind() == reflect.Slice:
		if got.Len() != want.Len() {
			return []string{fmt.Sprintf("%s: got %s; want %s", name, fmtSlice(got), fmtSlice(want))}
		}
		var out []string
		for i := range got.Len() {
			out = append(out, diffValue(fmt.Sprintf("%s[%d]", name, i), got.Index(i), want.Index(i))...)
		}
		if len(out) > 0 && got.Type().Elem().Kind() != reflect.Struct {
			return []string{fmt.Sprintf("%s: got %s; want %s", name, fmtSlice(got), fmtSlice(want))}
		}
		return out
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			return []string{fmt.Sprintf("%s: got %#v; want %#v", name, got.Interface(), want.Interface())}
		}
		return nil
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero time"
	}
	return t.Format(time.RFC3339Nano)
}

func fmtSlice(v reflect.Value) string {
	if v.Len() == 0 {
		return "[] (empty)"
	}
	return fmt.Sprintf("%#v", v.Interface())
}

// --- fixtures -------------------------------------------------------------

// newClient returns a valid confidential client with every field set.
func (h *harness) newClient(id string) *oauth.Client {
	return &oauth.Client{
		ID:           id,
		SecretHash:   "sha256:" + oauth.HashValue(id),
		Name:         "App " + id,
		RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1/cb?x=1,2"},
		Confidential: true,
		GrantTypes:   []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantDeviceCode},
		Scopes:       []string{"openid", "read:all", "a,b"},
		CreatedAt:    h.at(-48 * time.Hour),
		UpdatedAt:    h.at(-24 * time.Hour),
	}
}

// client stores a new client and returns it.
func (h *harness) client(id string) *oauth.Client {
	h.t.Helper()
	c := h.newClient(id)
	h.fatalIf("CreateClient "+id, h.s.CreateClient(h.ctx, c))
	return c
}

// newAccessToken returns a valid access token of the client and family,
// expiring an hour after the base time.
func (h *harness) newAccessToken(clientID, familyID string) *oauth.AccessToken {
	return &oauth.AccessToken{
		ID:        newID(),
		ClientID:  clientID,
		UserID:    "user-1",
		Scopes:    []string{"openid", "read:all"},
		FamilyID:  familyID,
		ExpiresAt: h.at(time.Hour),
		CreatedAt: h.now,
	}
}

func (h *harness) accessToken(clientID, familyID string) *oauth.AccessToken {
	h.t.Helper()
	at := h.newAccessToken(clientID, familyID)
	h.fatalIf("CreateAccessToken", h.s.CreateAccessToken(h.ctx, at))
	return at
}

// newRefreshToken returns a valid refresh token issued with the access
// token, expiring a day after the base time.
func (h *harness) newRefreshToken(at *oauth.AccessToken) *oauth.RefreshToken {
	return &oauth.RefreshToken{
		ID:            newID(),
		AccessTokenID: at.ID,
		ClientID:      at.ClientID,
		UserID:        at.UserID,
		Scopes:        slices.Clone(at.Scopes),
		FamilyID:      at.FamilyID,
		ExpiresAt:     h.at(24 * time.Hour),
		CreatedAt:     h.now,
	}
}

// refreshToken stores an access token and a refresh token issued with it.
func (h *harness) refreshToken(clientID, familyID string) (*oauth.AccessToken, *oauth.RefreshToken) {
	h.t.Helper()
	at := h.accessToken(clientID, familyID)
	rt := h.newRefreshToken(at)
	h.fatalIf("CreateRefreshToken", h.s.CreateRefreshToken(h.ctx, rt))
	return at, rt
}

// newAuthCode returns a valid authorization code with PKCE, expiring ten
// minutes after the base time.
func (h *harness) newAuthCode(clientID string) *oauth.AuthCode {
	return &oauth.AuthCode{
		ID:                  newID(),
		ClientID:            clientID,
		UserID:              "user-1",
		Scopes:              []string{"openid", "a,b"},
		FamilyID:            newID(),
		RedirectURI:         "https://app.example/cb",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: oauth.PKCEMethodS256,
		ExpiresAt:           h.at(10 * time.Minute),
		CreatedAt:           h.now,
	}
}

func (h *harness) authCode(clientID string) *oauth.AuthCode {
	h.t.Helper()
	c := h.newAuthCode(clientID)
	h.fatalIf("CreateAuthCode", h.s.CreateAuthCode(h.ctx, c))
	return c
}

// userCode returns a random normalized user code.
func userCode() string {
	b := make([]byte, 8)
	for i := range b {
		b[i] = oauth.UserCodeAlphabet[mathrand.IntN(len(oauth.UserCodeAlphabet))]
	}
	return string(b)
}

// newDeviceCode returns a valid pending device code with a 5-second
// interval, created at the base time and expiring 15 minutes after it.
func (h *harness) newDeviceCode(clientID string) *oauth.DeviceCode {
	return &oauth.DeviceCode{
		ID:                      newID(),
		UserCode:                userCode(),
		ClientID:                clientID,
		Scopes:                  []string{"openid", "read:all"},
		FamilyID:                newID(),
		VerificationURI:         "https://as.example/device",
		VerificationURIComplete: "https://as.example/device?user_code=WDJBMJHT",
		Interval:                5 * time.Second,
		Status:                  oauth.DevicePending,
		ExpiresAt:               h.at(15 * time.Minute),
		CreatedAt:               h.now,
	}
}

func (h *harness) deviceCode(clientID string) *oauth.DeviceCode {
	h.t.Helper()
	d := h.newDeviceCode(clientID)
	h.fatalIf("CreateDeviceCode", h.s.CreateDeviceCode(h.ctx, d))
	return d
}

// --- reads that must succeed ----------------------------------------------

func (h *harness) findClient(id string) *oauth.Client {
	h.t.Helper()
	c, err := h.s.FindClient(h.ctx, id)
	h.fatalIf("FindClient", err)
	if c == nil {
		h.t.Fatal("FindClient: got nil client and nil error")
	}
	return c
}

func (h *harness) findAccessToken(id string) *oauth.AccessToken {
	h.t.Helper()
	t, err := h.s.FindAccessToken(h.ctx, id)
	h.fatalIf("FindAccessToken", err)
	if t == nil {
		h.t.Fatal("FindAccessToken: got nil token and nil error")
	}
	return t
}

func (h *harness) findRefreshToken(id string) *oauth.RefreshToken {
	h.t.Helper()
	t, err := h.s.FindRefreshToken(h.ctx, id)
	h.fatalIf("FindRefreshToken", err)
	if t == nil {
		h.t.Fatal("FindRefreshToken: got nil token and nil error")
	}
	return t
}

func (h *harness) findAuthCode(id string) *oauth.AuthCode {
	h.t.Helper()
	c, err := h.s.FindAuthCode(h.ctx, id)
	h.fatalIf("FindAuthCode", err)
	if c == nil {
		h.t.Fatal("FindAuthCode: got nil code and nil error")
	}
	return c
}

func (h *harness) findDeviceCode(id string) *oauth.DeviceCode {
	h.t.Helper()
	d, err := h.s.FindDeviceCode(h.ctx, id)
	h.fatalIf("FindDeviceCode", err)
	if d == nil {
		h.t.Fatal("FindDeviceCode: got nil device code and nil error")
	}
	return d
}

// wantGone reports a failure unless find returns ErrNotFound.
func (h *harness) wantGone(what string, find func() error) {
	h.t.Helper()
	h.wantErr(what, find(), oauth.ErrNotFound)
}

func (h *harness) accessGone(id string) error {
	_, err := h.s.FindAccessToken(h.ctx, id)
	return err
}

func (h *harness) refreshGone(id string) error {
	_, err := h.s.FindRefreshToken(h.ctx, id)
	return err
}

func (h *harness) codeGone(id string) error {
	_, err := h.s.FindAuthCode(h.ctx, id)
	return err
}

func (h *harness) deviceGone(id string) error {
	_, err := h.s.FindDeviceCode(h.ctx, id)
	return err
}

func (h *harness) clientGone(id string) error {
	_, err := h.s.FindClient(h.ctx, id)
	return err
}

// wantRecent reports a failure unless t is within five minutes of the wall
// clock: a time the store set to "the current time". The margin allows for
// a database server's clock but catches a time-zone shift.
func (h *harness) wantRecent(what string, t time.Time) {
	h.t.Helper()
	if d := time.Since(t); t.IsZero() || d > 5*time.Minute || d < -5*time.Minute {
		h.t.Errorf("%s: got %s; want the current time (%s)", what, fmtTime(t), fmtTime(time.Now().UTC()))
	}
}
