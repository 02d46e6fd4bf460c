// Package oauth is the vocabulary of an embeddable OAuth 2.0 authorization
// server: the domain types (clients, scopes, access and refresh tokens,
// authorization codes, device codes), the repository interfaces through which
// the server reads and writes them, the protocol error type and the sentinel
// errors every storage backend returns.
//
// The package imports only the standard library and golang.org/x/crypto (for
// bcrypt client secrets). The protocol lives in the sibling packages:
//
//   - tokens: opaque values, JWT access tokens, signing keys, the JWKS and the
//     bearer-token middleware for resource servers;
//   - grants: the authorization server's HTTP endpoints;
//   - storage/memory and storage/sqlstore: implementations of every
//     repository; storage/storagetest: the conformance suite any backend runs
//     with one call.
//
// # Identifiers and values at rest
//
// Opaque values (authorization codes, refresh tokens, device codes, opaque
// access tokens) are never stored. A record's ID is the lowercase hex SHA-256
// of the value (see [HashValue]); a leaked table hands out no live credential.
// JWT access tokens are stored by their jti.
//
// # Single use
//
// Consuming an authorization code, rotating a refresh token and redeeming a
// device code are each one compare-and-set in the repository, so exactly one
// of many concurrent callers wins, in one process or in many sharing a
// database. The loser gets [ErrAlreadyUsed]; a missing record is
// [ErrNotFound]; a record past its expiry is [ErrExpired].
//
// # Grant families
//
// Every token descends from one grant: an authorization code, a device code,
// a client-credentials or password request. Tokens carry that grant's ID as
// FamilyID, so a replayed code or a reused refresh token revokes every token
// of the family in one write.
package oauth

import (
	"crypto/sha256"
	"encoding/hex"
)

// Grant type identifiers, as sent in the grant_type parameter and stored in
// [Client.GrantTypes].
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	GrantPassword          = "password"
	// GrantImplicit is the implicit grant (response_type=token). It has no
	// grant_type of its own at the token endpoint; a client is allowed it by
	// listing this value.
	GrantImplicit = "implicit"
)

// PKCE code challenge methods (RFC 7636).
const (
	PKCEMethodS256  = "S256"
	PKCEMethodPlain = "plain"
)

// HashValue returns the storage ID of an opaque value: the lowercase hex
// SHA-256 of its bytes. Repositories look records up by this ID; the value
// itself is never stored.
func HashValue(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}
