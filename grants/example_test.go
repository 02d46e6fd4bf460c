package grants_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
)

// Example mounts a Server on a mux with the convenience authorization
// handler, and issues a client-credentials token.
func Example() {
	ctx := context.Background()
	store := memory.New()
	secret, hash, err := oauth.GenerateSecret()
	if err != nil {
		log.Fatal(err)
	}
	store.CreateScope(ctx, &oauth.Scope{ID: "reports:read", Description: "Read reports"})
	store.CreateClient(ctx, &oauth.Client{
		ID: "billing", Name: "Billing service", SecretHash: hash, Confidential: true,
		GrantTypes: []string{oauth.GrantClientCredentials}, Scopes: []string{"reports:read"},
	})

	srv, err := grants.New(grants.Config{
		Issuer:        "https://auth.example.com",
		Clients:       store,
		Scopes:        store,
		AccessTokens:  store,
		RefreshTokens: store,
		AuthCodes:     store,
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	srv.Mount(mux, "/oauth", srv.AuthorizeHandler(func(w http.ResponseWriter, r *http.Request, req *grants.AuthorizeRequest) (grants.Consent, bool) {
		// A real host finds the signed-in user (or redirects to its login
		// page and returns false) and asks for consent.
		return grants.Consent{UserID: "user-42"}, true
	}))

	body := url.Values{"grant_type": {"client_credentials"}}.Encode()
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("billing", url.QueryEscape(secret))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Cache-Control"), strings.Contains(w.Body.String(), `"scope":"reports:read"`))
	// Output: 200 no-store true
}

// ExampleServer_ParseAuthorizeRequest shows the host's side of the
// authorization endpoint in two calls: parse and validate the request,
// then approve (or deny) it once the user has decided.
func ExampleServer_ParseAuthorizeRequest() {
	ctx := context.Background()
	store := memory.New()
	store.CreateScope(ctx, &oauth.Scope{ID: "profile", Description: "Your profile"})
	store.CreateClient(ctx, &oauth.Client{
		ID: "spa", Name: "Single-page app", RedirectURIs: []string{"https://spa.example.com/cb"},
		GrantTypes: []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}, Scopes: []string{"profile"},
	})
	srv, err := grants.New(grants.Config{
		Issuer: "https://auth.example.com", Clients: store, Scopes: store,
		AccessTokens: store, RefreshTokens: store, AuthCodes: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	authorize := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := srv.ParseAuthorizeRequest(r)
		if err != nil {
			srv.WriteAuthorizeError(w, r, err) // an error page or an error redirect
			return
		}
		// Authenticate the user and show req.Client.Name and req.Scopes on a
		// consent page, carrying req.Query() along; here the user agrees.
		if err := srv.Approve(w, r, req, "user-42", req.Scopes); err != nil {
			log.Print(err)
		}
	})

	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {"spa"},
		"redirect_uri":          {"https://spa.example.com/cb"},
		"scope":                 {"profile"},
		"state":                 {"af0ifjsldkj"},
		"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"},
	}
	w := httptest.NewRecorder()
	authorize.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
	loc, _ := url.Parse(w.Header().Get("Location"))
	fmt.Println(w.Code, loc.Host, loc.Query().Get("state"), loc.Query().Get("iss"), strings.HasPrefix(loc.Query().Get("code"), "oac_"))
	// Output: 302 spa.example.com af0ifjsldkj https://auth.example.com true
}
