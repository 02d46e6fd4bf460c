package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
)

// TestExpiredRowsPurged: the server deletes the expired sessions, consent
// tickets and throttle counts that visitors leave behind (an anonymous
// session per cookieless visit of the sign-in page), without an
// administrator running purge.
func TestExpiredRowsPurged(t *testing.T) {
	db := sqliteURL(t)
	mustCLI(t, db, "scope", "list") // creates the schema
	store := openTestStore(t, db)
	ctx := context.Background()
	past := time.Now().Add(-time.Hour).Unix()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := store.DB().ExecContext(ctx, store.DB().Rebind(q), args...); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		id := oauth.HashValue("expired-" + strconv.Itoa(i))
		exec(`INSERT INTO example_sessions (id, user_id, csrf_token, expires_at) VALUES (?, NULL, 'x', ?)`, id, past)
		exec(`INSERT INTO example_consents (id, session_id, request_hash, expires_at) VALUES (?, ?, 'h', ?)`, id, id, past)
		exec(`INSERT INTO example_throttle (id, attempts, window_start) VALUES (?, 1, ?)`, id, time.Now().Add(-maxThrottleWindow-time.Minute).Unix())
	}
	live := oauth.HashValue("live")
	exec(`INSERT INTO example_sessions (id, user_id, csrf_token, expires_at) VALUES (?, NULL, 'x', ?)`, live, time.Now().Add(time.Hour).Unix())

	startServer(t, "-db", db)
	count := func(table string) int {
		var n int
		if err := store.DB().QueryRowxContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for count("example_sessions") != 1 || count("example_consents") != 0 || count("example_throttle") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after start: %d sessions, %d consent tickets, %d throttle counts; want 1 (the live one), 0, 0",
				count("example_sessions"), count("example_consents"), count("example_throttle"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
