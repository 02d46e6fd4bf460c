package grants

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// Token types reported by the introspection endpoint's token_type member:
// the token_type of RFC 6749 §5.1 for access tokens, and the
// token_type_hint name for refresh tokens, which have no type of their own.
const (
	TokenTypeBearer  = "Bearer"
	TokenTypeRefresh = "refresh_token"
)

// Introspection is what the introspection endpoint says about an active
// token (RFC 7662 §2.2). It is what an IntrospectionPolicy judges, and what
// is encoded, member by member, in the response.
type Introspection struct {
	// TokenType is TokenTypeBearer for an access token, TokenTypeRefresh
	// for a refresh token.
	TokenType string
	// Scopes are the token's scopes (scope).
	Scopes []string
	// ClientID is the client the token was issued to (client_id).
	ClientID string
	// UserID is the resource owner; empty for a client's own token
	// (client credentials).
	UserID string
	// Subject is sub: the user, or the client when there is none — as in
	// JWT access tokens.
	Subject string
	// Audience is aud: a JWT's audience, Config.OpaqueTokenAudience for
	// an opaque access token, none for a refresh token.
	Audience []string
	// Issuer is iss, the server's issuer identifier.
	Issuer string
	// ID is jti: a JWT's jti; for an opaque token, its storage ID (the
	// value's hash), which identifies it without disclosing it.
	ID string
	// IssuedAt, NotBefore and ExpiresAt are iat, nbf and exp, sent in
	// whole seconds. NotBefore is omitted when zero.
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
}

// IntrospectionPolicy decides whether caller, a confidential client that
// has authenticated at the introspection endpoint, may learn about an
// active token. When it returns false the answer is {"active":false},
// exactly as for an unknown token (RFC 7662 §2.2), so a caller learns
// nothing about tokens it may not see. It runs on the request's goroutine
// and should be quick; it must not modify t.
type IntrospectionPolicy func(ctx context.Context, caller *oauth.Client, t *Introspection) bool

// IntrospectAny returns a policy under which the listed clients —
// resource servers, typically — may introspect every token, and every
// other client the tokens issued to itself, as by default.
func IntrospectAny(clientIDs ...string) IntrospectionPolicy {
	ids := slices.Clone(clientIDs)
	return func(_ context.Context, caller *oauth.Client, t *Introspection) bool {
		return caller.ID == t.ClientID || slices.Contains(ids, caller.ID)
	}
}

// ownTokensOnly is the default policy: a client may introspect the tokens
// issued to itself.
func ownTokensOnly(_ context.Context, caller *oauth.Client, t *Introspection) bool {
	return caller.ID == t.ClientID
}

// IntrospectionHandler returns the introspection endpoint (RFC 7662): POST
// with a form-encoded body holding token and, optionally, token_type_hint.
//
// The caller authenticates as a confidential client, as at the token
// endpoint (client_secret_basic or client_secret_post); a caller without
// valid credentials, or a public client, gets 401 invalid_client. A missing
// token is 400 invalid_request.
//
// Access tokens (opaque or JWT) and refresh tokens are both introspectable;
// token_type_hint only decides which is looked up first. A JWT must pass
// the checks of tokens.Verifier (signature, iss, aud, exp) and its stored
// record must be live. An active token the Config.IntrospectionPolicy lets
// the caller see is answered with active true, scope, client_id, sub,
// token_type, exp, iat, nbf, aud, iss and jti (members without a value are
// omitted). Everything else — expired, revoked, rotated-out, unknown or
// malformed tokens, and tokens the policy hides — is exactly
// {"active":false}. Answers carry Cache-Control: no-store.
func (s *Server) IntrospectionHandler() http.Handler { return http.HandlerFunc(s.serveIntrospect) }

// inactiveBody is the whole answer about any token that is not active.
var inactiveBody = []byte(`{"active":false}`)

