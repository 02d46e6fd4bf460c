package grants

import (
	"context"
	"log/slog"

	"github.com/oauthkit/oauth"
)

// Hooks are functions the Server calls when something happens that a host
// may want to count, audit or alert on. Every field is optional. Hooks run
// synchronously on the request's goroutine, after the event is stored and
// before the response is written, so they should be quick; they receive the
// stored records, which hold IDs (hashes or jti), never a token's value or a
// client's secret.
type Hooks struct {
	// AccessTokenIssued is called for every access token issued.
	AccessTokenIssued func(ctx context.Context, e AccessTokenEvent)
	// RefreshTokenIssued is called for every refresh token issued,
	// including each rotation.
	RefreshTokenIssued func(ctx context.Context, e RefreshTokenEvent)
	// ClientAuthFailed is called when a request to the token, revocation,
	// introspection or device authorization endpoint fails client
	// authentication.
	ClientAuthFailed func(ctx context.Context, f ClientAuthFailure)
	// CodeReplayDetected is called when an authorization code is redeemed
	// a second time by its own client with the right PKCE verifier; the
	// code's grant family has been revoked.
	CodeReplayDetected func(ctx context.Context, e FamilyRevocation)
	// RefreshReuseDetected is called when a rotated refresh token is
	// presented again outside the grace period; its grant family has been
	// revoked.
	RefreshReuseDetected func(ctx context.Context, e FamilyRevocation)

	// Device authorization grant (device.go, deviceverify.go).

	// DeviceCodeIssued is called when the device authorization endpoint
	// issues a device code.
	DeviceCodeIssued func(ctx context.Context, e DeviceCodeEvent)
	// DeviceApproved is called when the host approves a device request
	// (Server.ApproveDevice).
	DeviceApproved func(ctx context.Context, e DeviceCodeEvent)
	// DeviceDenied is called when the host denies a device request
	// (Server.DenyDevice).
	DeviceDenied func(ctx context.Context, e DeviceCodeEvent)

	// Legacy grants (password.go).

	// PasswordAuthFailed is called when a password grant request names a
	// resource owner whose credentials Config.UserAuthenticator refused;
	// with Config.PasswordThrottle the host can throttle guessing.
	PasswordAuthFailed func(ctx context.Context, a PasswordAttempt)
}

// AccessTokenEvent describes an issued access token.
type AccessTokenEvent struct {
	// GrantType is the grant_type of the request that issued it.
	GrantType string
	// Token is the stored record: its ID is the value's hash, or a JWT's jti.
	Token oauth.AccessToken
}

// RefreshTokenEvent describes an issued refresh token.
type RefreshTokenEvent struct {
	// GrantType is the grant_type of the request that issued it.
	GrantType string
	// Token is the stored record; its ID is the value's hash.
	Token oauth.RefreshToken
	// PreviousID is the ID of the refresh token this one replaced by
	// rotation; empty for the first of a family.
	PreviousID string
}

// FamilyRevocation describes the revocation of a grant family after a
// replayed authorization code or a reused refresh token.
type FamilyRevocation struct {
	ClientID string
	UserID   string
	FamilyID string
	// AccessTokens and RefreshTokens are how many live tokens the
	// revocation ended.
	AccessTokens  int64
	RefreshTokens int64
	// RemoteAddr is the request's RemoteAddr.
	RemoteAddr string
}

// Log levels: protocol refusals are the client's business (debug); failed
// client authentication is worth a line (info); replays and reuse are
// possible attacks (warn); server failures are errors.
const (
	levelProtocol = slog.LevelDebug
	levelAuthFail = slog.LevelInfo
	levelAttack   = slog.LevelWarn
)

func logString(k, v string) slog.Attr { return slog.String(k, v) }

func slogInt(k string, v int64) slog.Attr { return slog.Int64(k, v) }

// logClientID logs a client id as claimed by a request: capped, since an
// unauthenticated caller chooses it.
func logClientID(id string) slog.Attr { return logClaimed("client_id", id, oauth.MaxClientIDLen) }

// logClaimed logs a value a request chose, cut after max bytes.
func logClaimed(k, v string, max int) slog.Attr {
	if len(v) > max {
		v = v[:max] + "..."
	}
	return slog.String(k, v)
}

func (s *Server) accessTokenIssued(ctx context.Context, grantType string, t *oauth.AccessToken) {
	if h := s.cfg.Hooks.AccessTokenIssued; h != nil {
		h(ctx, AccessTokenEvent{GrantType: grantType, Token: *t})
	}
}

func (s *Server) refreshTokenIssued(ctx context.Context, grantType string, t *oauth.RefreshToken, previousID string) {
	if h := s.cfg.Hooks.RefreshTokenIssued; h != nil {
		h(ctx, RefreshTokenEvent{GrantType: grantType, Token: *t, PreviousID: previousID})
	}
}
