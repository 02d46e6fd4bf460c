package oauth

import (
	"errors"
	"net/http"
)

// Sentinel errors returned by every repository implementation. Callers test
// them with errors.Is; implementations wrap them with context.
var (
	// ErrNotFound: no record has that ID (or user code).
	ErrNotFound = errors.New("oauth: not found")
	// ErrAlreadyUsed: the single-use record was consumed, rotated, redeemed,
	// decided or revoked before this call.
	ErrAlreadyUsed = errors.New("oauth: already used")
	// ErrExpired: the record exists but its expiry has passed.
	ErrExpired = errors.New("oauth: expired")
	// ErrDuplicate: a record with that ID (or a live device code with that
	// user code) already exists.
	ErrDuplicate = errors.New("oauth: duplicate id")
	// ErrInvalid: the record failed validation (empty ID, a value longer than
	// its column, a zero time where one is required, …). Nothing was written.
	ErrInvalid = errors.New("oauth: invalid record")
)

// Error codes of RFC 6749 §4.1.2.1, §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1
// and RFC 8628 §3.5.
const (
	ErrCodeInvalidRequest          = "invalid_request"
	ErrCodeInvalidClient           = "invalid_client"
	ErrCodeInvalidGrant            = "invalid_grant"
	ErrCodeUnauthorizedClient      = "unauthorized_client"
	ErrCodeUnsupportedGrantType    = "unsupported_grant_type"
	ErrCodeUnsupportedResponseType = "unsupported_response_type"
	ErrCodeInvalidScope            = "invalid_scope"
	ErrCodeAccessDenied            = "access_denied"
	ErrCodeServerError             = "server_error"
	ErrCodeTemporarilyUnavailable  = "temporarily_unavailable"
	ErrCodeUnsupportedTokenType    = "unsupported_token_type"
	ErrCodeAuthorizationPending    = "authorization_pending"
	ErrCodeSlowDown                = "slow_down"
	ErrCodeExpiredToken            = "expired_token"
	ErrCodeInvalidToken            = "invalid_token"
	ErrCodeInsufficientScope       = "insufficient_scope"
)

// Error is an OAuth 2.0 protocol error: what a client receives as the JSON
// body {"error": …, "error_description": …, "error_uri": …} or as the query
// of an error redirect. Status is the HTTP status the endpoint answers with.
//
// Errors of this type are plain values: creating one captures no stack, so
// they are cheap enough to use on any path.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	URI         string `json:"error_uri,omitempty"`
	Status      int    `json:"-"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Description == "" {
		return "oauth: " + e.Code
	}
	return "oauth: " + e.Code + ": " + e.Description
}

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, &oauth.Error{Code: "invalid_grant"}) matches any
// invalid_grant error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// NewError returns a protocol error with the given code and description and
// the HTTP status RFC 6749 associates with the code: 401 for invalid_client
// and invalid_token, 403 for insufficient_scope, 500 for server_error, 503
// for temporarily_unavailable and 400 for everything else.
func NewError(code, description string) *Error {
	return &Error{Code: code, Description: description, Status: statusFor(code)}
}

func statusFor(code string) int {
	switch code {
	case ErrCodeInvalidClient, ErrCodeInvalidToken:
		return http.StatusUnauthorized
	case ErrCodeInsufficientScope:
		return http.StatusForbidden
	case ErrCodeServerError:
		return http.StatusInternalServerError
	case ErrCodeTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}
