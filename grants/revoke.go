package grants

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// RevocationHandler returns the revocation endpoint (RFC 7009): POST with a
// form-encoded body holding token and, optionally, token_type_hint. The
// client authenticates as at the token endpoint (a public client sends its
// client_id); bad credentials are 401 invalid_client and a missing token is
// 400 invalid_request.
//
// The token may be an access token (opaque or JWT) or a refresh token,
// whatever token_type_hint says; the hint only decides which is looked up
// first. Revoking an access token revokes that token. Revoking a refresh
// token revokes its whole grant: every refresh and access token of its
// family, so that the tokens issued with it stop working too (RFC 7009
// §2.1). A JWT is revoked, by its jti, only once its signature, issuer and
// audience check out; resource servers that consult the repository then
// refuse it.
//
// The answer is 200 with an empty body for every request that
// authenticates and names a token: revoked now, revoked before, expired,
// unknown or malformed (RFC 7009 §2.2). A token issued to another client is
// left alone and answered the same way, so that the endpoint tells a client
// nothing about tokens it does not hold. A repository failure is a 500
// server_error, never a 200 for a token that stays live.
func (s *Server) RevocationHandler() http.Handler { return http.HandlerFunc(s.serveRevoke) }

func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeMethodNotAllowed(w, hdrPost)
		return
	}
	ctx := r.Context()
	if err := s.revoke(ctx, r); err != nil {
		pe := s.protocolError(ctx, "revoke", err)
		if pe != errServer {
			s.log.LogAttrs(ctx, levelProtocol, "grants: revocation request refused",
				logString("error", pe.Code), logString("description", pe.Description))
		}
		writeJSONError(w, pe)
		return
	}
	h := w.Header()
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
	h["Content-Length"] = []string{"0"}
	w.WriteHeader(http.StatusOK)
}

// revoke runs a revocation request. It returns nil whenever the answer is
// 200.
func (s *Server) revoke(ctx context.Context, r *http.Request) error {
	var f form
	if err := readBody(r, s.maxBody, &f); err != nil {
		return err
	}
	if err := f.repeatedErr(); err != nil {
		return err
	}
	client, err := s.authenticateClient(ctx, r, &f)
	if err != nil {
		return err
	}
	value := f.get("token")
	if value == "" {
		return errMissing("token")
	}
	if len(value) > tokens.MaxTokenLen {
		return nil
	}
	if strings.IndexByte(value, '.') >= 0 {
		return s.revokeJWT(ctx, r, client, value)
	}
	id := oauth.HashValue(value)
	first, second := s.revokeAccess, s.revokeRefresh
	if f.get("token_type_hint") == TokenTypeRefresh {
		first, second = second, first
	}
	found, err := first(ctx, r, client, id)
	if found || err != nil {
		return err
	}
	_, err = second(ctx, r, client, id)
	return err
}

// revokeAccess revokes the opaque access token with storage ID id if the
// client holds it. found reports whether such a token exists, the client's
// or not.
func (s *Server) revokeAccess(ctx context.Context, r *http.Request, client *oauth.Client, id string) (found bool, err error) {
	t, err := s.cfg.AccessTokens.FindAccessToken(ctx, id)
	if errors.Is(err, oauth.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("grants: revoke: find access token: %w", err)
	}
	return true, s.revokeAccessRecord(ctx, r, client, t)
}

// revokeAccessRecord revokes a stored access token if it was issued to
// client.
func (s *Server) revokeAccessRecord(ctx context.Context, r *http.Request, client *oauth.Client, t *oauth.AccessToken) error {
	if t.ClientID != client.ID {
		s.notOwner(ctx, r, client, "access token")
		return nil
	}
	if t.Revoked {
		return nil
	}
	err := s.cfg.AccessTokens.RevokeAccessToken(ctx, t.ID)
	if err != nil && !errors.Is(err, oauth.ErrNotFound) { // purged meanwhile: gone anyway
		return fmt.Errorf("grants: revoke access token: %w", err)
	}
	s.log.LogAttrs(ctx, levelAuthFail, "grants: access token revoked by its client",
		logClientID(client.ID), logString("family_id", t.FamilyID))
	return nil
}

// revokeRefresh revokes the grant of the refresh token with storage ID id
// if the client holds it. found reports whether such a token exists, the
// client's or not.
func (s *Server) revokeRefresh(ctx context.Context, r *http.Request, client *oauth.Client, id string) (found bool, err error) {
	if s.cfg.RefreshTokens == nil {
		return false, nil
	}
	t, err := s.cfg.RefreshTokens.FindRefreshToken(ctx, id)
	if errors.Is(err, oauth.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("grants: revoke: find refresh token: %w", err)
	}
	if t.ClientID != client.ID {
		s.notOwner(ctx, r, client, "refresh token")
		return true, nil
	}
	// Revoked, rotated-out or expired, the token still names its grant,
	// and the client asked for that grant to end: revoke the whole family
	// (a no-op if it is over already).
	access, refresh, err := s.revokeFamily(ctx, t.FamilyID)
	if err != nil {
		return true, err
	}
	s.log.LogAttrs(ctx, levelAuthFail, "grants: grant revoked by its client",
		logClientID(client.ID), logString("family_id", t.FamilyID),
		slogInt("access_tokens_revoked", access), slogInt("refresh_tokens_revoked", refresh))
	return true, nil
}

// revokeJWT revokes a JWT access token whose signature, issuer, audience
// and times check out, by its jti. Anything else is left alone.
func (s *Server) revokeJWT(ctx context.Context, r *http.Request, client *oauth.Client, value string) error {
	c, t, err := s.verifyJWT(ctx, value)
	if err != nil || c == nil {
		return err
	}
	return s.revokeAccessRecord(ctx, r, client, t)
}

// notOwner logs a revocation request for another client's token, which is
// left alone.
func (s *Server) notOwner(ctx context.Context, r *http.Request, client *oauth.Client, what string) {
	s.log.LogAttrs(ctx, levelAuthFail, "grants: revocation of another client's "+what+" ignored",
		logClientID(client.ID), logString("remote_addr", r.RemoteAddr))
}
