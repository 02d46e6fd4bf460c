package grants

import (
	"context"
	"errors"
	"fmt"

	"github.com/oauthkit/oauth"
)

// authorizationCodeGrant serves grant_type=authorization_code (RFC 6749
// §4.1.3, RFC 7636 §4.5).
//
// Every check that can fail without it being a replay — the code exists,
// belongs to this client, the redirect_uri matches, the PKCE verifier
// answers the challenge — runs on the stored record before the code is
// consumed, so a request failing any of them changes nothing (CONFORMANCE
// C.24). Only then are the tokens stored and the code consumed in one
// compare-and-set; losing that race, or presenting a code consumed before,
// is a replay: the code's whole grant family — the winner's tokens included —
// is revoked (RFC 6749 §4.1.2, §10.5).
func (s *Server) authorizationCodeGrant(ctx context.Context, req *tokenRequest) (*tokenResponse, error) {
	value := req.form.get("code")
	if value == "" {
		return nil, errMissing("code")
	}
	id := oauth.HashValue(value)
	code, err := s.cfg.AuthCodes.FindAuthCode(ctx, id)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, errInvalidGrant("the authorization code is invalid")
	}
	if err != nil {
		return nil, fmt.Errorf("grants: find authorization code: %w", err)
	}
	if code.ClientID != req.client.ID {
		return nil, errInvalidGrant("the authorization code was issued to another client")
	}
	if err := checkCodeRedirectURI(code, req.client, req.form.get("redirect_uri")); err != nil {
		return nil, err
	}
	if err := checkCodeVerifier(code, req.form.get("code_verifier")); err != nil {
		return nil, err
	}
	if code.Revoked {
		return nil, s.codeReplayed(ctx, req, code)
	}
	if !req.now.Before(code.ExpiresAt) {
		return nil, errInvalidGrant("the authorization code has expired")
	}
	// The tokens are stored before the code is consumed. Were they stored
	// after, a concurrent replay that lost the race could revoke the family
	// before the winner's tokens existed, and they would stay live. Stored
	// first, they exist before any redemption can fail as a replay, so the
	// family revocation always reaches them.
	t, err := s.storeTokens(ctx, req.client, code.UserID, code.Scopes, code.FamilyID,
		req.client.AllowsGrant(oauth.GrantRefreshToken), req.now)
	if err != nil {
		return nil, err
	}
	_, err = s.cfg.AuthCodes.ConsumeAuthCode(ctx, id, req.now)
	switch {
	case errors.Is(err, oauth.ErrAlreadyUsed):
		// The family revocation covers the tokens just stored.
		return nil, s.codeReplayed(ctx, req, code)
	case errors.Is(err, oauth.ErrExpired):
		s.discard(ctx, t)
		return nil, errInvalidGrant("the authorization code has expired")
	case errors.Is(err, oauth.ErrNotFound):
		s.discard(ctx, t)
		return nil, errInvalidGrant("the authorization code is invalid")
	case err != nil:
		s.discard(ctx, t)
		return nil, fmt.Errorf("grants: consume authorization code: %w", err)
	}
	s.announce(ctx, req.grantType, t)
	return s.response(t), nil
}

// checkCodeRedirectURI applies RFC 6749 §4.1.3: a redirect_uri sent with the
// authorization request must be sent again, identical. When the
// authorization request omitted it (the client has a single registered URI),
// one sent now must be that URI.
func checkCodeRedirectURI(code *oauth.AuthCode, client *oauth.Client, sent string) error {
	if code.RedirectURI != "" {
		if sent != code.RedirectURI {
			return errInvalidGrant("redirect_uri does not match the authorization request")
		}
		return nil
	}
	if sent != "" && (len(client.RedirectURIs) != 1 || sent != client.RedirectURIs[0]) {
		return errInvalidGrant("redirect_uri does not match the authorization request")
	}
	return nil
}

// checkCodeVerifier applies RFC 7636 §4.6: a code issued with a challenge
// needs the verifier that answers it; a code issued without one accepts no
// verifier, which would be a downgrade (RFC 9700 §2.1.1).
func checkCodeVerifier(code *oauth.AuthCode, verifier string) error {
	if code.CodeChallenge == "" {
		if verifier != "" {
			return errInvalidGrant("code_verifier sent for a code issued without code_challenge")
		}
		return nil
	}
	if verifier == "" {
		return errInvalidGrant("code_verifier is required")
	}
	if !verifyPKCE(code.CodeChallengeMethod, code.CodeChallenge, verifier) {
		return errInvalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}

// codeReplayed handles a second redemption of a code by its own client:
// revoke the family, tell the hook, refuse with invalid_grant.
func (s *Server) codeReplayed(ctx context.Context, req *tokenRequest, code *oauth.AuthCode) error {
	access, refresh, err := s.revokeFamily(ctx, code.FamilyID)
	if err != nil {
		return err
	}
	s.log.LogAttrs(ctx, levelAttack, "grants: authorization code replayed; grant family revoked",
		logClientID(code.ClientID), logString("family_id", code.FamilyID),
		slogInt("access_tokens_revoked", access), slogInt("refresh_tokens_revoked", refresh))
	if h := s.cfg.Hooks.CodeReplayDetected; h != nil {
		h(ctx, FamilyRevocation{
			ClientID: code.ClientID, UserID: code.UserID, FamilyID: code.FamilyID,
			AccessTokens: access, RefreshTokens: refresh, RemoteAddr: req.r.RemoteAddr,
		})
	}
	return errInvalidGrant("the authorization code was already used")
}
