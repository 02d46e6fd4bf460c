package oauth

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Storage limits. Every repository refuses longer values with [ErrInvalid]
// instead of truncating them; the SQL schema's columns are at least this wide.
const (
	MaxClientIDLen   = 80   // oauth_clients.id
	MaxTokenIDLen    = 100  // ids of tokens and codes, and grant family ids
	MaxUserIDLen     = 255  // user ids
	MaxNameLen       = 255  // client names, scope descriptions
	MaxScopeLen      = 80   // one scope token, one grant type
	MaxScopesLen     = 4000 // all scopes of one record, space-joined
	MaxURILen        = 2000 // one redirect or verification URI
	MaxSecretHashLen = 255  // oauth_clients.secret
	MaxChallengeLen  = 128  // a PKCE code challenge
	MaxUserCodeLen   = 16   // a normalized user code
)

// The range of times storage accepts: MySQL's DATETIME ends in year 9999 and
// nothing the server writes predates the Unix epoch.
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// ValidID reports whether id can be stored as an identifier of at most max
// bytes: 1 to max printable ASCII characters, without space. Every ID the
// Validate methods accept passes it, so a lookup of an ID that fails it can be
// answered "not found" without asking a database — which might otherwise
// fail on bytes its column cannot hold, such as NUL or invalid UTF-8.
func ValidID(id string, max int) bool {
	if id == "" || len(id) > max {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// checkID requires a non-empty printable ASCII identifier of at most max bytes.
func checkID(what, id string, max int) error {
	switch {
	case id == "":
		return invalid("%s is empty", what)
	case len(id) > max:
		return invalid("%s is longer than %d bytes", what, max)
	case !ValidID(id, max):
		return invalid("%s contains a character outside printable ASCII", what)
	}
	return nil
}

// checkOptionalID is checkID for a value that may be empty.
func checkOptionalID(what, id string, max int) error {
	if id == "" {
		return nil
	}
	return checkID(what, id, max)
}

// checkToken requires a non-empty value of at most max bytes without
// whitespace or control characters (URIs, grant types).
func checkToken(what, v string, max int) error {
	if v == "" {
		return invalid("%s is empty", what)
	}
	if len(v) > max {
		return invalid("%s is longer than %d bytes", what, max)
	}
	if !utf8.ValidString(v) {
		return invalid("%s is not valid UTF-8", what)
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f {
			return invalid("%s contains whitespace or a control character", what)
		}
	}
	return nil
}

// checkText requires valid UTF-8 of at most max bytes without NUL.
func checkText(what, v string, max int) error {
	if len(v) > max {
		return invalid("%s is longer than %d bytes", what, max)
	}
	if !utf8.ValidString(v) {
		return invalid("%s is not valid UTF-8", what)
	}
	for i := 0; i < len(v); i++ {
		if v[i] == 0 {
			return invalid("%s contains NUL", what)
		}
	}
	return nil
}

func checkScopes(scopes []string) error {
	total := 0
	for _, s := range scopes {
		if !ValidScopeToken(s) || len(s) > MaxScopeLen {
			return invalid("scope %q is not a valid scope token of at most %d bytes", s, MaxScopeLen)
		}
		total += len(s) + 1
	}
	if total > MaxScopesLen {
		return invalid("scopes are longer than %d bytes", MaxScopesLen)
	}
	return nil
}

func checkTime(what string, t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return invalid("%s %v is outside 1970–9999", what, t)
	}
	return nil
}

func checkOptionalTimes(ts ...time.Time) error {
	for _, t := range ts {
		if !t.IsZero() {
			if err := checkTime("time", t); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkTokenFields(id, clientID, userID, familyID string, scopes []string, expiresAt, createdAt time.Time) error {
	if err := checkID("id", id, MaxTokenIDLen); err != nil {
		return err
	}
	if err := checkID("client id", clientID, MaxClientIDLen); err != nil {
		return err
	}
	if err := checkOptionalID("user id", userID, MaxUserIDLen); err != nil {
		return err
	}
	if err := checkID("family id", familyID, MaxTokenIDLen); err != nil {
		return err
	}
	if err := checkScopes(scopes); err != nil {
		return err
	}
	if expiresAt.IsZero() {
		return invalid("expiry is not set")
	}
	if err := checkTime("expiry", expiresAt); err != nil {
		return err
	}
	return checkOptionalTimes(createdAt)
}
