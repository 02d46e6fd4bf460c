package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/oauthkit/oauth"
)

// JWTIssuer signs JWT access tokens (RFC 9068) with the signing key of a
// [KeySet]. Its zero value is not usable: Keys is required. It is safe for
// concurrent use once configured.
//
// A server issues either JWT or opaque access tokens; the choice is one
// setting of the grant engine: a JWTIssuer when set, [NewOpaque] otherwise.
// The [Verifier] accepts both kinds.
type JWTIssuer struct {
	// Keys provides the signing key (required).
	Keys *KeySet
	// Issuer is the iss of tokens whose Claims leave it empty.
	Issuer string
	// Audience is the aud of tokens whose Claims leave it empty.
	Audience []string
	// AddClaims, if set, is called for every token and may add the host's
	// own claims through set. Setting a registered claim (see
	// [IsRegisteredClaim]) makes Issue fail; a name set twice keeps the last
	// value. Values are encoded with encoding/json.
	AddClaims func(c *Claims, set func(name string, value any))
	// Now is the clock for iat; nil means time.Now.
	Now func() time.Time
}

// jtiBytes is the entropy of a generated jti: 128 bits.
const jtiBytes = 16

// Issue signs an access token for c and returns it in compact form. It
// first fills in what c leaves empty — Issuer and Audience from the
// JWTIssuer, IssuedAt from its clock (whole seconds), ID with a new random
// jti — so the caller can store the token by c.ID. Subject, ClientID and
// ExpiresAt are required; Extra holds host claims, which must not use
// registered names.
//
// The header is {"alg":…,"kid":…,"typ":"at+jwt"}; the claims are iss, sub,
// aud, client_id, scope (when there are scopes), iat, nbf (when set), exp,
// jti and the host claims.
func (j *JWTIssuer) Issue(c *Claims) (string, error) {
	if j.Keys == nil {
		return "", errors.New("tokens: issue: JWTIssuer has no Keys")
	}
	if c.Issuer == "" {
		c.Issuer = j.Issuer
	}
	if len(c.Audience) == 0 {
		c.Audience = j.Audience
	}
	if c.IssuedAt.IsZero() {
		now := time.Now
		if j.Now != nil {
			now = j.Now
		}
		c.IssuedAt = now().Truncate(time.Second)
	}
	if c.ID == "" {
		var b [jtiBytes]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("tokens: issue: %w", err)
		}
		c.ID = base64.RawURLEncoding.EncodeToString(b[:])
	}
	if err := checkIssue(c); err != nil {
		return "", err
	}
	extra, err := j.hostClaims(c)
	if err != nil {
		return "", err
	}
	k := j.Keys.signing(j.Keys.now())
	if k == nil {
		return "", errors.New("tokens: issue: the key set has no signing key")
	}

	payload, err := appendPayload(make([]byte, 0, 256), c, extra)
	if err != nil {
		return "", fmt.Errorf("tokens: issue: encode claims: %w", err)
	}
	// One buffer holds header.payload, then the signature is appended.
	enc := base64.RawURLEncoding
	n := len(k.header) + 1 + enc.EncodedLen(len(payload))
	buf := make([]byte, n, n+1+enc.EncodedLen(512))
	copy(buf, k.header)
	buf[len(k.header)] = '.'
	enc.Encode(buf[len(k.header)+1:], payload)
	sig, err := k.signer.Sign(buf, k.priv)
	if err != nil {
		return "", fmt.Errorf("tokens: issue: sign with %s: %w", k.pub.ID, err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// checkIssue refuses claims that would make an invalid token.
func checkIssue(c *Claims) error {
	switch {
	case c.Issuer == "":
		return errors.New("tokens: issue: no issuer")
	case c.Subject == "":
		return errors.New("tokens: issue: no subject")
	case c.ClientID == "":
		return errors.New("tokens: issue: no client id")
	case len(c.Audience) == 0:
		return errors.New("tokens: issue: no audience")
	case c.ExpiresAt.IsZero():
		return errors.New("tokens: issue: no expiry")
	case !c.ExpiresAt.After(c.IssuedAt):
		return errors.New("tokens: issue: expiry is not after issued-at")
	}
	for _, s := range c.Scopes {
		if !oauth.ValidScopeToken(s) {
			return fmt.Errorf("tokens: issue: invalid scope token %q", s)
		}
	}
	return nil
}

// hostClaims merges c.Extra and the AddClaims hook's claims; nil when there
// are none.
func (j *JWTIssuer) hostClaims(c *Claims) (map[string]any, error) {
	if len(c.Extra) == 0 && j.AddClaims == nil {
		return nil, nil
	}
	var bad string
	extra := make(map[string]any, len(c.Extra))
	set := func(name string, v any) {
		if registered[name] {
			if bad == "" {
				bad = name
			}
			return
		}
		extra[name] = v
	}
	for name, v := range c.Extra {
		set(name, v)
	}
	if j.AddClaims != nil {
		// The hook sees a copy: changing it changes no registered claim.
		view := *c
		view.Audience = slices.Clone(c.Audience)
		view.Scopes = slices.Clone(c.Scopes)
		view.Extra = maps.Clone(c.Extra)
		j.AddClaims(&view, set)
	}
	if bad != "" {
		return nil, fmt.Errorf("tokens: issue: host claim %q is registered and cannot be overridden", bad)
	}
	return extra, nil
}
