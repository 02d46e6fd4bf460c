package grants

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oauthkit/oauth"
)

// The implicit grant (RFC 6749 §4.2): response_type=token at the
// authorization endpoint returns an access token in the redirect's
// fragment, with no code and no refresh token. It is off by default and not
// recommended (RFC 9700 §2.1.2: the token is exposed in the browser and
// cannot be sender-constrained); it exists for hosts migrating from
// servers that used it. It is served only when Config.EnableImplicitGrant
// is set and the client lists oauth.GrantImplicit; any other
// response_type=token request is refused with unsupported_response_type
// (CONFORMANCE B.19).
//
// ParseAuthorizeRequest accepts such a request like a code request, minus
// PKCE (a code_challenge is ignored: there is no code to bind it to), and
// Approve answers it through approveImplicit. Errors found once the
// request is known to be implicit go back in the fragment too (RFC 6749
// §4.2.2.1).

// checkImplicit decides whether ar, a request with response_type=token,
// may use the implicit grant, and marks it implicit if so.
func (s *Server) checkImplicit(ar *AuthorizeRequest) *AuthorizeError {
	if !s.cfg.EnableImplicitGrant || !ar.Client.AllowsGrant(oauth.GrantImplicit) {
		return &AuthorizeError{
			Err:         oauth.NewError(oauth.ErrCodeUnsupportedResponseType, "response_type 'token' is not supported"),
			RedirectURI: ar.RedirectURI,
			State:       ar.State,
		}
	}
	ar.implicit = true
	return nil
}

// grantType returns the grant an authorization request is for, as
// ScopeRequest.GrantType names it.
func (ar *AuthorizeRequest) grantType() string {
	if ar.implicit {
		return oauth.GrantImplicit
	}
	return oauth.GrantAuthorizationCode
}

// approveImplicit issues an access token for an approved implicit request
// — a grant family of its own, never a refresh token — and redirects with
// access_token, token_type, expires_in, scope, state and iss in the
// fragment (RFC 6749 §4.2.2, RFC 9207).
func (s *Server) approveImplicit(ctx context.Context, w http.ResponseWriter, r *http.Request, ar *AuthorizeRequest, client *oauth.Client, userID string, scopes []string) error {
	family, err := newFamilyID()
	if err != nil {
		return err
	}
	t, err := s.issue(ctx, oauth.GrantImplicit, client, userID, scopes, family, false, s.now().UTC())
	if err != nil {
		return err
	}
	s.redirect(w, r, appendFragment(ar.redirectURI,
		param{"access_token", t.access},
		param{"token_type", TokenTypeBearer},
		param{"expires_in", strconv.FormatInt(int64(s.accessLife/time.Second), 10)},
		param{"scope", strings.Join(scopes, " ")},
		param{"state", ar.state},
		param{"iss", s.cfg.Issuer},
	))
	return nil
}

// appendFragment returns base with params form-urlencoded as its fragment
// (RFC 6749 §4.2.2). Parameters with an empty value are left out. A
// registered redirection URI has no fragment of its own (RFC 6749 §3.1.2).
func appendFragment(base string, params ...param) string {
	var b strings.Builder
	b.Grow(len(base) + 256)
	b.WriteString(base)
	sep := byte('#')
	for _, p := range params {
		if p.value == "" {
			continue
		}
		b.WriteByte(sep)
		b.WriteString(url.QueryEscape(p.key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.value))
		sep = '&'
	}
	return b.String()
}