func (s *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeMethodNotAllowed(w, hdrPost)
		return
	}
	ctx := r.Context()
	info, err := s.introspect(ctx, r)
	if err != nil {
		pe := s.protocolError(ctx, "introspect", err)
		if pe != errServer {
			s.log.LogAttrs(ctx, levelProtocol, "grants: introspection request refused",
				logString("error", pe.Code), logString("description", pe.Description))
		}
		writeJSONError(w, pe)
		return
	}
	setJSONHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	if info == nil {
		w.Write(inactiveBody)
		return
	}
	w.Write(appendIntrospection(make([]byte, 0, 512), info))
}

// introspect runs an introspection request. It returns nil, nil for a
// token that is to be reported inactive.
func (s *Server) introspect(ctx context.Context, r *http.Request) (*Introspection, error) {
	var f form
	if err := readBody(r, s.maxBody, &f); err != nil {
		return nil, err
	}
	if err := f.repeatedErr(); err != nil {
		return nil, err
	}
	caller, err := s.authenticateClient(ctx, r, &f)
	if err != nil {
		return nil, err
	}
	if caller.Public() {
		cred := clientCredentials{method: AuthMethodNone, id: caller.ID}
		s.clientAuthFailed(ctx, r, cred, "public client at the introspection endpoint")
		return nil, errInvalidClient("introspection requires client authentication")
	}
	value := f.get("token")
	if value == "" {
		return nil, errMissing("token")
	}
	info, err := s.lookupToken(ctx, value, f.get("token_type_hint"), s.now().UTC())
	if err != nil || info == nil {
		return nil, err
	}
	policy := s.cfg.IntrospectionPolicy
	if policy == nil {
		policy = ownTokensOnly
	}
	if !policy(ctx, caller, info) {
		return nil, nil
	}
	return info, nil
}

// lookupToken finds an active token by its value: a JWT access token
// through the verifier and its stored record, an opaque one as an access
// token or a refresh token, in the order the hint suggests. It returns nil,
// nil for a token that is unknown, malformed or not active at now, and an
// error only when a repository fails.
func (s *Server) lookupToken(ctx context.Context, value, hint string, now time.Time) (*Introspection, error) {
	if len(value) > tokens.MaxTokenLen {
		return nil, nil
	}
	if strings.IndexByte(value, '.') >= 0 {
		// Opaque values are base64url behind a prefix: only a JWT has dots.
		return s.lookupJWT(ctx, value, now)
	}
	id := oauth.HashValue(value)
	if hint == TokenTypeRefresh {
		if info, err := s.lookupRefresh(ctx, id, now); info != nil || err != nil {
			return info, err
		}
		return s.lookupOpaqueAccess(ctx, id, now)
	}
	if info, err := s.lookupOpaqueAccess(ctx, id, now); info != nil || err != nil {
		return info, err
	}
	return s.lookupRefresh(ctx, id, now)
}

func (s *Server) lookupOpaqueAccess(ctx context.Context, id string, now time.Time) (*Introspection, error) {
	t, err := s.cfg.AccessTokens.FindAccessToken(ctx, id)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("grants: introspect: find access token: %w", err)
	}
	if !t.Active(now) {
		return nil, nil
	}
	info := s.storedIntrospection(TokenTypeBearer, t.ID, t.ClientID, t.UserID, t.Scopes, t.CreatedAt, t.ExpiresAt)
	info.Audience = s.cfg.OpaqueTokenAudience
	return info, nil
}

// storedIntrospection is the answer for an active token known by its stored
// record: issued, and valid from, when it was created.
func (s *Server) storedIntrospection(tokenType, id, clientID, userID string, scopes []string, created, expires time.Time) *Introspection {
	return &Introspection{
		TokenType: tokenType,
		Scopes:    scopes,
		ClientID:  clientID,
		UserID:    userID,
		Subject:   cmpOr(userID, clientID),
		Issuer:    s.cfg.Issuer,
		ID:        id,
		IssuedAt:  created,
		NotBefore: created,
		ExpiresAt: expires,
	}
}

