package sqlstore_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/sqlstore"
)

func TestRoundTrip(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := fixedClock(openStore(t, d))
		c := mustCreateClient(t, s, "svc-1.app")
		pub := &oauth.Client{ID: "public", Name: "Ünïcödé app ✓", GrantTypes: []string{oauth.GrantAuthorizationCode}}
		if err := s.CreateClient(ctx, pub); err != nil {
			t.Fatalf("CreateClient(public): %v", err)
		}
		at := newAccess(hashID("at"), c.ID, "fam", t0.Add(time.Hour))
		at.UserID = ""
		rt := newRefresh(hashID("rt"), at.ID, c.ID, "fam", t0.Add(24*time.Hour))
		rt.Revoked, rt.RotatedAt = true, t0.Add(time.Minute)
		code := newAuthCode(hashID("code"), c.ID, t0.Add(10*time.Minute))
		plain := newAuthCode(hashID("plain"), c.ID, t0.Add(10*time.Minute))
		plain.RedirectURI, plain.CodeChallenge, plain.CodeChallengeMethod = "", "", ""
		dc := newDeviceCode(hashID("dc"), "BCDFGHJK", c.ID, t0.Add(10*time.Minute))
		dc.LastPolledAt = t0.Add(time.Second)
		scope := &oauth.Scope{ID: "read:posts", Description: "Read your posts"}

		for _, err := range []error{
			s.CreateAccessToken(ctx, at), s.CreateRefreshToken(ctx, rt), s.CreateAuthCode(ctx, code),
			s.CreateAuthCode(ctx, plain), s.CreateDeviceCode(ctx, dc), s.CreateScope(ctx, scope),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		pub.CreatedAt, pub.UpdatedAt = t0, t0 // set by the store's clock

		check := func(name string, got any, err error, want any) {
			t.Helper()
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\ngot  %+v\nwant %+v", name, got, want)
			}
		}
		gotC, err := s.FindClient(ctx, c.ID)
		check("FindClient", gotC, err, c)
		gotP, err := s.FindClient(ctx, pub.ID)
		check("FindClient(public)", gotP, err, pub)
		gotAT, err := s.FindAccessToken(ctx, at.ID)
		check("FindAccessToken", gotAT, err, at)
		gotRT, err := s.FindRefreshToken(ctx, rt.ID)
		check("FindRefreshToken", gotRT, err, rt)
		gotCode, err := s.FindAuthCode(ctx, code.ID)
		check("FindAuthCode", gotCode, err, code)
		gotPlain, err := s.FindAuthCode(ctx, plain.ID)
		check("FindAuthCode(no PKCE)", gotPlain, err, plain)
		gotDC, err := s.FindDeviceCode(ctx, dc.ID)
		check("FindDeviceCode", gotDC, err, dc)
		gotDC, err = s.FindDeviceCodeByUserCode(ctx, dc.UserCode)
		check("FindDeviceCodeByUserCode", gotDC, err, dc)
		gotS, err := s.FindScopes(ctx, []string{"nope", "read:posts", "", "x\x00"})
		check("FindScopes", gotS, err, []oauth.Scope{*scope})
		list, err := s.ListClients(ctx)
		check("ListClients", list, err, []oauth.Client{*pub, *c}) // "public" < "svc-1.app"
	})
}

func TestListOrderIsByteOrder(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := openStore(t, d)
		ids := []string{"b", "B", "a-b", "a_b", "A", "ab", "a.b"}
		for _, id := range ids {
			if err := s.CreateScope(ctx, &oauth.Scope{ID: id}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ListScopes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, sc := range got {
			gotIDs = append(gotIDs, sc.ID)
		}
		want := []string{"A", "B", "a-b", "a.b", "a_b", "ab", "b"}
		if !reflect.DeepEqual(gotIDs, want) {
			t.Errorf("ListScopes order: got %q; want %q", gotIDs, want)
		}
		// Identifiers are case-sensitive: "b" and "B" are two scopes.
		if err := s.CreateScope(ctx, &oauth.Scope{ID: "b"}); !errors.Is(err, oauth.ErrDuplicate) {
			t.Errorf("CreateScope(dup): got %v; want ErrDuplicate", err)
		}
	})
}

