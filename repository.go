package oauth

import (
	"context"
	"errors"
	"time"
)

// Further sentinel errors of the device-code repository.
var (
	// ErrSlowDown: the device polled again before its interval had passed.
	ErrSlowDown = errors.New("oauth: polled too fast")
	// ErrNotApproved: the device code is pending or was denied.
	ErrNotApproved = errors.New("oauth: not approved")
)

// Every repository follows these rules:
//
//   - IDs of codes and opaque tokens are [HashValue]s; values are never stored.
//   - A write of an invalid record (see each type's Validate) returns an
//     error wrapping [ErrInvalid] and writes nothing; so does a record whose
//     client does not exist.
//   - A Create with an ID that exists returns [ErrDuplicate].
//   - A Find of a missing ID returns [ErrNotFound]. Find returns expired and
//     revoked records as stored: the caller decides what they mean.
//   - Times are stored in UTC with at least microsecond precision.
//   - A zero CreatedAt is set to the current time on Create.

// ClientRepository reads registered clients; it is all the grant engine needs.
type ClientRepository interface {
	// FindClient returns the client with that ID, or ErrNotFound.
	FindClient(ctx context.Context, id string) (*Client, error)
}

// ClientAdmin manages registered clients, for administration tools.
type ClientAdmin interface {
	ClientRepository
	// CreateClient stores a new client; ErrDuplicate if the ID exists.
	// Zero CreatedAt and UpdatedAt are set to the current time.
	CreateClient(ctx context.Context, c *Client) error
	// UpdateClient replaces every field of the client with that ID but
	// CreatedAt; ErrNotFound if there is none. A zero UpdatedAt is set to the
	// current time.
	UpdateClient(ctx context.Context, c *Client) error
	// DeleteClient deletes the client and every token, code and device code
	// issued to it; ErrNotFound if there is none.
	DeleteClient(ctx context.Context, id string) error
	// ListClients returns every client, ordered by ID.
	ListClients(ctx context.Context) ([]Client, error)
}

// ScopeRepository reads the scopes the server knows.
type ScopeRepository interface {
	// FindScopes returns the scopes among ids that exist, in the order of
	// ids; unknown ids are left out without error, and an id listed twice
	// is returned once.
	FindScopes(ctx context.Context, ids []string) ([]Scope, error)
	// ListScopes returns every scope, ordered by ID.
	ListScopes(ctx context.Context) ([]Scope, error)
}

// ScopeAdmin manages scopes, for administration tools.
type ScopeAdmin interface {
	ScopeRepository
	// CreateScope stores a new scope; ErrDuplicate if the ID exists.
	CreateScope(ctx context.Context, s *Scope) error
	// UpdateScope replaces the description; ErrNotFound if there is none.
	UpdateScope(ctx context.Context, s *Scope) error
	// DeleteScope deletes the scope; ErrNotFound if there is none.
	DeleteScope(ctx context.Context, id string) error
}

// AccessTokenRepository stores issued access tokens.
type AccessTokenRepository interface {
	// CreateAccessToken stores a new token; ErrDuplicate if the ID exists.
	CreateAccessToken(ctx context.Context, t *AccessToken) error
	// FindAccessToken returns the token with that ID, expired and revoked
	// ones included, or ErrNotFound.
	FindAccessToken(ctx context.Context, id string) (*AccessToken, error)
	// RevokeAccessToken marks the token revoked; ErrNotFound if there is
	// none. Revoking a revoked token succeeds.
	RevokeAccessToken(ctx context.Context, id string) error
	// RevokeAccessTokenFamily revokes every access token of the grant family
	// in one write and returns how many were not revoked before it.
	RevokeAccessTokenFamily(ctx context.Context, familyID string) (int64, error)
	// PurgeAccessTokens deletes tokens that expired before the given time
	// and returns how many. A token that a refresh token not yet expired at
	// that time refers to is kept — revoked and rotated refresh tokens
	// included, so that reuse detection and the refresh tokens themselves
	// survive (the SQL schema cascades from access to refresh tokens).
	PurgeAccessTokens(ctx context.Context, before time.Time) (int64, error)
}

