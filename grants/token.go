package grants

import (
	"context"
	"net/http"
	"time"

	"github.com/oauthkit/oauth"
)

// grantFunc serves one grant_type at the token endpoint, for a request whose
// client is authenticated and allowed the grant. It returns the response to
// send, a protocol error, or any other error (a server error).
type grantFunc func(s *Server, ctx context.Context, req *tokenRequest) (*tokenResponse, error)

// tokenRequest is a token endpoint request after its form is parsed and its
// client authenticated.
type tokenRequest struct {
	r         *http.Request
	form      form
	grantType string
	client    *oauth.Client
	now       time.Time
}

// TokenHandler returns the token endpoint (RFC 6749 §3.2): POST with a
// form-encoded body; the grant_type selects the grant. Every answer carries
// Cache-Control: no-store and Pragma: no-cache.
func (s *Server) TokenHandler() http.Handler { return http.HandlerFunc(s.serveToken) }

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeMethodNotAllowed(w, hdrPost)
		return
	}
	ctx := r.Context()
	req := tokenRequest{r: r}
	resp, err := s.token(ctx, &req)
	if err != nil {
		pe := s.protocolError(ctx, "token", err)
		if pe != errServer {
			s.log.LogAttrs(ctx, levelProtocol, "grants: token request refused",
				logClaimed("grant_type", req.grantType, 100), logClientID(clientIDOf(&req)),
				logString("error", pe.Code), logString("description", pe.Description))
		}
		writeJSONError(w, pe)
		return
	}
	writeTokenResponse(w, resp)
}

func clientIDOf(req *tokenRequest) string {
	if req.client != nil {
		return req.client.ID
	}
	return ""
}

// token runs a token request: parse, dispatch on grant_type, authenticate
// the client, check the client may use the grant, run the grant. Nothing
// is read from or written to the token and code repositories before client
// authentication succeeds, so a request that fails it consumes nothing
// (CONFORMANCE A.12).
func (s *Server) token(ctx context.Context, req *tokenRequest) (*tokenResponse, error) {
	if err := readBody(req.r, s.maxBody, &req.form); err != nil {
		return nil, err
	}
	if err := req.form.repeatedErr(); err != nil {
		return nil, err
	}
	req.grantType = req.form.get("grant_type")
	if req.grantType == "" {
		return nil, oauth.NewError(oauth.ErrCodeInvalidRequest, "grant_type is required")
	}
	grant, ok := s.grants[req.grantType]
	if !ok {
		return nil, oauth.NewError(oauth.ErrCodeUnsupportedGrantType, "grant_type "+safeDescription(req.grantType)+" is not supported")
	}
	client, err := s.authenticateClient(ctx, req.r, &req.form)
	if err != nil {
		return nil, err
	}
	req.client = client
	if !client.AllowsGrant(req.grantType) {
		return nil, oauth.NewError(oauth.ErrCodeUnauthorizedClient, "the client may not use this grant type")
	}
	req.now = s.now().UTC()
	return grant(s, ctx, req)
}

// errInvalidGrant is an invalid_grant error.
func errInvalidGrant(desc string) *oauth.Error {
	return oauth.NewError(oauth.ErrCodeInvalidGrant, desc)
}

// errMissing is the invalid_request error for a missing parameter.
func errMissing(name string) *oauth.Error {
	return oauth.NewError(oauth.ErrCodeInvalidRequest, name+" is required")
}
