package grants_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
)

// ccForm is a client_credentials request body.
func ccForm(kv ...string) url.Values {
	return form(append([]string{"grant_type", "client_credentials"}, kv...)...)
}

// TestTokenMethod is CONFORMANCE A.1.
func TestTokenMethod(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			f := newFixture(t)
			res := f.token(tokenReq{method: method, form: ccForm()}.withBasic(idC, secretC))
			wantError(t, res, http.StatusMethodNotAllowed, oauth.ErrCodeInvalidRequest)
			if allow := res.header.Get("Allow"); allow != "POST" {
				t.Errorf("Allow = %q; want POST", allow)
			}
			if n, _, _, _, _ := f.events.counts(); n != 0 {
				t.Errorf("%d access tokens issued; want 0", n)
			}
		})
	}
}

// TestTokenContentType is CONFORMANCE A.2.
func TestTokenContentType(t *testing.T) {
	tests := []struct {
		name, ct, body string
		want           int
	}{
		{"form", "application/x-www-form-urlencoded", "grant_type=client_credentials", http.StatusOK},
		{"form with charset", "application/x-www-form-urlencoded;charset=UTF-8", "grant_type=client_credentials", http.StatusOK},
		{"form with spaced charset", "application/x-www-form-urlencoded; charset=utf-8", "grant_type=client_credentials", http.StatusOK},
		{"json", "application/json", `{"grant_type":"client_credentials"}`, http.StatusBadRequest},
		{"text", "text/plain", "grant_type=client_credentials", http.StatusBadRequest},
		{"multipart", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--", http.StatusBadRequest},
		{"none", "", "grant_type=client_credentials", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			res := f.tokenRaw(tt.body, tt.ct, basicHeader(idC, secretC))
			if tt.want == http.StatusOK {
				wantTokens(t, res)
				return
			}
			wantError(t, res, tt.want, oauth.ErrCodeInvalidRequest)
		})
	}
}

func basicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// TestTokenParameters is CONFORMANCE A.3.
func TestTokenParameters(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		scope  string
	}{
		{name: "repeated grant_type", body: "grant_type=client_credentials&grant_type=client_credentials", status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "repeated scope", body: "grant_type=client_credentials&scope=read&scope=write", status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "repeated unknown", body: "grant_type=client_credentials&x=1&x=2", status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "repeated empty", body: "grant_type=client_credentials&scope=&scope=read", status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "unknown ignored", body: "grant_type=client_credentials&foo=bar&audience=x", status: 200, scope: "read write profile"},
		{name: "empty scope is absent", body: "grant_type=client_credentials&scope=", status: 200, scope: "read write profile"},
		{name: "empty grant_type is absent", body: "grant_type=&scope=read", status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "malformed encoding", body: "grant_type=client_credentials&scope=%zz", status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "too large", body: "grant_type=client_credentials&pad=" + strings.Repeat("x", grants.DefaultMaxBodyBytes), status: 400, code: oauth.ErrCodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			res := f.tokenRaw(tt.body, "application/x-www-form-urlencoded", basicHeader(idC, secretC))
			if tt.status == 200 {
				wantTokens(t, res)
				if got := res.str("scope"); got != tt.scope {
					t.Errorf("scope = %q; want %q", got, tt.scope)
				}
				return
			}
			wantError(t, res, tt.status, tt.code)
		})
	}
}

