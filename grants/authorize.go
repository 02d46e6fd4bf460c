package grants

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// AuthorizeRequest is a validated authorization request (RFC 6749 §4.1.1):
// its client is registered, its redirect_uri trusted, its response_type,
// scope and PKCE parameters acceptable. Obtain one from
// Server.ParseAuthorizeRequest; finish it with Server.Approve or
// Server.Deny.
type AuthorizeRequest struct {
	// Client is the registered client that sent the request.
	Client *oauth.Client
	// RedirectURI is where the response will be sent.
	RedirectURI string
	// ResponseType is the response_type: "code", or "token" for the
	// implicit grant (see Config.EnableImplicitGrant).
	ResponseType string
	// Scopes are the requested scopes, checked against the client and the
	// ScopeRepository; the client's defaults when the request named none.
	Scopes []string
	// State is the client's state parameter, echoed in the response; empty
	// when the request sent none.
	State string

	// What Approve and Deny act on: copies of the validated values, so
	// that a host changing the exported fields cannot redirect a code
	// elsewhere or grant a scope that was not checked.
	client          oauth.Client
	redirectURI     string
	state           string
	scopes          []string
	params          form
	redirectParam   string
	challenge       string
	challengeMethod string
	server          *Server
	implicit        bool // response_type=token (implicit.go)
}

// Param returns any parameter of the request as sent (say prompt,
// login_hint or nonce); "" if absent.
func (ar *AuthorizeRequest) Param(name string) string { return ar.params.get(name) }

// Query returns the request's parameters form-encoded, for carrying the
// request across the host's login and consent pages (say as
// "/authorize?" + ar.Query()) and parsing it again there. They are the
// parameters the user agent sent, code_challenge included.
func (ar *AuthorizeRequest) Query() string { return ar.params.values().Encode() }

// AuthorizeError is the error ParseAuthorizeRequest and Approve return for
// a request that cannot be served. Pass it to WriteAuthorizeError.
type AuthorizeError struct {
	// Err is the protocol error.
	Err *oauth.Error
	// RedirectURI is where the error is to be sent, with State and the
	// issuer. It is empty when the request could not be trusted to name a
	// redirection endpoint (a missing or unknown client, an unregistered
	// redirect_uri): the error is then shown on a page, never redirected
	// (RFC 6749 §4.1.2.1).
	RedirectURI string
	// State is the client's state parameter.
	State string

	fragment bool // the error goes in the fragment (implicit.go)
}

// Error implements the error interface.
func (e *AuthorizeError) Error() string { return "grants: authorization request: " + e.Err.Error() }

// Unwrap returns the protocol error.
func (e *AuthorizeError) Unwrap() error { return e.Err }

var errAuthorizeMethod = &oauth.Error{Code: oauth.ErrCodeInvalidRequest, Description: "method not allowed", Status: http.StatusMethodNotAllowed}

// errPage returns an AuthorizeError shown as a page.
func errPage(code, desc string) *AuthorizeError {
	return &AuthorizeError{Err: oauth.NewError(code, desc)}
}

