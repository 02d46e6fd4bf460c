package tokens

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oauthkit/oauth"
)

// MaxIntrospectionResponse bounds the body an [Introspector] reads; a
// longer answer is a failure.
const MaxIntrospectionResponse = 64 << 10

// Introspector asks an authorization server's introspection endpoint (RFC
// 7662) about access tokens. Its Introspect method is what
// [Verifier].Introspect takes:
//
//	in := &tokens.Introspector{URL: introspectionEndpoint, ClientID: "api", ClientSecret: secret}
//	v := &tokens.Verifier{Issuer: issuer, Audience: "api", Introspect: in.Introspect}
//
// Set its fields before the first call; it is safe for concurrent use
// afterwards.
type Introspector struct {
	// URL is the introspection_endpoint (required).
	URL string
	// ClientID and ClientSecret authenticate the caller with
	// client_secret_basic, each form-urlencoded before the Basic encoding
	// as RFC 6749 §2.3.1 and appendix B require. When ClientID is empty no
	// Authorization header is sent, for a Client whose transport
	// authenticates by other means (mutual TLS, say).
	ClientID     string
	ClientSecret string
	// Client makes the requests; nil means a client with a 10 s timeout
	// that follows no redirect. The request is also bounded by the ctx
	// passed to Introspect.
	Client *http.Client
}