// TestClientAuthentication is CONFORMANCE A.4–A.7 and E.34's public client.
func TestClientAuthentication(t *testing.T) {
	b64 := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		auth   string
		body   string
		query  string
		status int
		code   string
		basic  bool // a WWW-Authenticate: Basic challenge is expected
	}{
		// A.4: appendix B, both encodings of C's id.
		{name: "basic fully encoded", auth: b64("svc%2D1%2Eapp:a+b%2Bc%25%2F"), status: 200},
		{name: "basic id unencoded", auth: b64("svc-1.app:a+b%2Bc%25%2F"), status: 200},
		{name: "basic raw secret is not form-encoded", auth: b64("svc-1.app:a b+c%/"), status: 401, code: oauth.ErrCodeInvalidClient, basic: true},
		{name: "basic secret with %20", auth: b64("svc-1.app:a%20b%2Bc%25%2F"), status: 200},
		{name: "basic scheme lowercase", auth: "basic " + base64.StdEncoding.EncodeToString([]byte("svc-1.app:a+b%2Bc%25%2F")), status: 200},
		// A.5
		{name: "post", body: "client_id=svc-1.app&client_secret=a+b%2Bc%25%2F", status: 200},
		{name: "post encoded id", body: "client_id=svc%2D1.app&client_secret=a%20b%2Bc%25%2F", status: 200},
		{name: "query credentials", query: "client_id=svc-1.app&client_secret=a+b%2Bc%25%2F", status: 401, code: oauth.ErrCodeInvalidClient},
		{name: "query secret with body id", query: "client_secret=a+b%2Bc%25%2F", body: "client_id=svc-1.app", status: 401, code: oauth.ErrCodeInvalidClient},
		// A.6
		{name: "basic and body secret", auth: b64("svc-1.app:a+b%2Bc%25%2F"), body: "client_secret=a+b%2Bc%25%2F", status: 400, code: oauth.ErrCodeInvalidRequest},
		{name: "basic and same body id", auth: b64("svc-1.app:a+b%2Bc%25%2F"), body: "client_id=svc-1.app", status: 200},
		{name: "basic and other body id", auth: b64("svc-1.app:a+b%2Bc%25%2F"), body: "client_id=c2", status: 400, code: oauth.ErrCodeInvalidRequest},
		// A.7
		{name: "basic wrong secret", auth: b64("svc-1.app:wrong"), status: 401, code: oauth.ErrCodeInvalidClient, basic: true},
		{name: "basic unknown client", auth: b64("nobody:x"), status: 401, code: oauth.ErrCodeInvalidClient, basic: true},
		{name: "basic malformed", auth: "Basic ###", status: 401, code: oauth.ErrCodeInvalidClient, basic: true},
		{name: "basic without colon", auth: b64("svc-1.app"), status: 401, code: oauth.ErrCodeInvalidClient, basic: true},
		{name: "basic empty secret for confidential", auth: b64("svc-1.app:"), status: 401, code: oauth.ErrCodeInvalidClient, basic: true},
		{name: "other scheme", auth: "Bearer abc", status: 401, code: oauth.ErrCodeInvalidClient, basic: true},
		{name: "post wrong secret", body: "client_id=svc-1.app&client_secret=wrong", status: 401, code: oauth.ErrCodeInvalidClient},
		{name: "post unknown client", body: "client_id=nobody&client_secret=x", status: 401, code: oauth.ErrCodeInvalidClient},
		{name: "post missing secret", body: "client_id=svc-1.app", status: 401, code: oauth.ErrCodeInvalidClient},
		{name: "post empty secret", body: "client_id=svc-1.app&client_secret=", status: 401, code: oauth.ErrCodeInvalidClient},
		{name: "secret without id", body: "client_secret=a+b%2Bc%25%2F", status: 401, code: oauth.ErrCodeInvalidClient},
		{name: "no credentials", status: 401, code: oauth.ErrCodeInvalidClient},
		{name: "other client's secret", body: "client_id=svc-1.app&client_secret=second-client-secret", status: 401, code: oauth.ErrCodeInvalidClient},
		// Public clients authenticate with none; a secret is refused.
		{name: "public client with a secret", body: "client_id=pub-app&client_secret=x", status: 401, code: oauth.ErrCodeInvalidClient},
		{name: "public client by none", body: "client_id=pub-app", status: 400, code: oauth.ErrCodeUnauthorizedClient},
		{name: "public client by basic without secret", auth: b64("pub-app:"), status: 400, code: oauth.ErrCodeUnauthorizedClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			body := "grant_type=client_credentials"
			if tt.body != "" {
				body += "&" + tt.body
			}
			target := "/oauth/token"
			if tt.query != "" {
				target += "?" + tt.query
			}
			r := newPost(target, body)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			res := f.do(r)
			if tt.status == 200 {
				wantTokens(t, res)
				if _, _, n, _, _ := f.events.counts(); n != 0 {
					t.Errorf("ClientAuthFailed fired %d times on success", n)
				}
				return
			}
			wantError(t, res, tt.status, tt.code)
			challenge := res.header.Get("WWW-Authenticate")
			if tt.basic && !strings.HasPrefix(challenge, `Basic realm="`) {
				t.Errorf("WWW-Authenticate = %q; want a Basic challenge with a realm", challenge)
			}
			if tt.status == 401 {
				if _, _, n, _, _ := f.events.counts(); n != 1 {
					t.Errorf("ClientAuthFailed fired %d times; want 1", n)
				} else if p := f.events.authFailures[0].Path; p != "/oauth/token" {
					t.Errorf("ClientAuthFailure.Path = %q; want /oauth/token", p)
				}
			}
			if strings.Contains(f.logs.String(), "a b+c%/") || strings.Contains(f.logs.String(), "a+b%2Bc%25%2F") {
				t.Errorf("logs hold the secret: %s", f.logs.String())
			}
		})
	}
}