// TestTimesStoredUTC checks the stored representation: UTC, microseconds,
// whatever the zone and precision of the time handed in.
func TestTimesStoredUTC(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := openStore(t, d)
		mustCreateClient(t, s, "c")
		zone := time.FixedZone("UTC+5", 5*3600)
		exp := time.Date(2031, 6, 7, 13, 14, 15, 987654321, zone) // 08:14:15.987654321 UTC
		at := newAccess("tok", "c", "fam", exp)
		if err := s.CreateAccessToken(ctx, at); err != nil {
			t.Fatal(err)
		}
		var raw string
		var q string
		switch d {
		case sqlstore.SQLite:
			q = "SELECT CAST(expires_at AS TEXT) FROM oauth_access_tokens WHERE id = 'tok'"
		case sqlstore.MySQL:
			q = "SELECT CAST(expires_at AS CHAR) FROM oauth_access_tokens WHERE id = 'tok'"
		case sqlstore.Postgres:
			q = "SELECT to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM oauth_access_tokens WHERE id = 'tok'"
		}
		if err := s.DB().QueryRowContext(ctx, q).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		want := "2031-06-07 08:14:15.987654"
		if d == sqlstore.SQLite {
			want = strconv.FormatInt(exp.UnixMicro(), 10) // Unix microseconds
		}
		if raw != want {
			t.Errorf("stored expires_at: got %q; want %q", raw, want)
		}
		got, err := s.FindAccessToken(ctx, "tok")
		if err != nil {
			t.Fatal(err)
		}
		wantT := exp.UTC().Truncate(time.Microsecond)
		if got.ExpiresAt != wantT || got.ExpiresAt.Location() != time.UTC {
			t.Errorf("ExpiresAt: got %v (%v); want %v UTC", got.ExpiresAt, got.ExpiresAt.Location(), wantT)
		}
	})
}

// TestExpiryBoundary checks that comparisons in SQL agree with Go at the
// microsecond: a code expiring at E is live at E-1µs and expired at E.
func TestExpiryBoundary(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := openStore(t, d)
		mustCreateClient(t, s, "c")
		exp := t0.Add(10 * time.Minute)
		for _, id := range []string{"a", "b"} {
			if err := s.CreateAuthCode(ctx, newAuthCode(id, "c", exp)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.ConsumeAuthCode(ctx, "a", exp); !errors.Is(err, oauth.ErrExpired) {
			t.Errorf("ConsumeAuthCode at expiry: got %v; want ErrExpired", err)
		}
		if _, err := s.ConsumeAuthCode(ctx, "b", exp.Add(-time.Microsecond)); err != nil {
			t.Errorf("ConsumeAuthCode 1µs before expiry: got %v; want nil", err)
		}
		// A finer "now" is compared exactly, not rounded up to the expiry.
		if err := s.CreateAuthCode(ctx, newAuthCode("c", "c", exp)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeAuthCode(ctx, "c", exp.Add(-time.Nanosecond)); err != nil {
			t.Errorf("ConsumeAuthCode 1ns before expiry: got %v; want nil", err)
		}
	})
}

func TestPurgeKeepsLiveRefreshTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := openStore(t, d)
		mustCreateClient(t, s, "c")
		past, future := t0.Add(-time.Hour), t0.Add(time.Hour)
		mk := func(at *oauth.AccessToken, rt *oauth.RefreshToken) {
			t.Helper()
			if err := s.CreateAccessToken(ctx, at); err != nil {
				t.Fatal(err)
			}
			if rt != nil {
				if err := s.CreateRefreshToken(ctx, rt); err != nil {
					t.Fatal(err)
				}
			}
		}
		mk(newAccess("expired-live-rt", "c", "f1", past), newRefresh("rt-live", "expired-live-rt", "c", "f1", future))
		revoked := newRefresh("rt-revoked", "expired-revoked-rt", "c", "f2", future)
		revoked.Revoked = true
		mk(newAccess("expired-revoked-rt", "c", "f2", past), revoked)
		mk(newAccess("expired-expired-rt", "c", "f3", past), newRefresh("rt-expired", "expired-expired-rt", "c", "f3", past))
		mk(newAccess("expired-alone", "c", "f4", past), nil)
		mk(newAccess("live", "c", "f5", future), nil)

		n, err := s.PurgeAccessTokens(ctx, t0)
		if err != nil || n != 2 {
			t.Fatalf("PurgeAccessTokens: got %d, %v; want 2, nil", n, err)
		}
		for id, want := range map[string]error{
			"expired-live-rt": nil, "live": nil, "expired-revoked-rt": nil,
			"expired-expired-rt": oauth.ErrNotFound, "expired-alone": oauth.ErrNotFound,
		} {
			if _, err := s.FindAccessToken(ctx, id); !errors.Is(err, want) {
				t.Errorf("FindAccessToken(%q) after purge: got %v; want %v", id, err, want)
			}
		}
		for id, want := range map[string]error{"rt-live": nil, "rt-revoked": nil, "rt-expired": oauth.ErrNotFound} {
			if _, err := s.FindRefreshToken(ctx, id); !errors.Is(err, want) {
				t.Errorf("FindRefreshToken(%q) after purge: got %v; want %v (cascade)", id, err, want)
			}
		}
	})
}

