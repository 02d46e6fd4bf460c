package tokens_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/tokens"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The authorization server of these tests is a real grants.Server over a
// memory store, served by httptest. Its clients:
const (
	// rsID, rsSecret: the resource server, allowed to introspect every
	// token. The colon in the id and the characters of the secret
	// authenticate only if both are form-encoded before the Basic
	// encoding (RFC 6749 appendix B): unencoded, the colon would split
	// the id.
	rsID     = "rs:api"
	rsSecret = "a b+c%/"
	// appID, appSecret: the client tokens are issued to (password,
	// client credentials and refresh grants).
	appID     = "app"
	appSecret = "app-secret"
	// otherID, otherSecret: a confidential client the server's policy
	// lets introspect only its own tokens.
	otherID     = "other"
	otherSecret = "other-secret"

	userName     = "alice"
	userPassword = "wonderland"
	userID       = "u-alice"
)

// storedSecret is the stored form of a generated secret ("sha256:" + hex),
// used for the tests' chosen secrets so that no request pays bcrypt's cost.
func storedSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// users is the password grant's user store: user name → password.
type users map[string]string

func (u users) AuthenticateUser(_ context.Context, name, password string) (string, error) {
	if p, ok := u[name]; ok && p == password {
		return "u-" + name, nil
	}
	return "", oauth.ErrNotFound
}

// authServer is a grants.Server over httptest.
type authServer struct {
	clk   *testClock
	store *memory.Store
	keys  *tokens.KeySet // nil unless it issues JWTs
	srv   *httptest.Server
}