func newPost(target, body string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = "192.0.2.1:1234"
	return r
}

// TestClientAuthenticationBcrypt checks a client whose secret is stored with
// bcrypt (a secret a person chose) authenticates by both methods.
func TestClientAuthenticationBcrypt(t *testing.T) {
	f := newFixture(t)
	hash, err := oauth.HashSecret(secretC)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.store.FindClient(t.Context(), idC)
	if err != nil {
		t.Fatal(err)
	}
	c.SecretHash = hash
	if err := f.store.UpdateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	wantTokens(t, f.token(tokenReq{form: ccForm()}.withBasic(idC, secretC)))
	wantTokens(t, f.token(tokenReq{form: ccForm()}.withPost(idC, secretC)))
	wantError(t, f.token(tokenReq{form: ccForm()}.withBasic(idC, "a b+c%")), 401, oauth.ErrCodeInvalidClient)
}

// TestTokenSuccess is CONFORMANCE A.8.
func TestTokenSuccess(t *testing.T) {
	f := newFixture(t)
	res := f.token(tokenReq{form: ccForm("scope", "read")}.withBasic(idC, secretC))
	wantTokens(t, res)
	if got := res.body["expires_in"]; got != float64(3600) {
		t.Errorf("expires_in = %v; want 3600", got)
	}
	if got := res.str("scope"); got != "read" {
		t.Errorf("scope = %q; want read", got)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	if _, ok := res.body["refresh_token"]; ok {
		t.Errorf("client_credentials response has a refresh_token")
	}
	// With the authorization code grant, a refresh token where issued.
	res = f.tokensOfC()
	wantTokens(t, res)
	if res.str("refresh_token") == "" {
		t.Errorf("code exchange response has no refresh_token: %s", res.raw)
	}
}

// TestGrantType is CONFORMANCE A.9.
func TestGrantType(t *testing.T) {
	tests := []struct {
		name           string
		body           url.Values
		client, secret string
		status         int
		code           string
	}{
		{"missing", form("scope", "read"), idC, secretC, 400, oauth.ErrCodeInvalidRequest},
		{"unknown", form("grant_type", "magic"), idC, secretC, 400, oauth.ErrCodeUnsupportedGrantType},
		{"implicit is no grant_type", form("grant_type", "implicit"), idC, secretC, 400, oauth.ErrCodeUnsupportedGrantType},
		{"password not enabled", form("grant_type", "password", "username", "u", "password", "p"), idC, secretC, 400, oauth.ErrCodeUnsupportedGrantType},
		{"device code not enabled", form("grant_type", oauth.GrantDeviceCode, "device_code", "x"), idC, secretC, 400, oauth.ErrCodeUnsupportedGrantType},
		{"case matters", form("grant_type", "Client_Credentials"), idC, secretC, 400, oauth.ErrCodeUnsupportedGrantType},
		{"not allowed: authorization_code", form("grant_type", "authorization_code", "code", "x"), idCC, secretCC, 400, oauth.ErrCodeUnauthorizedClient},
		{"not allowed: refresh_token", form("grant_type", "refresh_token", "refresh_token", "x"), idCC, secretCC, 400, oauth.ErrCodeUnauthorizedClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			wantError(t, f.token(tokenReq{form: tt.body}.withBasic(tt.client, tt.secret)), tt.status, tt.code)
		})
	}
}