func TestDeleteClientDeletesEverything(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := openStore(t, d)
		mustCreateClient(t, s, "gone")
		mustCreateClient(t, s, "kept")
		exp := t0.Add(time.Hour)
		for _, c := range []string{"gone", "kept"} {
			for _, err := range []error{
				s.CreateAccessToken(ctx, newAccess("at-"+c, c, "f-"+c, exp)),
				s.CreateRefreshToken(ctx, newRefresh("rt-"+c, "at-"+c, c, "f-"+c, exp)),
				s.CreateAuthCode(ctx, newAuthCode("code-"+c, c, exp)),
				s.CreateDeviceCode(ctx, newDeviceCode("dc-"+c, strings.ToUpper("U"+c[:1]), c, exp)),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.DeleteClient(ctx, "gone"); err != nil {
			t.Fatalf("DeleteClient: %v", err)
		}
		if err := s.DeleteClient(ctx, "gone"); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("DeleteClient twice: got %v; want ErrNotFound", err)
		}
		for _, c := range []string{"gone", "kept"} {
			want := error(nil)
			if c == "gone" {
				want = oauth.ErrNotFound
			}
			_, e1 := s.FindClient(ctx, c)
			_, e2 := s.FindAccessToken(ctx, "at-"+c)
			_, e3 := s.FindRefreshToken(ctx, "rt-"+c)
			_, e4 := s.FindAuthCode(ctx, "code-"+c)
			_, e5 := s.FindDeviceCode(ctx, "dc-"+c)
			for i, err := range []error{e1, e2, e3, e4, e5} {
				if !errors.Is(err, want) {
					t.Errorf("client %q, record %d after DeleteClient: got %v; want %v", c, i, err, want)
				}
			}
		}
	})
}