// newAuthServer starts an authorization server issuing opaque access
// tokens, or JWTs when jwt is true; its clock is the tests' t0.
func newAuthServer(t testing.TB, jwt bool) *authServer {
	t.Helper()
	ctx := context.Background()
	as := &authServer{clk: newClock(), store: memory.New()}
	as.store.Now = as.clk.Now
	if err := as.store.CreateScope(ctx, &oauth.Scope{ID: "read"}); err != nil {
		t.Fatal(err)
	}
	if err := as.store.CreateScope(ctx, &oauth.Scope{ID: "write"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*oauth.Client{
		{ID: rsID, Name: "API", SecretHash: storedSecret(rsSecret), Confidential: true,
			GrantTypes: []string{oauth.GrantClientCredentials}},
		{ID: appID, Name: "App", SecretHash: storedSecret(appSecret), Confidential: true,
			GrantTypes: []string{oauth.GrantPassword, oauth.GrantRefreshToken, oauth.GrantClientCredentials},
			Scopes:     []string{"read", "write"}},
		{ID: otherID, Name: "Other", SecretHash: storedSecret(otherSecret), Confidential: true,
			GrantTypes: []string{oauth.GrantClientCredentials}, Scopes: []string{"read"}},
	} {
		if err := as.store.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cfg := grants.Config{
		Issuer:              testIssuer,
		Clients:             as.store,
		Scopes:              as.store,
		AccessTokens:        as.store,
		RefreshTokens:       as.store,
		EnablePasswordGrant: true,
		UserAuthenticator:   users{userName: userPassword},
		IntrospectionPolicy: grants.IntrospectAny(rsID),
		OpaqueTokenAudience: []string{testAudience},
		Now:                 as.clk.Now,
		Logger:              slog.New(slog.DiscardHandler),
	}
	if jwt {
		as.keys = newKeySet(t, tokens.ES256, as.clk)
		cfg.AccessTokenFormat = grants.AccessTokenJWT
		cfg.JWTIssuer = &tokens.JWTIssuer{Keys: as.keys, Issuer: testIssuer, Audience: []string{testAudience}, Now: as.clk.Now}
	}
	srv, err := grants.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv.Mount(mux, "/oauth", nil)
	as.srv = httptest.NewServer(mux)
	t.Cleanup(as.srv.Close)
	return as
}

func (as *authServer) introspectionURL() string { return as.srv.URL + "/oauth/introspect" }

// introspector returns the resource server's Introspector.
func (as *authServer) introspector() *tokens.Introspector {
	return &tokens.Introspector{URL: as.introspectionURL(), ClientID: rsID, ClientSecret: rsSecret}
}

// verifier returns a verifier that introspects every token.
func (as *authServer) verifier() *tokens.Verifier {
	return &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Introspect: as.introspector().Introspect, Now: as.clk.Now}
}

// passwordToken runs the password grant with x/oauth2: an access token and
// a refresh token for alice, scope read.
func (as *authServer) passwordToken(t testing.TB) *oauth2.Token {
	t.Helper()
	conf := &oauth2.Config{ClientID: appID, ClientSecret: appSecret, Scopes: []string{"read"},
		Endpoint: oauth2.Endpoint{TokenURL: as.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	tok, err := conf.PasswordCredentialsToken(context.Background(), userName, userPassword)
	if err != nil {
		t.Fatalf("password grant: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("password grant: no refresh token")
	}
	return tok
}

// clientToken runs the client credentials grant with x/oauth2 for app.
func (as *authServer) clientToken(t testing.TB) string {
	t.Helper()
	conf := &clientcredentials.Config{ClientID: appID, ClientSecret: appSecret, Scopes: []string{"write"},
		TokenURL: as.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := conf.Token(context.Background())
	if err != nil {
		t.Fatalf("client credentials grant: %v", err)
	}
	return tok.AccessToken
}

// revoke revokes token at the revocation endpoint as app.
func (as *authServer) revoke(t testing.TB, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, as.srv.URL+"/oauth/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(appID, appSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: got status %d; want 200", resp.StatusCode)
	}
}

// rawIntrospect asks the endpoint about token as the resource server,
// without the Introspector, and returns the decoded answer.
func (as *authServer) rawIntrospect(t testing.TB, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, as.introspectionURL(), strings.NewReader(url.Values{"token": {token}, "token_type_hint": {"access_token"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rsID), url.QueryEscape(rsSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: got %d, %v; want 200 JSON", resp.StatusCode, err)
	}
	return m
}

// wantFailure fails unless err is the server's failure: not nil, no
// *oauth.Error in its chain, and a message containing want.
func wantFailure(t *testing.T, err error, want string) {
	t.Helper()
	var oe *oauth.Error
	if err == nil || errors.As(err, &oe) {
		t.Fatalf("got %v; want a failure (no *oauth.Error) containing %q", err, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("got %q; want a failure containing %q", err, want)
	}
}

// TestIntrospectorActive maps the answers of the real introspection
// endpoint to Claims, directly and through a Verifier.
func TestIntrospectorActive(t *testing.T) {
	as := newAuthServer(t, false)
	pw := as.passwordToken(t)
	cc := as.clientToken(t)
	tests := []struct {
		name  string
		token string
		want  *tokens.Claims
	}{
		{"password grant", pw.AccessToken, &tokens.Claims{Issuer: testIssuer, Subject: userID, ClientID: appID,
			Audience: []string{testAudience}, Scopes: []string{"read"}, IssuedAt: t0, NotBefore: t0,
			ExpiresAt: t0.Add(grants.DefaultAccessTokenLifetime), ID: oauth.HashValue(pw.AccessToken)}},
		{"client credentials", cc, &tokens.Claims{Issuer: testIssuer, Subject: appID, ClientID: appID,
			Audience: []string{testAudience}, Scopes: []string{"write"}, IssuedAt: t0, NotBefore: t0,
			ExpiresAt: t0.Add(grants.DefaultAccessTokenLifetime), ID: oauth.HashValue(cc)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := as.introspector().Introspect(t.Context(), tt.token)
			if err != nil {
				t.Fatalf("Introspect: got %v; want claims", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Introspect:\ngot  %+v\nwant %+v", got, tt.want)
			}
			got, err = as.verifier().Verify(t.Context(), tt.token)
			if err != nil {
				t.Fatalf("Verify: got %v; want claims", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Verify:\ngot  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestIntrospectorInactive: what the server reports as not active, or as
// active but not an access token, is invalid_token.
func TestIntrospectorInactive(t *testing.T) {
	tests := []struct {
		name string
		// token returns the token to present, after doing what makes it
		// inactive.
		token func(t *testing.T, as *authServer) string
		desc  string
	}{
		{"revoked", func(t *testing.T, as *authServer) string {
			tok := as.passwordToken(t).AccessToken
			as.revoke(t, tok)
			return tok
		}, "token is not active"},
		{"expired", func(t *testing.T, as *authServer) string {
			tok := as.passwordToken(t).AccessToken
			as.clk.Advance(grants.DefaultAccessTokenLifetime)
			return tok
		}, "token is not active"},
		{"refresh token presented as an access token", func(t *testing.T, as *authServer) string {
			rt := as.passwordToken(t).RefreshToken
			// The server does call it active: only token_type tells.
			if m := as.rawIntrospect(t, rt); m["active"] != true || m["token_type"] != "refresh_token" {
				t.Fatalf("the server's answer about a refresh token: got %v; want active, token_type refresh_token", m)
			}
			return rt
		}, "not an access token"},
		{"unknown", func(*testing.T, *authServer) string {
			v, _, _ := tokens.NewOpaque(tokens.PrefixAccessToken)
			return v
		}, "token is not active"},
		{"garbage", func(*testing.T, *authServer) string { return "not a token at all" }, "token is not active"},
		{"another client's token, hidden from the caller by the server's policy", func(t *testing.T, as *authServer) string {
			return as.passwordToken(t).AccessToken
		}, "token is not active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newAuthServer(t, false)
			tok := tt.token(t, as)
			in := as.introspector()
			if strings.HasPrefix(tt.name, "another client's") {
				in.ClientID, in.ClientSecret = otherID, otherSecret
			}
			_, err := in.Introspect(t.Context(), tok)
			wantInvalid(t, err, tt.desc)
			v := as.verifier()
			v.Introspect = in.Introspect
			_, err = v.Verify(t.Context(), tok)
			wantInvalid(t, err, tt.desc)
		})
	}
}

// TestIntrospectorCredentials: credentials the server refuses are a
// failure, never an inactive token.
func TestIntrospectorCredentials(t *testing.T) {
	as := newAuthServer(t, false)
	tok := as.passwordToken(t).AccessToken
	tests := []struct {
		name, id, secret string
	}{
		{"wrong secret", rsID, rsSecret + "x"},
		{"unknown client", "nobody", rsSecret},
		{"no credentials", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &tokens.Introspector{URL: as.introspectionURL(), ClientID: tt.id, ClientSecret: tt.secret}
			_, err := in.Introspect(t.Context(), tok)
			wantFailure(t, err, "status 401 (invalid_client)")
			if strings.Contains(err.Error(), tok) {
				t.Fatalf("error %q holds the token", err)
			}
			v := as.verifier()
			v.Introspect = in.Introspect
			_, err = v.Verify(t.Context(), tok)
			wantFailure(t, err, "status 401")
		})
	}
}

// TestIntrospectorRequest checks the request on the wire.
func TestIntrospectorRequest(t *testing.T) {
	type seen struct {
		method, contentType, accept, auth string
		form                              url.Values
	}
	var mu sync.Mutex
	var last seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		last = seen{r.Method, r.Header.Get("Content-Type"), r.Header.Get("Accept"), r.Header.Get("Authorization"), r.PostForm}
		mu.Unlock()
		io.WriteString(w, `{"active":false}`)
	}))
	defer srv.Close()
	tests := []struct {
		name, id, secret string
		wantAuth         string
	}{
		{"form-encoded basic", "rs:api", "a b+c%/", "Basic " + b64std("rs%3Aapi:a+b%2Bc%25%2F")},
		{"plain basic", "api", "secret", "Basic " + b64std("api:secret")},
		{"no client id: no header", "", "ignored", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &tokens.Introspector{URL: srv.URL, ClientID: tt.id, ClientSecret: tt.secret}
			in.Introspect(t.Context(), "tok+en/=")
			mu.Lock()
			got := last
			mu.Unlock()
			want := seen{http.MethodPost, "application/x-www-form-urlencoded", "application/json", tt.wantAuth,
				url.Values{"token": {"tok+en/="}, "token_type_hint": {"access_token"}}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("request:\ngot  %+v\nwant %+v", got, want)
			}
		})
	}
	_, err := (&tokens.Introspector{}).Introspect(t.Context(), "x")
	wantFailure(t, err, "Introspector.URL is empty")
}

func b64std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// answering returns a server that answers every request with status and
// body, and counts the requests.
func answering(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestIntrospectorAnswers maps answers a server might send, well formed or
// not.
func TestIntrospectorAnswers(t *testing.T) {
	exp := t0.Add(time.Hour)
	big := `{"active":true,"pad":"` + strings.Repeat("x", tokens.MaxIntrospectionResponse) + `"}`
	atLimit := `{"active":true,"pad":"` + strings.Repeat("x", tokens.MaxIntrospectionResponse-len(`{"active":true,"pad":""}`)) + `"}`
	tests := []struct {
		name    string
		status  int
		body    string
		want    *tokens.Claims // nil: not valid
		invalid string         // the invalid_token description, if invalid
		failure string         // the failure's message, if a failure
	}{
		{"minimal", 200, `{"active":true}`, &tokens.Claims{}, "", ""},
		{"every member", 200, fmt.Sprintf(`{"active":true,"scope":"read write","client_id":"c","username":"al","token_type":"Bearer",
			"exp":%d,"iat":%d,"nbf":%d,"sub":"s","aud":["a","b"],"iss":"i","jti":"j","tenant":"acme"}`, exp.Unix(), t0.Unix(), t0.Unix()),
			&tokens.Claims{Issuer: "i", Subject: "s", ClientID: "c", Audience: []string{"a", "b"}, Scopes: []string{"read", "write"},
				IssuedAt: t0, NotBefore: t0, ExpiresAt: exp, ID: "j", Extra: map[string]any{"username": "al", "tenant": "acme"}}, "", ""},
		{"aud a string", 200, `{"active":true,"aud":"a"}`, &tokens.Claims{Audience: []string{"a"}}, "", ""},
		{"token_type lowercase", 200, `{"active":true,"token_type":"bearer"}`, &tokens.Claims{}, "", ""},
		{"at the size limit", 200, atLimit, &tokens.Claims{Extra: map[string]any{"pad": strings.Repeat("x", tokens.MaxIntrospectionResponse-len(`{"active":true,"pad":""}`))}}, "", ""},
		{"inactive", 200, `{"active":false}`, nil, "token is not active", ""},
		{"inactive with members", 200, `{"active":false,"sub":"s","token_type":"Bearer"}`, nil, "token is not active", ""},
		{"refresh token", 200, `{"active":true,"token_type":"refresh_token"}`, nil, "not an access token", ""},
		{"another token type", 200, `{"active":true,"token_type":"N_A"}`, nil, "not an access token", ""},
		{"status 500", 500, `{"error":"server_error"}`, nil, "", "status 500 (server_error)"},
		{"status 503 without a body", 503, ``, nil, "", "status 503"},
		{"status 400 with an odd error", 400, `{"error":"bad\u0000"}`, nil, "", "status 400"},
		{"over the size limit", 200, big, nil, "", fmt.Sprintf("answer longer than %d bytes", tokens.MaxIntrospectionResponse)},
		{"empty", 200, ``, nil, "", "not a JSON object"},
		{"not JSON", 200, `active`, nil, "", "not a JSON object"},
		{"null", 200, `null`, nil, "", "not a JSON object"},
		{"an array", 200, `[{"active":true}]`, nil, "", "not a JSON object"},
		{"two objects", 200, `{"active":false}{"active":true}`, nil, "", "data after the JSON object"},
		{"truncated", 200, `{"active":true,"sub":"s"`, nil, "", "not a JSON object"},
		{"not UTF-8", 200, "{\"active\":true,\"sub\":\"\xff\"}", nil, "", "not UTF-8"},
		{"no active", 200, `{"sub":"s"}`, nil, "", "no boolean active member"},
		{"active a string", 200, `{"active":"true"}`, nil, "", "no boolean active member"},
		{"active a number", 200, `{"active":1}`, nil, "", "no boolean active member"},
		{"token_type a number", 200, `{"active":true,"token_type":1}`, nil, "", "token_type is not a string"},
		{"sub null", 200, `{"active":true,"sub":null}`, nil, "", "sub is not a string"},
		{"client_id a number", 200, `{"active":true,"client_id":7}`, nil, "", "client_id is not a string"},
		{"aud a number", 200, `{"active":true,"aud":7}`, nil, "", "aud is not a string"},
		{"aud null", 200, `{"active":true,"aud":null}`, nil, "", "aud is null"},
		{"aud with a number", 200, `{"active":true,"aud":["a",7]}`, nil, "", "aud is not a string"},
		{"scope with two spaces", 200, `{"active":true,"scope":"a  b"}`, nil, "", "scope is not a list of scope tokens"},
		{"scope an array", 200, `{"active":true,"scope":["a"]}`, nil, "", "scope is not a string"},
		{"exp a string", 200, `{"active":true,"exp":"soon"}`, nil, "", "exp is not a number"},
		{"exp negative", 200, `{"active":true,"exp":-1}`, nil, "", "exp is not a number"},
		{"iat past 9999", 200, `{"active":true,"iat":1e12}`, nil, "", "iat is not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := answering(t, tt.status, tt.body)
			got, err := (&tokens.Introspector{URL: srv.URL, ClientID: "rs", ClientSecret: "s"}).Introspect(t.Context(), "tok")
			switch {
			case tt.want != nil:
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v, %v;\nwant %+v", got, err, tt.want)
				}
			case tt.invalid != "":
				wantInvalid(t, err, tt.invalid)
			default:
				wantFailure(t, err, tt.failure)
				if !strings.Contains(err.Error(), "tokens: introspect: POST "+srv.URL) {
					t.Fatalf("got %q; want it to name the operation and the URL", err)
				}
			}
		})
	}
}

// TestIntrospectorRedirect: with the default client a redirect is not
// followed: the token and credentials go nowhere else.
func TestIntrospectorRedirect(t *testing.T) {
	elsewhere, n := answering(t, 200, `{"active":true}`)
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	_, err := (&tokens.Introspector{URL: redirect.URL, ClientID: "rs", ClientSecret: "s"}).Introspect(t.Context(), "tok")
	wantFailure(t, err, "status 307")
	if got := n.Load(); got != 0 {
		t.Fatalf("requests to the redirect's target: got %d; want 0", got)
	}
}

// TestIntrospectorDeadline: a server that does not answer in time is a
// failure wrapping the context's error, through the verifier too.
func TestIntrospectorDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	in := &tokens.Introspector{URL: srv.URL, ClientID: "rs", ClientSecret: "s"}
	v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Introspect: in.Introspect}
	for name, check := range map[string]func(ctx context.Context) error{
		"Introspector": func(ctx context.Context) error { _, err := in.Introspect(ctx, "tok"); return err },
		"Verifier":     func(ctx context.Context) error { _, err := v.Verify(ctx, "tok"); return err },
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			err := check(ctx)
			wantFailure(t, err, "context deadline exceeded")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("errors.Is(%v, context.DeadlineExceeded): got false; want true", err)
			}
		})
	}
}

// TestVerifyIntrospected: Verify checks what Introspect returns and keeps
// failures apart from rejections.
func TestVerifyIntrospected(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	tests := []struct {
		name    string
		claims  *tokens.Claims
		err     error
		want    *tokens.Claims // the claims Verify returns, if valid
		invalid string
		failure string
	}{
		{"no iss: the verifier's", &tokens.Claims{Subject: "s"}, nil, &tokens.Claims{Issuer: testIssuer, Subject: "s"}, "", ""},
		{"right iss and aud", &tokens.Claims{Issuer: testIssuer, Audience: []string{"x", testAudience}, ExpiresAt: now.Add(time.Second)}, nil,
			&tokens.Claims{Issuer: testIssuer, Audience: []string{"x", testAudience}, ExpiresAt: now.Add(time.Second)}, "", ""},
		{"expired within the leeway", &tokens.Claims{ExpiresAt: now.Add(-4 * time.Second)}, nil,
			&tokens.Claims{Issuer: testIssuer, ExpiresAt: now.Add(-4 * time.Second)}, "", ""},
		{"wrong iss", &tokens.Claims{Issuer: "https://evil.example.com"}, nil, nil, "wrong issuer", ""},
		{"wrong aud", &tokens.Claims{Audience: []string{"https://other.example.com"}}, nil, nil, "wrong audience", ""},
		{"expired", &tokens.Claims{ExpiresAt: now.Add(-5 * time.Second)}, nil, nil, "token expired", ""},
		{"not yet valid", &tokens.Claims{NotBefore: now.Add(6 * time.Second)}, nil, nil, "token not yet valid", ""},
		{"invalid_token without a status", nil, &oauth.Error{Code: oauth.ErrCodeInvalidToken}, nil, "token is not active", ""},
		{"invalid_token wrapped", nil, fmt.Errorf("hook: %w", oauth.NewError(oauth.ErrCodeInvalidToken, "revoked")), nil, "revoked", ""},
		{"invalid_client passed on", nil, fmt.Errorf("hook: %w", oauth.NewError(oauth.ErrCodeInvalidClient, "bad secret")), nil, "",
			"tokens: verify: introspection failed: hook: oauth: invalid_client: bad secret"},
		{"a network failure", nil, fmt.Errorf("hook: %w", io.ErrUnexpectedEOF), nil, "", "tokens: verify: hook: unexpected EOF"},
		{"neither claims nor error", nil, nil, nil, "", "Introspect returned neither claims nor an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			var returned tokens.Claims
			if tt.claims != nil {
				returned = *tt.claims
			}
			v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Leeway: 5 * time.Second, Now: clk.Now,
				Introspect: func(_ context.Context, token string) (*tokens.Claims, error) {
					calls = append(calls, token)
					return tt.claims, tt.err
				}}
			got, err := v.Verify(t.Context(), "opaque-token")
			if !reflect.DeepEqual(calls, []string{"opaque-token"}) {
				t.Fatalf("Introspect calls: got %q; want one with the token", calls)
			}
			switch {
			case tt.want != nil:
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
				}
				if !reflect.DeepEqual(*tt.claims, returned) {
					t.Fatalf("Verify changed the claims Introspect returned: got %+v; want %+v", *tt.claims, returned)
				}
			case tt.invalid != "":
				wantInvalid(t, err, tt.invalid)
			default:
				wantFailure(t, err, tt.failure)
				if errors.Is(tt.err, io.ErrUnexpectedEOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("errors.Is(%v, io.ErrUnexpectedEOF): got false; want true", err)
				}
			}
		})
	}
}

