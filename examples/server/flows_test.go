package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// cliConfig is the demo public client, with its endpoints at base.
func cliConfig(base string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: demoCLIID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       base + pathAuthz,
			TokenURL:      base + pathToken,
			DeviceAuthURL: base + "/oauth/device_authorization",
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: "http://127.0.0.1:9/callback",
		Scopes:      []string{"profile", "notes:read"},
	}
}

// authorize walks the browser through authorization, sign-in (when the
// browser has no session yet) and consent, sending each step to the next
// of bases in turn, and returns the redirect back to the client.
func authorize(t *testing.T, b *browser, bases []string, authURL, decision string) *url.URL {
	t.Helper()
	i := 0
	next := func() string { s := bases[i%len(bases)]; i++; return s }

	base := next()
	resp, body := b.get(at(base, authURL))
	if resp.StatusCode != http.StatusOK { // not signed in yet
		loc := expectRedirect(t, resp, body, base)
		if !strings.Contains(loc, "/login?") {
			t.Fatalf("authorization request: redirected to %s; want the sign-in page", loc)
		}
		base = next()
		loc = b.signIn(at(base, loc), base, demoUser, demoPassword)
		if !strings.Contains(loc, pathAuthz+"?") {
			t.Fatalf("after sign-in: redirected to %s; want back to the authorization endpoint", loc)
		}
		base = next()
		resp, body = b.get(at(base, loc))
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Allow access?") {
		t.Fatalf("consent page: got %d\n%s", resp.StatusCode, tail(body, 2000))
	}
	checkPageHeaders(t, resp)
	form := hiddenFields(t, body)
	form.Set("decision", decision)
	base = next()
	resp, body = b.post(base+pathAuthz, form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("consent POST: got %d; want 303\n%s", resp.StatusCode, tail(body, 2000))
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// checkPageHeaders checks the anti-framing headers of a page.
func checkPageHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("%s: X-Frame-Options: got %q; want DENY", resp.Request.URL.Path, got)
	}
	if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy: got %q; want frame-ancestors 'none'", resp.Request.URL.Path, got)
	}
}

// codeFlow runs the authorization code flow with PKCE for the demo public
// client across bases, exchanging the code at exchangeBase.
func codeFlow(t *testing.T, b *browser, bases []string, exchangeBase string) (*oauth2.Token, *oauth2.Config) {
	t.Helper()
	ctx := context.Background()
	conf := cliConfig(bases[0])
	verifier := oauth2.GenerateVerifier()
	state := "st-" + oauth2.GenerateVerifier()[:12]
	back := authorize(t, b, bases, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "approve")
	q := back.Query()
	if got := q.Get("state"); got != state {
		t.Fatalf("state: got %q; want %q", got, state)
	}
	issuer := strings.TrimSuffix(bases[0], "/")
	if got := q.Get("iss"); got != issuer {
		t.Errorf("iss: got %q; want %q", got, issuer)
	}
	if q.Get("code") == "" {
		t.Fatalf("no code in %s", back)
	}
	xconf := cliConfig(exchangeBase)
	tok, err := xconf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("exchange: got access token %t, refresh token %t; want both", tok.AccessToken != "", tok.RefreshToken != "")
	}
	return tok, xconf
}

// jwtVerifier checks access tokens with the JWKS of base.
func jwtVerifier(issuer, base string) *tokens.Verifier {
	return &tokens.Verifier{
		Issuer:   issuer,
		Audience: "demo-api",
		Keys:     &tokens.RemoteKeySet{URL: base + pathJWKS},
		Leeway:   5 * time.Second,
	}
}

func retrieveCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// refresh exchanges a refresh token at conf's token endpoint.
func refresh(conf *oauth2.Config, rt string) (*oauth2.Token, error) {
	return conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
}

func TestServer(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db := be.url(t, "flow")
			inst := startServer(t, "-db", db)
			testFlows(t, inst, db)
		})
	}
}

