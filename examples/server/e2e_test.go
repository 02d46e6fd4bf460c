package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauth"
)

// proc is a running example program whose stdout is read line by line.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string
	out    *syncBuffer
	stderr *syncBuffer
	done   chan error
}

// startProc runs the command built from dir with args.
func startProc(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(buildBinary(t, dir), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv()
	p := &proc{cmd: cmd, lines: make(chan string, 100), out: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.out.Write([]byte(sc.Text() + "\n"))
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
			}
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s\nstderr:\n%s", dir, tail(p.out.String(), 3000), tail(p.stderr.String(), 3000))
		}
	})
	return p
}

// waitLine waits for a stdout line matching re and returns its submatches.
func (p *proc) waitLine(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	timeout := time.After(90 * time.Second)
	for {
		select {
		case line := <-p.lines:
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case err := <-p.done:
			p.done <- err
			t.Fatalf("%s exited (%v) before printing a line matching %s", p.cmd.Path, err, re)
		case <-timeout:
			t.Fatalf("%s printed no line matching %s within 90 s", p.cmd.Path, re)
		}
	}
}

// wait waits for the program to exit and requires success.
func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("%s: %v", p.cmd.Path, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not finish within 60 s", p.cmd.Path)
	}
}

var (
	apiLine      = regexp.MustCompile(`^serving the API on (http://\S+)$`)
	authURLLine  = regexp.MustCompile(`^\s+(http://\S+/oauth/authorize\?\S+)$`)
	userCodeLine = regexp.MustCompile(`^\s+([B-Z]{4}-[B-Z]{4})$`)
)

// startResource runs examples/resource against the server.
func startResource(t *testing.T, issuer string, args ...string) string {
	t.Helper()
	p := startProc(t, "../resource", append([]string{"-addr", "127.0.0.1:0", "-issuer", issuer}, args...)...)
	return p.waitLine(t, apiLine)[1]
}

