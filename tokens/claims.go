package tokens

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/oauthkit/oauth"
)

// Claims are the claims of an access token (RFC 9068 §2.2): what [JWTIssuer]
// signs and what [Verifier.Verify] returns.
//
// Claims returned by Verify may be shared with the verifier's cache: read
// them, but do not modify their slices or Extra.
type Claims struct {
	// Issuer is iss: the authorization server's issuer identifier.
	Issuer string
	// Subject is sub: the user, or the client for the client credentials
	// grant.
	Subject string
	// ClientID is client_id: the client the token was issued to.
	ClientID string
	// Audience is aud: the resource servers the token is meant for.
	Audience []string
	// Scopes are the granted scopes, sent as the space-separated scope
	// claim.
	Scopes []string
	// IssuedAt, NotBefore and ExpiresAt are iat, nbf and exp, in whole
	// seconds on the wire. NotBefore is optional.
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
	// ID is jti: unique per token, and the ID under which the token is
	// stored (oauth.AccessToken.ID). For an opaque token it is the value's
	// oauth.HashValue.
	ID string
	// Extra holds the host's own claims: when issuing, added beside the
	// registered ones; when verifying, every claim that is not registered.
	// Nil when there are none.
	Extra map[string]any
}

// HasScope reports whether the token grants scope s.
func (c *Claims) HasScope(s string) bool {
	return slices.Contains(c.Scopes, s)
}

// Registered claim names: the claims the library sets from [Claims] and a
// host can neither set through Extra nor through [JWTIssuer.AddClaims].
var registered = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true,
	"iat": true, "jti": true, "client_id": true, "scope": true,
}

// IsRegisteredClaim reports whether name is a claim the library owns (iss,
// sub, aud, exp, nbf, iat, jti, client_id, scope), which host claims cannot
// override.
func IsRegisteredClaim(name string) bool { return registered[name] }

// appendPayload appends the JSON claim set of c, with the host claims of
// extra (names already checked), to buf.
func appendPayload(buf []byte, c *Claims, extra map[string]any) ([]byte, error) {
	buf = append(buf, `{"iss":`...)
	buf = appendString(buf, c.Issuer)
	buf = append(buf, `,"sub":`...)
	buf = appendString(buf, c.Subject)
	buf = append(buf, `,"aud":`...)
	if len(c.Audience) == 1 {
		buf = appendString(buf, c.Audience[0])
	} else {
		buf = append(buf, '[')
		for i, a := range c.Audience {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, a)
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `,"client_id":`...)
	buf = appendString(buf, c.ClientID)
	if len(c.Scopes) > 0 {
		buf = append(buf, `,"scope":"`...)
		for i, s := range c.Scopes {
			if i > 0 {
				buf = append(buf, ' ')
			}
			buf = append(buf, s...) // scope tokens never need escaping
		}
		buf = append(buf, '"')
	}
	buf = append(buf, `,"iat":`...)
	buf = strconv.AppendInt(buf, c.IssuedAt.Unix(), 10)
	if !c.NotBefore.IsZero() {
		buf = append(buf, `,"nbf":`...)
		buf = strconv.AppendInt(buf, c.NotBefore.Unix(), 10)
	}
	buf = append(buf, `,"exp":`...)
	buf = strconv.AppendInt(buf, c.ExpiresAt.Unix(), 10)
	buf = append(buf, `,"jti":`...)
	buf = appendString(buf, c.ID)
	if len(extra) > 0 {
		names := make([]string, 0, len(extra))
		for name := range extra {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			v, err := json.Marshal(extra[name])
			if err != nil {
				return nil, err
			}
			buf = append(buf, ',')
			buf = appendString(buf, name)
			buf = append(buf, ':')
			buf = append(buf, v...)
		}
	}
	return append(buf, '}'), nil
}

// appendString appends s as a JSON string. Printable ASCII without quotes
// or backslashes — every identifier the server itself produces — is copied
// as is; anything else goes through encoding/json.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(buf, q...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// maxScopes bounds the scope tokens accepted in one token's scope claim.
const maxScopes = 256

// parsePayload decodes a JWT claim set. It checks the types of the
// registered claims, not their values.
func parsePayload(data []byte) (*Claims, *oauth.Error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, invalidToken("malformed claims")
	}
	c := &Claims{}
	var ok bool
	if c.Issuer, ok = stringClaim(m, "iss"); !ok {
		return nil, invalidToken("malformed iss claim")
	}
	if c.Subject, ok = stringClaim(m, "sub"); !ok {
		return nil, invalidToken("malformed sub claim")
	}
	if c.ClientID, ok = stringClaim(m, "client_id"); !ok {
		return nil, invalidToken("malformed client_id claim")
	}
	if c.ID, ok = stringClaim(m, "jti"); !ok {
		return nil, invalidToken("malformed jti claim")
	}
	switch aud := m["aud"].(type) {
	case nil:
	case string:
		c.Audience = []string{aud}
	case []any:
		c.Audience = make([]string, len(aud))
		for i, a := range aud {
			if c.Audience[i], ok = a.(string); !ok {
				return nil, invalidToken("malformed aud claim")
			}
		}
	default:
		return nil, invalidToken("malformed aud claim")
	}
	if scope, ok := stringClaim(m, "scope"); !ok {
		return nil, invalidToken("malformed scope claim")
	} else if c.Scopes, ok = oauth.ParseScope(scope, maxScopes); !ok {
		return nil, invalidToken("malformed scope claim")
	}
	if c.IssuedAt, ok = timeClaim(m, "iat"); !ok {
		return nil, invalidToken("malformed iat claim")
	}
	if c.NotBefore, ok = timeClaim(m, "nbf"); !ok {
		return nil, invalidToken("malformed nbf claim")
	}
	if c.ExpiresAt, ok = timeClaim(m, "exp"); !ok {
		return nil, invalidToken("malformed exp claim")
	}
	for name := range registered {
		delete(m, name)
	}
	if len(m) > 0 {
		c.Extra = m
	}
	return c, nil
}

// stringClaim returns the string claim name, "" if it is absent, and false
// if it has another type.
func stringClaim(m map[string]any, name string) (string, bool) {
	switch v := m[name].(type) {
	case nil:
		_, present := m[name]
		return "", !present
	case string:
		return v, utf8.ValidString(v)
	default:
		return "", false
	}
}

// maxNumericDate is 9999-12-31T23:59:59Z, the last second storage can hold.
const maxNumericDate = 253402300799

// timeClaim returns the NumericDate claim name (RFC 7519 §2), the zero time
// if it is absent, and false if it is not a number of seconds from 1970 to
// 9999.
func timeClaim(m map[string]any, name string) (time.Time, bool) {
	v, present := m[name]
	if !present {
		return time.Time{}, true
	}
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}
