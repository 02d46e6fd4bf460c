package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/template"

	"github.com/oauthkit/oauth"
)

// The demo data a fresh database gets (with -demo, the default). The
// credentials are fixed and printed, so that the printed steps work as
// they are: do not keep them on a server anyone else can reach.
const (
	demoUser         = "demo"
	demoPassword     = "demo-password"
	demoWebID        = "demo-web"
	demoWebSecret    = "demo-secret"
	demoCLIID        = "demo-cli"
	demoDeviceID     = "demo-device"
	demoAPIID        = "demo-api"
	demoAPISecret    = "demo-api-secret"
	demoCLIRedirect  = "http://127.0.0.1/callback" // any port (RFC 8252 §7.3)
	demoWebStateHint = "xyz"
)

var demoScopes = []oauth.Scope{
	{ID: "profile", Description: "See your username"},
	{ID: "notes:read", Description: "Read your notes"},
	{ID: "notes:write", Description: "Create and change your notes"},
}

func demoScopeIDs() []string {
	ids := make([]string, len(demoScopes))
	for i, s := range demoScopes {
		ids[i] = s.ID
	}
	return ids
}

// seedDemo fills an empty database (no users, no clients) with the demo
// user, scopes and clients. Several instances starting at once may all
// try: whatever another created first is left as it is.
func (a *app) seedDemo(ctx context.Context) error {
	clients, err := a.store.ListClients(ctx)
	if err != nil {
		return err
	}
	users, err := a.users.count(ctx)
	if err != nil {
		return err
	}
	if len(clients) > 0 || users > 0 {
		return nil
	}
	ignoreDup := func(err error) error {
		if errors.Is(err, oauth.ErrDuplicate) || errors.Is(err, errUserExists) {
			return nil
		}
		return err
	}
	for _, s := range demoScopes {
		if err := ignoreDup(a.store.CreateScope(ctx, &s)); err != nil {
			return fmt.Errorf("demo scope %s: %w", s.ID, err)
		}
	}
	webHash, err := oauth.HashSecret(demoWebSecret)
	if err != nil {
		return err
	}
	apiHash, err := oauth.HashSecret(demoAPISecret)
	if err != nil {
		return err
	}
	all := demoScopeIDs()
	for _, c := range []*oauth.Client{
		{
			ID: demoWebID, SecretHash: webHash, Name: "Demo Web App", Confidential: true,
			RedirectURIs: []string{a.cfg.issuer + pathCallback},
			GrantTypes:   []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials},
			Scopes:       all,
		},
		{
			ID: demoCLIID, Name: "Demo Command-Line App",
			RedirectURIs: []string{demoCLIRedirect},
			GrantTypes:   []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken},
			Scopes:       all,
		},
		{
			ID: demoDeviceID, Name: "Demo TV App",
			GrantTypes: []string{oauth.GrantDeviceCode, oauth.GrantRefreshToken},
			Scopes:     all,
		},
		{
			// The resource server's own credentials, for token
			// introspection; it may use no grant.
			ID: demoAPIID, SecretHash: apiHash, Name: "Demo API", Confidential: true,
		},
	} {
		if err := ignoreDup(a.store.CreateClient(ctx, c)); err != nil {
			return fmt.Errorf("demo client %s: %w", c.ID, err)
		}
	}
	if _, err := a.users.create(ctx, demoUser, demoPassword); ignoreDup(err) != nil {
		return fmt.Errorf("demo user: %w", err)
	}
	a.log.Info("created demo user, scopes and clients")
	return nil
}

// demoAuthorizeURL starts the authorization code flow of demo-web.
func (a *app) demoAuthorizeURL() string {
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {demoWebID},
		"redirect_uri":  {a.cfg.issuer + pathCallback},
		"scope":         {"profile notes:read"},
		"state":         {demoWebStateHint},
	}
	return a.cfg.issuer + pathAuthz + "?" + q.Encode()
}

var demoText = template.Must(template.New("demo").Parse(`
Demo data is in the database (turn this off with -demo=false):
  user     {{.User}} / {{.Password}}
  clients  {{.Web}} (confidential, secret {{.WebSecret}}), {{.CLI}} (public, PKCE),
           {{.Device}} (public, device flow), {{.API}} (resource server, secret {{.APISecret}})

Try it:
  1. Authorization code flow in a browser: open
       {{.Authorize}}
     sign in as {{.User}}, allow, and the callback page shows the code and the
     curl command that exchanges it.
  2. Client credentials:
       curl -u {{.Web}}:{{.WebSecret}} -d grant_type=client_credentials -d scope=notes:read {{.Token}}
  3. Refresh (with the refresh_token of step 1):
       curl -u {{.Web}}:{{.WebSecret}} -d grant_type=refresh_token -d refresh_token=REFRESH_TOKEN {{.Token}}
  4. Authorization code + PKCE from the command line, then a call to the API:
       go run ./examples/resource -issuer {{.Issuer}} &
       go run ./examples/client -issuer {{.Issuer}} -flow code
  5. Device flow: the client prints a code; enter it at {{.Device_}}
       go run ./examples/client -issuer {{.Issuer}} -flow device
     or with curl: start, then poll with the device_code (after approving the code):
       curl -d client_id={{.Device}} -d scope=profile {{.DeviceAz}}
       curl -d client_id={{.Device}} -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d device_code=DEVICE_CODE {{.Token}}
  Metadata (every endpoint): {{.Metadata}}

`))

// printDemo prints how to try each flow with the demo credentials, if the
// demo clients exist.
func (a *app) printDemo(ctx context.Context, w io.Writer) {
	if _, err := a.store.FindClient(ctx, demoWebID); err != nil {
		return
	}
	iss := a.cfg.issuer
	demoText.Execute(w, map[string]string{
		"User": demoUser, "Password": demoPassword,
		"Web": demoWebID, "WebSecret": demoWebSecret, "CLI": demoCLIID, "Device": demoDeviceID,
		"API": demoAPIID, "APISecret": demoAPISecret,
		"Authorize": a.demoAuthorizeURL(), "Token": iss + pathToken, "Issuer": iss,
		"Device_": iss + pathDevice, "DeviceAz": iss + pathDeviceAz, "Metadata": a.oauth.MetadataURL(),
	})
}

// callbackPage is the data of the demo callback page.
type callbackPage struct {
	Code, State, Iss, Error, Description string
	Curl                                 string
	CodeLifetime                         string
}

// demoCallback stands in for demo-web's redirection endpoint: it shows
// what came back and how the application would exchange the code.
func (a *app) demoCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := callbackPage{
		Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss"),
		Error: q.Get("error"), Description: q.Get("error_description"),
		CodeLifetime: a.cfg.authCodeLifetime.String(),
	}
	switch {
	case p.Error != "":
	case p.Code == "":
		p.Error, p.Description = "invalid_request", "no code in the callback"
	case !shellSafe(p.Code):
		// The command below is meant to be pasted into a shell.
		p.Error, p.Description = "invalid_request", "the code holds characters no code of this server has"
	}
	if p.Error == "" {
		p.Curl = fmt.Sprintf("curl -u %s:%s \\\n  -d grant_type=authorization_code \\\n  --data-urlencode code=%s \\\n  --data-urlencode redirect_uri=%s \\\n  %s",
			demoWebID, demoWebSecret, p.Code, a.cfg.issuer+pathCallback, a.cfg.issuer+pathToken)
	}
	a.render(w, r, http.StatusOK, "callback", pageData{Title: "Demo callback", Page: p})
}

// shellSafe reports whether s holds only base64url characters, which a
// shell takes literally.
func shellSafe(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}
