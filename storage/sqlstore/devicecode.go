package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/oauthkit/oauth"
)

// Device codes keep their user code in two columns: user_code, always, and
// user_code_slot, which has a UNIQUE index and holds the user code while no
// newer code has claimed it. A new code with the same user code frees the
// slot of an expired one (SET user_code_slot = NULL … AND expires_at <=
// created) and retries its INSERT once, so two live codes can never share a
// user code, in one process or many, without a lock or a transaction.

// CreateDeviceCode stores a new device code: an error wrapping
// oauth.ErrDuplicate if the ID exists or another device code with the same
// user code has not expired at d.CreatedAt, oauth.ErrInvalid if the code
// fails validation or its client does not exist. A zero CreatedAt is set,
// in d too, to the current time.
func (s *Store) CreateDeviceCode(ctx context.Context, d *oauth.DeviceCode) error {
	const op = "create device code"
	if d == nil {
		return opError(op, "", fmt.Errorf("%w: nil device code", oauth.ErrInvalid))
	}
	if err := d.Validate(); err != nil {
		return opError(op, d.ID, err)
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.now()
	}
	// A deadlock (InnoDB, between racing INSERTs of one user code and the
	// UPDATE that frees an expired code's slot) or a serialization failure
	// (PostgreSQL at a stricter isolation than READ COMMITTED) of these
	// autocommit statements wrote nothing, so they may run again.
	err := retrying(ctx, createDeviceAttempts, func() error {
		err := s.insertDevice(ctx, d)
		if err != nil && classify(err) == errUnique {
			err = s.retryDevice(ctx, d, err)
		}
		return err
	})
	if err != nil {
		return opError(op, d.ID, translate(err, "client"))
	}
	return nil
}

// createDeviceAttempts bounds how often CreateDeviceCode runs again after a
// deadlock or serialization failure. Racing creates of one user code
// deadlock each other on MySQL far more than other writes do, so this is
// more than maxAttempts.
const createDeviceAttempts = 10

func (s *Store) insertDevice(ctx context.Context, d *oauth.DeviceCode) error {
	_, err := s.db.ExecContext(ctx, s.q.insertDevice, d.ID, d.UserCode, d.ClientID, nullable(d.UserID),
		join(d.Scopes), d.FamilyID, d.VerificationURI, nullable(d.VerificationURIComplete),
		int64(d.Interval/time.Second), s.optTimeArg(d.LastPolledAt), string(d.Status),
		s.timeArg(d.ExpiresAt), s.timeArg(d.CreatedAt), d.Revoked, d.UserCode)
	return err
}

// retryDevice handles a unique violation of an INSERT: if the ID is free,
// the user code's slot may belong to an expired code; free it and insert
// again.
func (s *Store) retryDevice(ctx context.Context, d *oauth.DeviceCode, dup error) error {
	var one int
	err := s.db.QueryRowxContext(ctx, s.q.existsDevice, d.ID).Scan(&one)
	if err == nil {
		return dup // the ID exists
	}
	if !isNoRows(err) {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q.freeUserCode, d.UserCode, s.timeArg(d.CreatedAt))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: a live device code has user code %q", oauth.ErrDuplicate, d.UserCode)
	}
	return s.insertDevice(ctx, d)
}