// countingIntrospect wraps an Introspect function and counts its calls.
type countingIntrospect struct {
	n  atomic.Int32
	fn func(context.Context, string) (*tokens.Claims, error)
}

func (c *countingIntrospect) Introspect(ctx context.Context, token string) (*tokens.Claims, error) {
	c.n.Add(1)
	return c.fn(ctx, token)
}

// TestVerifyIntrospectRouting: which tokens go to Introspect.
func TestVerifyIntrospectRouting(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	jwt, _ := f.issue(t, nil)
	hook := &countingIntrospect{fn: func(context.Context, string) (*tokens.Claims, error) {
		return &tokens.Claims{Subject: "introspected"}, nil
	}}
	tests := []struct {
		name     string
		keys     bool
		token    string
		wantSub  string
		wantHook int32
	}{
		{"opaque, with Keys", true, "opaque", "introspected", 1},
		{"opaque, without Keys", false, "opaque", "introspected", 1},
		{"JWT, with Keys: checked locally", true, jwt, "user-1", 0},
		{"JWT, without Keys: introspected", false, jwt, "introspected", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook.n.Store(0)
			v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Introspect: hook.Introspect, Now: f.clk.Now}
			if tt.keys {
				v.Keys = f.keys
			}
			c, err := v.Verify(t.Context(), tt.token)
			if err != nil || c.Subject != tt.wantSub {
				t.Fatalf("got %+v, %v; want sub %q", c, err, tt.wantSub)
			}
			if got := hook.n.Load(); got != tt.wantHook {
				t.Fatalf("Introspect calls: got %d; want %d", got, tt.wantHook)
			}
		})
	}
}

