// Package tokens makes access tokens and checks them: the authorization
// server's side (opaque values, JWT access tokens, signing keys and their
// JWKS) and the resource server's side (a verifier and bearer-token
// middleware). It builds on the vocabulary of package oauth and uses
// lestrrat-go/jwx/v2 for keys and signatures.
//
// # Opaque values
//
// [NewOpaque] returns 256 bits from crypto/rand, base64url encoded behind an
// optional readable prefix ([PrefixAccessToken], [PrefixRefreshToken],
// [PrefixAuthCode], [PrefixDeviceCode]), and the value's storage ID,
// oauth.HashValue(value). Only the ID is ever stored.
//
// # JWT access tokens
//
// [JWTIssuer.Issue] signs RFC 9068 access tokens: header typ "at+jwt", alg
// and kid; claims iss, sub (the user, or the client for client
// credentials), aud, client_id, scope (space-separated), iat, optional nbf,
// exp and jti — a random 128-bit ID, which is also the ID the token is
// stored under. Host claims come from [Claims].Extra and the
// [JWTIssuer].AddClaims hook; neither can override a registered claim
// ([IsRegisteredClaim]). Claims are serialized without reflection and the
// header is prepared once per key, so issuing costs little more than the
// signature itself.
//
// A server issues either JWT or opaque access tokens; that is one setting
// of the grant engine. The [Verifier] accepts both.
//
// # Keys
//
// A [KeySet] holds the signing keys: ES256 by default, RS256 (2048-bit) and
// EdDSA (Ed25519) on request, each with its RFC 7638 thumbprint as kid. It
// is made by [GenerateKeySet], loaded from PEM ([KeySetFromPEM]) or JWK
// ([KeySetFromJWK]), and marshals to JSON with its private keys and
// schedule, so a server can persist it and instances can share it. Keys are
// parsed once, when the set is made or loaded.
//
// [KeySet.Rotate] publishes a new key at once and lets it sign only after
// a delay longer than resource servers cache the JWKS; the key it replaces
// stays published until the tokens it signed have expired. Rotation is
// scheduled in absolute time, so instances sharing the set switch together.
// [KeySet.Handler] serves the JWKS: public parts only, each with kid, kty,
// use "sig" and alg.
//
// # Verifying
//
// A [Verifier] checks a bearer token. A JWT is checked locally: compact
// form, typ at+jwt, an algorithm from an allow-list that can never hold
// "none" or HS*, a kid naming a published key whose type fits the
// algorithm, the signature, iss, aud, exp, nbf and iat with a configurable
// leeway. Its keys come from a [KeySource]: the [KeySet] itself in the
// authorization server's process, or a [RemoteKeySet] that fetches a JWKS
// URL and refreshes it. With an oauth.AccessTokenRepository configured, a
// JWT must also be stored and not revoked, and opaque tokens are looked up
// by their hash. An optional bounded cache, keyed by the token's SHA-256
// and never used past exp, makes a repeated check a map lookup instead of a
// signature verification; revocation is still consulted.
//
// A resource server that does not share the authorization server's
// database checks opaque tokens by introspection (RFC 7662) instead: its
// Verifier's Introspect is the Introspect method of an [Introspector],
// which posts the token to the introspection endpoint with the resource
// server's client credentials and maps the answer to [Claims]. A token the
// server reports inactive, or active but not a Bearer access token (a
// refresh token), is rejected; an answer that cannot be had or read is a
// failure, never a valid token. With Keys left unset JWTs are introspected
// too. Answers are not cached unless IntrospectCacheTTL allows it, so that
// revocation is seen at once.
//
// Every rejection is an *oauth.Error with code invalid_token; any other
// error is the server's.
//
// # Resource servers
//
// [Middleware] wraps a handler: it reads the bearer token (RFC 6750; the
// scheme in any case; the access_token query parameter only with
// [WithQueryToken]), verifies it and puts the claims in the request
// context, where [FromContext] finds them. It answers 401 with
// WWW-Authenticate: Bearer realm="…" when no token was sent, 401 with
// error="invalid_token" for a bad token, and 400 with
// error="invalid_request" for a malformed request. [RequireScope] answers
// 403 with error="insufficient_scope" and the scopes needed.
package tokens
