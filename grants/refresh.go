package grants

import (
	"context"
	"errors"
	"fmt"

	"github.com/oauthkit/oauth"
)

// refreshTokenGrant serves grant_type=refresh_token (RFC 6749 §6) with
// rotation (RFC 9700 §4.14.2): every refresh returns a new refresh token and
// retires the old one in one compare-and-set. The new access token may carry
// fewer scopes than the grant (scope narrowing); the new refresh token keeps
// the grant's scopes, as §6 requires. Each rotation starts the refresh
// token's lifetime anew.
//
// A retired token presented again is reuse: unless it was rotated less than
// Config.RefreshGracePeriod ago (a client retrying a request whose answer it
// lost), the whole grant family is revoked.
func (s *Server) refreshTokenGrant(ctx context.Context, req *tokenRequest) (*tokenResponse, error) {
	value := req.form.get("refresh_token")
	if value == "" {
		return nil, errMissing("refresh_token")
	}
	id := oauth.HashValue(value)
	old, err := s.cfg.RefreshTokens.FindRefreshToken(ctx, id)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, errInvalidGrant("the refresh token is invalid")
	}
	if err != nil {
		return nil, fmt.Errorf("grants: find refresh token: %w", err)
	}
	if old.ClientID != req.client.ID {
		return nil, errInvalidGrant("the refresh token was issued to another client")
	}
	scopes, err := narrowScopes(req.form.get("scope"), old.Scopes, s.maxScopes)
	if err != nil {
		return nil, err
	}
	if !req.now.Before(old.ExpiresAt) {
		return nil, errInvalidGrant("the refresh token has expired")
	}
	if old.Revoked {
		return s.refreshReused(ctx, req, old, scopes)
	}

	access, at, err := s.createAccessToken(ctx, req.client, old.UserID, scopes, old.FamilyID, req.now)
	if err != nil {
		return nil, err
	}
	refresh, next, err := s.newRefreshToken(req.client, old.UserID, old.Scopes, old.FamilyID, at.ID, req.now)
	if err == nil {
		err = s.cfg.RefreshTokens.RotateRefreshToken(ctx, id, next, req.now)
	}
	if err != nil {
		// The access token was stored for nothing: revoke it, so that no
		// token nobody received stays live.
		s.discard(ctx, &grantTokens{accessRec: at})
		switch {
		case errors.Is(err, oauth.ErrAlreadyUsed):
			// Another request rotated it first. Read it again for RotatedAt.
			old, ferr := s.cfg.RefreshTokens.FindRefreshToken(ctx, id)
			if ferr != nil {
				return nil, fmt.Errorf("grants: find refresh token: %w", ferr)
			}
			return s.refreshReused(ctx, req, old, scopes)
		case errors.Is(err, oauth.ErrExpired):
			return nil, errInvalidGrant("the refresh token has expired")
		case errors.Is(err, oauth.ErrNotFound):
			return nil, errInvalidGrant("the refresh token is invalid")
		default:
			return nil, fmt.Errorf("grants: rotate refresh token: %w", err)
		}
	}
	s.accessTokenIssued(ctx, req.grantType, at)
	s.refreshTokenIssued(ctx, req.grantType, next, id)
	return s.response(&grantTokens{access: access, refresh: refresh, accessScopes: scopes}), nil
}

// narrowScopes returns the scopes for a refreshed access token: the
// grant's, or the requested ones when they are a subset of them (RFC 6749
// §6). A scope beyond the grant is invalid_scope.
func narrowScopes(raw string, granted []string, max int) ([]string, error) {
	if raw == "" {
		return granted, nil
	}
	scopes, ok := oauth.ParseScope(raw, max)
	if !ok {
		return nil, errInvalidScope("the scope parameter is malformed")
	}
	if !subset(scopes, granted) {
		return nil, errInvalidScope("the requested scope exceeds the scope of the grant")
	}
	return scopes, nil
}

// refreshReused handles a refresh token that is no longer live: a retry
// within the grace period after its rotation gets a fresh pair of the same
// family; anything else revokes the family (a rotated token) or is simply
// refused (a token revoked outright, whose family was revoked with it).
func (s *Server) refreshReused(ctx context.Context, req *tokenRequest, old *oauth.RefreshToken, scopes []string) (*tokenResponse, error) {
	if old.RotatedAt.IsZero() {
		return nil, errInvalidGrant("the refresh token was revoked")
	}
	if grace := s.cfg.RefreshGracePeriod; grace > 0 && req.now.Sub(old.RotatedAt) <= grace && req.now.Before(old.ExpiresAt) {
		t, err := s.issueRetry(ctx, req, old, scopes)
		if err != nil {
			return nil, err
		}
		return s.response(t), nil
	}
	access, refresh, err := s.revokeFamily(ctx, old.FamilyID)
	if err != nil {
		return nil, err
	}
	s.log.LogAttrs(ctx, levelAttack, "grants: rotated refresh token reused; grant family revoked",
		logClientID(old.ClientID), logString("family_id", old.FamilyID),
		slogInt("access_tokens_revoked", access), slogInt("refresh_tokens_revoked", refresh))
	if h := s.cfg.Hooks.RefreshReuseDetected; h != nil {
		h(ctx, FamilyRevocation{
			ClientID: old.ClientID, UserID: old.UserID, FamilyID: old.FamilyID,
			AccessTokens: access, RefreshTokens: refresh, RemoteAddr: req.r.RemoteAddr,
		})
	}
	return nil, errInvalidGrant("the refresh token was already used")
}

// issueRetry answers a retry within the grace period with a new access
// token and a new refresh token of the same family, created beside the
// successor the first request received.
func (s *Server) issueRetry(ctx context.Context, req *tokenRequest, old *oauth.RefreshToken, scopes []string) (*grantTokens, error) {
	access, at, err := s.createAccessToken(ctx, req.client, old.UserID, scopes, old.FamilyID, req.now)
	if err != nil {
		return nil, err
	}
	refresh, next, err := s.newRefreshToken(req.client, old.UserID, old.Scopes, old.FamilyID, at.ID, req.now)
	if err == nil {
		err = s.cfg.RefreshTokens.CreateRefreshToken(ctx, next)
		if err != nil {
			err = fmt.Errorf("grants: store refresh token: %w", err)
		}
	}
	if err != nil {
		// As after a failed rotation: no token nobody received stays live.
		s.discard(ctx, &grantTokens{accessRec: at})
		return nil, err
	}
	s.accessTokenIssued(ctx, req.grantType, at)
	s.refreshTokenIssued(ctx, req.grantType, next, old.ID)
	return &grantTokens{access: access, refresh: refresh, accessScopes: scopes}, nil
}