func (s *Store) scanDevice(row *sqlx.Row) (*oauth.DeviceCode, error) {
	var d oauth.DeviceCode
	err := row.Scan(&d.ID, &d.UserCode, &d.ClientID, (*nullString)(&d.UserID), (*list)(&d.Scopes), &d.FamilyID,
		&d.VerificationURI, (*nullString)(&d.VerificationURIComplete), (*seconds)(&d.Interval),
		s.timeDest(&d.LastPolledAt), (*nullString)(&d.Status), s.timeDest(&d.ExpiresAt), s.timeDest(&d.CreatedAt),
		&d.Revoked)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func (s *Store) findDevice(ctx context.Context, id string) (*oauth.DeviceCode, error) {
	return s.scanDevice(s.db.QueryRowxContext(ctx, s.q.findDevice, id))
}

// FindDeviceCode returns the device code with that ID, expired, decided
// and redeemed ones included, or an error wrapping oauth.ErrNotFound.
func (s *Store) FindDeviceCode(ctx context.Context, id string) (*oauth.DeviceCode, error) {
	if !oauth.ValidID(id, oauth.MaxTokenIDLen) {
		return nil, opError("find device code", id, oauth.ErrNotFound)
	}
	d, err := s.findDevice(ctx, id)
	if err != nil {
		return nil, opError("find device code", id, translate(err, "client"))
	}
	return d, nil
}

// FindDeviceCodeByUserCode returns the device code with that normalized
// user code, or an error wrapping oauth.ErrNotFound. Where several codes
// share the user code, the one that expires last is returned: the live
// one, if there is one.
func (s *Store) FindDeviceCodeByUserCode(ctx context.Context, userCode string) (*oauth.DeviceCode, error) {
	if !normalUserCode(userCode) {
		return nil, opError("find device code by user code", userCode, oauth.ErrNotFound)
	}
	d, err := s.scanDevice(s.db.QueryRowxContext(ctx, s.q.findDeviceByUserCode, userCode))
	if err != nil {
		return nil, opError("find device code by user code", userCode, translate(err, "client"))
	}
	return d, nil
}

// normalUserCode reports whether u is a user code as the root's validation
// lets one be stored.
func normalUserCode(u string) bool {
	if u == "" || len(u) > oauth.MaxUserCodeLen {
		return false
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// PollDeviceCode records a poll at now and returns the device code as after
// the poll. A poll at least Interval after the previous one is recorded with
// an optimistic compare-and-set on last_polled_at (it must still hold the
// value read), so of two concurrent polls at most one passes. A poll sooner
// than that, or one that lost the race, also records the poll and adds 5
// seconds to the interval (at most 24 h), and the error wraps
// oauth.ErrSlowDown, returned with the updated record. It returns an error
// wrapping oauth.ErrNotFound if there is no such code, and oauth.ErrExpired,
// writing nothing, if the code expired at or before now.
func (s *Store) PollDeviceCode(ctx context.Context, id string, now time.Time) (*oauth.DeviceCode, error) {
	const op = "poll device code"
	if err := checkTimeArg("now", now); err != nil {
		return nil, opError(op, id, err)
	}
	if !oauth.ValidID(id, oauth.MaxTokenIDLen) {
		return nil, opError(op, id, oauth.ErrNotFound)
	}
	now = now.UTC().Truncate(time.Microsecond)
	d, err := s.findDevice(ctx, id)
	if err != nil {
		return nil, opError(op, id, translate(err, "client"))
	}
	if !now.Before(d.ExpiresAt) {
		return nil, opError(op, id, oauth.ErrExpired)
	}
	nowArg := s.timeArg(now)
	if d.LastPolledAt.IsZero() || now.Sub(d.LastPolledAt) >= d.Interval {
		var after *oauth.DeviceCode
		var ok bool
		if d.LastPolledAt.IsZero() {
			after, ok, err = s.casDevice(ctx, id, s.q.pollFirst, nowArg, id, nowArg)
		} else {
			after, ok, err = s.casDevice(ctx, id, s.q.pollNext, nowArg, id, s.timeArg(d.LastPolledAt), nowArg)
		}
		if err != nil {
			return nil, opError(op, id, err)
		}
		if ok {
			return after, nil
		}
		// Another poll changed last_polled_at since the read: this one
		// raced it, and slows down.
	}
	after, ok, err := s.casDevice(ctx, id, s.q.slowDown, nowArg, id, nowArg)
	if err != nil {
		return nil, opError(op, id, err)
	}
	if !ok {
		// Deleted, expired, or (MySQL) nothing changed.
		after, err = s.findDevice(ctx, id)
		if err != nil {
			return nil, opError(op, id, translate(err, "client"))
		}
		if !now.Before(after.ExpiresAt) {
			return nil, opError(op, id, oauth.ErrExpired)
		}
	}
	return after, opError(op, id, oauth.ErrSlowDown)
}

// casDevice runs a conditional UPDATE of one device code (see atomically)
// and reports whether it matched; if it did, it returns the row as after
// the write.
func (s *Store) casDevice(ctx context.Context, id, query string, args ...any) (d *oauth.DeviceCode, ok bool, err error) {
	err = s.atomically(ctx, func(ext sqlx.ExtContext) error {
		d, ok = nil, false
		if s.q.returning {
			var err error
			d, err = s.scanDevice(ext.QueryRowxContext(ctx, query, args...))
			if isNoRows(err) {
				return nil
			}
			ok = err == nil
			return err
		}
		res, err := ext.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		d, err = s.scanDevice(ext.QueryRowxContext(ctx, s.q.findDevice, id))
		ok = err == nil
		return err
	})
	if err != nil {
		return nil, false, translate(err, "client")
	}
	return d, ok, nil
}

// ApproveDeviceCode records the user's approval with the granted scopes,
// with one conditional UPDATE of a pending code. It returns an error
// wrapping oauth.ErrNotFound if there is no such code, oauth.ErrAlreadyUsed
// if it was approved, denied or redeemed before, oauth.ErrExpired if it
// expired at or before now, or oauth.ErrInvalid if userID (required) or
// scopes are not valid.
func (s *Store) ApproveDeviceCode(ctx context.Context, id, userID string, scopes []string, now time.Time) error {
	const op = "approve device code"
	if err := checkUserID(userID); err != nil {
		return opError(op, id, err)
	}
	if err := checkScopeList(scopes); err != nil {
		return opError(op, id, err)
	}
	return s.decide(ctx, op, id, now, s.q.approveDevice, userID, join(scopes))
}

// DenyDeviceCode records the user's denial, with the same rules as
// ApproveDeviceCode: userID is required.
func (s *Store) DenyDeviceCode(ctx context.Context, id, userID string, now time.Time) error {
	const op = "deny device code"
	if err := checkUserID(userID); err != nil {
		return opError(op, id, err)
	}
	return s.decide(ctx, op, id, now, s.q.denyDevice, userID)
}

// decide runs the approval or denial UPDATE, whose arguments are set, then
// id and now.
func (s *Store) decide(ctx context.Context, op, id string, now time.Time, query string, set ...any) error {
	if err := checkTimeArg("now", now); err != nil {
		return opError(op, id, err)
	}
	if !oauth.ValidID(id, oauth.MaxTokenIDLen) {
		return opError(op, id, oauth.ErrNotFound)
	}
	var n int64
	err := s.atomically(ctx, func(ext sqlx.ExtContext) error {
		n = 0
		res, err := ext.ExecContext(ctx, query, append(set, id, s.timeArg(now))...)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return opError(op, id, err)
	}
	if n == 1 {
		return nil
	}
	d, err := s.findDevice(ctx, id)
	switch {
	case err != nil:
		return opError(op, id, translate(err, "client"))
	case d.Status != oauth.DevicePending || d.Revoked:
		return opError(op, id, oauth.ErrAlreadyUsed)
	case !now.Before(d.ExpiresAt):
		return opError(op, id, oauth.ErrExpired)
	}
	return opError(op, id, fmt.Errorf("%w: the code changed while it was decided", oauth.ErrAlreadyUsed))
}

// RedeemDeviceCode marks an approved device code redeemed with one
// conditional UPDATE and returns it (Revoked true): of many concurrent
// calls, in one process or many, exactly one succeeds. Otherwise it returns
// an error wrapping oauth.ErrNotFound if there is no such code,
// oauth.ErrAlreadyUsed if it was redeemed before, oauth.ErrExpired if it
// expired at or before now, or oauth.ErrNotApproved if it is pending or
// denied.
func (s *Store) RedeemDeviceCode(ctx context.Context, id string, now time.Time) (*oauth.DeviceCode, error) {
	const op = "redeem device code"
	if err := checkTimeArg("now", now); err != nil {
		return nil, opError(op, id, err)
	}
	if !oauth.ValidID(id, oauth.MaxTokenIDLen) {
		return nil, opError(op, id, oauth.ErrNotFound)
	}
	nowArg := s.timeArg(now)
	d, ok, err := s.casDevice(ctx, id, s.q.redeemDevice, id, nowArg)
	if err != nil {
		return nil, opError(op, id, err)
	}
	if ok {
		return d, nil
	}
	d, err = s.findDevice(ctx, id)
	switch {
	case err != nil:
		return nil, opError(op, id, translate(err, "client"))
	case d.Revoked:
		return nil, opError(op, id, oauth.ErrAlreadyUsed)
	case !now.Before(d.ExpiresAt):
		return nil, opError(op, id, oauth.ErrExpired)
	case d.Status != oauth.DeviceApproved:
		return nil, opError(op, id, oauth.ErrNotApproved)
	}
	return nil, opError(op, id, fmt.Errorf("%w: the code changed while it was redeemed", oauth.ErrAlreadyUsed))
}

// PurgeDeviceCodes deletes the device codes that expired before the given
// time and returns how many.
func (s *Store) PurgeDeviceCodes(ctx context.Context, before time.Time) (int64, error) {
	return s.purge(ctx, "device codes", s.q.purgeDevice, before)
}
