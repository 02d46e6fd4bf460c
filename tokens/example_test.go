package tokens_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/tokens"
	"golang.org/x/oauth2/clientcredentials"
)

// An authorization server issues a JWT access token; a resource server in
// the same process protects a handler with the middleware.
func Example() {
	keys, err := tokens.GenerateKeySet(tokens.ES256)
	if err != nil {
		panic(err)
	}
	issuer := &tokens.JWTIssuer{
		Keys:     keys,
		Issuer:   "https://as.example.com",
		Audience: []string{"https://api.example.com"},
		AddClaims: func(c *tokens.Claims, set func(string, any)) {
			set("tenant", "acme")
		},
	}
	claims := &tokens.Claims{
		Subject:   "alice",
		ClientID:  "photo-app",
		Scopes:    []string{"photos.read"},
		ExpiresAt: time.Now().Add(10 * time.Minute),
	}
	token, err := issuer.Issue(claims)
	if err != nil {
		panic(err)
	}
	// claims.ID now holds the jti: store the token under it.

	verifier := &tokens.Verifier{
		Issuer:    "https://as.example.com",
		Audience:  "https://api.example.com",
		Keys:      keys,
		Leeway:    5 * time.Second,
		CacheSize: 10_000,
	}
	photos := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := tokens.FromContext(r.Context())
		fmt.Fprintf(w, "photos of %s (tenant %v)", c.Subject, c.Extra["tenant"])
	})
	api := tokens.Middleware(verifier)(tokens.RequireScope("photos.read")(photos))

	for _, auth := range []string{"", "Bearer " + token, "Bearer not-a-token"} {
		r := httptest.NewRequest(http.MethodGet, "/photos", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			fmt.Println(w.Code, w.Body)
		} else {
			fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	// Output:
	// 401 Bearer realm="https://api.example.com"
	// 200 photos of alice (tenant acme)
	// 401 Bearer realm="https://api.example.com", error="invalid_token", error_description="unknown token"
}

// A resource server in another process fetches the authorization server's
// JWKS from its jwks_uri.
func ExampleRemoteKeySet() {
	keys, err := tokens.GenerateKeySet(tokens.EdDSA)
	if err != nil {
		panic(err)
	}
	as := httptest.NewServer(keys.Handler()) // the authorization server's JWKS endpoint
	defer as.Close()
	issuer := &tokens.JWTIssuer{Keys: keys, Issuer: "https://as.example.com", Audience: []string{"https://api.example.com"}}
	token, err := issuer.Issue(&tokens.Claims{Subject: "bob", ClientID: "cli", ExpiresAt: time.Now().Add(time.Minute)})
	if err != nil {
		panic(err)
	}

	verifier := &tokens.Verifier{
		Issuer:   "https://as.example.com",
		Audience: "https://api.example.com",
		Keys:     &tokens.RemoteKeySet{URL: as.URL, RefreshInterval: 5 * time.Minute},
	}
	claims, err := verifier.Verify(context.Background(), token)
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.Subject, claims.ClientID)
	// Output: bob cli
}

// Rotation publishes the new key at once, signs with it an hour later, and
// keeps the old key published for the lifetime of its last tokens. The set
// is persisted as JSON and shared by every instance.
func ExampleKeySet_Rotate() {
	keys, err := tokens.GenerateKeySet(tokens.ES256)
	if err != nil {
		panic(err)
	}
	oldKid, _ := keys.SigningKey()
	newKid, err := keys.Rotate(tokens.ES256, time.Hour, 15*time.Minute)
	if err != nil {
		panic(err)
	}
	signing, _ := keys.SigningKey()
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	json.Unmarshal(keys.JWKS(), &jwks)
	fmt.Println("keys published:", len(jwks.Keys))
	fmt.Println("old key still signs:", signing == oldKid && signing != newKid)

	saved, err := json.Marshal(keys) // private: store it like a secret
	if err != nil {
		panic(err)
	}
	var loaded tokens.KeySet
	if err := json.Unmarshal(saved, &loaded); err != nil {
		panic(err)
	}
	loadedSigning, _ := loaded.SigningKey()
	fmt.Println("another instance signs with the same key:", loadedSigning == signing)
	// Output:
	// keys published: 2
	// old key still signs: true
	// another instance signs with the same key: true
}

// A resource server that does not share the authorization server's
// database checks opaque access tokens at its introspection endpoint (RFC
// 7662), here that of a grants.Server. Nothing is cached by default, so a
// revoked token is refused on its next use.
func ExampleIntrospector() {
	ctx := context.Background()

	// The authorization server, with a client for the API (which may
	// introspect every token) and one for the app.
	store := memory.New()
	apiSecret, apiHash, _ := oauth.GenerateSecret()
	appSecret, appHash, _ := oauth.GenerateSecret()
	store.CreateScope(ctx, &oauth.Scope{ID: "photos.read"})
	store.CreateClient(ctx, &oauth.Client{ID: "photo-api", Name: "Photo API", SecretHash: apiHash, Confidential: true})
	store.CreateClient(ctx, &oauth.Client{ID: "photo-app", Name: "Photo app", SecretHash: appHash, Confidential: true,
		GrantTypes: []string{oauth.GrantClientCredentials}, Scopes: []string{"photos.read"}})
	srv, err := grants.New(grants.Config{
		Issuer: "https://as.example.com", Clients: store, Scopes: store, AccessTokens: store,
		IntrospectionPolicy: grants.IntrospectAny("photo-api"),
		Logger:              slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	srv.Mount(mux, "", nil)
	as := httptest.NewServer(mux)
	defer as.Close()
	app := &clientcredentials.Config{ClientID: "photo-app", ClientSecret: appSecret, TokenURL: as.URL + "/token"}
	tok, err := app.Token(ctx)
	if err != nil {
		panic(err)
	}

	// The resource server.
	introspector := &tokens.Introspector{URL: as.URL + "/introspect", ClientID: "photo-api", ClientSecret: apiSecret}
	verifier := &tokens.Verifier{
		Issuer:     "https://as.example.com",
		Audience:   "https://api.example.com",
		Introspect: introspector.Introspect,
	}
	photos := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := tokens.FromContext(r.Context())
		fmt.Fprintf(w, "photos for %s", c.Subject)
	})
	api := tokens.Middleware(verifier)(tokens.RequireScope("photos.read")(photos))
	call := func() {
		r := httptest.NewRequest(http.MethodGet, "/photos", nil)
		r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			fmt.Println(w.Code, w.Body)
		} else {
			fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	call()

	// The app revokes its token (RFC 7009).
	req, _ := http.NewRequest(http.MethodPost, as.URL+"/revoke", strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("photo-app", url.QueryEscape(appSecret))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	call()
	// Output:
	// 200 photos for photo-app
	// 401 Bearer realm="https://api.example.com", error="invalid_token", error_description="token is not active"
}