// ParseAuthorizeRequest reads and validates an authorization request:
// GET with a query, or POST with a form body (parameters may also be in the
// query; a name in both counts as repeated). Other methods, HEAD included,
// are refused: a request that can issue a code must not be one a browser
// or a link checker sends on its own.
//
// Errors found before the redirect_uri is trusted are for an error page;
// after that, they are for an error redirect to the client. Either way the
// error is an *AuthorizeError (or, for a repository failure, a plain error)
// and WriteAuthorizeError writes the right answer.
func (s *Server) ParseAuthorizeRequest(r *http.Request) (*AuthorizeRequest, error) {
	ctx := r.Context()
	ar := &AuthorizeRequest{server: s}
	f := &ar.params
	switch r.Method {
	case http.MethodGet:
		if err := parseForm(r.URL.RawQuery, f); err != nil {
			return nil, &AuthorizeError{Err: err}
		}
	case http.MethodPost:
		if err := parseForm(r.URL.RawQuery, f); err != nil {
			return nil, &AuthorizeError{Err: err}
		}
		if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
			break // everything is in the query
		}
		if err := readBody(r, s.maxBody, f); err != nil {
			if pe := (*oauth.Error)(nil); errors.As(err, &pe) {
				return nil, &AuthorizeError{Err: pe}
			}
			return nil, err
		}
	default:
		return nil, &AuthorizeError{Err: errAuthorizeMethod}
	}

	// Until the client and redirect_uri are known good, errors are pages.
	clientID := f.get("client_id")
	switch {
	case f.wasRepeated("client_id"):
		return nil, errPage(oauth.ErrCodeInvalidRequest, "client_id is repeated")
	case clientID == "":
		return nil, errPage(oauth.ErrCodeInvalidRequest, "client_id is required")
	}
	client, err := s.findClient(ctx, clientID) // clientauth.go
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, errPage(oauth.ErrCodeInvalidRequest, "unknown client")
	}
	if err != nil {
		return nil, fmt.Errorf("grants: find client: %w", err)
	}
	if f.wasRepeated("redirect_uri") {
		return nil, errPage(oauth.ErrCodeInvalidRequest, "redirect_uri is repeated")
	}
	redirectParam := f.get("redirect_uri")
	redirectURI, ok := resolveRedirectURI(client.RedirectURIs, redirectParam)
	if !ok {
		if redirectParam == "" {
			return nil, errPage(oauth.ErrCodeInvalidRequest, "redirect_uri is required")
		}
		return nil, errPage(oauth.ErrCodeInvalidRequest, "redirect_uri is not registered for this client")
	}

	// From here on, errors go back to the client.
	ar.Client, ar.RedirectURI, ar.redirectParam = client, redirectURI, redirectParam
	ar.ResponseType, ar.State = f.get("response_type"), f.get("state")
	fail := func(code, desc string) (*AuthorizeRequest, error) {
		return nil, &AuthorizeError{Err: oauth.NewError(code, desc), RedirectURI: redirectURI, State: ar.State, fragment: ar.implicit}
	}
	if err := f.repeatedErr(); err != nil {
		return fail(err.Code, err.Description)
	}
	switch ar.ResponseType {
	case "":
		return fail(oauth.ErrCodeInvalidRequest, "response_type is required")
	case "code":
		if s.cfg.AuthCodes == nil {
			return fail(oauth.ErrCodeUnsupportedResponseType, "the authorization code grant is not enabled")
		}
	case "token":
		if err := s.checkImplicit(ar); err != nil { // implicit.go
			return nil, err
		}
	default:
		return fail(oauth.ErrCodeUnsupportedResponseType, "response_type "+safeDescription(ar.ResponseType)+" is not supported")
	}
	if !ar.implicit && !client.AllowsGrant(oauth.GrantAuthorizationCode) {
		return fail(oauth.ErrCodeUnauthorizedClient, "the client may not use the authorization code grant")
	}
	ar.Scopes, err = s.requestedScopes(ctx, client, f.get("scope"))
	if err != nil {
		if pe := (*oauth.Error)(nil); errors.As(err, &pe) {
			return fail(pe.Code, pe.Description)
		}
		return nil, &AuthorizeError{Err: s.protocolError(ctx, "authorize", err), RedirectURI: redirectURI, State: ar.State, fragment: ar.implicit}
	}
	if !ar.implicit { // an implicit request has no code to bind a challenge to
		if err := s.checkChallenge(ar, f.get("code_challenge"), f.get("code_challenge_method")); err != nil {
			return fail(oauth.ErrCodeInvalidRequest, err.Error())
		}
	}
	// The copies Approve uses: a struct copy of the client (its slices,
	// which Approve only shows to FinalizeScopes, are cloned there), and
	// a clone of the validated scopes.
	ar.client, ar.redirectURI, ar.state = *client, redirectURI, ar.State
	ar.scopes = slices.Clone(ar.Scopes)
	return ar, nil
}

