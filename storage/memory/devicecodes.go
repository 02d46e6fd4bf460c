package memory

import (
	"context"
	"slices"
	"time"

	"github.com/oauthkit/oauth"
)

// slowDownStep is what a too-fast poll adds to a device code's interval
// (RFC 8628 §3.5).
const slowDownStep = 5 * time.Second

func cloneDeviceCode(d *oauth.DeviceCode) *oauth.DeviceCode {
	out := *d
	out.Scopes = cloneStrings(d.Scopes)
	return &out
}

// CreateDeviceCode stores a copy of d. A zero CreatedAt is set to the
// store's current time. It returns an error wrapping oauth.ErrInvalid if d
// fails validation or its client does not exist, and oauth.ErrDuplicate if
// the ID exists or another device code with the same user code has not
// expired at d.CreatedAt.
func (s *Store) CreateDeviceCode(ctx context.Context, d *oauth.DeviceCode) error {
	const op = "create device code"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if d == nil {
		return fail(op, errNilRecord)
	}
	if err := d.Validate(); err != nil {
		return fail(op, err)
	}
	rec := cloneDeviceCode(d)
	rec.ExpiresAt = d.ExpiresAt.UTC()
	rec.LastPolledAt = d.LastPolledAt.UTC()
	if d.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	} else {
		rec.CreatedAt = d.CreatedAt.UTC()
	}
	s.deviceMu.Lock()
	defer s.deviceMu.Unlock()
	if _, ok := s.devices[rec.ID]; ok {
		return fail(op, oauth.ErrDuplicate)
	}
	for _, id := range s.userCodes[rec.UserCode] {
		if s.devices[id].ExpiresAt.After(rec.CreatedAt) {
			return fail(op, errLiveUserCode)
		}
	}
	if !s.clientExists(rec.ClientID) {
		return fail(op, errUnknownClient)
	}
	s.devices[rec.ID] = rec
	s.userCodes[rec.UserCode] = append(s.userCodes[rec.UserCode], rec.ID)
	return nil
}

// deleteDeviceLocked removes a device code; the caller holds deviceMu.
func (s *Store) deleteDeviceLocked(id, userCode string) {
	delete(s.devices, id)
	ids := slices.DeleteFunc(s.userCodes[userCode], func(x string) bool { return x == id })
	if len(ids) == 0 {
		delete(s.userCodes, userCode)
	} else {
		s.userCodes[userCode] = ids
	}
}

// FindDeviceCode returns the device code with that ID, expired, decided and
// redeemed ones included, or an error wrapping oauth.ErrNotFound.
func (s *Store) FindDeviceCode(ctx context.Context, id string) (*oauth.DeviceCode, error) {
	const op = "find device code"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	s.deviceMu.RLock()
	defer s.deviceMu.RUnlock()
	d, ok := s.devices[id]
	if !ok {
		return nil, fail(op, oauth.ErrNotFound)
	}
	return cloneDeviceCode(d), nil
}

// FindDeviceCodeByUserCode returns the device code with that normalized
// user code, or an error wrapping oauth.ErrNotFound. Of several codes with
// the user code (at most one of them live) it returns the one that expires
// last, which is the live one if there is one.
func (s *Store) FindDeviceCodeByUserCode(ctx context.Context, userCode string) (*oauth.DeviceCode, error) {
	const op = "find device code by user code"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	s.deviceMu.RLock()
	defer s.deviceMu.RUnlock()
	var best *oauth.DeviceCode
	for _, id := range s.userCodes[userCode] {
		if d := s.devices[id]; best == nil || d.ExpiresAt.After(best.ExpiresAt) {
			best = d
		}
	}
	if best == nil {
		return nil, fail(op, oauth.ErrNotFound)
	}
	return cloneDeviceCode(best), nil
}