// TestInvalidInputWritesNothing hands every write an invalid or over-long
// value: each must fail with ErrInvalid, and nothing may be stored.
func TestInvalidInputWritesNothing(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	exp := t0.Add(time.Hour)
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := openStore(t, d)
		mustCreateClient(t, s, "c")
		if err := s.CreateAccessToken(ctx, newAccess("at", "c", "f", exp)); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name  string
			write func() error
			find  func() error // must return ErrNotFound afterwards
		}{
			{"client id 81 bytes", func() error { return s.CreateClient(ctx, newClient(long(81))) },
				func() error { _, err := s.FindClient(ctx, long(81)); return err }},
			{"client empty id", func() error { return s.CreateClient(ctx, newClient("")) },
				func() error { _, err := s.FindClient(ctx, ""); return err }},
			{"client name 256 bytes", func() error { c := newClient("n"); c.Name = long(256); return s.CreateClient(ctx, c) },
				func() error { _, err := s.FindClient(ctx, "n"); return err }},
			{"client secret hash 256 bytes", func() error { c := newClient("h"); c.SecretHash = long(256); return s.CreateClient(ctx, c) },
				func() error { _, err := s.FindClient(ctx, "h"); return err }},
			{"client redirect uris over 64 KiB", func() error {
				c := newClient("r")
				for range 40 {
					c.RedirectURIs = append(c.RedirectURIs, "https://a.example/"+long(1900))
				}
				return s.CreateClient(ctx, c)
			}, func() error { _, err := s.FindClient(ctx, "r"); return err }},
			{"client NUL in name", func() error { c := newClient("z"); c.Name = "a\x00b"; return s.CreateClient(ctx, c) },
				func() error { _, err := s.FindClient(ctx, "z"); return err }},
			{"client time past 9999", func() error {
				c := newClient("y")
				c.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
				return s.CreateClient(ctx, c)
			},
				func() error { _, err := s.FindClient(ctx, "y"); return err }},
			{"scope description 256 bytes", func() error { return s.CreateScope(ctx, &oauth.Scope{ID: "s", Description: long(256)}) },
				func() error {
					got, err := s.FindScopes(ctx, []string{"s"})
					if err == nil && len(got) == 0 {
						return oauth.ErrNotFound
					}
					return err
				}},
			{"access token id 101 bytes", func() error { return s.CreateAccessToken(ctx, newAccess(long(101), "c", "f", exp)) },
				func() error { _, err := s.FindAccessToken(ctx, long(101)); return err }},
			{"access token user id 256 bytes", func() error {
				a := newAccess("u", "c", "f", exp)
				a.UserID = long(256)
				return s.CreateAccessToken(ctx, a)
			},
				func() error { _, err := s.FindAccessToken(ctx, "u"); return err }},
			{"access token scopes over 4000 bytes", func() error {
				a := newAccess("sc", "c", "f", exp)
				for i := range 60 {
					a.Scopes = append(a.Scopes, long(70)+string(rune('A'+i%26)))
				}
				return s.CreateAccessToken(ctx, a)
			}, func() error { _, err := s.FindAccessToken(ctx, "sc"); return err }},
			{"access token zero expiry", func() error { return s.CreateAccessToken(ctx, newAccess("z", "c", "f", time.Time{})) },
				func() error { _, err := s.FindAccessToken(ctx, "z"); return err }},
			{"access token unknown client", func() error { return s.CreateAccessToken(ctx, newAccess("uc", "nobody", "f", exp)) },
				func() error { _, err := s.FindAccessToken(ctx, "uc"); return err }},
			{"refresh token unknown access token", func() error { return s.CreateRefreshToken(ctx, newRefresh("rt", "nope", "c", "f", exp)) },
				func() error { _, err := s.FindRefreshToken(ctx, "rt"); return err }},
			{"refresh token unknown client", func() error { return s.CreateRefreshToken(ctx, newRefresh("rt2", "at", "nobody", "f", exp)) },
				func() error { _, err := s.FindRefreshToken(ctx, "rt2"); return err }},
			{"auth code challenge 129 bytes", func() error {
				c := newAuthCode("ch", "c", exp)
				c.CodeChallenge = long(129)
				return s.CreateAuthCode(ctx, c)
			},
				func() error { _, err := s.FindAuthCode(ctx, "ch"); return err }},
			{"auth code without user", func() error { c := newAuthCode("nu", "c", exp); c.UserID = ""; return s.CreateAuthCode(ctx, c) },
				func() error { _, err := s.FindAuthCode(ctx, "nu"); return err }},
			{"auth code redirect uri 2001 bytes", func() error {
				c := newAuthCode("ru", "c", exp)
				c.RedirectURI = "https://a/" + long(1991)
				return s.CreateAuthCode(ctx, c)
			},
				func() error { _, err := s.FindAuthCode(ctx, "ru"); return err }},
			{"device user code 17 bytes", func() error { return s.CreateDeviceCode(ctx, newDeviceCode("dc", strings.Repeat("B", 17), "c", exp)) },
				func() error { _, err := s.FindDeviceCode(ctx, "dc"); return err }},
			{"device unknown client", func() error { return s.CreateDeviceCode(ctx, newDeviceCode("dc2", "BBBB", "nobody", exp)) },
				func() error { _, err := s.FindDeviceCode(ctx, "dc2"); return err }},
			{"device interval 1.5s", func() error {
				dc := newDeviceCode("dc3", "CCCC", "c", exp)
				dc.Interval = 1500 * time.Millisecond
				return s.CreateDeviceCode(ctx, dc)
			},
				func() error { _, err := s.FindDeviceCode(ctx, "dc3"); return err }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.write(); !errors.Is(err, oauth.ErrInvalid) {
					t.Errorf("write: got %v; want ErrInvalid", err)
				} else if !strings.HasPrefix(err.Error(), "sqlstore: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				if err := tt.find(); !errors.Is(err, oauth.ErrNotFound) {
					t.Errorf("after the refused write: got %v; want ErrNotFound", err)
				}
			})
		}
		// Refused updates leave the stored record as it was.
		c := newClient("c")
		c.Name = long(300)
		if err := s.UpdateClient(ctx, c); !errors.Is(err, oauth.ErrInvalid) {
			t.Errorf("UpdateClient(long name): got %v; want ErrInvalid", err)
		}
		if got, err := s.FindClient(ctx, "c"); err != nil || got.Name != "Client c" {
			t.Errorf("client after refused update: got %+v, %v; want name %q", got, err, "Client c")
		}
		if err := s.ApproveDeviceCode(ctx, "x", long(256), nil, t0); !errors.Is(err, oauth.ErrInvalid) {
			t.Errorf("ApproveDeviceCode(long user): got %v; want ErrInvalid", err)
		}
		if _, err := s.ConsumeAuthCode(ctx, "x", time.Time{}); !errors.Is(err, oauth.ErrInvalid) {
			t.Errorf("ConsumeAuthCode(zero now): got %v; want ErrInvalid", err)
		}
		if _, err := s.RevokeAccessTokenFamily(ctx, ""); !errors.Is(err, oauth.ErrInvalid) {
			t.Errorf("RevokeAccessTokenFamily(\"\"): got %v; want ErrInvalid", err)
		}
	})
}