// TestVerifierIntrospectConfiguration: the combinations Verify refuses.
func TestVerifierIntrospectConfiguration(t *testing.T) {
	hook := func(context.Context, string) (*tokens.Claims, error) { return &tokens.Claims{}, nil }
	tests := []struct {
		name string
		v    *tokens.Verifier
		want string
	}{
		{"AccessTokens and Introspect", &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, AccessTokens: newMemRepo(), Introspect: hook},
			"both AccessTokens and Introspect"},
		{"IntrospectCacheTTL without CacheSize", &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Introspect: hook, IntrospectCacheTTL: time.Minute},
			"IntrospectCacheTTL needs Introspect and a positive CacheSize"},
		{"IntrospectCacheTTL without Introspect", &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: newKeySet(t, tokens.ES256, nil), CacheSize: 10, IntrospectCacheTTL: time.Minute},
			"IntrospectCacheTTL needs Introspect and a positive CacheSize"},
		{"negative IntrospectCacheTTL", &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Introspect: hook, CacheSize: 10, IntrospectCacheTTL: -time.Second},
			"IntrospectCacheTTL is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(t.Context(), "opaque")
			wantFailure(t, err, tt.want)
		})
	}
}

// TestVerifyIntrospectCache: introspected answers are cached only with
// IntrospectCacheTTL, for at most that long and never past exp.
func TestVerifyIntrospectCache(t *testing.T) {
	type step struct {
		advance  time.Duration
		wantHook int32 // Introspect calls so far
		invalid  string
	}
	tests := []struct {
		name   string
		ttl    time.Duration
		claims func(now time.Time) (*tokens.Claims, error)
		steps  []step
	}{
		{"not cached by default", 0, func(now time.Time) (*tokens.Claims, error) {
			return &tokens.Claims{Subject: "s", ExpiresAt: t0.Add(time.Hour)}, nil
		}, []step{{0, 1, ""}, {0, 2, ""}, {time.Second, 3, ""}}},
		{"cached for the TTL", time.Minute, func(now time.Time) (*tokens.Claims, error) {
			return &tokens.Claims{Subject: "s", ExpiresAt: t0.Add(time.Hour)}, nil
		}, []step{{0, 1, ""}, {0, 1, ""}, {time.Minute - time.Second, 1, ""}, {time.Second, 2, ""}, {0, 2, ""}}},
		{"never past exp", time.Minute, func(now time.Time) (*tokens.Claims, error) {
			return &tokens.Claims{Subject: "s", ExpiresAt: t0.Add(10 * time.Second)}, nil
		}, []step{{0, 1, ""}, {9 * time.Second, 1, ""}, {time.Second, 2, "token expired"}}},
		{"no exp: not cached", time.Minute, func(now time.Time) (*tokens.Claims, error) {
			return &tokens.Claims{Subject: "s"}, nil
		}, []step{{0, 1, ""}, {0, 2, ""}}},
		{"inactive: not cached", time.Minute, func(now time.Time) (*tokens.Claims, error) {
			return nil, oauth.NewError(oauth.ErrCodeInvalidToken, "revoked")
		}, []step{{0, 1, "revoked"}, {0, 2, "revoked"}}},
		{"a failure: not cached", time.Minute, func(now time.Time) (*tokens.Claims, error) {
			return nil, errors.New("unreachable")
		}, []step{{0, 1, "-"}, {0, 2, "-"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			hook := &countingIntrospect{fn: func(context.Context, string) (*tokens.Claims, error) { return tt.claims(clk.Now()) }}
			v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Introspect: hook.Introspect,
				CacheSize: 10, IntrospectCacheTTL: tt.ttl, Now: clk.Now}
			for i, s := range tt.steps {
				clk.Advance(s.advance)
				c, err := v.Verify(t.Context(), "opaque")
				switch s.invalid {
				case "":
					if err != nil || c.Subject != "s" {
						t.Fatalf("step %d: got %+v, %v; want sub s", i, c, err)
					}
					c.Subject = "changed by the caller"
				case "-":
					wantFailure(t, err, "unreachable")
				default:
					wantInvalid(t, err, s.invalid)
				}
				if got := hook.n.Load(); got != s.wantHook {
					t.Fatalf("step %d: Introspect calls: got %d; want %d", i, got, s.wantHook)
				}
			}
		})
	}
}