// PollDeviceCode records a poll at now and returns the device code as after
// it. A poll less than Interval after the previous one (or at the same
// instant as a racing poll) adds 5 seconds to the interval and returns the
// updated record with an error wrapping oauth.ErrSlowDown; every poll, too
// fast or not, sets LastPolledAt. It returns an error wrapping
// oauth.ErrNotFound if there is no such code, oauth.ErrExpired, writing
// nothing, if it expired at or before now, and oauth.ErrInvalid if now is
// zero.
func (s *Store) PollDeviceCode(ctx context.Context, id string, now time.Time) (*oauth.DeviceCode, error) {
	const op = "poll device code"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	if now.IsZero() {
		return nil, fail(op, errZeroNow)
	}
	s.deviceMu.Lock()
	defer s.deviceMu.Unlock()
	d, ok := s.devices[id]
	switch {
	case !ok:
		return nil, fail(op, oauth.ErrNotFound)
	case !now.Before(d.ExpiresAt):
		return nil, fail(op, oauth.ErrExpired)
	}
	tooFast := !d.LastPolledAt.IsZero() && now.Sub(d.LastPolledAt) < d.Interval
	d.LastPolledAt = now.UTC()
	if tooFast {
		d.Interval += slowDownStep
		return cloneDeviceCode(d), fail(op, oauth.ErrSlowDown)
	}
	return cloneDeviceCode(d), nil
}

// decide moves a pending, live device code to status, recording the user
// and, when scopes is not nil, the granted scopes.
func (s *Store) decide(ctx context.Context, op, id, userID string, status oauth.DeviceStatus, scopes *[]string, now time.Time) error {
	if err := begin(ctx, op); err != nil {
		return err
	}
	if userID == "" {
		return fail(op, errNoUser)
	}
	s.deviceMu.Lock()
	defer s.deviceMu.Unlock()
	d, ok := s.devices[id]
	switch {
	case !ok:
		return fail(op, oauth.ErrNotFound)
	case d.Status != oauth.DevicePending || d.Revoked:
		return fail(op, oauth.ErrAlreadyUsed)
	case !now.Before(d.ExpiresAt):
		return fail(op, oauth.ErrExpired)
	}
	next := *d
	next.Status = status
	next.UserID = userID
	if scopes != nil {
		next.Scopes = cloneStrings(*scopes)
	}
	if err := next.Validate(); err != nil {
		return fail(op, err)
	}
	*d = next
	return nil
}

// ApproveDeviceCode records the user's approval and the granted scopes on a
// pending code. It returns an error wrapping oauth.ErrNotFound if there is
// no such code, oauth.ErrAlreadyUsed if it was approved, denied or redeemed
// before (expired or not), oauth.ErrExpired if it expired at or before now,
// and oauth.ErrInvalid, writing nothing, if userID is empty or the user ID
// or scopes are not valid.
func (s *Store) ApproveDeviceCode(ctx context.Context, id, userID string, scopes []string, now time.Time) error {
	return s.decide(ctx, "approve device code", id, userID, oauth.DeviceApproved, &scopes, now)
}

// DenyDeviceCode records the user's denial, with the same rules as
// ApproveDeviceCode; the scopes are left as they were.
func (s *Store) DenyDeviceCode(ctx context.Context, id, userID string, now time.Time) error {
	return s.decide(ctx, "deny device code", id, userID, oauth.DeviceDenied, nil, now)
}

// RedeemDeviceCode marks an approved code redeemed and returns it as after
// the write (Revoked true). It returns an error wrapping oauth.ErrNotFound
// if there is no such code, oauth.ErrAlreadyUsed if it was redeemed before
// (expired or not), oauth.ErrExpired if it expired at or before now, and
// oauth.ErrNotApproved if it is pending or denied.
func (s *Store) RedeemDeviceCode(ctx context.Context, id string, now time.Time) (*oauth.DeviceCode, error) {
	const op = "redeem device code"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	s.deviceMu.Lock()
	defer s.deviceMu.Unlock()
	d, ok := s.devices[id]
	switch {
	case !ok:
		return nil, fail(op, oauth.ErrNotFound)
	case d.Revoked:
		return nil, fail(op, oauth.ErrAlreadyUsed)
	case !now.Before(d.ExpiresAt):
		return nil, fail(op, oauth.ErrExpired)
	case d.Status != oauth.DeviceApproved:
		return nil, fail(op, oauth.ErrNotApproved)
	}
	d.Revoked = true
	return cloneDeviceCode(d), nil
}

// PurgeDeviceCodes deletes the device codes that expired before the given
// time and returns how many.
func (s *Store) PurgeDeviceCodes(ctx context.Context, before time.Time) (int64, error) {
	if err := begin(ctx, "purge device codes"); err != nil {
		return 0, err
	}
	s.deviceMu.Lock()
	defer s.deviceMu.Unlock()
	var n int64
	for id, d := range s.devices {
		if d.ExpiresAt.Before(before) {
			s.deleteDeviceLocked(id, d.UserCode)
			n++
		}
	}
	return n, nil
}
