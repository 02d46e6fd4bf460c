package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/sqlstore"
)

// t0 is the tests' "now": microsecond precision, UTC.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)

// fixedClock makes the store's clock return t0.
func fixedClock(s *sqlstore.Store) *sqlstore.Store {
	s.Now = func() time.Time { return t0 }
	return s
}

func newClient(id string) *oauth.Client {
	return &oauth.Client{
		ID:           id,
		SecretHash:   "sha256:" + oauth.HashValue("secret of "+id),
		Name:         "Client " + id,
		RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1/cb"},
		Confidential: true,
		GrantTypes:   []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantDeviceCode},
		Scopes:       []string{"openid", "profile", "read:posts"},
		CreatedAt:    t0,
		UpdatedAt:    t0,
	}
}

func mustCreateClient(t testing.TB, s *sqlstore.Store, id string) *oauth.Client {
	t.Helper()
	c := newClient(id)
	if err := s.CreateClient(context.Background(), c); err != nil {
		t.Fatalf("CreateClient(%q): %v", id, err)
	}
	return c
}

func newAccess(id, clientID, family string, expires time.Time) *oauth.AccessToken {
	return &oauth.AccessToken{
		ID: id, ClientID: clientID, UserID: "user-1", Scopes: []string{"openid", "profile"},
		FamilyID: family, ExpiresAt: expires, CreatedAt: t0,
	}
}

func newRefresh(id, accessID, clientID, family string, expires time.Time) *oauth.RefreshToken {
	return &oauth.RefreshToken{
		ID: id, AccessTokenID: accessID, ClientID: clientID, UserID: "user-1", Scopes: []string{"openid"},
		FamilyID: family, ExpiresAt: expires, CreatedAt: t0,
	}
}

func newAuthCode(id, clientID string, expires time.Time) *oauth.AuthCode {
	return &oauth.AuthCode{
		ID: id, ClientID: clientID, UserID: "user-1", Scopes: []string{"openid"}, FamilyID: id,
		RedirectURI: "https://app.example/cb", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: oauth.PKCEMethodS256, ExpiresAt: expires, CreatedAt: t0,
	}
}

func newDeviceCode(id, userCode, clientID string, expires time.Time) *oauth.DeviceCode {
	return &oauth.DeviceCode{
		ID: id, UserCode: userCode, ClientID: clientID, Scopes: []string{"openid", "profile"}, FamilyID: id,
		VerificationURI: "https://as.example/device", VerificationURIComplete: "https://as.example/device?user_code=" + userCode,
		Interval: 5 * time.Second, Status: oauth.DevicePending, ExpiresAt: expires, CreatedAt: t0,
	}
}

// hashID returns a token ID as the library makes them.
func hashID(format string, args ...any) string { return oauth.HashValue(fmt.Sprintf(format, args...)) }
