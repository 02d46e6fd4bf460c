package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Store { return memory.New() })
}

// TestNow checks that the Now field supplies the times a store sets.
func TestNow(t *testing.T) {
	ctx := context.Background()
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
	s := memory.New()
	s.Now = func() time.Time { return fixed }

	if err := s.CreateClient(ctx, &oauth.Client{ID: "app", Name: "App"}); err != nil {
		t.Fatalf("CreateClient: got error %v; want nil", err)
	}
	c, err := s.FindClient(ctx, "app")
	if err != nil {
		t.Fatalf("FindClient: got error %v; want nil", err)
	}
	for name, got := range map[string]time.Time{"CreatedAt": c.CreatedAt, "UpdatedAt": c.UpdatedAt} {
		if !got.Equal(fixed) || got.Location() != time.UTC {
			t.Errorf("client %s: got %v; want %v in UTC", name, got, fixed.UTC())
		}
	}

	tests := []struct {
		name    string
		create  func() error
		created func() (time.Time, error)
	}{
		{"access token", func() error {
			return s.CreateAccessToken(ctx, &oauth.AccessToken{ID: "a", ClientID: "app", FamilyID: "f", ExpiresAt: fixed.Add(time.Hour)})
		}, func() (time.Time, error) {
			t, err := s.FindAccessToken(ctx, "a")
			if err != nil {
				return time.Time{}, err
			}
			return t.CreatedAt, nil
		}},
		{"refresh token", func() error {
			return s.CreateRefreshToken(ctx, &oauth.RefreshToken{ID: "r", AccessTokenID: "a", ClientID: "app", FamilyID: "f", ExpiresAt: fixed.Add(time.Hour)})
		}, func() (time.Time, error) {
			t, err := s.FindRefreshToken(ctx, "r")
			if err != nil {
				return time.Time{}, err
			}
			return t.CreatedAt, nil
		}},
		{"auth code", func() error {
			return s.CreateAuthCode(ctx, &oauth.AuthCode{ID: "c", ClientID: "app", UserID: "u", FamilyID: "f", ExpiresAt: fixed.Add(time.Hour)})
		}, func() (time.Time, error) {
			c, err := s.FindAuthCode(ctx, "c")
			if err != nil {
				return time.Time{}, err
			}
			return c.CreatedAt, nil
		}},
		{"device code", func() error {
			return s.CreateDeviceCode(ctx, &oauth.DeviceCode{ID: "d", UserCode: "BCDFGHJK", ClientID: "app", FamilyID: "f",
				VerificationURI: "https://as.example/device", Interval: time.Second, Status: oauth.DevicePending, ExpiresAt: fixed.Add(time.Hour)})
		}, func() (time.Time, error) {
			d, err := s.FindDeviceCode(ctx, "d")
			if err != nil {
				return time.Time{}, err
			}
			return d.CreatedAt, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.create(); err != nil {
				t.Fatalf("create: got error %v; want nil", err)
			}
			got, err := tt.created()
			if err != nil {
				t.Fatalf("find: got error %v; want nil", err)
			}
			if !got.Equal(fixed) {
				t.Errorf("CreatedAt: got %v; want %v", got, fixed)
			}
		})
	}
}

// TestDeviceCodeUsesNowForUserCodes checks that a device code created
// without CreatedAt is judged against Now when its user code is taken.
func TestDeviceCodeUsesNowForUserCodes(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := memory.New()
	s.Now = func() time.Time { return now }
	if err := s.CreateClient(ctx, &oauth.Client{ID: "app", Name: "App"}); err != nil {
		t.Fatal(err)
	}
	dc := func(id string) *oauth.DeviceCode {
		return &oauth.DeviceCode{ID: id, UserCode: "BCDFGHJK", ClientID: "app", FamilyID: "f",
			VerificationURI: "https://as.example/device", Interval: time.Second, Status: oauth.DevicePending, ExpiresAt: now.Add(time.Minute)}
	}
	if err := s.CreateDeviceCode(ctx, dc("d1")); err != nil {
		t.Fatalf("CreateDeviceCode: got error %v; want nil", err)
	}
	if err := s.CreateDeviceCode(ctx, dc("d2")); !errors.Is(err, oauth.ErrDuplicate) {
		t.Fatalf("CreateDeviceCode with a live user code: got error %v; want ErrDuplicate", err)
	}
	now = now.Add(time.Minute)
	if err := s.CreateDeviceCode(ctx, dc("d3")); err != nil {
		t.Fatalf("CreateDeviceCode after the first expired by Now: got error %v; want nil", err)
	}
}

// TestErrorStrings checks the package prefix and the wrapped cause.
func TestErrorStrings(t *testing.T) {
	s := memory.New()
	_, err := s.FindAccessToken(context.Background(), "x")
	if got, want := err.Error(), "memory: find access token: oauth: not found"; got != want {
		t.Errorf("error: got %q; want %q", got, want)
	}
	err = s.CreateAccessToken(context.Background(), &oauth.AccessToken{ID: "x", ClientID: "nobody", FamilyID: "f", ExpiresAt: time.Now().Add(time.Hour)})
	if got, want := err.Error(), "memory: create access token: oauth: invalid record: unknown client"; got != want {
		t.Errorf("error: got %q; want %q", got, want)
	}
}
