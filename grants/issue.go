package grants

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// grantTokens is what issuing produces: the values to send and the stored
// records.
type grantTokens struct {
	access       string
	accessRec    *oauth.AccessToken
	refresh      string
	refreshRec   *oauth.RefreshToken
	accessScopes []string
}

// response returns the token endpoint answer for issued tokens.
func (s *Server) response(t *grantTokens) *tokenResponse {
	return &tokenResponse{
		accessToken:  t.access,
		expiresIn:    int64(s.accessLife / time.Second),
		refreshToken: t.refresh,
		scopes:       t.accessScopes,
	}
}

// createAccessToken makes an access token in the configured format and
// stores it, before anyone is told its value.
func (s *Server) createAccessToken(ctx context.Context, client *oauth.Client, userID string, scopes []string, familyID string, now time.Time) (string, *oauth.AccessToken, error) {
	rec := &oauth.AccessToken{
		ClientID:  client.ID,
		UserID:    userID,
		Scopes:    scopes,
		FamilyID:  familyID,
		ExpiresAt: now.Add(s.accessLife),
		CreatedAt: now,
	}
	var value string
	var err error
	if s.cfg.AccessTokenFormat == AccessTokenJWT {
		subject := userID
		if subject == "" {
			subject = client.ID
		}
		c := tokens.Claims{
			Issuer:    s.cfg.Issuer,
			Subject:   subject,
			ClientID:  client.ID,
			Scopes:    scopes,
			IssuedAt:  now,
			ExpiresAt: rec.ExpiresAt,
		}
		value, err = s.cfg.JWTIssuer.Issue(&c)
		rec.ID = c.ID
	} else {
		value, rec.ID, err = tokens.NewOpaque(tokens.PrefixAccessToken)
	}
	if err != nil {
		return "", nil, fmt.Errorf("grants: new access token: %w", err)
	}
	if err := s.cfg.AccessTokens.CreateAccessToken(ctx, rec); err != nil {
		return "", nil, fmt.Errorf("grants: store access token: %w", err)
	}
	return value, rec, nil
}

// newRefreshToken makes a refresh token record and its value; the caller
// stores it (created or rotated in).
func (s *Server) newRefreshToken(client *oauth.Client, userID string, scopes []string, familyID, accessID string, now time.Time) (string, *oauth.RefreshToken, error) {
	value, id, err := tokens.NewOpaque(tokens.PrefixRefreshToken)
	if err != nil {
		return "", nil, fmt.Errorf("grants: new refresh token: %w", err)
	}
	return value, &oauth.RefreshToken{
		ID:            id,
		AccessTokenID: accessID,
		ClientID:      client.ID,
		UserID:        userID,
		Scopes:        scopes,
		FamilyID:      familyID,
		ExpiresAt:     now.Add(s.refreshLife),
		CreatedAt:     now,
	}, nil
}

// issue creates and stores a new access token and, when withRefresh and the
// refresh grant is on, a refresh token of the same family, in that order
// (the refresh token refers to the access token). The hooks run once both
// are stored.
func (s *Server) issue(ctx context.Context, grantType string, client *oauth.Client, userID string, scopes []string, familyID string, withRefresh bool, now time.Time) (*grantTokens, error) {
	t, err := s.storeTokens(ctx, client, userID, scopes, familyID, withRefresh, now)
	if err != nil {
		return nil, err
	}
	s.announce(ctx, grantType, t)
	return t, nil
}

// storeTokens is issue without the hooks: for a grant that must store the
// tokens before its single-use write, and discard them if it loses.
func (s *Server) storeTokens(ctx context.Context, client *oauth.Client, userID string, scopes []string, familyID string, withRefresh bool, now time.Time) (*grantTokens, error) {
	access, at, err := s.createAccessToken(ctx, client, userID, scopes, familyID, now)
	if err != nil {
		return nil, err
	}
	t := &grantTokens{access: access, accessRec: at, accessScopes: scopes}
	if withRefresh && s.cfg.RefreshTokens != nil {
		t.refresh, t.refreshRec, err = s.newRefreshToken(client, userID, scopes, familyID, at.ID, now)
		if err == nil {
			err = s.cfg.RefreshTokens.CreateRefreshToken(ctx, t.refreshRec)
			if err != nil {
				err = fmt.Errorf("grants: store refresh token: %w", err)
			}
		}
		if err != nil {
			s.discard(ctx, &grantTokens{accessRec: at})
			return nil, err
		}
	}
	return t, nil
}

// announce runs the issuing hooks for stored tokens.
func (s *Server) announce(ctx context.Context, grantType string, t *grantTokens) {
	s.accessTokenIssued(ctx, grantType, t.accessRec)
	if t.refreshRec != nil {
		s.refreshTokenIssued(ctx, grantType, t.refreshRec, "")
	}
}

// discard revokes stored tokens that were never sent. A failure is logged:
// the tokens' values were never disclosed, so they cannot be used.
func (s *Server) discard(ctx context.Context, t *grantTokens) {
	if t.refreshRec != nil && s.cfg.RefreshTokens != nil {
		if err := s.cfg.RefreshTokens.RevokeRefreshToken(ctx, t.refreshRec.ID); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "grants: revoke an unsent refresh token", slog.String("error", err.Error()))
		}
	}
	if t.accessRec != nil {
		if err := s.cfg.AccessTokens.RevokeAccessToken(ctx, t.accessRec.ID); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "grants: revoke an unsent access token", slog.String("error", err.Error()))
		}
	}
}

// revokeFamily revokes every access and refresh token of a grant family.
//
// The refresh tokens go first. A refresh racing the revocation stores its
// new access token and only then rotates its refresh token, in one
// compare-and-set: if the refresh tokens are revoked first, that rotation
// either happened before — and its access token, stored earlier still, is
// caught by the access tokens' revocation that follows — or it fails, and
// the refresh discards its access token. Revoking the access tokens first
// would let a refresh store one just after them and rotate just before the
// refresh tokens go, leaving a live access token in a revoked family.
func (s *Server) revokeFamily(ctx context.Context, familyID string) (access, refresh int64, err error) {
	if s.cfg.RefreshTokens != nil {
		refresh, err = s.cfg.RefreshTokens.RevokeRefreshTokenFamily(ctx, familyID)
		if err != nil {
			return 0, 0, fmt.Errorf("grants: revoke refresh token family: %w", err)
		}
	}
	access, err = s.cfg.AccessTokens.RevokeAccessTokenFamily(ctx, familyID)
	if err != nil {
		return 0, refresh, fmt.Errorf("grants: revoke access token family: %w", err)
	}
	return access, refresh, nil
}
