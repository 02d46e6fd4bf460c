package tokens

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/oauthkit/oauth"
)

// defaultAlgorithms is the allow-list of a Verifier that sets none: the
// algorithms a KeySet signs with.
var defaultAlgorithms = []string{ES256, RS256, EdDSA}

// verifiable lists every algorithm a Verifier can be configured to accept:
// asymmetric ones only. "none" and HS256/384/512 are absent on purpose.
var verifiable = []string{
	"ES256", "ES384", "ES512",
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"EdDSA",
}

// MaxTokenLen is the longest bearer token a Verifier looks at; longer ones
// are invalid without further work.
const MaxTokenLen = 8192

// maxOpaqueLen bounds an opaque token: a prefix and 43 characters.
const maxOpaqueLen = 128

// Verifier checks bearer access tokens: JWTs (RFC 9068) locally, opaque
// tokens through the access-token repository or by introspection (RFC
// 7662). Configure it by setting its fields before the first call; it is
// safe for concurrent use afterwards.
//
// A JWT is valid when it is a three-part compact JWS whose protected header
// names typ at+jwt (or application/at+jwt), an allowed alg and the kid of a
// published key whose type and alg fit; whose signature verifies; and whose
// claims carry iss equal to Issuer, an aud containing Audience, sub,
// client_id, jti, iat not in the future, exp not passed and nbf (if any)
// passed, each time compared with Leeway. A header with crit or b64 is
// refused, and no key is ever taken from the token itself (jku, jwk, x5u,
// x5c are ignored).
//
// Which check a token gets: a JWT (a token with a dot) is checked locally
// when Keys is set, then against AccessTokens if that is set; with Keys
// nil it goes to Introspect, or is refused. Any other token goes to
// Introspect when that is set, else is looked up in AccessTokens, else is
// refused.
//
// Every rejection is an *oauth.Error with code invalid_token and status
// 401. Any other error (a repository, JWKS or introspection failure, a
// configuration mistake) is the server's and should be answered with
// server_error; its chain holds no *oauth.Error.
type Verifier struct {
	// Issuer is the iss every JWT must carry, byte for byte (required).
	Issuer string
	// Audience is the identifier of this resource server; a JWT's aud must
	// contain it (required).
	Audience string
	// Keys finds the public key of a JWT: a *KeySet in the authorization
	// server's process, a *RemoteKeySet elsewhere. Without it JWTs are
	// introspected if Introspect is set, and refused otherwise.
	Keys KeySource
	// Leeway is the clock skew allowed when checking exp, nbf and iat;
	// zero allows none. A few seconds is typical.
	Leeway time.Duration
	// Algorithms is the allow-list of JWS algorithms; empty means ES256,
	// RS256 and EdDSA. Only ES256/384/512, RS256/384/512, PS256/384/512 and
	// EdDSA can be listed: "none" and HS256/384/512 are never accepted.
	Algorithms []string
	// AccessTokens, if set, is consulted for every token: a JWT's jti must
	// name a stored token that is not revoked, and an opaque token is
	// looked up by its hash. Without it JWTs are checked locally only, and
	// opaque tokens are invalid unless Introspect is set. It cannot be set
	// with Introspect.
	AccessTokens oauth.AccessTokenRepository
	// Introspect, if set, checks the tokens that are not JWTs instead of
	// AccessTokens — and JWTs too when Keys is nil — by asking the
	// authorization server; [Introspector.Introspect] does that over RFC
	// 7662. It returns the claims of an active token; an *oauth.Error with
	// code invalid_token for a token that is not active (unknown, expired,
	// revoked, not an access token); or any other error when it cannot
	// tell (the server unreachable or refusing, a malformed answer, ctx
	// done). Verify returns such a failure as the server's, wrapped and
	// without any *oauth.Error in its chain, and never as a valid token.
	//
	// Verify checks the claims Introspect returns: iss, when present, must
	// equal Issuer (when absent, Issuer is filled in); aud, when present,
	// must contain Audience (an opaque token carries no aud of its own, and
	// an authorization server that reports none has judged by itself whom
	// it answers); exp and nbf, when present, are compared with Leeway.
	// Verify does not modify the claims Introspect returns.
	//
	// AccessTokens cannot be set with it. With Keys set, JWTs are checked
	// locally and not introspected: leave Keys nil for every token,
	// revocation of JWTs included, to be asked about.
	Introspect func(ctx context.Context, token string) (*Claims, error)
	// IntrospectCacheTTL, if positive, lets the cache (CacheSize must be
	// positive too) keep the claims of an introspected token for up to
	// this long, and never past its exp, so that repeated checks do not
	// ask the authorization server each time — at the price of accepting
	// a revoked token for up to this long. Answers without exp, and tokens
	// that are not active, are never cached. Zero, the default, asks on
	// every check, so that revocation is seen at once.
	IntrospectCacheTTL time.Duration
	// CacheSize, if positive, keeps up to that many verified JWTs, keyed by
	// the SHA-256 of the token, so that checking the same token again costs
	// a hash and a map lookup instead of a signature verification. A cached
	// token is used only before its exp; AccessTokens is still consulted
	// on every check. Introspected tokens are cached only with
	// IntrospectCacheTTL.
	CacheSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	once      sync.Once
	initErr   error
	verifiers map[string]jws.Verifier // by allowed alg
	cache     *cache
}