// get sends a GET with the bearer token to u and returns the status, the
// WWW-Authenticate header and the body.
func get(t *testing.T, u, token string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)
}

// TestIntrospectionMiddleware runs a resource server with the middleware
// in front of the real authorization server: revocation is seen at once
// by default, and after the TTL with a cache; failures are 500s.
func TestIntrospectionMiddleware(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprintf("IntrospectCacheTTL %v", ttl), func(t *testing.T) {
			as := newAuthServer(t, false)
			v := as.verifier()
			v.CacheSize, v.IntrospectCacheTTL = 100, ttl
			var logs syncBuffer
			rs := httptest.NewServer(protected(v, []string{"read"}, tokens.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
			defer rs.Close()

			tok := as.passwordToken(t).AccessToken
			if status, _, body := get(t, rs.URL, tok); status != 200 || body != "hello "+userID {
				t.Fatalf("active token: got %d %q; want 200 hello %s", status, body, userID)
			}
			cc := as.clientToken(t) // scope write only
			if status, chal, _ := get(t, rs.URL, cc); status != 403 || !strings.Contains(chal, `error="insufficient_scope"`) {
				t.Fatalf("token without scope read: got %d %q; want 403 insufficient_scope", status, chal)
			}

			as.revoke(t, tok)
			if ttl > 0 {
				if status, _, _ := get(t, rs.URL, tok); status != 200 {
					t.Fatalf("revoked token within the TTL: got %d; want 200 from the cache", status)
				}
				as.clk.Advance(ttl)
			}
			if status, chal, _ := get(t, rs.URL, tok); status != 401 || !strings.Contains(chal, `error="invalid_token"`) {
				t.Fatalf("revoked token: got %d %q; want 401 invalid_token", status, chal)
			}

			// The authorization server gone: 500, logged, never the handler.
			fresh := as.clientToken(t)
			as.srv.Close()
			status, chal, body := get(t, rs.URL, fresh)
			if status != 500 || chal != "" || !strings.Contains(body, `"server_error"`) || strings.Contains(body, "introspect") {
				t.Fatalf("authorization server down: got %d %q %q; want 500 server_error without detail or challenge", status, chal, body)
			}
			if !strings.Contains(logs.String(), "tokens: introspect: Post") {
				t.Fatalf("log: got %q; want the introspection failure", logs.String())
			}
		})
	}
}