// TestOverlongRefusedByDatabase bypasses the store's validation to check
// that the database itself refuses what does not fit (strict mode in
// MySQL, VARCHAR limits in PostgreSQL) instead of truncating it.
func TestOverlongRefusedByDatabase(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.MySQL, sqlstore.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			s := openStore(t, d)
			q := s.DB().Rebind("INSERT INTO oauth_scopes (id, description) VALUES (?, ?)")
			_, err := s.DB().ExecContext(context.Background(), q, strings.Repeat("s", 81), "")
			if err == nil {
				t.Fatal("insert of an 81-byte scope id succeeded; want a data-too-long error")
			}
			var n int
			s.DB().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM oauth_scopes").Scan(&n)
			if n != 0 {
				t.Errorf("rows after the refused insert: got %d; want 0", n)
			}
		})
	}
}

func TestErrorsAreTranslated(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := openStore(t, d)
		mustCreateClient(t, s, "c")
		err := s.CreateClient(ctx, newClient("c"))
		if !errors.Is(err, oauth.ErrDuplicate) {
			t.Errorf("CreateClient(dup): got %v; want ErrDuplicate", err)
		}
		if want := `sqlstore: create client "c": oauth: duplicate id`; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error text: got %q; want prefix %q", err, want)
		}
		_, err = s.FindClient(ctx, "x")
		if want := `sqlstore: find client "x": oauth: not found`; err == nil || err.Error() != want {
			t.Errorf("FindClient(missing): got %q; want %q", err, want)
		}
		at := newAccess("at", "c", "f", t0.Add(time.Hour))
		if err := s.CreateAccessToken(ctx, at); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAccessToken(ctx, at); !errors.Is(err, oauth.ErrDuplicate) {
			t.Errorf("CreateAccessToken(dup): got %v; want ErrDuplicate", err)
		}
		if err := s.UpdateClient(ctx, newClient("nobody")); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("UpdateClient(missing): got %v; want ErrNotFound", err)
		}
		// An update that changes nothing still finds the client (MySQL
		// counts changed rows only).
		if err := s.UpdateClient(ctx, newClient("c")); err != nil {
			t.Errorf("UpdateClient(unchanged): %v", err)
		}
		if err := s.UpdateScope(ctx, &oauth.Scope{ID: "nope"}); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("UpdateScope(missing): got %v; want ErrNotFound", err)
		}
		if err := s.RevokeAccessToken(ctx, "at"); err != nil {
			t.Errorf("RevokeAccessToken: %v", err)
		}
		if err := s.RevokeAccessToken(ctx, "at"); err != nil {
			t.Errorf("RevokeAccessToken twice: %v", err)
		}
		if err := s.RevokeAccessToken(ctx, "missing"); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("RevokeAccessToken(missing): got %v; want ErrNotFound", err)
		}
		// IDs no record can have are not found, whatever bytes they hold.
		for _, id := range []string{"", "a b", "nul\x00", "\xff\xfe", strings.Repeat("a", 101)} {
			if _, err := s.FindAccessToken(ctx, id); !errors.Is(err, oauth.ErrNotFound) {
				t.Errorf("FindAccessToken(%q): got %v; want ErrNotFound", id, err)
			}
			if _, err := s.FindClient(ctx, id); !errors.Is(err, oauth.ErrNotFound) {
				t.Errorf("FindClient(%q): got %v; want ErrNotFound", id, err)
			}
			if _, err := s.FindDeviceCodeByUserCode(ctx, id); !errors.Is(err, oauth.ErrNotFound) {
				t.Errorf("FindDeviceCodeByUserCode(%q): got %v; want ErrNotFound", id, err)
			}
		}
	})
}

