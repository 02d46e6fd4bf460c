package grants

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"

	"github.com/oauthkit/oauth"
)

// PKCE limits of RFC 7636 §4.1: a verifier (and a plain challenge) is 43 to
// 128 characters of [A-Za-z0-9-._~]; an S256 challenge is the 43-character
// base64url encoding (no padding) of a SHA-256.
const (
	minVerifierLen = 43
	maxVerifierLen = 128
	s256Len        = 43
)

// unreservedOnly reports whether s holds only RFC 3986 unreserved characters.
func unreservedOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// validVerifier reports whether v is a well-formed code_verifier.
func validVerifier(v string) bool {
	return len(v) >= minVerifierLen && len(v) <= maxVerifierLen && unreservedOnly(v)
}

// validChallenge reports whether c is a well-formed code_challenge for the
// method (S256 or plain).
func validChallenge(method, c string) bool {
	switch method {
	case oauth.PKCEMethodS256:
		if len(c) != s256Len {
			return false
		}
		for i := 0; i < len(c); i++ {
			ch := c[i]
			if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				return false
			}
		}
		// The last character carries 4 padding bits, which must be zero
		// for the value to be the canonical encoding of 32 bytes.
		var sum [32]byte
		_, err := base64.RawURLEncoding.Strict().Decode(sum[:], []byte(c))
		return err == nil
	case oauth.PKCEMethodPlain:
		return validVerifier(c)
	default:
		return false
	}
}

// s256Challenge returns the S256 code_challenge of a verifier.
func s256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// verifyPKCE reports whether verifier answers the challenge stored with a
// code (RFC 7636 §4.6), comparing in constant time. A malformed verifier
// answers nothing.
func verifyPKCE(method, challenge, verifier string) bool {
	if !validVerifier(verifier) {
		return false
	}
	switch method {
	case oauth.PKCEMethodS256:
		sum := sha256.Sum256([]byte(verifier))
		var got [s256Len]byte
		base64.RawURLEncoding.Encode(got[:], sum[:])
		return subtle.ConstantTimeCompare(got[:], []byte(challenge)) == 1
	case oauth.PKCEMethodPlain:
		return subtle.ConstantTimeCompare([]byte(verifier), []byte(challenge)) == 1
	default:
		return false
	}
}