func (v *Verifier) init() {
	v.once.Do(func() {
		switch {
		case v.Issuer == "":
			v.initErr = errors.New("tokens: Verifier.Issuer is empty")
		case v.Audience == "":
			v.initErr = errors.New("tokens: Verifier.Audience is empty")
		case v.Keys == nil && v.AccessTokens == nil && v.Introspect == nil:
			v.initErr = errors.New("tokens: Verifier has neither Keys nor AccessTokens nor Introspect")
		case v.AccessTokens != nil && v.Introspect != nil:
			v.initErr = errors.New("tokens: Verifier has both AccessTokens and Introspect; set one")
		case v.IntrospectCacheTTL < 0:
			v.initErr = errors.New("tokens: Verifier.IntrospectCacheTTL is negative")
		case v.IntrospectCacheTTL > 0 && (v.Introspect == nil || v.CacheSize <= 0):
			v.initErr = errors.New("tokens: Verifier.IntrospectCacheTTL needs Introspect and a positive CacheSize")
		}
		if v.initErr != nil {
			return
		}
		algs := v.Algorithms
		if len(algs) == 0 {
			algs = defaultAlgorithms
		}
		v.verifiers = make(map[string]jws.Verifier, len(algs))
		for _, alg := range algs {
			if !slices.Contains(verifiable, alg) {
				v.initErr = fmt.Errorf("tokens: Verifier.Algorithms: %q is not an asymmetric JWS algorithm", alg)
				return
			}
			jv, err := jws.NewVerifier(jwa.SignatureAlgorithm(alg))
			if err != nil {
				v.initErr = fmt.Errorf("tokens: Verifier.Algorithms: %w", err)
				return
			}
			v.verifiers[alg] = jv
		}
		if v.CacheSize > 0 {
			v.cache = newCache(v.CacheSize)
		}
	})
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// invalidToken returns the invalid_token error every rejection is.
func invalidToken(description string) *oauth.Error {
	return oauth.NewError(oauth.ErrCodeInvalidToken, description)
}

// Verify checks a bearer token — the credentials of an Authorization:
// Bearer header, without the scheme — and returns its claims. A JWT's
// claims are those it carries; an opaque token's are built from its stored
// record (Issuer is the verifier's, Subject the user or else the client,
// Audience empty, ID the value's hash); an introspected token's are those
// Introspect returned, with Issuer filled in when it was empty.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	v.init()
	if v.initErr != nil {
		return nil, v.initErr
	}
	if token == "" || len(token) > MaxTokenLen {
		return nil, invalidToken("malformed token")
	}
	isJWT := strings.IndexByte(token, '.') >= 0
	switch {
	case v.Introspect != nil && (!isJWT || v.Keys == nil):
		return v.verifyIntrospected(ctx, token)
	case !isJWT:
		return v.verifyOpaque(ctx, token)
	}
	now := v.now()
	var key [sha256.Size]byte
	if v.cache != nil {
		key = sha256.Sum256([]byte(token))
		if c := v.cache.get(key, now); c != nil {
			if err := v.checkStored(ctx, c, now); err != nil {
				return nil, err
			}
			cc := *c
			return &cc, nil
		}
	}
	c, err := v.verifyJWT(ctx, token, now)
	if err != nil {
		return nil, err
	}
	if err := v.checkStored(ctx, c, now); err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(key, c)
		cc := *c
		return &cc, nil
	}
	return c, nil
}

var b64 = base64.RawURLEncoding.Strict()