// checkChallenge validates the PKCE parameters of an authorization request
// (RFC 7636 §4.3, RFC 9700 §2.1.1) and records them in ar. The error's text
// is the error_description.
func (s *Server) checkChallenge(ar *AuthorizeRequest, challenge, method string) error {
	if challenge == "" {
		switch {
		case method != "":
			return errors.New("code_challenge_method without code_challenge")
		case ar.Client.Public():
			return errors.New("code_challenge is required for public clients")
		case s.cfg.RequirePKCE:
			return errors.New("code_challenge is required")
		}
		return nil
	}
	if method == "" {
		method = oauth.PKCEMethodPlain // RFC 7636 §4.3
	}
	switch method {
	case oauth.PKCEMethodS256:
	case oauth.PKCEMethodPlain:
		if !s.cfg.AllowPlainPKCE {
			return errors.New("code_challenge_method plain is not allowed; use S256")
		}
	default:
		return errors.New("code_challenge_method is not supported; use S256")
	}
	if !validChallenge(method, challenge) {
		return errors.New("code_challenge is malformed")
	}
	ar.challenge, ar.challengeMethod = challenge, method
	return nil
}

// WriteAuthorizeError answers an authorization request that failed: an
// error redirect to the client carrying error, error_description, state and
// iss (RFC 6749 §4.1.2.1, RFC 9207) when the error has a trusted
// RedirectURI, an error page otherwise. An error that is not an
// *AuthorizeError is logged and shown as a server_error page.
func (s *Server) WriteAuthorizeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *AuthorizeError
	if !errors.As(err, &ae) {
		s.writeErrorPage(w, r, s.protocolError(r.Context(), "authorize", err))
		return
	}
	if ae.Err == nil {
		// Not one the library made: a host's AuthorizeError without its
		// protocol error is a server failure, shown on the page.
		s.writeErrorPage(w, r, s.protocolError(r.Context(), "authorize", errors.New("grants: AuthorizeError without Err")))
		return
	}
	if ae.RedirectURI == "" {
		s.log.LogAttrs(r.Context(), levelProtocol, "grants: authorization request refused",
			logString("error", ae.Err.Code), logString("description", ae.Err.Description))
		s.writeErrorPage(w, r, ae.Err)
		return
	}
	params := []param{
		{"error", errorText(ae.Err.Code)},
		{"error_description", errorText(ae.Err.Description)},
		{"error_uri", errorURI(ae.Err.URI)},
		{"state", ae.State},
		{"iss", s.cfg.Issuer},
	}
	if ae.fragment {
		s.redirect(w, r, appendFragment(ae.RedirectURI, params...))
		return
	}
	s.redirect(w, r, appendQuery(ae.RedirectURI, params...))
}

// redirect writes a 302, or a 303 in answer to a POST so that the browser
// follows with a GET (RFC 9700 §4.12) — never a 307.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, location string) {
	h := w.Header()
	h["Location"] = []string{location}
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
	h["Referrer-Policy"] = hdrNoReferr
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.WriteHeader(status)
}

