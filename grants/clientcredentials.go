package grants

import (
	"context"

	"github.com/oauthkit/oauth"
)

// clientCredentialsGrant serves grant_type=client_credentials (RFC 6749
// §4.4): a confidential client asks for an access token of its own, for the
// requested scopes or, when it names none, every scope it is allowed. No
// refresh token is issued (§4.4.3). Each request starts a grant family of
// its own.
func (s *Server) clientCredentialsGrant(ctx context.Context, req *tokenRequest) (*tokenResponse, error) {
	if req.client.Public() {
		return nil, oauth.NewError(oauth.ErrCodeUnauthorizedClient, "public clients cannot use client_credentials")
	}
	scopes, err := s.requestedScopes(ctx, req.client, req.form.get("scope"))
	if err != nil {
		return nil, err
	}
	scopes, err = s.finalizeScopes(ctx, ScopeRequest{GrantType: req.grantType, Client: req.client, Scopes: scopes})
	if err != nil {
		return nil, err
	}
	family, err := newFamilyID()
	if err != nil {
		return nil, err
	}
	t, err := s.issue(ctx, req.grantType, req.client, "", scopes, family, false, req.now)
	if err != nil {
		return nil, err
	}
	return s.response(t), nil
}