var defaultIntrospectionClient = &http.Client{
	Timeout: 10 * time.Second,
	// Never replay a token and credentials to wherever a redirect points:
	// a 3xx answer is a failure like any other status but 200.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Introspect posts token=<token>&token_type_hint=access_token to URL and
// maps the answer to Claims: scope, client_id, sub, aud, iss, exp, iat, nbf
// and jti to their fields, and every other member but active and
// token_type (username, for one) to Extra. Members the server omits stay
// zero; Introspect checks none of their values against anything — the
// [Verifier] does.
//
// It returns an *oauth.Error with code invalid_token when the server
// answers {"active":false}, and also when it reports an active token whose
// token_type is present and is not Bearer (compared without case): a
// refresh token, which the server may report active, is not an access
// token. A server that omits token_type is trusted to answer only about
// access tokens.
//
// Any other outcome is an error that is not an *oauth.Error: the request
// failing or ctx ending (the error wraps the cause, such as
// context.DeadlineExceeded), a status other than 200 (wrong client
// credentials are 401 at most servers), a body over
// MaxIntrospectionResponse bytes, or one that is not a JSON object with a
// boolean active and registered members of their proper types. Errors
// never contain the token.
func (in *Introspector) Introspect(ctx context.Context, token string) (*Claims, error) {
	if in.URL == "" {
		return nil, errors.New("tokens: introspect: Introspector.URL is empty")
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("tokens: introspect: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(in.ClientID), url.QueryEscape(in.ClientSecret))
	}
	client := in.Client
	if client == nil {
		client = defaultIntrospectionClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("tokens: introspect: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxIntrospectionResponse+1))
	if err != nil {
		return nil, fmt.Errorf("tokens: introspect: POST %s: read the answer: %w", in.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tokens: introspect: POST %s: status %d%s", in.URL, resp.StatusCode, errorCode(body))
	}
	if len(body) > MaxIntrospectionResponse {
		return nil, fmt.Errorf("tokens: introspect: POST %s: answer longer than %d bytes", in.URL, MaxIntrospectionResponse)
	}
	c, err := parseIntrospection(body)
	if err != nil {
		var oe *oauth.Error
		if errors.As(err, &oe) {
			return nil, oe
		}
		return nil, fmt.Errorf("tokens: introspect: POST %s: %w", in.URL, err)
	}
	return c, nil
}

// errorCode returns ` (<code>)` for an OAuth error body whose error member
// is a plausible error code, for the message of a failed request; "" for
// anything else.
func errorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" || len(e.Error) > 64 {
		return ""
	}
	for i := 0; i < len(e.Error); i++ {
		if c := e.Error[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return ""
		}
	}
	return " (" + e.Error + ")"
}

// errMalformedAnswer is the cause of every failure to read an answer.
var errMalformedAnswer = errors.New("malformed introspection answer")

// parseIntrospection maps an introspection answer (RFC 7662 §2.2) to
// Claims. It returns an *oauth.Error invalid_token for a token that is not
// an active access token, and an error wrapping errMalformedAnswer when
// the answer is not well formed.
func parseIntrospection(body []byte) (*Claims, error) {
	malformed := func(what string) error { return fmt.Errorf("%w: %s", errMalformedAnswer, what) }
	if !utf8.Valid(body) {
		return nil, malformed("not UTF-8")
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, malformed("not a JSON object")
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, malformed("data after the JSON object")
	}
	active, ok := m["active"].(bool)
	if !ok {
		return nil, malformed("no boolean active member")
	}
	if !active {
		return nil, invalidToken("token is not active")
	}
	if tt, present := m["token_type"]; present {
		s, ok := tt.(string)
		if !ok {
			return nil, malformed("token_type is not a string")
		}
		if !strings.EqualFold(s, "Bearer") {
			return nil, invalidToken("not an access token")
		}
	}
	c := &Claims{}
	for _, sc := range []struct {
		name string
		dst  *string
	}{{"iss", &c.Issuer}, {"sub", &c.Subject}, {"client_id", &c.ClientID}, {"jti", &c.ID}} {
		if *sc.dst, ok = stringClaim(m, sc.name); !ok {
			return nil, malformed(sc.name + " is not a string")
		}
	}
	switch aud := m["aud"].(type) {
	case nil:
		if _, present := m["aud"]; present {
			return nil, malformed("aud is null")
		}
	case string:
		c.Audience = []string{aud}
	case []any:
		c.Audience = make([]string, len(aud))
		for i, a := range aud {
			if c.Audience[i], ok = a.(string); !ok {
				return nil, malformed("aud is not a string or an array of strings")
			}
		}
	default:
		return nil, malformed("aud is not a string or an array of strings")
	}
	scope, ok := stringClaim(m, "scope")
	if !ok {
		return nil, malformed("scope is not a string")
	}
	if c.Scopes, ok = oauth.ParseScope(scope, maxScopes); !ok {
		return nil, malformed("scope is not a list of scope tokens")
	}
	for _, tc := range []struct {
		name string
		dst  *time.Time
	}{{"iat", &c.IssuedAt}, {"nbf", &c.NotBefore}, {"exp", &c.ExpiresAt}} {
		if *tc.dst, ok = timeClaim(m, tc.name); !ok {
			return nil, malformed(tc.name + " is not a number of seconds from 1970 to 9999")
		}
	}
	delete(m, "active")
	delete(m, "token_type")
	for name := range registered {
		delete(m, name)
	}
	if len(m) > 0 {
		c.Extra = m
	}
	return c, nil
}

// verifyIntrospected checks a token through v.Introspect, or the cache
// when IntrospectCacheTTL allows it.
func (v *Verifier) verifyIntrospected(ctx context.Context, token string) (*Claims, error) {
	now := v.now()
	caching := v.cache != nil && v.IntrospectCacheTTL > 0
	var key [sha256.Size]byte
	if caching {
		key = sha256.Sum256([]byte(token))
		if c := v.cache.get(key, now); c != nil {
			cc := *c
			return &cc, nil
		}
	}
	got, err := v.Introspect(ctx, token)
	if err != nil {
		return nil, introspectionFailure(err)
	}
	if got == nil {
		return nil, errors.New("tokens: verify: Introspect returned neither claims nor an error")
	}
	c := *got // Issuer may be filled in; the caller's value stays as it was
	if c.Issuer == "" {
		c.Issuer = v.Issuer
	}
	switch {
	case c.Issuer != v.Issuer:
		return nil, invalidToken("wrong issuer")
	case len(c.Audience) > 0 && !slices.Contains(c.Audience, v.Audience):
		return nil, invalidToken("wrong audience")
	case !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt.Add(v.Leeway)):
		return nil, invalidToken("token expired")
	case now.Add(v.Leeway).Before(c.NotBefore):
		return nil, invalidToken("token not yet valid")
	}
	if caching && !c.ExpiresAt.IsZero() {
		kept := c
		v.cache.putUntil(key, &kept, now.Add(v.IntrospectCacheTTL))
	}
	return &c, nil
}

// introspectionFailure turns an error of Verifier.Introspect into what
// Verify returns: a fresh invalid_token (status 401 whatever the hook set)
// for an inactive token; otherwise the server's failure, wrapped, with no
// *oauth.Error left in its chain — an invalid_client the hook passed on
// from the authorization server must not reach the bearer as a challenge.
func introspectionFailure(err error) error {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return fmt.Errorf("tokens: verify: %w", err)
	}
	if oe.Code == oauth.ErrCodeInvalidToken {
		if oe.Description == "" {
			return invalidToken("token is not active")
		}
		return invalidToken(oe.Description)
	}
	return fmt.Errorf("tokens: verify: introspection failed: %v", err)
}
