package grants

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// Defaults for the zero values of Config.
const (
	DefaultAccessTokenLifetime  = time.Hour
	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour
	DefaultAuthCodeLifetime     = time.Minute
	// MaxTokenLifetime is the longest access or refresh token lifetime New
	// accepts: ten years.
	MaxTokenLifetime = 10 * 365 * 24 * time.Hour
	// MaxAuthCodeLifetime is the longest authorization code lifetime New
	// accepts (RFC 6749 §4.1.2: "a maximum authorization code lifetime of
	// 10 minutes is RECOMMENDED").
	MaxAuthCodeLifetime = 10 * time.Minute
)

// AccessTokenFormat selects what access tokens look like on the wire.
type AccessTokenFormat int

const (
	// AccessTokenOpaque issues random opaque values (256 bits, prefixed
	// "oat_"); resource servers check them through the repository.
	AccessTokenOpaque AccessTokenFormat = iota
	// AccessTokenJWT issues JWT access tokens (RFC 9068) signed by
	// Config.JWTIssuer; each is also stored by its jti, so that revoking
	// it, or its grant family, is seen by resource servers that consult the
	// repository.
	AccessTokenJWT
)

// String returns the format's name.
func (f AccessTokenFormat) String() string {
	switch f {
	case AccessTokenOpaque:
		return "opaque"
	case AccessTokenJWT:
		return "jwt"
	default:
		return fmt.Sprintf("AccessTokenFormat(%d)", int(f))
	}
}

