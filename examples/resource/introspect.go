package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oauthkit/oauth"
)

// Opaque tokens mean nothing to a resource server that does not share the
// authorization server's database: it asks the server's introspection
// endpoint (RFC 7662) about each one.
//
// tokens.Verifier checks an opaque token through an
// oauth.AccessTokenRepository, looked up by the token's hash, and the
// introspection endpoint needs the token itself. So the bearer value rides
// in the request's context (withBearerValue) to the introspection
// repository below, which checks that it hashes to the ID it is asked
// about. This keeps the library's middleware — its RFC 6750 challenges and
// RequireScope — in front of every route; it is a stop-gap until package
// tokens offers an introspection hook of its own.

type bearerKey struct{}

// withBearerValue puts the request's bearer token, if any, in its context
// for the introspection repository.
func withBearerValue(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			r = r.WithContext(context.WithValue(r.Context(), bearerKey{}, strings.TrimLeft(tok, " ")))
		}
		next.ServeHTTP(w, r)
	})
}

// introspection is an oauth.AccessTokenRepository that can only find: it
// answers FindAccessToken by asking the authorization server.
type introspection struct {
	url          string
	clientID     string
	clientSecret string
	audience     string
	client       *http.Client
}

var _ oauth.AccessTokenRepository = (*introspection)(nil)

var errReadOnly = errors.New("resource: the introspection repository only finds tokens")

// introspectionResponse is the part of RFC 7662 §2.2 the API uses.
type introspectionResponse struct {
	Active   bool            `json:"active"`
	Scope    string          `json:"scope"`
	ClientID string          `json:"client_id"`
	Sub      string          `json:"sub"`
	Exp      int64           `json:"exp"`
	Iat      int64           `json:"iat"`
	Aud      json.RawMessage `json:"aud"`
}

// FindAccessToken introspects the request's bearer token, whose hash must
// be id. An inactive token is oauth.ErrNotFound.
func (in *introspection) FindAccessToken(ctx context.Context, id string) (*oauth.AccessToken, error) {
	token, _ := ctx.Value(bearerKey{}).(string)
	if token == "" || oauth.HashValue(token) != id {
		return nil, oauth.ErrNotFound
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(in.clientID), url.QueryEscape(in.clientSecret))
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("resource: introspect: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, fmt.Errorf("resource: introspect: status %d from %s", resp.StatusCode, in.url)
	}
	var ir introspectionResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ir); err != nil {
		return nil, fmt.Errorf("resource: introspect: %w", err)
	}
	if !ir.Active || ir.ClientID == "" || ir.Exp == 0 || !audienceOK(ir.Aud, in.audience) {
		return nil, oauth.ErrNotFound
	}
	scopes, _ := oauth.ParseScope(ir.Scope, 1000)
	t := &oauth.AccessToken{
		ID:        id,
		ClientID:  ir.ClientID,
		Scopes:    scopes,
		ExpiresAt: time.Unix(ir.Exp, 0),
	}
	if ir.Iat != 0 {
		t.CreatedAt = time.Unix(ir.Iat, 0)
	}
	if ir.Sub != ir.ClientID { // client credentials: the subject is the client
		t.UserID = ir.Sub
	}
	return t, nil
}

// audienceOK accepts a token without aud (opaque tokens have none) or one
// whose aud names this API.
func audienceOK(raw json.RawMessage, audience string) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == audience
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return slices.Contains(many, audience)
	}
	return false
}

func (in *introspection) CreateAccessToken(context.Context, *oauth.AccessToken) error {
	return errReadOnly
}

func (in *introspection) RevokeAccessToken(context.Context, string) error { return errReadOnly }

func (in *introspection) RevokeAccessTokenFamily(context.Context, string) (int64, error) {
	return 0, errReadOnly
}

func (in *introspection) PurgeAccessTokens(context.Context, time.Time) (int64, error) {
	return 0, errReadOnly
}