func TestContextCancelled(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := openStore(t, d)
		mustCreateClient(t, s, "c")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.CreateAccessToken(ctx, newAccess("at", "c", "f", t0.Add(time.Hour))); !errors.Is(err, context.Canceled) {
			t.Errorf("CreateAccessToken(cancelled): got %v; want context.Canceled", err)
		}
		if err := s.RotateRefreshToken(ctx, "x", newRefresh("y", "at", "c", "f", t0.Add(time.Hour)), t0); !errors.Is(err, context.Canceled) {
			t.Errorf("RotateRefreshToken(cancelled): got %v; want context.Canceled", err)
		}
		if err := s.Migrate(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Migrate(cancelled): got %v; want context.Canceled", err)
		}
		if _, err := s.FindAccessToken(context.Background(), "at"); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("token after a cancelled create: got %v; want ErrNotFound", err)
		}
	})
}

// TestDeadlineWhileLocked blocks a single-use write behind another
// transaction's lock: the call must end at its deadline, not hang. SQLite
// does not interrupt a wait for the write lock; there the wait ends at the
// busy timeout, set to 500ms here.
func TestDeadlineWhileLocked(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		var s *sqlstore.Store
		if d == sqlstore.SQLite {
			dsn := strings.Replace(newDatabase(t, d), "_busy_timeout=5000", "_busy_timeout=500", 1)
			s = openDSN(t, d, dsn)
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			s = openStore(t, d)
		}
		mustCreateClient(t, s, "c")
		if err := s.CreateAuthCode(ctx, newAuthCode("code", "c", t0.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		lock := s.DB().Rebind("UPDATE oauth_auth_codes SET scopes = scopes WHERE id = ?")
		if _, err := tx.ExecContext(ctx, lock, "code"); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = s.ConsumeAuthCode(short, "code", t0)
		if err == nil {
			t.Fatal("ConsumeAuthCode behind a lock succeeded")
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("ConsumeAuthCode returned after %v; want about its 300ms deadline", el)
		}
		tx.Rollback()
		if _, err := s.ConsumeAuthCode(ctx, "code", t0); err != nil {
			t.Errorf("ConsumeAuthCode after the lock ended: %v", err)
		}
	})
}