// TestScopeAtTokenEndpoint is CONFORMANCE A.10 (client credentials).
func TestScopeAtTokenEndpoint(t *testing.T) {
	tests := []struct {
		name   string
		scope  string
		status int
		want   string
	}{
		{"omitted: client default", "", 200, "read write profile"},
		{"one", "write", 200, "write"},
		{"several, repeated token kept once", "write read write", 200, "write read"},
		{"unknown", "read nosuch", 400, oauth.ErrCodeInvalidScope},
		{"known but not allowed", "admin", 400, oauth.ErrCodeInvalidScope},
		{"malformed: double space", "read  write", 400, oauth.ErrCodeInvalidScope},
		{"malformed: quote", `read"`, 400, oauth.ErrCodeInvalidScope},
		{"malformed: leading space", " read", 400, oauth.ErrCodeInvalidScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			body := ccForm()
			if tt.scope != "" {
				body.Set("scope", tt.scope)
			}
			res := f.token(tokenReq{form: body}.withBasic(idC, secretC))
			if tt.status != 200 {
				wantError(t, res, tt.status, tt.want)
				return
			}
			wantTokens(t, res)
			if got := res.str("scope"); got != tt.want {
				t.Errorf("scope = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestScopeRemovedFromRepository: a scope the client is allowed but the
// server no longer knows is refused, even as a default.
func TestScopeRemovedFromRepository(t *testing.T) {
	f := newFixture(t)
	if err := f.store.DeleteScope(t.Context(), "profile"); err != nil {
		t.Fatal(err)
	}
	wantError(t, f.token(tokenReq{form: ccForm()}.withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidScope)
	wantTokens(t, f.token(tokenReq{form: ccForm("scope", "read")}.withBasic(idC, secretC)))
}

// TestTokenEntropy is CONFORMANCE A.11: every code and token carries at
// least 128 bits, and garbage values are invalid_grant.
func TestTokenEntropy(t *testing.T) {
	f := newFixture(t)
	verifier, challenge := newVerifier(t)
	code := f.codeFor(authParams(idC, redirectC, challenge))
	res := f.token(codeExchange(code, redirectC, verifier).withBasic(idC, secretC))
	wantTokens(t, res)
	for name, v := range map[string]string{"code": code, "access_token": res.str("access_token"), "refresh_token": res.str("refresh_token")} {
		_, raw, ok := strings.Cut(v, "_")
		if !ok {
			t.Errorf("%s %q has no prefix", name, v)
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err != nil || len(b)*8 < 128 {
			t.Errorf("%s %q: %d bits (%v); want at least 128", name, v, len(b)*8, err)
		}
	}
	seen := map[string]bool{}
	for range 20 {
		v := f.token(tokenReq{form: ccForm()}.withBasic(idC, secretC)).str("access_token")
		if seen[v] {
			t.Fatalf("access token %q issued twice", v)
		}
		seen[v] = true
	}
	for _, garbage := range []string{"x", "oac_", "oac_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", strings.Repeat("z", 5000), "\x00\xff"} {
		wantError(t, f.token(codeExchange(garbage, redirectC, verifier).withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
		wantError(t, f.token(tokenReq{form: form("grant_type", "refresh_token", "refresh_token", garbage)}.withBasic(idC, secretC)), 400, oauth.ErrCodeInvalidGrant)
	}
}

// TestFailedClientAuthConsumesNothing is CONFORMANCE A.12.
func TestFailedClientAuthConsumesNothing(t *testing.T) {
	f := newFixture(t)
	verifier, challenge := newVerifier(t)
	code := f.codeFor(authParams(idC, redirectC, challenge))
	failures := []tokenReq{
		codeExchange(code, redirectC, verifier).withBasic(idC, "wrong"),
		codeExchange(code, redirectC, verifier).withPost(idC, "wrong"),
		codeExchange(code, redirectC, verifier).withPost(idC, ""),
		codeExchange(code, redirectC, verifier),
		codeExchange(code, redirectC, verifier).withBasic(idC2, secretC2+"x"),
	}
	for _, q := range failures {
		wantError(t, f.token(q), 401, oauth.ErrCodeInvalidClient)
	}
	// As x/oauth2's autodetection does: header first, then the body.
	res := f.token(codeExchange(code, redirectC, verifier).withPost(idC, secretC))
	wantTokens(t, res)
	rt := res.str("refresh_token")
	for _, q := range []tokenReq{
		{form: form("grant_type", "refresh_token", "refresh_token", rt)},
		tokenReq{form: form("grant_type", "refresh_token", "refresh_token", rt)}.withBasic(idC, "wrong"),
	} {
		wantError(t, f.token(q), 401, oauth.ErrCodeInvalidClient)
	}
	if rec := f.refreshRecord(rt); rec.Revoked {
		t.Fatalf("refresh token revoked by a request that failed client authentication")
	}
	wantTokens(t, f.token(tokenReq{form: form("grant_type", "refresh_token", "refresh_token", rt)}.withBasic(idC, secretC)))
	if _, _, _, replays, reuses := f.events.counts(); replays+reuses != 0 {
		t.Errorf("replay/reuse hooks fired %d times", replays+reuses)
	}
}

// TestTwoAuthorizationHeaders: credentials in two Authorization headers are
// ambiguous and refused.
func TestTwoAuthorizationHeaders(t *testing.T) {
	f := newFixture(t)
	r := newPost("/oauth/token", "grant_type=client_credentials")
	r.Header.Add("Authorization", basicHeader(idC, secretC))
	r.Header.Add("Authorization", basicHeader(idC2, secretC2))
	wantError(t, f.do(r), 400, oauth.ErrCodeInvalidRequest)
}

// TestNoScopes: a grant of no scopes answers without a scope member.
func TestNoScopes(t *testing.T) {
	f := newFixture(t)
	c, err := f.store.FindClient(t.Context(), idCC)
	if err != nil {
		t.Fatal(err)
	}
	c.Scopes = nil
	if err := f.store.UpdateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	res := f.token(tokenReq{form: ccForm()}.withBasic(idCC, secretCC))
	wantTokens(t, res)
	if _, ok := res.body["scope"]; ok {
		t.Errorf("response %s has a scope member for no scopes", res.raw)
	}
}

// TestQueryParametersIgnored: the POST endpoints read their parameters from
// the form body only (RFC 6749 §3.2); a request whose parameters are all in
// the query is missing them.
func TestQueryParametersIgnored(t *testing.T) {
	f := newFixture(t)
	tok := f.tokensOfC().str("access_token")
	tests := []struct {
		path  string
		query url.Values
	}{
		{"/oauth/token", ccForm("scope", "read")},
		{"/oauth/revoke", form("token", tok)},
		{"/oauth/introspect", form("token", tok)},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := newPost(tt.path+"?"+tt.query.Encode(), "")
			r.Header.Set("Authorization", basicHeader(idC, secretC))
			wantError(t, f.do(r), 400, oauth.ErrCodeInvalidRequest)
		})
	}
	if !f.active(tok) {
		t.Errorf("the token was revoked through the query")
	}
}