func testFlows(t *testing.T, inst *instance, db string) {
	ctx := context.Background()
	base := inst.base

	t.Run("home page", func(t *testing.T) {
		resp, body := newBrowser(t).get(base + "/")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /: got %d; want 200", resp.StatusCode)
		}
		checkPageHeaders(t, resp)
		for _, want := range []string{pathMetadata, base + pathToken, base + pathAuthz} {
			if !strings.Contains(body, want) {
				t.Errorf("home page lacks %q", want)
			}
		}
	})

	t.Run("authorization code with PKCE, JWT and refresh rotation", func(t *testing.T) {
		b := newBrowser(t)
		tok, conf := codeFlow(t, b, []string{base}, base)
		claims, err := jwtVerifier(inst.issuer, base).Verify(ctx, tok.AccessToken)
		if err != nil {
			t.Fatalf("verify access token: %v", err)
		}
		if claims.ClientID != demoCLIID || !claims.HasScope("notes:read") || !strings.HasPrefix(claims.Subject, "u-") {
			t.Errorf("claims: got client %q scopes %v sub %q; want demo-cli, notes:read, a user", claims.ClientID, claims.Scopes, claims.Subject)
		}
		tok2, err := refresh(conf, tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh: got no new refresh token; want a rotated one")
		}
		// Reuse of the rotated token fails and revokes the family.
		if _, err := refresh(conf, tok.RefreshToken); retrieveCode(err) != oauth.ErrCodeInvalidGrant {
			t.Fatalf("reuse of rotated refresh token: got %v; want invalid_grant", err)
		}
		if _, err := refresh(conf, tok2.RefreshToken); retrieveCode(err) != oauth.ErrCodeInvalidGrant {
			t.Fatalf("refresh after reuse detection: got %v; want invalid_grant", err)
		}

		// A second authorization in the same session goes straight to consent.
		tok3, _ := codeFlow(t, b, []string{base}, base)
		if tok3.AccessToken == tok.AccessToken {
			t.Error("second flow returned the same access token")
		}
	})

	t.Run("code replay", func(t *testing.T) {
		b := newBrowser(t)
		conf := cliConfig(base)
		verifier := oauth2.GenerateVerifier()
		back := authorize(t, b, []string{base}, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "approve")
		code := back.Query().Get("code")
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); retrieveCode(err) != oauth.ErrCodeInvalidGrant {
			t.Fatalf("second redemption: got %v; want invalid_grant", err)
		}
		if _, err := refresh(conf, tok.RefreshToken); retrieveCode(err) != oauth.ErrCodeInvalidGrant {
			t.Fatalf("refresh token of a replayed code: got %v; want invalid_grant", err)
		}
	})

	t.Run("consent denied", func(t *testing.T) {
		conf := cliConfig(base)
		back := authorize(t, newBrowser(t), []string{base}, conf.AuthCodeURL("deny-me", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "deny")
		q := back.Query()
		if q.Get("error") != oauth.ErrCodeAccessDenied || q.Get("state") != "deny-me" || q.Get("code") != "" {
			t.Fatalf("denied: got redirect %s; want error=access_denied&state=deny-me and no code", back)
		}
	})

	t.Run("consent form without the session's CSRF token", func(t *testing.T) {
		b := newBrowser(t)
		conf := cliConfig(base)
		authURL := conf.AuthCodeURL("csrf", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		resp, body := b.get(authURL)
		loc := b.signIn(expectRedirect(t, resp, body, base), base, demoUser, demoPassword)
		_, body = b.get(loc)
		form := hiddenFields(t, body)
		form.Set("decision", "approve")
		for _, bad := range []string{"", "forged", form.Get("csrf_token") + "x"} {
			f := cloneValues(form)
			f.Set("csrf_token", bad)
			resp, body := b.post(base+pathAuthz, f)
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
				t.Errorf("csrf_token %q: got %d Location %q; want 403 and no redirect\n%s", bad, resp.StatusCode, resp.Header.Get("Location"), tail(body, 500))
			}
		}
		// Another browser's session cannot use this form either.
		other := newBrowser(t)
		other.signIn(base+"/login", base, demoUser, demoPassword)
		if resp, _ := other.post(base+pathAuthz, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("form posted from another session: got %d; want 403", resp.StatusCode)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		b := newBrowser(t)
		_, body := b.get(base + "/login")
		form := hiddenFields(t, body)
		form.Set("username", demoUser)
		form.Set("password", "wrong-password")
		resp, body := b.post(base+"/login", form)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong username or password") {
			t.Fatalf("wrong password: got %d; want 401 with a message", resp.StatusCode)
		}
	})

	t.Run("echoed values are escaped", func(t *testing.T) {
		b := newBrowser(t)
		conf := cliConfig(base)
		evil := `"><script>alert(1)</script>`
		authURL := conf.AuthCodeURL(evil, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		resp, body := b.get(authURL)
		loc := b.signIn(expectRedirect(t, resp, body, base), base, demoUser, demoPassword)
		_, body = b.get(loc)
		if strings.Contains(body, "<script>") {
			t.Fatalf("consent page echoes the state unescaped:\n%s", body)
		}
		if got := hiddenFields(t, body).Get("state"); got != evil {
			t.Errorf("state carried through the form: got %q; want %q", got, evil)
		}
		for _, u := range []string{
			base + pathCallback + "?code=" + url.QueryEscape(evil) + "&state=" + url.QueryEscape(evil),
			base + pathCallback + "?error=" + url.QueryEscape(evil) + "&error_description=" + url.QueryEscape(evil),
			base + pathDevice + "?user_code=" + url.QueryEscape(evil),
			base + "/login?next=" + url.QueryEscape("/"+evil),
		} {
			if _, body := b.get(u); strings.Contains(body, "<script>") {
				t.Errorf("GET %s echoes unescaped:\n%s", u, body)
			}
		}
	})

	t.Run("client credentials", func(t *testing.T) {
		cc := clientcredentials.Config{
			ClientID: demoWebID, ClientSecret: demoWebSecret, TokenURL: base + pathToken,
			Scopes: []string{"notes:read"}, AuthStyle: oauth2.AuthStyleInHeader,
		}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		claims, err := jwtVerifier(inst.issuer, base).Verify(ctx, tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if claims.Subject != demoWebID {
			t.Errorf("sub: got %q; want %q", claims.Subject, demoWebID)
		}
		cc.ClientSecret = "wrong"
		if _, err := cc.Token(ctx); retrieveCode(err) != oauth.ErrCodeInvalidClient {
			t.Errorf("wrong secret: got %v; want invalid_client", err)
		}
	})

	testMetadataAndRevocation(t, inst)
	t.Run("device flow", func(t *testing.T) { testDeviceFlow(t, []string{base}, inst.issuer) })
	t.Run("admin CLI", func(t *testing.T) { testAdmin(t, inst, db) })
}

// introspect asks the introspection endpoint about token as client id.
func introspect(t *testing.T, base, id, secret, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+pathIntro, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: status %d, %v", resp.StatusCode, err)
	}
	return out
}

// revoke revokes token at base; the form carries the client's id (public
// clients) and Basic the confidential ones' credentials.
func revoke(t *testing.T, base string, form url.Values, id, secret string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+pathRevoke, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(id, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: got %d; want 200", resp.StatusCode)
	}
}

func testMetadataAndRevocation(t *testing.T, inst *instance) {
	base, iss := inst.base, inst.issuer
	t.Run("metadata", func(t *testing.T) {
		resp, err := http.Get(base + pathMetadata)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var md map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"issuer": iss, "authorization_endpoint": iss + pathAuthz, "token_endpoint": iss + pathToken,
			"jwks_uri": iss + pathJWKS, "revocation_endpoint": iss + pathRevoke, "introspection_endpoint": iss + pathIntro,
		}
		for k, v := range want {
			if md[k] != v {
				t.Errorf("metadata %s: got %v; want %s", k, md[k], v)
			}
		}
		if md["authorization_response_iss_parameter_supported"] != true {
			t.Errorf("metadata authorization_response_iss_parameter_supported: got %v; want true", md["authorization_response_iss_parameter_supported"])
		}
		scopes, _ := json.Marshal(md["scopes_supported"])
		if !strings.Contains(string(scopes), `"notes:read"`) {
			t.Errorf("metadata scopes_supported: got %s; want notes:read among them", scopes)
		}
	})

	t.Run("introspection and revocation", func(t *testing.T) {
		tok, conf := codeFlow(t, newBrowser(t), []string{base}, base)
		got := introspect(t, base, demoAPIID, demoAPISecret, tok.AccessToken)
		if got["active"] != true || got["client_id"] != demoCLIID || got["aud"] == nil {
			t.Fatalf("introspection by the resource server: got %v; want active, client demo-cli, an aud", got)
		}
		if got := introspect(t, base, demoWebID, demoWebSecret, tok.AccessToken); got["active"] != false || len(got) != 1 {
			t.Errorf("introspection of another client's token by demo-web: got %v; want exactly {active:false}", got)
		}
		revoke(t, base, url.Values{"token": {tok.RefreshToken}, "client_id": {demoCLIID}}, "", "")
		if got := introspect(t, base, demoAPIID, demoAPISecret, tok.AccessToken); got["active"] != false {
			t.Errorf("access token after its refresh token was revoked: got %v; want inactive", got)
		}
		if _, err := refresh(conf, tok.RefreshToken); retrieveCode(err) != oauth.ErrCodeInvalidGrant {
			t.Errorf("revoked refresh token: got %v; want invalid_grant", err)
		}
	})
}