// TestSingleUseGoroutines races 16 goroutines on each single-use write.
func TestSingleUseGoroutines(t *testing.T) {
	const n = 16
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := openStore(t, d)
		mustCreateClient(t, s, "c")
		exp := t0.Add(time.Hour)
		if err := s.CreateAuthCode(ctx, newAuthCode("code", "c", exp)); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAccessToken(ctx, newAccess("at", "c", "f", exp)); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateRefreshToken(ctx, newRefresh("rt", "at", "c", "f", exp)); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateDeviceCode(ctx, newDeviceCode("dc", "BCDF", "c", exp)); err != nil {
			t.Fatal(err)
		}
		if err := s.ApproveDeviceCode(ctx, "dc", "user-1", []string{"openid"}, t0); err != nil {
			t.Fatal(err)
		}
		ops := map[string]func(i int) error{
			"ConsumeAuthCode": func(int) error { _, err := s.ConsumeAuthCode(ctx, "code", t0); return err },
			"RotateRefreshToken": func(i int) error {
				return s.RotateRefreshToken(ctx, "rt", newRefresh(hashID("next %d", i), "at", "c", "f", exp), t0)
			},
			"RedeemDeviceCode": func(int) error { _, err := s.RedeemDeviceCode(ctx, "dc", t0); return err },
			"ApproveDeviceCode": func(int) error {
				return s.ApproveDeviceCode(ctx, "dc", "user-2", nil, t0) // already approved: all lose
			},
		}
		for name, op := range ops {
			t.Run(name, func(t *testing.T) {
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { errs[i] = op(i) })
				}
				wg.Wait()
				won := 0
				for _, err := range errs {
					switch {
					case err == nil:
						won++
					case !errors.Is(err, oauth.ErrAlreadyUsed):
						t.Errorf("loser: got %v; want ErrAlreadyUsed", err)
					}
				}
				want := 1
				if name == "ApproveDeviceCode" {
					want = 0
				}
				if won != want {
					t.Errorf("winners: got %d; want %d", won, want)
				}
			})
		}
		// Exactly one successor of the rotated token was stored.
		var count int
		q := s.DB().Rebind("SELECT COUNT(*) FROM oauth_refresh_tokens WHERE family_id = ?")
		if err := s.DB().QueryRowContext(ctx, q, "f").Scan(&count); err != nil || count != 2 {
			t.Errorf("refresh tokens of the family: got %d, %v; want 2", count, err)
		}
	})
}

func TestDeviceUserCodes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := openStore(t, d)
		mustCreateClient(t, s, "c")
		old := newDeviceCode("old", "BCDFGHJK", "c", t0)
		if err := s.CreateDeviceCode(ctx, old); err != nil {
			t.Fatal(err)
		}
		live := newDeviceCode("live", "BCDFGHJK", "c", t0.Add(10*time.Minute))
		live.CreatedAt = t0.Add(-time.Second) // old is still live then
		if err := s.CreateDeviceCode(ctx, live); !errors.Is(err, oauth.ErrDuplicate) {
			t.Fatalf("CreateDeviceCode while a code with the user code is live: got %v; want ErrDuplicate", err)
		}
		if _, err := s.FindDeviceCode(ctx, "live"); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("refused device code: got %v; want ErrNotFound", err)
		}
		live.CreatedAt = t0 // old expired at t0
		if err := s.CreateDeviceCode(ctx, live); err != nil {
			t.Fatalf("CreateDeviceCode after the other expired: %v", err)
		}
		got, err := s.FindDeviceCodeByUserCode(ctx, "BCDFGHJK")
		if err != nil || got.ID != "live" {
			t.Errorf("FindDeviceCodeByUserCode: got %v, %v; want the live code", got, err)
		}
		if got, err := s.FindDeviceCode(ctx, "old"); err != nil || got.UserCode != "BCDFGHJK" {
			t.Errorf("the expired code keeps its user code: got %+v, %v", got, err)
		}
		if err := s.CreateDeviceCode(ctx, newDeviceCode("live", "ZZZZ", "c", t0.Add(time.Hour))); !errors.Is(err, oauth.ErrDuplicate) {
			t.Errorf("CreateDeviceCode(dup id): got %v; want ErrDuplicate", err)
		}

		// Racing creates of one user code over an expired one: one wins.
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				dc := newDeviceCode(hashID("race %d", i), "BCDFGHJK", "c", t0.Add(time.Hour))
				dc.CreatedAt = t0.Add(20 * time.Minute)
				errs[i] = s.CreateDeviceCode(ctx, dc)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else if !errors.Is(err, oauth.ErrDuplicate) {
				t.Errorf("racing CreateDeviceCode: got %v; want ErrDuplicate", err)
			}
		}
		if won != 1 {
			t.Errorf("racing CreateDeviceCode winners: got %d; want 1", won)
		}
	})
}

