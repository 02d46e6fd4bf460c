package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Stored client secrets are self-describing: the prefix names the scheme,
// so schemes can coexist in one table.
//
//   - "sha256:" + hex SHA-256 — secrets the library generated (256 bits of
//     entropy; brute force is hopeless, and verification takes a microsecond);
//   - "$2a$…", "$2b$…", "$2y$…" — bcrypt, for secrets a person chose.
const sha256Prefix = "sha256:"

// GeneratedSecretBytes is the entropy of a generated client secret.
const GeneratedSecretBytes = 32

// GenerateSecret returns a new client secret of 256 random bits, base64url
// encoded, and its stored form. Show the secret once; store only the hash.
func GenerateSecret() (secret, hash string, err error) {
	b := make([]byte, GeneratedSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, hashGenerated(secret), nil
}

func hashGenerated(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return sha256Prefix + hex.EncodeToString(sum[:])
}

// HashSecret returns the stored form of a client secret a person chose:
// bcrypt at its default cost. Secrets longer than 72 bytes, which bcrypt
// cannot hold, are refused with an error wrapping ErrInvalid.
func HashSecret(secret string) (string, error) {
	if secret == "" {
		return "", invalid("client secret is empty")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.DefaultCost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return "", invalid("client secret is longer than 72 bytes")
	}
	return string(h), err
}

// VerifySecret reports whether secret matches the stored hash, in time
// independent of where they differ. An empty or unrecognized hash matches
// nothing.
func VerifySecret(hash, secret string) bool {
	switch {
	case strings.HasPrefix(hash, sha256Prefix):
		want, err := hex.DecodeString(hash[len(sha256Prefix):])
		if err != nil || len(want) != sha256.Size {
			return false
		}
		got := sha256.Sum256([]byte(secret))
		return subtle.ConstantTimeCompare(got[:], want) == 1
	case strings.HasPrefix(hash, "$2"):
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret)) == nil
	default:
		return false
	}
}
