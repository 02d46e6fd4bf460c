package grants

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/oauthkit/oauth"
)

// DefaultMaxScopes is the most scope tokens one request may carry when
// Config.MaxScopes is zero.
const DefaultMaxScopes = 100

// ScopeRequest is what Config.FinalizeScopes receives: scopes the server
// has already checked against the ScopeRepository and the client's allowed
// scopes.
type ScopeRequest struct {
	// GrantType is the grant the scopes are for: oauth.GrantClientCredentials
	// or oauth.GrantPassword at the token endpoint, oauth.GrantAuthorizationCode
	// or oauth.GrantImplicit when the host approves an authorization request,
	// oauth.GrantDeviceCode when it approves a device request.
	GrantType string
	// Client is the authenticated (or, at the authorization endpoint,
	// identified) client.
	Client *oauth.Client
	// UserID is the resource owner; empty for client credentials.
	UserID string
	// Scopes are the requested scopes — at the authorization endpoint, the
	// ones the host granted — or the client's defaults when the request
	// named none.
	Scopes []string
}

// FinalizeScopesFunc applies the host's own scope policy, as
// league/oauth2-server's ScopeRepository::finalizeScopes: it returns the
// scopes to grant, which may add to or remove from req.Scopes. Returning a
// *oauth.Error (say invalid_scope) refuses the request with that error; any
// other error is a server error.
type FinalizeScopesFunc func(ctx context.Context, req ScopeRequest) ([]string, error)

// errInvalidScope is an invalid_scope error naming the scope, if any.
func errInvalidScope(desc string) *oauth.Error {
	return oauth.NewError(oauth.ErrCodeInvalidScope, desc)
}

// requestedScopes parses and checks a scope parameter for a client: each
// scope must be well formed, allowed to the client and known to the
// ScopeRepository. An omitted scope means the client's default: every scope
// it is allowed (RFC 6749 §3.3).
func (s *Server) requestedScopes(ctx context.Context, client *oauth.Client, raw string) ([]string, error) {
	scopes, ok := oauth.ParseScope(raw, s.maxScopes)
	if !ok {
		return nil, errInvalidScope("the scope parameter is malformed")
	}
	if raw == "" {
		scopes = slices.Clone(client.Scopes)
	}
	for _, sc := range scopes {
		if !client.AllowsScope(sc) {
			return nil, errInvalidScope("scope " + safeDescription(sc) + " is not allowed for this client")
		}
	}
	if err := s.knownScopes(ctx, scopes); err != nil {
		return nil, err
	}
	return scopes, nil
}

// knownScopes checks that every scope exists in the ScopeRepository.
func (s *Server) knownScopes(ctx context.Context, scopes []string) error {
	if len(scopes) == 0 {
		return nil
	}
	found, err := s.cfg.Scopes.FindScopes(ctx, scopes)
	if err != nil {
		return fmt.Errorf("grants: find scopes: %w", err)
	}
	if len(found) == len(scopes) {
		return nil
	}
	for _, sc := range scopes {
		if !slices.ContainsFunc(found, func(f oauth.Scope) bool { return f.ID == sc }) {
			return errInvalidScope("scope " + safeDescription(sc) + " is unknown")
		}
	}
	return errInvalidScope("unknown scope")
}

// finalizeScopes runs Config.FinalizeScopes, if set, and checks what it
// returns: valid scope tokens, each once.
func (s *Server) finalizeScopes(ctx context.Context, req ScopeRequest) ([]string, error) {
	if s.cfg.FinalizeScopes == nil {
		return req.Scopes, nil
	}
	// The hook gets copies: nothing it changes reaches the server's data.
	c := *req.Client
	c.RedirectURIs, c.GrantTypes, c.Scopes = slices.Clone(c.RedirectURIs), slices.Clone(c.GrantTypes), slices.Clone(c.Scopes)
	req.Client, req.Scopes = &c, slices.Clone(req.Scopes)
	out, err := s.cfg.FinalizeScopes(ctx, req)
	if err != nil {
		if pe := (*oauth.Error)(nil); errors.As(err, &pe) {
			return nil, pe
		}
		return nil, fmt.Errorf("grants: finalize scopes: %w", err)
	}
	clean := make([]string, 0, len(out))
	for _, sc := range out {
		if !oauth.ValidScopeToken(sc) || len(sc) > oauth.MaxScopeLen {
			return nil, fmt.Errorf("grants: finalize scopes returned an invalid scope %q", sc)
		}
		if !slices.Contains(clean, sc) {
			clean = append(clean, sc)
		}
	}
	return clean, nil
}

// grantScopes returns the scopes a host grants out of the requested ones,
// in a slice of the server's own: every requested scope when granted is
// nil, otherwise granted with each scope once. ok is false when granted
// holds a scope that was not requested.
func grantScopes(granted, requested []string) (scopes []string, ok bool) {
	if granted == nil {
		return slices.Clone(requested), true
	}
	if !subset(granted, requested) {
		return nil, false
	}
	out := make([]string, 0, len(granted))
	for _, sc := range granted {
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, true
}

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