// TestIntrospectionMiddlewareRefusedCredentials: a resource server whose
// credentials the authorization server refuses answers 500 and logs why;
// it never lets the request through nor blames the bearer.
func TestIntrospectionMiddlewareRefusedCredentials(t *testing.T) {
	as := newAuthServer(t, false)
	v := as.verifier()
	v.Introspect = (&tokens.Introspector{URL: as.introspectionURL(), ClientID: rsID, ClientSecret: "stale"}).Introspect
	var logs syncBuffer
	h := protected(v, nil, tokens.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+as.passwordToken(t).AccessToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 500 || rec.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("got %d %q; want 500 without a challenge", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if !strings.Contains(logs.String(), "status 401 (invalid_client)") {
		t.Fatalf("log: got %q; want the refused credentials", logs.String())
	}
}

// TestIntrospectJWT: with Keys nil, JWT access tokens are introspected
// too, so that their revocation is seen at once.
func TestIntrospectJWT(t *testing.T) {
	as := newAuthServer(t, true)
	tok := as.passwordToken(t).AccessToken
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("access token %q: want a JWT", tok)
	}
	hook := &countingIntrospect{fn: as.introspector().Introspect}
	v := as.verifier()
	v.Introspect = hook.Introspect
	c, err := v.Verify(t.Context(), tok)
	if err != nil || c.Subject != userID || c.ClientID != appID || !reflect.DeepEqual(c.Audience, []string{testAudience}) {
		t.Fatalf("got %+v, %v; want alice's token for app and %s", c, err, testAudience)
	}
	local := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: as.keys, Introspect: hook.Introspect, Now: as.clk.Now}
	as.revoke(t, tok)
	_, err = v.Verify(t.Context(), tok)
	wantInvalid(t, err, "token is not active")
	if _, err := local.Verify(t.Context(), tok); err != nil {
		t.Fatalf("with Keys, a revoked JWT: got %v; want valid (checked locally, not introspected)", err)
	}
	if got := hook.n.Load(); got != 2 {
		t.Fatalf("Introspect calls: got %d; want 2 (none with Keys)", got)
	}
}

// TestIntrospectConcurrent verifies from many goroutines through the real
// endpoint and the cache, for the race detector.
func TestIntrospectConcurrent(t *testing.T) {
	as := newAuthServer(t, false)
	toks := []string{as.passwordToken(t).AccessToken, as.clientToken(t), as.passwordToken(t).AccessToken}
	v := as.verifier()
	v.CacheSize, v.IntrospectCacheTTL = 2, time.Minute
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			for j := range 8 {
				tok := toks[(i+j)%len(toks)]
				if _, err := v.Verify(context.Background(), tok); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