func (v *Verifier) verifyJWT(ctx context.Context, token string, now time.Time) (*Claims, error) {
	if v.Keys == nil {
		return nil, invalidToken("jwt access tokens are not accepted")
	}
	dot1 := strings.IndexByte(token, '.')
	dot2 := dot1 + 1 + strings.IndexByte(token[dot1+1:], '.')
	if dot2 == dot1 || strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return nil, invalidToken("malformed token")
	}
	headerB64, payloadB64, sigB64 := token[:dot1], token[dot1+1:dot2], token[dot2+1:]

	raw, err := b64.DecodeString(headerB64)
	if err != nil {
		return nil, invalidToken("malformed token header")
	}
	// A map, not a struct: member names are case-sensitive (RFC 7515 §4),
	// and encoding/json matches struct fields without case.
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil || h == nil {
		return nil, invalidToken("malformed token header")
	}
	alg, okAlg := h["alg"].(string)
	kid, okKid := h["kid"].(string)
	typ, okTyp := h["typ"].(string)
	_, crit := h["crit"]
	_, b64Member := h["b64"]
	switch {
	case crit || b64Member:
		return nil, invalidToken("unsupported token header")
	case !okTyp && h["typ"] != nil, !okKid && h["kid"] != nil:
		return nil, invalidToken("malformed token header")
	case !isAccessTokenType(typ):
		return nil, invalidToken("not an access token (typ)")
	}
	jv, ok := v.verifiers[alg]
	if !ok || !okAlg {
		return nil, invalidToken("algorithm not allowed")
	}
	if kid == "" {
		return nil, invalidToken("no key id")
	}
	pk, err := v.Keys.PublicKey(ctx, kid)
	if errors.Is(err, ErrUnknownKey) {
		return nil, invalidToken("unknown key")
	}
	if err != nil {
		return nil, fmt.Errorf("tokens: verify: find key %q: %w", kid, err)
	}
	if (pk.Algorithm != "" && pk.Algorithm != alg) || !keyFits(alg, pk.Key) {
		return nil, invalidToken("key does not fit the algorithm")
	}
	sig, err := b64.DecodeString(sigB64)
	if err != nil {
		return nil, invalidToken("malformed signature")
	}
	if err := jv.Verify([]byte(token[:dot2]), sig, pk.Key); err != nil {
		return nil, invalidToken("bad signature")
	}

	payload, err := b64.DecodeString(payloadB64)
	if err != nil {
		return nil, invalidToken("malformed claims")
	}
	c, oerr := parsePayload(payload)
	if oerr != nil {
		return nil, oerr
	}
	if err := v.checkClaims(c, now); err != nil {
		return nil, err
	}
	return c, nil
}

// isAccessTokenType reports whether typ is at+jwt: media types compare
// without case, and the "application/" prefix may be omitted (RFC 7515
// §4.1.9).
func isAccessTokenType(typ string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, "at+jwt")
}

// checkClaims checks the claims of a JWT whose signature verified.
func (v *Verifier) checkClaims(c *Claims, now time.Time) *oauth.Error {
	switch {
	case c.Issuer != v.Issuer:
		return invalidToken("wrong issuer")
	case !slices.Contains(c.Audience, v.Audience):
		return invalidToken("wrong audience")
	case c.Subject == "":
		return invalidToken("no sub claim")
	case c.ClientID == "":
		return invalidToken("no client_id claim")
	case c.ID == "":
		return invalidToken("no jti claim")
	case c.ExpiresAt.IsZero():
		return invalidToken("no exp claim")
	case c.IssuedAt.IsZero():
		return invalidToken("no iat claim")
	case !now.Before(c.ExpiresAt.Add(v.Leeway)):
		return invalidToken("token expired")
	case now.Add(v.Leeway).Before(c.NotBefore):
		return invalidToken("token not yet valid")
	case now.Add(v.Leeway).Before(c.IssuedAt):
		return invalidToken("token issued in the future")
	}
	return nil
}

// checkStored consults AccessTokens, when set, about a verified JWT.
func (v *Verifier) checkStored(ctx context.Context, c *Claims, now time.Time) error {
	if v.AccessTokens == nil {
		return nil
	}
	t, err := v.AccessTokens.FindAccessToken(ctx, c.ID)
	if errors.Is(err, oauth.ErrNotFound) {
		return invalidToken("unknown token")
	}
	if err != nil {
		return fmt.Errorf("tokens: verify: find access token: %w", err)
	}
	switch {
	case t.Revoked:
		return invalidToken("token revoked")
	case t.ClientID != c.ClientID:
		return invalidToken("unknown token")
	case !now.Before(t.ExpiresAt.Add(v.Leeway)):
		return invalidToken("token expired")
	}
	return nil
}

// verifyOpaque looks an opaque token up by its hash.
func (v *Verifier) verifyOpaque(ctx context.Context, token string) (*Claims, error) {
	if v.AccessTokens == nil || len(token) > maxOpaqueLen {
		return nil, invalidToken("unknown token")
	}
	id := oauth.HashValue(token)
	t, err := v.AccessTokens.FindAccessToken(ctx, id)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, invalidToken("unknown token")
	}
	if err != nil {
		return nil, fmt.Errorf("tokens: verify: find access token: %w", err)
	}
	now := v.now()
	switch {
	case t.Revoked:
		return nil, invalidToken("token revoked")
	case !now.Before(t.ExpiresAt.Add(v.Leeway)):
		return nil, invalidToken("token expired")
	}
	sub := t.UserID
	if sub == "" {
		sub = t.ClientID
	}
	return &Claims{
		Issuer:    v.Issuer,
		Subject:   sub,
		ClientID:  t.ClientID,
		Scopes:    t.Scopes,
		IssuedAt:  t.CreatedAt,
		ExpiresAt: t.ExpiresAt,
		ID:        t.ID,
	}, nil
}