// Config configures a Server. Clients, Scopes and AccessTokens are
// required; every other field has a useful zero value.
type Config struct {
	// Issuer is the authorization server's issuer identifier (RFC 8414
	// §2): an http or https URL without query or fragment. It is sent as
	// the iss parameter of every authorization response (RFC 9207) and
	// must be byte-identical to the one in the metadata and in JWTs.
	Issuer string

	// Clients finds registered clients.
	Clients oauth.ClientRepository
	// Scopes knows which scopes exist.
	Scopes oauth.ScopeRepository
	// AccessTokens stores every issued access token, opaque or JWT.
	AccessTokens oauth.AccessTokenRepository
	// RefreshTokens stores refresh tokens. When nil, no refresh tokens are
	// issued and the refresh_token grant is off.
	RefreshTokens oauth.RefreshTokenRepository
	// AuthCodes stores authorization codes. When nil, the authorization
	// endpoint and the authorization_code grant are off.
	AuthCodes oauth.AuthCodeRepository

	// AccessTokenLifetime defaults to DefaultAccessTokenLifetime.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime defaults to DefaultRefreshTokenLifetime.
	RefreshTokenLifetime time.Duration
	// AuthCodeLifetime defaults to DefaultAuthCodeLifetime and may not
	// exceed MaxAuthCodeLifetime.
	AuthCodeLifetime time.Duration
	// RefreshGracePeriod lets a client that retries a refresh request —
	// say after losing the response — present the refresh token it just
	// rotated again within this time after the rotation, and receive a
	// fresh pair (each time: the retries are not counted) instead of having
	// its grant revoked. Zero, the default, allows no reuse at all (RFC
	// 9700 §4.14.2). Within the period the server cannot tell the client's
	// retry from a thief's use of the same token, and a rotated token is
	// honoured even if its family was revoked since by other means (the
	// revocation endpoint, a replayed code): keep it to seconds.
	RefreshGracePeriod time.Duration

	// AccessTokenFormat selects opaque (the default) or JWT access tokens.
	AccessTokenFormat AccessTokenFormat
	// JWTIssuer signs JWT access tokens; it is required with
	// AccessTokenJWT and must be nil otherwise. The tokens' iss is always
	// Issuer (a JWTIssuer.Issuer, if set, must equal it); their aud is
	// JWTIssuer.Audience, which must hold at least one value and no empty
	// one (the revocation and introspection endpoints verify JWTs against
	// its first); their sub is the user, or the client for client
	// credentials.
	JWTIssuer *tokens.JWTIssuer

	// AllowPlainPKCE accepts the "plain" code challenge method. It is off
	// by default: S256 is the only method RFC 9700 §2.1.1 recommends.
	AllowPlainPKCE bool
	// RequirePKCE requires a code challenge from confidential clients too
	// (OAuth 2.1). Public clients always need one.
	RequirePKCE bool

	// FinalizeScopes, if set, applies the host's scope policy after the
	// server's own checks (see FinalizeScopesFunc).
	FinalizeScopes FinalizeScopesFunc

	// ErrorPage, if set, writes the page shown for an authorization request
	// that cannot be redirected back to its client (unknown client,
	// unregistered redirect_uri). The Server has already set no-store and
	// anti-framing headers; ErrorPage writes the status (e.Status) and a
	// body that must escape what it echoes. When nil a minimal HTML page is
	// written.
	ErrorPage func(w http.ResponseWriter, r *http.Request, e *oauth.Error)

	// MaxScopes is the most scope tokens a request may carry; it defaults
	// to DefaultMaxScopes.
	MaxScopes int
	// MaxBodyBytes caps request bodies; it defaults to DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Now returns the current time; it defaults to time.Now.
	Now func() time.Time
	// Logger receives the Server's logs; it defaults to slog.Default().
	// Nothing logged holds a secret or a token value.
	Logger *slog.Logger
	// Hooks are called on notable events.
	Hooks Hooks

	// Device authorization grant (RFC 8628).

	// DeviceCodes stores device authorization requests. When nil, the
	// device authorization endpoint and the device_code grant are off.
	DeviceCodes oauth.DeviceCodeRepository
	// DeviceVerificationURI is the host's verification page, where the user
	// enters the user code (verification_uri): an absolute http(s) URL
	// without fragment, required with DeviceCodes. verification_uri_complete
	// is this URI with the user_code parameter added.
	DeviceVerificationURI string
	// DeviceCodeLifetime defaults to DefaultDeviceCodeLifetime and may not
	// exceed MaxDeviceCodeLifetime.
	DeviceCodeLifetime time.Duration
	// DevicePollInterval is the least time a device must leave between
	// polls, a whole number of seconds; it defaults to
	// DefaultDevicePollInterval. Each slow_down adds 5 seconds for that code.
	DevicePollInterval time.Duration
	// DevicePollLeeway is how much sooner than the interval a poll may come
	// without slow_down, a whole number of seconds less than
	// DevicePollInterval. Zero, the default, enforces the interval exactly
	// (RFC 8628 §3.5). One second spares clients that poll on a fixed
	// ticker, such as golang.org/x/oauth2, whose requests arrive a little
	// early about half the time.
	DevicePollLeeway time.Duration
	// DeviceLookupBudget is how many wrong user codes one caller of
	// LookupUserCode may enter per DeviceLookupWindow before it is
	// throttled; they default to DefaultDeviceLookupBudget and
	// DefaultDeviceLookupWindow. The count is kept in memory, per Server.
	DeviceLookupBudget int
	DeviceLookupWindow time.Duration

	// Revocation, introspection and metadata (revoke.go, introspect.go,
	// metadata.go).

	// IntrospectionPolicy decides which tokens an authenticated client may
	// introspect. When nil, a client may introspect only the tokens issued
	// to itself; IntrospectAny lets resource servers introspect every token.
	IntrospectionPolicy IntrospectionPolicy
	// OpaqueTokenAudience is the aud the introspection endpoint reports
	// for opaque access tokens, which carry none of their own: the
	// resource servers they are meant for. When empty, aud is omitted.
	// (JWT access tokens carry JWTIssuer.Audience.)
	OpaqueTokenAudience []string
	// PublicScopes are the scopes the metadata lists as scopes_supported;
	// RFC 8414 §2 lets a server leave out scopes it does not advertise.
	// Scopes the ScopeRepository does not know are left out; when none
	// remain the member is omitted.
	PublicScopes []string

	// Legacy grants (password.go, implicit.go): off by default and not
	// recommended (RFC 9700 §2.4, §2.1.2); they exist for hosts migrating
	// from servers that used them.

	// EnablePasswordGrant switches on grant_type=password (RFC 6749 §4.3)
	// for clients that list oauth.GrantPassword. It needs
	// UserAuthenticator.
	EnablePasswordGrant bool
	// UserAuthenticator checks the resource owner's username and password
	// for the password grant.
	UserAuthenticator oauth.UserAuthenticator
	// PasswordThrottle, if set, is asked before a password grant request
	// checks credentials; a non-nil error refuses the request (see
	// PasswordThrottleFunc). With Hooks.PasswordAuthFailed it lets the host
	// throttle password guessing.
	PasswordThrottle PasswordThrottleFunc
	// EnableImplicitGrant switches on response_type=token (RFC 6749 §4.2)
	// at the authorization endpoint for clients that list
	// oauth.GrantImplicit. No refresh token is ever issued with it.
	EnableImplicitGrant bool
}

// Server is the grant engine: it serves the token endpoint and the
// authorization endpoint over the configured repositories. A Server keeps
// no state between requests and is safe for concurrent use; several
// Servers (in one process or many) may share one set of repositories.
type Server struct {
	cfg         Config
	log         *slog.Logger
	now         func() time.Time
	maxScopes   int
	maxBody     int64
	accessLife  time.Duration
	refreshLife time.Duration
	codeLife    time.Duration

	// grants maps a grant_type to its handler; the token endpoint
	// dispatches on it.
	grants map[string]grantFunc
	// device is the device authorization grant's settings (device.go);
	// nil when it is off.
	device *deviceSettings

	// Revocation and introspection (introspect.go): verifies JWT access
	// tokens presented there; nil unless they are JWTs.
	jwtVerifier *tokens.Verifier
}

