// Package grants is the grant engine of the authorization server: one
// Server, configured by a Config struct, composes the repositories of the
// root package and the token makers of package tokens into http.Handlers.
//
// # Endpoints
//
// The token endpoint (TokenHandler) serves the authorization_code (with
// PKCE), client_credentials and refresh_token grants, dispatching on
// grant_type. Clients authenticate with client_secret_basic (RFC 6749
// appendix B encoding), client_secret_post, or not at all when public.
//
// The authorization endpoint is the host's: it calls ParseAuthorizeRequest,
// authenticates the user and asks consent however it likes, then calls
// Approve or Deny, and the library writes the redirect. AuthorizeHandler
// wraps all of that around one callback. Mount registers everything on an
// http.ServeMux.
//
// The revocation endpoint (RevocationHandler, RFC 7009) and the
// introspection endpoint (IntrospectionHandler, RFC 7662) authenticate
// clients as the token endpoint does. Revoking a refresh token ends its
// whole grant family; introspection answers {"active":false} for every
// token that is not live or that Config.IntrospectionPolicy hides from the
// caller. MetadataHandler serves the authorization server metadata
// (RFC 8414) at MetadataPath, listing exactly what the Server is
// configured to do; with JWT access tokens Mount also serves the JWKS.
//
// # Device authorization grant
//
// With Config.DeviceCodes set, DeviceAuthorizationHandler (RFC 8628) issues
// a device_code and a user_code (XXXX-XXXX from 20 consonants) to TVs,
// CLIs and other devices without a browser, which then poll the token
// endpoint. The verification page is the host's, behind its own login:
// LookupUserCode finds the request a person typed the user code of, with
// wrong entries throttled per caller (Throttled tells the page), and
// ApproveDevice or DenyDevice records the decision; the device's next poll
// receives the tokens or access_denied. A device that polls sooner than its
// interval is told slow_down, and the interval it must keep grows by 5
// seconds in the repository, so the rule holds across server instances.
//
// # Legacy grants
//
// The resource owner password credentials grant (Config.EnablePasswordGrant)
// and the implicit grant (Config.EnableImplicitGrant) are off by default,
// and each client must also list them in its grant types. Neither is
// recommended (RFC 9700 §2.4, §2.1.2): the password grant hands the user's
// password to the client, and the implicit grant exposes the access token
// in the browser. They are present for hosts migrating from servers that
// used them.
//
// # Guarantees
//
// Authorization codes, refresh tokens and device codes are single use
// through the repositories' compare-and-set writes: of many concurrent
// redemptions one wins. A replayed code, or a rotated refresh token presented again, revokes
// every token of its grant family — but only once the request has passed
// client authentication and PKCE, so a forged replay revokes nothing.
// Tokens are stored before any response names them. Nothing is logged that
// holds a secret or a token value; failures that are not protocol errors
// reach the client as server_error without detail.
//
// The behaviour on the wire is specified item by item in the project's
// CONFORMANCE.md, sections A–J, and tested here item by item.
package grants
