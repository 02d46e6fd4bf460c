package tokens

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/oauthkit/oauth"
)

// OpaqueBytes is the entropy of an opaque value: 256 bits.
const OpaqueBytes = 32

// Readable prefixes for each kind of opaque value, so that secret scanners
// can recognise a leaked one. Any prefix, or none, may be used.
const (
	PrefixAccessToken  = "oat_"
	PrefixRefreshToken = "ort_"
	PrefixAuthCode     = "oac_"
	PrefixDeviceCode   = "odc_"
)

// NewOpaque returns a new opaque value — prefix followed by 256 bits from
// crypto/rand, base64url without padding — and its storage ID,
// oauth.HashValue(value).
func NewOpaque(prefix string) (value, id string, err error) {
	var b [OpaqueBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	buf := make([]byte, len(prefix)+base64.RawURLEncoding.EncodedLen(OpaqueBytes))
	copy(buf, prefix)
	base64.RawURLEncoding.Encode(buf[len(prefix):], b[:])
	value = string(buf)
	return value, oauth.HashValue(value), nil
}