// Approve completes an authorization request the resource owner approved:
// it issues an authorization code for userID and the granted scopes —
// nil means every requested scope; otherwise they must be a subset of
// ar.Scopes — and redirects to the client with code, state and iss. The
// code is single-use, expires after Config.AuthCodeLifetime and is bound
// to the client, the redirect_uri and the PKCE challenge. For an implicit
// request (response_type=token) it issues an access token instead, and
// redirects with it in the fragment.
//
// Approve always writes the response. It returns nil on success; on
// failure (an invalid userID or scopes, Config.FinalizeScopes refusing, a
// storage failure) it has written an error redirect and returns the error.
func (s *Server) Approve(w http.ResponseWriter, r *http.Request, ar *AuthorizeRequest, userID string, scopes []string) error {
	err := s.approve(w, r, ar, userID, scopes)
	if err != nil {
		var ae *AuthorizeError
		if !errors.As(err, &ae) {
			ae = &AuthorizeError{Err: s.protocolError(r.Context(), "authorize", err)}
			if ar != nil && ar.server == s {
				ae.RedirectURI, ae.State, ae.fragment = ar.redirectURI, ar.state, ar.implicit
			}
		}
		s.WriteAuthorizeError(w, r, ae)
	}
	return err
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request, ar *AuthorizeRequest, userID string, scopes []string) error {
	if ar == nil || ar.server != s {
		return errors.New("grants: Approve needs an AuthorizeRequest from this Server's ParseAuthorizeRequest")
	}
	if !oauth.ValidID(userID, oauth.MaxUserIDLen) {
		return fmt.Errorf("grants: Approve: user id must be 1 to %d printable ASCII characters", oauth.MaxUserIDLen)
	}
	scopes, ok := grantScopes(scopes, ar.scopes)
	if !ok {
		return errors.New("grants: Approve: granted scopes are not a subset of the requested ones")
	}
	ctx := r.Context()
	scopes, err := s.finalizeScopes(ctx, ScopeRequest{
		GrantType: ar.grantType(), Client: &ar.client, UserID: userID, Scopes: scopes,
	})
	if err != nil {
		if pe := (*oauth.Error)(nil); errors.As(err, &pe) {
			return &AuthorizeError{Err: pe, RedirectURI: ar.redirectURI, State: ar.state, fragment: ar.implicit}
		}
		return err
	}
	if ar.implicit {
		return s.approveImplicit(ctx, w, r, ar, &ar.client, userID, scopes) // implicit.go
	}
	value, id, err := tokens.NewOpaque(tokens.PrefixAuthCode)
	if err != nil {
		return fmt.Errorf("grants: new authorization code: %w", err)
	}
	family, err := newFamilyID()
	if err != nil {
		return err
	}
	now := s.now().UTC()
	code := &oauth.AuthCode{
		ID:                  id,
		ClientID:            ar.client.ID,
		UserID:              userID,
		Scopes:              scopes,
		FamilyID:            family,
		RedirectURI:         ar.redirectParam,
		CodeChallenge:       ar.challenge,
		CodeChallengeMethod: ar.challengeMethod,
		ExpiresAt:           now.Add(s.codeLife),
		CreatedAt:           now,
	}
	if err := s.cfg.AuthCodes.CreateAuthCode(ctx, code); err != nil {
		return fmt.Errorf("grants: store authorization code: %w", err)
	}
	s.redirect(w, r, appendQuery(ar.redirectURI,
		param{"code", value}, param{"state", ar.state}, param{"iss", s.cfg.Issuer}))
	return nil
}

// Deny completes an authorization request the resource owner refused: an
// access_denied error redirect with state and iss (RFC 6749 §4.1.2.1).
func (s *Server) Deny(w http.ResponseWriter, r *http.Request, ar *AuthorizeRequest) {
	if ar == nil || ar.server != s {
		s.WriteAuthorizeError(w, r, errors.New("grants: Deny needs an AuthorizeRequest from this Server's ParseAuthorizeRequest"))
		return
	}
	s.WriteAuthorizeError(w, r, &AuthorizeError{
		Err:         oauth.NewError(oauth.ErrCodeAccessDenied, "the resource owner denied the request"),
		RedirectURI: ar.redirectURI,
		State:       ar.state,
		fragment:    ar.implicit,
	})
}

// Consent is the host's decision on an authorization request, returned by
// an AuthorizeFunc.
type Consent struct {
	// UserID is the resource owner who decided.
	UserID string
	// Scopes are the granted scopes, a subset of the request's; nil grants
	// every requested scope.
	Scopes []string
	// Denied refuses the request: the client receives access_denied.
	Denied bool
}

// AuthorizeFunc is the host's side of the convenience authorization
// endpoint. It receives a validated request and either returns the
// decision with ok true, for the library to write the redirect, or writes
// a response itself — a redirect to its login page, a consent page — and
// returns ok false. A consent page that posts its decision back to the
// endpoint must protect that form against CSRF, and the AuthorizeFunc must
// check the token before returning a decision for a POST.
type AuthorizeFunc func(w http.ResponseWriter, r *http.Request, req *AuthorizeRequest) (c Consent, ok bool)

// AuthorizeHandler returns an authorization endpoint for hosts that want
// one callback instead of calling ParseAuthorizeRequest, Approve and Deny
// themselves. It serves GET and POST.
func (s *Server) AuthorizeHandler(fn AuthorizeFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ar, err := s.ParseAuthorizeRequest(r)
		if err != nil {
			s.WriteAuthorizeError(w, r, err)
			return
		}
		c, ok := fn(w, r, ar)
		if !ok {
			return
		}
		if c.Denied {
			s.Deny(w, r, ar)
			return
		}
		s.Approve(w, r, ar, c.UserID, c.Scopes)
	})
}
