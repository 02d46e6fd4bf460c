package grants

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/oauthkit/oauth"
)

// PasswordAttempt describes a password grant request, for
// Config.PasswordThrottle and Hooks.PasswordAuthFailed. It never holds the
// password.
type PasswordAttempt struct {
	// ClientID is the authenticated client that sent the request.
	ClientID string
	// Username is the username as sent.
	Username string
	// RemoteAddr is the request's RemoteAddr.
	RemoteAddr string
}

// PasswordThrottleFunc is asked before a password grant request checks the
// resource owner's credentials, so that the host can slow down guessing
// (RFC 6749 §4.3.2: "the authorization server MUST protect the endpoint
// against brute force attacks (e.g., using rate-limitation …)"), counting
// failures through Hooks.PasswordAuthFailed. Returning nil lets the check
// proceed. Returning an *oauth.Error refuses the request with that error —
// say invalid_grant "too many attempts", or temporarily_unavailable — and
// any other error is a server error.
type PasswordThrottleFunc func(ctx context.Context, a PasswordAttempt) error

// passwordGrant serves grant_type=password (RFC 6749 §4.3), when
// Config.EnablePasswordGrant is set, for clients that list
// oauth.GrantPassword: the client sends the resource owner's username and
// password, which Config.UserAuthenticator checks. Wrong credentials are
// invalid_grant (§5.2) and fire Hooks.PasswordAuthFailed. Each successful
// request starts a grant family of its own; a refresh token is issued when
// the client may use the refresh_token grant.
//
// The grant is not recommended (RFC 9700 §2.4): it teaches users to type
// their password into applications. It exists for hosts migrating from
// servers that used it.
func (s *Server) passwordGrant(ctx context.Context, req *tokenRequest) (*tokenResponse, error) {
	username, password := req.form.get("username"), req.form.get("password")
	if username == "" {
		return nil, errMissing("username")
	}
	if password == "" {
		return nil, errMissing("password")
	}
	if !unicodeCharsNoCRLF(username) || !unicodeCharsNoCRLF(password) {
		// Neither reaches the UserAuthenticator, whose user store may
		// fail on bytes it cannot hold instead of finding nobody.
		return nil, oauth.NewError(oauth.ErrCodeInvalidRequest, "username and password must be UTF-8 text without control characters")
	}
	scopes, err := s.requestedScopes(ctx, req.client, req.form.get("scope"))
	if err != nil {
		return nil, err
	}
	attempt := PasswordAttempt{ClientID: req.client.ID, Username: username, RemoteAddr: req.r.RemoteAddr}
	if throttle := s.cfg.PasswordThrottle; throttle != nil {
		if err := throttle(ctx, attempt); err != nil {
			if pe := (*oauth.Error)(nil); errors.As(err, &pe) {
				return nil, pe
			}
			return nil, fmt.Errorf("grants: password throttle: %w", err)
		}
	}
	userID, err := s.cfg.UserAuthenticator.AuthenticateUser(ctx, username, password)
	if errors.Is(err, oauth.ErrNotFound) {
		s.log.LogAttrs(ctx, levelAuthFail, "grants: resource owner authentication failed",
			logClientID(req.client.ID))
		if h := s.cfg.Hooks.PasswordAuthFailed; h != nil {
			h(ctx, attempt)
		}
		return nil, errInvalidGrant("the resource owner credentials are invalid")
	}
	if err != nil {
		return nil, fmt.Errorf("grants: authenticate user: %w", err)
	}
	if !oauth.ValidID(userID, oauth.MaxUserIDLen) {
		return nil, fmt.Errorf("grants: UserAuthenticator returned a user id that is not 1 to %d printable ASCII characters", oauth.MaxUserIDLen)
	}
	scopes, err = s.finalizeScopes(ctx, ScopeRequest{GrantType: req.grantType, Client: req.client, UserID: userID, Scopes: scopes})
	if err != nil {
		return nil, err
	}
	family, err := newFamilyID()
	if err != nil {
		return nil, err
	}
	t, err := s.issue(ctx, req.grantType, req.client, userID, scopes, family,
		req.client.AllowsGrant(oauth.GrantRefreshToken), req.now)
	if err != nil {
		return nil, err
	}
	return s.response(t), nil
}

// unicodeCharsNoCRLF reports whether s is made of UNICODECHARNOCRLF, the
// characters RFC 6749 appendix A.15 and A.16 allow in a username and a
// password: valid UTF-8 of tab, printable ASCII and non-ASCII characters
// but for surrogates and U+FFFE, U+FFFF.
func unicodeCharsNoCRLF(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t', r >= 0x20 && r <= 0x7e, r >= 0x80 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000:
		default:
			return false
		}
	}
	return true
}