func (s *Server) lookupRefresh(ctx context.Context, id string, now time.Time) (*Introspection, error) {
	if s.cfg.RefreshTokens == nil {
		return nil, nil
	}
	t, err := s.cfg.RefreshTokens.FindRefreshToken(ctx, id)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("grants: introspect: find refresh token: %w", err)
	}
	if !t.Active(now) {
		return nil, nil
	}
	return s.storedIntrospection(TokenTypeRefresh, t.ID, t.ClientID, t.UserID, t.Scopes, t.CreatedAt, t.ExpiresAt), nil
}

// verifyJWT checks a JWT access token's signature, typ, iss, aud and
// times, and returns its claims and stored record. It returns nil, nil, nil
// when the token fails a check, is not stored, or its record is revoked,
// expired or names another client; an error only when a key source or a
// repository fails.
func (s *Server) verifyJWT(ctx context.Context, value string) (*tokens.Claims, *oauth.AccessToken, error) {
	if s.jwtVerifier == nil {
		return nil, nil, nil
	}
	c, err := s.jwtVerifier.Verify(ctx, value)
	if err != nil {
		if pe := (*oauth.Error)(nil); errors.As(err, &pe) {
			return nil, nil, nil // invalid_token: not a live token of ours
		}
		return nil, nil, fmt.Errorf("grants: verify jwt: %w", err)
	}
	t, err := s.cfg.AccessTokens.FindAccessToken(ctx, c.ID)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("grants: find access token: %w", err)
	}
	if t.ClientID != c.ClientID {
		return nil, nil, nil
	}
	return c, t, nil
}

func (s *Server) lookupJWT(ctx context.Context, value string, now time.Time) (*Introspection, error) {
	c, t, err := s.verifyJWT(ctx, value)
	if err != nil || c == nil || !t.Active(now) {
		return nil, err
	}
	return &Introspection{
		TokenType: TokenTypeBearer,
		Scopes:    c.Scopes,
		ClientID:  c.ClientID,
		UserID:    t.UserID,
		Subject:   c.Subject,
		Audience:  c.Audience,
		Issuer:    c.Issuer,
		ID:        c.ID,
		IssuedAt:  c.IssuedAt,
		NotBefore: c.NotBefore,
		ExpiresAt: c.ExpiresAt,
	}, nil
}

// appendIntrospection appends the JSON answer about an active token. It is
// assembled by hand, member by member from the struct, as the token
// response is.
func appendIntrospection(buf []byte, t *Introspection) []byte {
	buf = append(buf, `{"active":true`...)
	if len(t.Scopes) > 0 {
		buf = append(buf, `,"scope":"`...)
		for i, sc := range t.Scopes {
			if i > 0 {
				buf = append(buf, ' ')
			}
			buf = appendJSONStringBody(buf, sc)
		}
		buf = append(buf, '"')
	}
	buf = appendMember(buf, "client_id", t.ClientID)
	buf = appendMember(buf, "sub", t.Subject)
	buf = appendMember(buf, "token_type", t.TokenType)
	buf = appendTime(buf, "exp", t.ExpiresAt)
	buf = appendTime(buf, "iat", t.IssuedAt)
	buf = appendTime(buf, "nbf", t.NotBefore)
	switch len(t.Audience) {
	case 0:
	case 1:
		buf = appendMember(buf, "aud", t.Audience[0])
	default:
		buf = append(buf, `,"aud":[`...)
		for i, a := range t.Audience {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, a)
		}
		buf = append(buf, ']')
	}
	buf = appendMember(buf, "iss", t.Issuer)
	buf = appendMember(buf, "jti", t.ID)
	return append(buf, '}')
}

// appendMember appends ,"name":"value" unless value is empty.
func appendMember(buf []byte, name, value string) []byte {
	if value == "" {
		return buf
	}
	buf = append(buf, ',', '"')
	buf = append(buf, name...)
	buf = append(buf, '"', ':')
	return appendJSONString(buf, value)
}

// appendTime appends ,"name":<seconds since the epoch> unless t is zero.
func appendTime(buf []byte, name string, t time.Time) []byte {
	if t.IsZero() {
		return buf
	}
	buf = append(buf, ',', '"')
	buf = append(buf, name...)
	buf = append(buf, '"', ':')
	return strconv.AppendInt(buf, t.Unix(), 10)
}