func TestPollDeviceCode(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := openStore(t, d)
		mustCreateClient(t, s, "c")
		if err := s.CreateDeviceCode(ctx, newDeviceCode("dc", "BCDF", "c", t0.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		got, err := s.PollDeviceCode(ctx, "dc", t0)
		if err != nil || got.LastPolledAt != t0 || got.Interval != 5*time.Second {
			t.Fatalf("first poll: got %+v, %v; want polled at t0, interval 5s", got, err)
		}
		got, err = s.PollDeviceCode(ctx, "dc", t0.Add(2*time.Second))
		if !errors.Is(err, oauth.ErrSlowDown) || got == nil || got.Interval != 10*time.Second {
			t.Fatalf("early poll: got %+v, %v; want ErrSlowDown, interval 10s", got, err)
		}
		got, err = s.PollDeviceCode(ctx, "dc", t0.Add(12*time.Second))
		if err != nil || got.LastPolledAt != t0.Add(12*time.Second) {
			t.Fatalf("poll after the interval: got %+v, %v", got, err)
		}
		if _, err := s.PollDeviceCode(ctx, "dc", t0.Add(time.Hour)); !errors.Is(err, oauth.ErrExpired) {
			t.Errorf("poll at expiry: got %v; want ErrExpired", err)
		}
		if _, err := s.PollDeviceCode(ctx, "nope", t0); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("poll of a missing code: got %v; want ErrNotFound", err)
		}
		// Concurrent polls, all due: at most one passes.
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = s.PollDeviceCode(ctx, "dc", t0.Add(time.Minute)) })
		}
		wg.Wait()
		passed := 0
		for _, err := range errs {
			if err == nil {
				passed++
			} else if !errors.Is(err, oauth.ErrSlowDown) {
				t.Errorf("racing poll: got %v; want ErrSlowDown", err)
			}
		}
		if passed != 1 {
			t.Errorf("racing polls that passed: got %d; want 1", passed)
		}
		got, err = s.FindDeviceCode(ctx, "dc")
		if want := 10*time.Second + 5*time.Second*(n-1); err != nil || got.Interval != want {
			t.Errorf("interval after racing polls: got %v, %v; want %v", got.Interval, err, want)
		}
	})
}

// TestPostgresSerializableDefault runs racing single-use writes on a
// PostgreSQL connection whose default isolation is SERIALIZABLE: the store
// asks for READ COMMITTED in its transactions and retries serialization
// failures of its autocommit device-code insert, so the races still end
// with one winner and clean losers.
func TestPostgresSerializableDefault(t *testing.T) {
	const n = 12
	ctx := context.Background()
	dsn := newDatabase(t, sqlstore.Postgres)
	if strings.Contains(dsn, "://") {
		dsn += "&default_transaction_isolation=serializable"
		if !strings.Contains(dsn, "?") {
			dsn = strings.Replace(dsn, "&", "?", 1)
		}
	} else {
		dsn += " default_transaction_isolation=serializable"
	}
	s := openDSN(t, sqlstore.Postgres, dsn)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var level string
	if err := s.DB().QueryRowContext(ctx, "SHOW default_transaction_isolation").Scan(&level); err != nil || level != "serializable" {
		t.Fatalf("default_transaction_isolation: got %q, %v; want serializable", level, err)
	}
	mustCreateClient(t, s, "c")
	exp := t0.Add(time.Hour)
	if err := s.CreateAuthCode(ctx, newAuthCode("code", "c", exp)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDeviceCode(ctx, newDeviceCode("dc", "BCDF", "c", exp)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDeviceCode(ctx, newDeviceCode("old", "ZZZZ", "c", t0)); err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name  string
		loser error
		op    func(i int) error
	}{
		{"ConsumeAuthCode", oauth.ErrAlreadyUsed, func(int) error { _, err := s.ConsumeAuthCode(ctx, "code", t0); return err }},
		{"PollDeviceCode", oauth.ErrSlowDown, func(int) error { _, err := s.PollDeviceCode(ctx, "dc", t0); return err }},
		{"CreateDeviceCode", oauth.ErrDuplicate, func(i int) error {
			return s.CreateDeviceCode(ctx, newDeviceCode(hashID("dc %d", i), "ZZZZ", "c", exp))
		}},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { errs[i] = o.op(i) })
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
				} else if !errors.Is(err, o.loser) {
					t.Errorf("loser: got %v; want %v", err, o.loser)
				}
			}
			if won != 1 {
				t.Errorf("winners: got %d; want 1", won)
			}
		})
	}
}