func apiGet(t *testing.T, u, token string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestClientAndResource runs the three example programs together: the
// client's authorization code flow (the test plays the user's browser),
// then its calls to the resource API, which verifies the JWTs locally.
func TestClientAndResource(t *testing.T) {
	inst := startServer(t, "-db", sqliteURL(t))
	api := startResource(t, inst.issuer)

	t.Run("resource API answers by scope", func(t *testing.T) {
		resp, _ := apiGet(t, api+"/api/hello", "")
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("no token: got %d %q; want 401 with a Bearer challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		resp, _ = apiGet(t, api+"/api/hello", "not-a-token")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("bad token: got %d %q; want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		tok, err := clientToken(inst.base, demoWebID, demoWebSecret, "profile")
		if err != nil {
			t.Fatal(err)
		}
		resp, body := apiGet(t, api+"/api/profile", tok.AccessToken)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"sub":"demo-web"`) {
			t.Errorf("profile with scope profile: got %d %s; want 200 for demo-web", resp.StatusCode, body)
		}
		resp, _ = apiGet(t, api+"/api/notes", tok.AccessToken)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Errorf("notes without notes:read: got %d %q; want 403 insufficient_scope", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})

	t.Run("client: authorization code with PKCE, then the API", func(t *testing.T) {
		cl := startProc(t, "../client", "-issuer", inst.issuer, "-flow", "code", "-api", api, "-note", "written by the test", "-timeout", "60s")
		authURL := cl.waitLine(t, authURLLine)[1]
		back := authorize(t, newBrowser(t), []string{inst.base}, authURL, "approve")
		if back.Host == "" || !strings.HasPrefix(back.Host, "127.0.0.1:") {
			t.Fatalf("redirect to %s; want the client's loopback listener", back)
		}
		// The browser follows the redirect to the client.
		resp, err := http.Get(back.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cl.wait(t)
		out := cl.out.String()
		for _, want := range []string{"got an access token", "and a refresh token", "GET /api/hello → 200", "POST /api/notes → 201", "GET /api/notes → 200", "written by the test"} {
			if !strings.Contains(out, want) {
				t.Errorf("client output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("client: device flow, then the API", func(t *testing.T) {
		cl := startProc(t, "../client", "-issuer", inst.issuer, "-flow", "device", "-api", api, "-timeout", "60s")
		code := cl.waitLine(t, userCodeLine)[1]
		b := newBrowser(t)
		_, body := b.get(inst.base + pathDevice)
		form := hiddenFields(t, body)
		form.Set("user_code", code)
		resp, body := b.post(inst.base+pathDevice, form)
		loc := b.signIn(expectRedirect(t, resp, body, inst.base), inst.base, demoUser, demoPassword)
		_, body = b.get(loc)
		form = hiddenFields(t, body)
		form.Set("decision", "approve")
		if resp, body := b.post(inst.base+pathDevice+"/decide", form); resp.StatusCode != http.StatusOK {
			t.Fatalf("approve: got %d\n%s", resp.StatusCode, tail(body, 1000))
		}
		cl.wait(t)
		out := cl.out.String()
		for _, want := range []string{"got an access token", "GET /api/hello → 200", "GET /api/notes → 200"} {
			if !strings.Contains(out, want) {
				t.Errorf("client output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("client: wrong state is ignored, denial is reported", func(t *testing.T) {
		cl := startProc(t, "../client", "-issuer", inst.issuer, "-flow", "code", "-api", "", "-timeout", "60s")
		authURL := cl.waitLine(t, authURLLine)[1]
		back := authorize(t, newBrowser(t), []string{inst.base}, authURL, "deny")
		forged := *back
		q := forged.Query()
		q.Set("state", "forged")
		forged.RawQuery = q.Encode()
		if resp, err := http.Get(forged.String()); err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("callback with a forged state: got %v, %v; want 400", resp, err)
		}
		http.Get(back.String())
		select {
		case err := <-cl.done:
			if err == nil || !strings.Contains(cl.stderr.String(), "access_denied") {
				t.Errorf("denied flow: client exit %v, stderr %q; want failure naming access_denied", err, cl.stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("client did not exit after the denial")
		}
	})
}

// TestOpaqueTokensAndPasswordGrant runs the server with opaque access
// tokens and the password grant on, and the resource API in introspection
// mode: a revoked token is refused at once.
func TestOpaqueTokensAndPasswordGrant(t *testing.T) {
	db := sqliteURL(t)
	inst := startServer(t, "-db", db, "-access-token", "opaque", "-password-grant")
	api := startResource(t, inst.issuer, "-tokens", "opaque")
	ctx := context.Background()

	tok, err := clientToken(inst.base, demoWebID, demoWebSecret, "profile")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tok.AccessToken, ".") == 2 {
		t.Fatalf("access token %q looks like a JWT; want an opaque one", tok.AccessToken)
	}
	if resp, body := apiGet(t, api+"/api/profile", tok.AccessToken); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"sub":"demo-web"`) {
		t.Errorf("profile with an opaque token: got %d %s; want 200 for demo-web", resp.StatusCode, body)
	}
	if resp, _ := apiGet(t, api+"/api/notes", tok.AccessToken); resp.StatusCode != http.StatusForbidden {
		t.Errorf("notes without notes:read: got %d; want 403", resp.StatusCode)
	}
	revoke(t, inst.base, url.Values{"token": {tok.AccessToken}}, demoWebID, demoWebSecret)
	if resp, _ := apiGet(t, api+"/api/profile", tok.AccessToken); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("revoked opaque token: got %d %q; want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// The password grant, for a client the CLI allows it.
	out := mustCLI(t, db, "client", "create", "-id", "pw-app", "-name", "Password App",
		"-grant", "password", "-grant", "refresh_token", "-scope", "profile notes:read")
	secret := secretLine.FindStringSubmatch(out)[1]
	conf := &oauth2.Config{ClientID: "pw-app", ClientSecret: secret,
		Endpoint: oauth2.Endpoint{TokenURL: inst.base + pathToken, AuthStyle: oauth2.AuthStyleInHeader}, Scopes: []string{"notes:read"}}
	pt, err := conf.PasswordCredentialsToken(ctx, demoUser, demoPassword)
	if err != nil {
		t.Fatalf("password grant: %v", err)
	}
	if resp, body := apiGet(t, api+"/api/notes", pt.AccessToken); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"subject":"u-`) {
		t.Errorf("notes with a password-grant token: got %d %s; want 200 for the demo user", resp.StatusCode, body)
	}
	for i := range 10 {
		if _, err := conf.PasswordCredentialsToken(ctx, demoUser, "wrong-password"); retrieveCode(err) != oauth.ErrCodeInvalidGrant {
			t.Fatalf("wrong password, attempt %d: got %v; want invalid_grant", i, err)
		}
	}
	_, err = conf.PasswordCredentialsToken(ctx, demoUser, demoPassword)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || !strings.Contains(re.ErrorDescription, "too many") {
		t.Errorf("right password after 10 failures: got %v; want a throttled invalid_grant", err)
	}
}
