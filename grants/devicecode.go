package grants

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/oauthkit/oauth"
)

// deviceCodeGrant serves grant_type=urn:ietf:params:oauth:grant-type:device_code
// (RFC 8628 §3.4, §3.5): the device polls with its device_code until the
// user has decided.
//
// A code that does not exist or belongs to another client is invalid_grant,
// and such a request writes nothing. Otherwise every poll is recorded in the
// repository, which decides slow_down: a poll sooner than the code's
// interval after the previous one (or racing another poll) is answered
// slow_down and the code's interval grows by 5 seconds, persisted, so the
// rule holds across server instances. (The stored interval is the one
// devices are told less Config.DevicePollLeeway.) A poll in time is answered
// authorization_pending while the user has not decided, access_denied after
// a denial, expired_token once the code has expired; after an approval the
// code is redeemed in one compare-and-set and the tokens issued — exactly
// once, however many polls race — and every later poll is invalid_grant.
func (s *Server) deviceCodeGrant(ctx context.Context, req *tokenRequest) (*tokenResponse, error) {
	value := req.form.get("device_code")
	if value == "" {
		return nil, errMissing("device_code")
	}
	repo := s.device.repo
	id := oauth.HashValue(value)
	d, err := repo.FindDeviceCode(ctx, id)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, errInvalidGrant("the device code is invalid")
	}
	if err != nil {
		return nil, fmt.Errorf("grants: find device code: %w", err)
	}
	if d.ClientID != req.client.ID {
		return nil, errInvalidGrant("the device code was issued to another client")
	}
	if d.Revoked {
		return nil, errInvalidGrant("the device code was already used")
	}
	if !req.now.Before(d.ExpiresAt) {
		return nil, errExpiredToken
	}
	d, err = repo.PollDeviceCode(ctx, id, req.now)
	switch {
	case errors.Is(err, oauth.ErrSlowDown):
		return nil, errSlowDown(d, s.device.leeway)
	case errors.Is(err, oauth.ErrExpired):
		return nil, errExpiredToken
	case errors.Is(err, oauth.ErrNotFound):
		return nil, errInvalidGrant("the device code is invalid")
	case err != nil:
		return nil, fmt.Errorf("grants: poll device code: %w", err)
	}
	switch d.Status {
	case oauth.DevicePending:
		return nil, errAuthorizationPending
	case oauth.DeviceDenied:
		return nil, errDeviceDenied
	}
	// The tokens are stored before the redemption, so that a failure after
	// it cannot spend the code without tokens to show for it; a poll that
	// loses the redemption race discards the tokens it stored, unsent.
	if d.ClientID != req.client.ID || d.UserID == "" {
		return nil, fmt.Errorf("grants: poll device code: the repository returned an approved code of client %q, user %q", d.ClientID, d.UserID)
	}
	t, err := s.storeTokens(ctx, req.client, d.UserID, d.Scopes, d.FamilyID,
		req.client.AllowsGrant(oauth.GrantRefreshToken), req.now)
	if err != nil {
		return nil, err
	}
	_, err = repo.RedeemDeviceCode(ctx, id, req.now)
	if err != nil {
		s.discard(ctx, t)
	}
	switch {
	case errors.Is(err, oauth.ErrAlreadyUsed):
		return nil, errInvalidGrant("the device code was already used")
	case errors.Is(err, oauth.ErrExpired):
		return nil, errExpiredToken
	case errors.Is(err, oauth.ErrNotFound):
		return nil, errInvalidGrant("the device code is invalid")
	case errors.Is(err, oauth.ErrNotApproved):
		// A decision is final, so an approved code cannot be pending or
		// denied now; a repository that says so is not to be trusted with
		// tokens.
		return nil, fmt.Errorf("grants: redeem device code: approved code reported as not approved: %w", err)
	case err != nil:
		return nil, fmt.Errorf("grants: redeem device code: %w", err)
	}
	s.announce(ctx, req.grantType, t)
	return s.response(t), nil
}

// The answers of RFC 8628 §3.5 while a device polls; all 400.
var (
	errAuthorizationPending = oauth.NewError(oauth.ErrCodeAuthorizationPending, "the user has not yet approved the request")
	errDeviceDenied         = oauth.NewError(oauth.ErrCodeAccessDenied, "the user denied the request")
	errExpiredToken         = oauth.NewError(oauth.ErrCodeExpiredToken, "the device code has expired")
)

// errSlowDown is the slow_down answer, naming the interval the device must
// now keep: the stored one plus the leeway, as the device was told.
func errSlowDown(d *oauth.DeviceCode, leeway time.Duration) *oauth.Error {
	desc := "polling too fast"
	if d != nil {
		desc += ": wait at least " + strconv.FormatInt(int64((d.Interval+leeway)/time.Second), 10) + " seconds between requests"
	}
	return oauth.NewError(oauth.ErrCodeSlowDown, desc)
}
