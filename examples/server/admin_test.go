package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/sqlstore"
)

// openTestStore opens the database a server runs on, for checks.
func openTestStore(t *testing.T, db string) *sqlstore.Store {
	t.Helper()
	target, err := parseDBURL(db)
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// clientToken runs client credentials for id and secret at base.
func clientToken(base, id, secret, scope string) (*oauth2.Token, error) {
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: base + pathToken, AuthStyle: oauth2.AuthStyleInHeader}
	if scope != "" {
		cc.Scopes = []string{scope}
	}
	return cc.Token(context.Background())
}

// expectCLIError runs a command that must fail with the exit code and one
// line on stderr containing want.
func expectCLIError(t *testing.T, db string, code int, want string, args ...string) {
	t.Helper()
	out, errOut, got := runCLI(t, nil, append([]string{"-db", db}, args...)...)
	if got != code {
		t.Errorf("server %s: exit %d; want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, code, out, errOut)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) {
		t.Errorf("server %s: stderr %q; want one line containing %q", strings.Join(args, " "), errOut, want)
	}
}

var secretLine = regexp.MustCompile(`client_secret: (\S+)`)

func testAdmin(t *testing.T, inst *instance, db string) {
	base := inst.base

	out := mustCLI(t, db, "scope", "create", "-id", "files:read", "-description", "Read your files")
	if !strings.Contains(out, "created scope files:read") {
		t.Errorf("scope create: got %q", out)
	}
	if out := mustCLI(t, db, "scope", "list"); !strings.Contains(out, "files:read") || !strings.Contains(out, "Read your files") || !strings.Contains(out, "notes:write") {
		t.Errorf("scope list lacks a scope:\n%s", out)
	}

	// A generated secret, printed once, that the running server accepts.
	out = mustCLI(t, db, "client", "create", "-id", "cli-test", "-name", "Test App",
		"-redirect-uri", "http://127.0.0.1:9/cb", "-redirect-uri", "http://127.0.0.1:9/cb2",
		"-grant", "authorization_code", "-grant", "refresh_token", "-grant", "client_credentials",
		"-scope", "files:read profile")
	m := secretLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("client create: no secret printed:\n%s", out)
	}
	secret := m[1]
	if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) != 32 {
		t.Errorf("generated secret %q: want 256 bits, base64url", secret)
	}
	tok, err := clientToken(base, "cli-test", secret, "files:read")
	if err != nil {
		t.Fatalf("client credentials with the created client: %v", err)
	}
	if s, _ := tok.Extra("scope").(string); s != "files:read" {
		t.Errorf("scope: got %q; want files:read", s)
	}

	out = mustCLI(t, db, "client", "list")
	for _, want := range []string{"cli-test", "Test App", "http://127.0.0.1:9/cb http://127.0.0.1:9/cb2", "files:read profile", "demo-device", "device_code"} {
		if !strings.Contains(out, want) {
			t.Errorf("client list lacks %q:\n%s", want, out)
		}
	}

	// rotate-secret: the old secret stops working, the new one works.
	out = mustCLI(t, db, "client", "rotate-secret", "-id", "cli-test")
	m = regexp.MustCompile(`new client_secret for cli-test: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rotate-secret printed no secret:\n%s", out)
	}
	if _, err := clientToken(base, "cli-test", secret, ""); retrieveCode(err) != oauth.ErrCodeInvalidClient {
		t.Errorf("old secret after rotation: got %v; want invalid_client", err)
	}
	if _, err := clientToken(base, "cli-test", m[1], ""); err != nil {
		t.Errorf("new secret after rotation: %v", err)
	}

	// A chosen secret (stored with bcrypt).
	mustCLI(t, db, "client", "create", "-id", "chosen", "-secret", "a b+c%/ chosen secret", "-name", "Chosen",
		"-grant", "client_credentials", "-scope", "profile")
	if _, err := clientToken(base, "chosen", "a b+c%/ chosen secret", "profile"); err != nil {
		t.Errorf("client with a chosen secret: %v", err)
	}
	mustCLI(t, db, "client", "create", "-id", "pub", "-public", "-name", "Public", "-redirect-uri", "http://127.0.0.1/cb",
		"-grant", "authorization_code", "-scope", "profile")
	if out := mustCLI(t, db, "client", "list"); !regexp.MustCompile(`pub\s+public`).MatchString(out) {
		t.Errorf("client list does not show pub as public:\n%s", out)
	}

	// Errors: one line, non-zero exit.
	expectCLIError(t, db, 1, `client "cli-test" already exists`, "client", "create", "-id", "cli-test", "-name", "X", "-grant", "client_credentials")
	expectCLIError(t, db, 1, `scope "nope" does not exist`, "client", "create", "-id", "x2", "-name", "X", "-grant", "client_credentials", "-scope", "nope")
	expectCLIError(t, db, 2, "-id is required", "client", "create", "-name", "X")
	expectCLIError(t, db, 2, `unknown -grant "implicit-ish"`, "client", "create", "-id", "x3", "-name", "X", "-grant", "implicit-ish")
	expectCLIError(t, db, 2, "needs at least one -redirect-uri", "client", "create", "-id", "x4", "-name", "X", "-grant", "authorization_code")
	expectCLIError(t, db, 2, "public client cannot use the client_credentials", "client", "create", "-id", "x5", "-public", "-name", "X", "-grant", "client_credentials")
	expectCLIError(t, db, 1, `client "pub" is public`, "client", "rotate-secret", "-id", "pub")
	expectCLIError(t, db, 1, `no client "ghost"`, "client", "delete", "-id", "ghost")
	expectCLIError(t, db, 1, `scope "files:read" already exists`, "scope", "create", "-id", "files:read")
	expectCLIError(t, db, 2, "unknown command", "frobnicate")
	expectCLIError(t, db, 2, "flag provided but not defined", "client", "list", "-bogus")

	mustCLI(t, db, "client", "delete", "-id", "cli-test")
	if _, err := clientToken(base, "cli-test", m[1], ""); retrieveCode(err) != oauth.ErrCodeInvalidClient {
		t.Errorf("deleted client: got %v; want invalid_client", err)
	}

	// A user created by the CLI signs in on the running server.
	pw := "pw-" + rand.Text()
	if out := mustCLI(t, db, "user", "create", "-username", "alice", "-password", pw); !strings.Contains(out, "created user alice") {
		t.Errorf("user create: got %q", out)
	}
	expectCLIError(t, db, 1, "user already exists", "user", "create", "-username", "alice", "-password", pw)
	expectCLIError(t, db, 1, "shorter than 8", "user", "create", "-username", "bob", "-password", "short")
	b := newBrowser(t)
	if loc := b.signIn(base+"/login", base, "alice", pw); loc != base+"/" {
		t.Errorf("alice's sign-in: redirected to %s; want %s/", loc, base)
	}

	out = mustCLI(t, db, "purge")
	for _, want := range []string{"refresh tokens", "access tokens", "authorization codes", "device codes", "sessions"} {
		if !strings.Contains(out, want) {
			t.Errorf("purge output lacks %q:\n%s", want, out)
		}
	}

	testKeyRotation(t, inst, db)
}

// testKeyRotation rotates the keys with the CLI and checks that the running
// server publishes the new key, and signs with it once it activates.
func testKeyRotation(t *testing.T, inst *instance, db string) {
	base := inst.base
	out := mustCLI(t, db, "keys", "list")
	if strings.Count(out, "signing") != 1 {
		t.Fatalf("keys list before rotation: want one signing key:\n%s", out)
	}
	before := jwksKids(t, base)
	if len(before) != 1 {
		t.Fatalf("JWKS before rotation: got %d keys; want 1", len(before))
	}
	out = mustCLI(t, db, "keys", "rotate", "-publish-ahead", "0s")
	kid := regexp.MustCompile(`new key (\S+)`).FindStringSubmatch(out)
	if kid == nil {
		t.Fatalf("keys rotate: no kid in %q", out)
	}
	out = mustCLI(t, db, "keys", "list")
	if !strings.Contains(out, kid[1]) || !strings.Contains(out, before[0]) {
		t.Errorf("keys list after rotation lacks a key:\n%s", out)
	}
	// The server re-reads the keys every second (-key-reload 1s in tests).
	deadline := time.Now().Add(15 * time.Second)
	for {
		kids := jwksKids(t, base)
		if len(kids) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("JWKS 15 s after rotation: got %v; want %s and %s", kids, before[0], kid[1])
		}
		time.Sleep(200 * time.Millisecond)
	}
	tok, err := clientToken(base, demoWebID, demoWebSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := jwtKid(t, tok.AccessToken); got != kid[1] {
		t.Errorf("token after rotation signed by %q; want the new key %q", got, kid[1])
	}
	if _, err := jwtVerifier(inst.issuer, base).Verify(context.Background(), tok.AccessToken); err != nil {
		t.Errorf("token signed by the new key: %v", err)
	}
}

func jwksKids(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + pathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS: %v\n%s", err, body)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.D != "" {
			t.Fatalf("JWKS publishes a private key")
		}
		kids = append(kids, k.Kid)
	}
	return kids
}

func jwtKid(t *testing.T, jwt string) string {
	t.Helper()
	head, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	json.Unmarshal(raw, &h)
	return h.Kid
}

// cloneValues copies a form.
func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestAdminRefusesMalformedInput: the CLI refuses, with one line and exit
// 2, what the store would take but no server can use or should show.
func TestAdminRefusesMalformedInput(t *testing.T) {
	db := sqliteURL(t)
	mustCLI(t, db, "scope", "list") // creates the schema
	create := func(extra ...string) []string {
		return append([]string{"client", "create", "-id", "c1", "-name", "C", "-grant", "authorization_code"}, extra...)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"fragment", create("-redirect-uri", "https://app.example/cb#frag"), "must not have a fragment"},
		{"empty fragment", create("-redirect-uri", "https://app.example/cb#"), "must not have a fragment"},
		{"relative", create("-redirect-uri", "/cb"), "must be an absolute URI"},
		{"no scheme", create("-redirect-uri", "app.example/cb"), "must be an absolute URI"},
		{"javascript", create("-redirect-uri", "javascript:alert(1)"), `scheme "javascript" is not allowed`},
		{"data", create("-redirect-uri", "data:text/html,x"), `scheme "data" is not allowed`},
		{"https without host", create("-redirect-uri", "https:///cb"), "needs a host"},
		{"user information", create("-redirect-uri", "https://user:pw@app.example/cb"), "must not have user information"},
		{"not a URI", create("-redirect-uri", "https://app.example:port/cb"), "is not a URI"},
		{"control character in name", []string{"client", "create", "-id", "c2", "-name", "Bad\nName", "-grant", "client_credentials"}, "-name must not contain control characters"},
		{"short chosen secret", []string{"client", "create", "-id", "c3", "-name", "C", "-grant", "client_credentials", "-secret", "short"}, "-secret must be at least 16 characters"},
		{"control character in description", []string{"scope", "create", "-id", "s1", "-description", "a\x1b[31mred"}, "-description must not contain control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectCLIError(t, db, exitUsage, tt.want, tt.args...)
		})
	}
	// What is accepted: loopback, https and a native app's private-use
	// scheme (RFC 8252 §7.1), with a query.
	mustCLI(t, db, "client", "create", "-id", "ok", "-name", "OK", "-public", "-grant", "authorization_code",
		"-redirect-uri", "http://127.0.0.1/cb", "-redirect-uri", "https://app.example/cb?x=1", "-redirect-uri", "com.example.app:/oauth2redirect")
	if out := mustCLI(t, db, "client", "list"); strings.Contains(out, "c1") || !strings.Contains(out, "com.example.app:/oauth2redirect") {
		t.Errorf("client list after the refusals:\n%s", out)
	}
}

// TestAdminSecretsFromStdin: -secret - and -password - read the value from
// standard input, so that it is not in the process list, and the help
// says why.
func TestAdminSecretsFromStdin(t *testing.T) {
	db := sqliteURL(t)
	inst := startServer(t, "-db", db)
	out, errOut, code := runCLIStdin(t, "a chosen secret of some length\n", "-db", db, "client", "create", "-id", "stdin-app", "-name", "Stdin",
		"-grant", "client_credentials", "-scope", "profile", "-secret", "-")
	if code != 0 || strings.Contains(out, "client_secret:") {
		t.Fatalf("client create -secret -: exit %d, stdout %q, stderr %q; want success and no secret printed", code, out, errOut)
	}
	if _, err := clientToken(inst.base, "stdin-app", "a chosen secret of some length", "profile"); err != nil {
		t.Errorf("the secret read from stdin: %v", err)
	}
	if _, errOut, code := runCLIStdin(t, "", "-db", db, "client", "create", "-id", "x", "-name", "X", "-grant", "client_credentials", "-secret", "-"); code != exitUsage || !strings.Contains(errOut, "standard input") {
		t.Errorf("-secret - with nothing on stdin: exit %d, stderr %q; want 2 naming standard input", code, errOut)
	}
	if _, errOut, code := runCLIStdin(t, "dave-password\r\n", "-db", db, "user", "create", "-username", "dave", "-password", "-"); code != 0 {
		t.Fatalf("user create -password -: exit %d, stderr %q", code, errOut)
	}
	if got := newBrowser(t).tryLogin(inst.base, "dave", "dave-password"); got != http.StatusSeeOther {
		t.Errorf("sign-in with the password read from stdin: got %d; want 303", got)
	}
	for _, cmd := range [][]string{{"client", "create", "-h"}, {"user", "create", "-h"}, {"-h"}} {
		out, _, _ := runCLI(t, nil, cmd...)
		if !strings.Contains(out, "process list") {
			t.Errorf("%s: the help does not say that values on the command line show in the process list:\n%s", strings.Join(cmd, " "), out)
		}
	}
}
