package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/sqlstore"
)

// Password guessing is throttled per username and per client address:
// each has a budget of -throttle-attempts attempts per -throttle-window
// (10 per 10 minutes by default), the window fixed from its first attempt. The counts live in example_throttle, so that every
// instance on the database spends the same budget. A sign-in counts its
// attempt before checking the password, and gives it back when the
// password was right: so that concurrent guesses cannot all pass the check
// before the first of them is counted, and sign-ins that succeed cost
// nothing. Known and unknown usernames are counted alike, so the throttle
// says nothing about which exist. (A username's budget can be spent by
// anyone who knows it; the lockout lasts a window at most.)
const (
	defaultThrottleAttempts = 10
	defaultThrottleWindow   = 10 * time.Minute
	// maxThrottleWindow bounds -throttle-window; purge deletes the counts
	// older than it, so that a purge run with another -throttle-window
	// than the servers' never deletes a live count.
	maxThrottleWindow = 24 * time.Hour
)

// throttle counts attempts per key in the database.
type throttle struct {
	db      *sqlx.DB
	dialect sqlstore.Dialect
	max     int
	window  time.Duration
	now     func() time.Time
}

func newThrottle(db *sqlx.DB, d sqlstore.Dialect, attempts int, window time.Duration) *throttle {
	return &throttle{db: db, dialect: d, max: attempts, window: window, now: time.Now}
}

// Throttle keys: one budget per username and one per client address,
// shared by the sign-in page and the password grant.
func userKey(username string) string { return "user:" + username }
func addrKey(host string) string     { return "addr:" + host }

// rowID is the row of a key: its hash, so that the table holds no
// usernames or addresses and every key fits the column.
func rowID(key string) string { return oauth.HashValue("example-throttle:" + key) }

// reserve counts an attempt for each key in turn, stopping at the first
// whose budget is spent: ok is false then. It returns the keys it counted,
// for release.
func (t *throttle) reserve(ctx context.Context, keys ...string) (counted []string, ok bool, err error) {
	for _, k := range keys {
		n, err := t.hit(ctx, k)
		if err != nil {
			return counted, false, err
		}
		counted = append(counted, k)
		if n > t.max {
			return counted, false, nil
		}
	}
	return counted, true, nil
}

// release gives back one attempt of each key: the attempt that reserve
// counted succeeded, or was not decided.
func (t *throttle) release(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if _, err := t.db.ExecContext(ctx, t.db.Rebind(
			`UPDATE example_throttle SET attempts = attempts - 1 WHERE id = ? AND attempts > 0`), rowID(k)); err != nil {
			return fmt.Errorf("release throttle: %w", err)
		}
	}
	return nil
}

// allowed reports whether every key has budget left, counting nothing.
func (t *throttle) allowed(ctx context.Context, keys ...string) (bool, error) {
	cutoff := t.now().Add(-t.window).Unix()
	for _, k := range keys {
		var n int
		err := t.db.QueryRowxContext(ctx, t.db.Rebind(
			`SELECT attempts FROM example_throttle WHERE id = ? AND window_start > ?`), rowID(k), cutoff).Scan(&n)
		if err == nil && n >= t.max {
			return false, nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("check throttle: %w", err)
		}
	}
	return true, nil
}

// fail counts a failed attempt of each key, after the fact.
func (t *throttle) fail(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if _, err := t.hit(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// hit counts one attempt of key, starting a new window if the last one
// has passed, and returns the attempts of the current window, this one
// included. Concurrent hits are serialized on the row: each sees a count
// at least as high as its own, so no more than max of them see max or
// less.
func (t *throttle) hit(ctx context.Context, key string) (int, error) {
	id := rowID(key)
	now := t.now().Unix()
	cutoff := t.now().Add(-t.window).Unix()
	var q string
	var args []any
	switch t.dialect {
	case sqlstore.MySQL:
		// MySQL assigns left to right: window_start is still the old
		// value when the second assignment reads it.
		q = `INSERT INTO example_throttle (id, attempts, window_start) VALUES (?, 1, ?)
			ON DUPLICATE KEY UPDATE
				attempts = IF(window_start <= ?, 1, attempts + 1),
				window_start = IF(window_start <= ?, ?, window_start)`
		args = []any{id, now, cutoff, cutoff, now}
	default: // SQLite ≥ 3.24 and PostgreSQL read the old row in every assignment
		q = `INSERT INTO example_throttle (id, attempts, window_start) VALUES (?, 1, ?)
			ON CONFLICT (id) DO UPDATE SET
				attempts = CASE WHEN example_throttle.window_start <= ? THEN 1 ELSE example_throttle.attempts + 1 END,
				window_start = CASE WHEN example_throttle.window_start <= ? THEN ? ELSE example_throttle.window_start END`
		args = []any{id, now, cutoff, cutoff, now}
	}
	var err error
	for range 5 {
		if _, err = t.db.ExecContext(ctx, t.db.Rebind(q), args...); !retryable(err) {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("count attempt: %w", err)
	}
	var n int
	if err := t.db.QueryRowxContext(ctx, t.db.Rebind(`SELECT attempts FROM example_throttle WHERE id = ?`), id).Scan(&n); err != nil {
		return 0, fmt.Errorf("count attempt: %w", err)
	}
	return n, nil
}

// retryable reports whether err is a MySQL deadlock or lock wait timeout,
// which concurrent upserts of one new row can meet.
func retryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// purgeThrottle deletes the counts whose window, of any length allowed,
// had passed by the given time.
func purgeThrottle(ctx context.Context, db *sqlx.DB, before time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, db.Rebind(`DELETE FROM example_throttle WHERE window_start <= ?`), before.Add(-maxThrottleWindow).Unix())
	if err != nil {
		return 0, fmt.Errorf("purge throttle: %w", err)
	}
	return res.RowsAffected()
}