// RefreshTokenRepository stores issued refresh tokens.
type RefreshTokenRepository interface {
	// CreateRefreshToken stores a new token; ErrDuplicate if the ID exists.
	// Its access token must have been stored first.
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// FindRefreshToken returns the token with that ID, expired, rotated and
	// revoked ones included, or ErrNotFound.
	FindRefreshToken(ctx context.Context, id string) (*RefreshToken, error)
	// RotateRefreshToken atomically retires the token oldID (Revoked, and
	// RotatedAt = now) and stores next, in one compare-and-set: of many
	// concurrent calls for one oldID exactly one succeeds. It returns
	// ErrNotFound if there is no such token, ErrAlreadyUsed if it was
	// rotated or revoked before, ErrExpired if it expired at or before now;
	// in each of these cases nothing is written.
	RotateRefreshToken(ctx context.Context, oldID string, next *RefreshToken, now time.Time) error
	// RevokeRefreshToken marks the token revoked; ErrNotFound if there is
	// none. Revoking a revoked token succeeds.
	RevokeRefreshToken(ctx context.Context, id string) error
	// RevokeRefreshTokenFamily revokes every refresh token of the grant
	// family in one write and returns how many were not revoked before it.
	RevokeRefreshTokenFamily(ctx context.Context, familyID string) (int64, error)
	// PurgeRefreshTokens deletes tokens that expired before the given time
	// and returns how many.
	PurgeRefreshTokens(ctx context.Context, before time.Time) (int64, error)
}

// AuthCodeRepository stores authorization codes.
type AuthCodeRepository interface {
	// CreateAuthCode stores a new code; ErrDuplicate if the ID exists.
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// FindAuthCode returns the code with that ID, expired and consumed ones
	// included, or ErrNotFound.
	FindAuthCode(ctx context.Context, id string) (*AuthCode, error)
	// ConsumeAuthCode marks the code used in one compare-and-set and returns
	// it as it was before (Revoked false): of many concurrent calls exactly
	// one succeeds. It returns ErrNotFound if there is no such code,
	// ErrAlreadyUsed if it was consumed before (even if it has also expired
	// since), ErrExpired if it expired at or before now.
	ConsumeAuthCode(ctx context.Context, id string, now time.Time) (*AuthCode, error)
	// PurgeAuthCodes deletes codes that expired before the given time and
	// returns how many.
	PurgeAuthCodes(ctx context.Context, before time.Time) (int64, error)
}

// DeviceCodeRepository stores device authorization requests (RFC 8628).
type DeviceCodeRepository interface {
	// CreateDeviceCode stores a new device code; ErrDuplicate if the ID
	// exists or another device code with the same UserCode has not expired
	// at d.CreatedAt (or now, if that is zero).
	CreateDeviceCode(ctx context.Context, d *DeviceCode) error
	// FindDeviceCode returns the device code with that ID, expired, decided
	// and redeemed ones included, or ErrNotFound.
	FindDeviceCode(ctx context.Context, id string) (*DeviceCode, error)
	// FindDeviceCodeByUserCode returns the device code with that normalized
	// user code, or ErrNotFound. Where an expired code and a live one share
	// the user code, the live one is returned.
	FindDeviceCodeByUserCode(ctx context.Context, userCode string) (*DeviceCode, error)
	// PollDeviceCode records a poll at now and returns the device code as
	// after the poll. If the previous poll was less than Interval before now
	// (or another poll raced this one), the interval grows by 5 seconds,
	// persisted, and the error is ErrSlowDown with the updated record. It
	// returns ErrNotFound if there is no such code and ErrExpired, writing
	// nothing, if the code expired at or before now.
	PollDeviceCode(ctx context.Context, id string, now time.Time) (*DeviceCode, error)
	// ApproveDeviceCode records the user's approval with the granted scopes,
	// in one compare-and-set on a pending code. It returns ErrNotFound,
	// ErrAlreadyUsed if the code was approved, denied or redeemed before, or
	// ErrExpired if it expired at or before now.
	ApproveDeviceCode(ctx context.Context, id, userID string, scopes []string, now time.Time) error
	// DenyDeviceCode records the user's denial, with the same rules as
	// ApproveDeviceCode; userID is required. The requested scopes are kept.
	DenyDeviceCode(ctx context.Context, id, userID string, now time.Time) error
	// RedeemDeviceCode marks an approved code redeemed in one
	// compare-and-set and returns it as after the redemption (Revoked true):
	// of many concurrent calls exactly one succeeds. It returns ErrNotFound, ErrAlreadyUsed if it was redeemed
	// before, ErrNotApproved if it is pending or denied, or ErrExpired if it
	// expired at or before now.
	RedeemDeviceCode(ctx context.Context, id string, now time.Time) (*DeviceCode, error)
	// PurgeDeviceCodes deletes device codes that expired before the given
	// time and returns how many.
	PurgeDeviceCodes(ctx context.Context, before time.Time) (int64, error)
}

// UserAuthenticator checks a resource owner's credentials for the password
// grant. The host implements it over its own user store.
type UserAuthenticator interface {
	// AuthenticateUser returns the user's ID, or an error wrapping
	// ErrNotFound when the username is unknown or the password wrong. Any
	// other error is a server failure.
	AuthenticateUser(ctx context.Context, username, password string) (userID string, err error)
}