// New checks the configuration and returns a Server.
func New(cfg Config) (*Server, error) {
	if err := checkIssuer(cfg.Issuer); err != nil {
		return nil, err
	}
	if cfg.Clients == nil || cfg.Scopes == nil || cfg.AccessTokens == nil {
		return nil, errors.New("grants: Config.Clients, Scopes and AccessTokens are required")
	}
	s := &Server{
		cfg:         cfg,
		log:         cfg.Logger,
		now:         cfg.Now,
		maxScopes:   cmp.Or(cfg.MaxScopes, DefaultMaxScopes),
		maxBody:     cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes),
		accessLife:  cmp.Or(cfg.AccessTokenLifetime, DefaultAccessTokenLifetime),
		refreshLife: cmp.Or(cfg.RefreshTokenLifetime, DefaultRefreshTokenLifetime),
		codeLife:    cmp.Or(cfg.AuthCodeLifetime, DefaultAuthCodeLifetime),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case s.accessLife < time.Second || s.refreshLife < time.Second || s.codeLife < time.Second:
		return nil, errors.New("grants: token and code lifetimes must be at least a second")
	case s.accessLife > MaxTokenLifetime || s.refreshLife > MaxTokenLifetime:
		// Longer would reach past what storage accepts (year 9999) and
		// fail every issue; no deployment wants it.
		return nil, fmt.Errorf("grants: token lifetimes may not exceed %v", MaxTokenLifetime)
	case s.codeLife > MaxAuthCodeLifetime:
		return nil, fmt.Errorf("grants: AuthCodeLifetime %v exceeds %v", s.codeLife, MaxAuthCodeLifetime)
	case cfg.RefreshGracePeriod < 0:
		return nil, errors.New("grants: RefreshGracePeriod is negative")
	case s.maxScopes < 1 || s.maxBody < 1024:
		return nil, errors.New("grants: MaxScopes must be positive and MaxBodyBytes at least 1024")
	}
	switch cfg.AccessTokenFormat {
	case AccessTokenOpaque:
		if cfg.JWTIssuer != nil {
			return nil, errors.New("grants: JWTIssuer is set but AccessTokenFormat is opaque")
		}
	case AccessTokenJWT:
		if cfg.JWTIssuer == nil || cfg.JWTIssuer.Keys == nil || len(cfg.JWTIssuer.Audience) == 0 ||
			slices.Contains(cfg.JWTIssuer.Audience, "") {
			// RFC 9068 §2.2 requires aud; without it every issue would
			// fail. With an empty one tokens would be issued, but the
			// revocation and introspection endpoints, which verify JWTs
			// against the first audience, could verify none: revocation
			// would answer 200 and leave the token live.
			return nil, errors.New("grants: AccessTokenJWT needs a JWTIssuer with Keys and an Audience without empty values")
		}
		if cfg.JWTIssuer.Issuer != "" && cfg.JWTIssuer.Issuer != cfg.Issuer {
			return nil, fmt.Errorf("grants: JWTIssuer.Issuer %q differs from Issuer %q", cfg.JWTIssuer.Issuer, cfg.Issuer)
		}
	default:
		return nil, fmt.Errorf("grants: unknown access token format %v", cfg.AccessTokenFormat)
	}
	s.grants = map[string]grantFunc{
		oauth.GrantClientCredentials: (*Server).clientCredentialsGrant,
	}
	if cfg.AuthCodes != nil {
		s.grants[oauth.GrantAuthorizationCode] = (*Server).authorizationCodeGrant
	}
	if cfg.RefreshTokens != nil {
		s.grants[oauth.GrantRefreshToken] = (*Server).refreshTokenGrant
	}
	if err := s.setupDevice(); err != nil { // device.go
		return nil, err
	}
	if err := s.initExtensions(); err != nil { // metadata.go
		return nil, err
	}
	return s, nil
}

// Issuer returns the configured issuer identifier.
func (s *Server) Issuer() string { return s.cfg.Issuer }

// checkIssuer requires an absolute http(s) URL without query or fragment.
func checkIssuer(iss string) error {
	u, err := url.Parse(iss)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("grants: issuer %q is not an http(s) URL without query and fragment", iss)
	}
	return nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// newFamilyID returns a new grant family ID: 128 random bits, base64url.
func newFamilyID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("grants: family id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
