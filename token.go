package oauth

import "time"

// AccessToken is an issued access token. For an opaque token ID is the
// [HashValue] of the value; for a JWT it is the jti.
type AccessToken struct {
	ID       string
	ClientID string
	// UserID is the resource owner; empty for client credentials.
	UserID   string
	Scopes   []string
	FamilyID string
	// ExpiresAt is required; CreatedAt is set by the repository when zero.
	ExpiresAt time.Time
	CreatedAt time.Time
	Revoked   bool
}

// Active reports whether the token is neither revoked nor expired at now.
func (t *AccessToken) Active(now time.Time) bool {
	return !t.Revoked && now.Before(t.ExpiresAt)
}

// Validate reports whether the token can be stored. It returns an error
// wrapping [ErrInvalid].
func (t *AccessToken) Validate() error {
	return checkTokenFields(t.ID, t.ClientID, t.UserID, t.FamilyID, t.Scopes, t.ExpiresAt, t.CreatedAt)
}

// RefreshToken is an issued refresh token; ID is the [HashValue] of its value.
type RefreshToken struct {
	ID string
	// AccessTokenID is the access token issued with this refresh token.
	AccessTokenID string
	ClientID      string
	UserID        string
	Scopes        []string
	FamilyID      string
	ExpiresAt     time.Time
	CreatedAt     time.Time
	// Revoked is true once the token was rotated or revoked.
	Revoked bool
	// RotatedAt is when the token was exchanged for its successor; zero if it
	// never was. A revoked token with a zero RotatedAt was revoked outright.
	RotatedAt time.Time
}

// Active reports whether the token is neither revoked, rotated nor expired at now.
func (t *RefreshToken) Active(now time.Time) bool {
	return !t.Revoked && now.Before(t.ExpiresAt)
}

// Validate reports whether the token can be stored. It returns an error
// wrapping [ErrInvalid].
func (t *RefreshToken) Validate() error {
	if err := checkTokenFields(t.ID, t.ClientID, t.UserID, t.FamilyID, t.Scopes, t.ExpiresAt, t.CreatedAt); err != nil {
		return err
	}
	if err := checkID("access token id", t.AccessTokenID, MaxTokenIDLen); err != nil {
		return err
	}
	return checkOptionalTimes(t.RotatedAt)
}

// AuthCode is an authorization code; ID is the [HashValue] of its value.
type AuthCode struct {
	ID       string
	ClientID string
	// UserID is the user who approved the request; required.
	UserID   string
	Scopes   []string
	FamilyID string
	// RedirectURI is the redirect_uri sent with the authorization request,
	// empty when the request omitted it (RFC 6749 §4.1.3).
	RedirectURI string
	// CodeChallenge and CodeChallengeMethod are the PKCE challenge (RFC 7636);
	// both empty when the request carried none.
	CodeChallenge       string
	CodeChallengeMethod string
	ExpiresAt           time.Time
	CreatedAt           time.Time
	// Revoked is true once the code was consumed.
	Revoked bool
}

// Validate reports whether the code can be stored. It returns an error
// wrapping [ErrInvalid].
func (c *AuthCode) Validate() error {
	if err := checkTokenFields(c.ID, c.ClientID, c.UserID, c.FamilyID, c.Scopes, c.ExpiresAt, c.CreatedAt); err != nil {
		return err
	}
	if c.UserID == "" {
		return invalid("authorization code has no user")
	}
	if err := checkToken("redirect uri", c.RedirectURI, MaxURILen); err != nil && c.RedirectURI != "" {
		return err
	}
	if len(c.CodeChallenge) > MaxChallengeLen {
		return invalid("code challenge is longer than %d bytes", MaxChallengeLen)
	}
	switch c.CodeChallengeMethod {
	case "":
		if c.CodeChallenge != "" {
			return invalid("code challenge without a method")
		}
	case PKCEMethodS256, PKCEMethodPlain:
		if c.CodeChallenge == "" {
			return invalid("code challenge method without a challenge")
		}
	default:
		return invalid("unknown code challenge method %q", c.CodeChallengeMethod)
	}
	return nil
}

// DeviceStatus is the user's decision on a device authorization request.
type DeviceStatus string

// The states of a device code.
const (
	DevicePending  DeviceStatus = "pending"
	DeviceApproved DeviceStatus = "approved"
	DeviceDenied   DeviceStatus = "denied"
)

// DeviceCode is a device authorization request (RFC 8628); ID is the
// [HashValue] of the device_code.
type DeviceCode struct {
	ID string
	// UserCode is the code the user types, stored normalized: 8 characters
	// from [UserCodeAlphabet], no dash.
	UserCode string
	ClientID string
	// UserID is the user who approved or denied; empty while pending.
	UserID string
	// Scopes are the requested scopes; approval replaces them with the
	// granted ones.
	Scopes                  []string
	FamilyID                string
	VerificationURI         string
	VerificationURIComplete string
	// Interval is the minimum time between polls, a whole number of seconds
	// of at least one; slow_down adds 5 seconds to it.
	Interval time.Duration
	// LastPolledAt is the last poll at the token endpoint; zero if none.
	LastPolledAt time.Time
	Status       DeviceStatus
	ExpiresAt    time.Time
	CreatedAt    time.Time
	// Revoked is true once the approved code was redeemed for tokens.
	Revoked bool
}

// UserCodeAlphabet holds the characters of a user code (RFC 8628 §6.1): 20
// consonants, no vowels to spell no words, none easily confused.
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// Validate reports whether the device code can be stored. It returns an
// error wrapping [ErrInvalid].
func (d *DeviceCode) Validate() error {
	if err := checkTokenFields(d.ID, d.ClientID, d.UserID, d.FamilyID, d.Scopes, d.ExpiresAt, d.CreatedAt); err != nil {
		return err
	}
	if len(d.UserCode) == 0 || len(d.UserCode) > MaxUserCodeLen {
		return invalid("user code must be 1 to %d characters", MaxUserCodeLen)
	}
	for _, r := range d.UserCode {
		if r < '0' || r > 'Z' || (r > '9' && r < 'A') {
			return invalid("user code %q is not normalized", d.UserCode)
		}
	}
	if err := checkToken("verification uri", d.VerificationURI, MaxURILen); err != nil {
		return err
	}
	if d.VerificationURIComplete != "" {
		if err := checkToken("verification uri complete", d.VerificationURIComplete, MaxURILen); err != nil {
			return err
		}
	}
	if d.Interval < time.Second || d.Interval%time.Second != 0 || d.Interval > 24*time.Hour {
		return invalid("interval %v is not a whole number of seconds between 1s and 24h", d.Interval)
	}
	switch d.Status {
	case DevicePending, DeviceApproved, DeviceDenied:
	default:
		return invalid("unknown device status %q", d.Status)
	}
	return checkOptionalTimes(d.LastPolledAt)
}
