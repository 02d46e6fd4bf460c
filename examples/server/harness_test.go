package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The tests build the real binary and run it as a user would: on a free
// loopback port, against SQLite, MariaDB/MySQL and PostgreSQL. Databases
// come from OAUTH_TEST_MYSQL_DSN and OAUTH_TEST_POSTGRES_DSN; each test
// creates its own database (oauth_example_*) beside the one named there.
// Under CI=true a missing database is a failure; elsewhere the test skips.

var (
	buildMu  sync.Mutex
	builds   = map[string]string{} // package dir → binary
	buildDir string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildBinary builds the command in dir (relative to this package) once
// per test run and returns the binary's path.
func buildBinary(t testing.TB, dir string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := builds[dir]; ok {
		return bin
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "oauth-example-bin-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	name := filepath.Base(filepath.Clean(dir))
	if name == "." {
		name = "server"
	}
	bin := filepath.Join(buildDir, name)
	args := []string{"build", "-o", bin}
	if raceEnabled {
		// The programs run in processes of their own: build them with the
		// race detector too, or go test -race would not check them at all.
		// A race makes a program exit 66, which stop and wait report.
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, dir)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	builds[dir] = bin
	return bin
}

// raceEnabled is set by race_test.go when the tests run with -race.
var raceEnabled bool

// serverBinary builds this package's command.
func serverBinary(t testing.TB) string { return buildBinary(t, ".") }

func inCI() bool { return os.Getenv("CI") == "true" }

// need skips the test outside CI, and fails it in CI, when a prerequisite
// is missing.
func need(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if inCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}

// instance is a running server process.
type instance struct {
	base   string // http://127.0.0.1:PORT
	issuer string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan error
	ready  chan [2]string
	exited bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingLine = regexp.MustCompile(`^serving (\S+) on (http://\S+)$`)

// startServer runs the binary with the global flags args (-addr defaults
// to a free port) and waits until it serves. The process is stopped with
// SIGTERM at the end of the test, which must make it exit 0.
func startServer(t testing.TB, args ...string) *instance {
	t.Helper()
	inst := spawnServer(t, args...)
	inst.await(t)
	return inst
}

// spawnServer starts the binary without waiting for it to serve.
func spawnServer(t testing.TB, args ...string) *instance {
	t.Helper()
	bin := serverBinary(t)
	if !slices.Contains(args, "-addr") {
		args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	}
	args = append([]string{"-key-reload", "1s", "-device-interval", "1s"}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv()
	inst := &instance{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1), ready: make(chan [2]string, 1)}
	cmd.Stderr = inst.stderr
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
			line := sc.Text()
			inst.stdout.Write([]byte(line + "\n"))
			if m := servingLine.FindStringSubmatch(line); m != nil {
				inst.ready <- [2]string{m[1], m[2]}
			}
		}
		inst.done <- cmd.Wait()
	}()
	t.Cleanup(func() { inst.stop(t) })
	return inst
}

// await waits until the server serves.
func (inst *instance) await(t testing.TB) {
	t.Helper()
	select {
	case m := <-inst.ready:
		inst.issuer, inst.base = m[0], m[1]
	case err := <-inst.done:
		inst.exited = true
		t.Fatalf("server exited before serving: %v\nstdout:\n%s\nstderr:\n%s", err, inst.stdout, inst.stderr)
	case <-time.After(90 * time.Second):
		t.Fatalf("server did not start within 90 s\nstderr:\n%s", inst.stderr)
	}
}

// logHas waits up to 10 s for the server's log (stderr) to contain s: it
// arrives through a pipe of its own, maybe after the stdout line that
// said the server is serving.
func (inst *instance) logHas(s string) bool {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(inst.stderr.String(), s) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// stop sends SIGTERM and requires a clean exit.
func (inst *instance) stop(t testing.TB) {
	t.Helper()
	if inst.exited || inst.cmd.ProcessState != nil {
		return
	}
	inst.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-inst.done:
		if err != nil {
			t.Errorf("server exit after SIGTERM: got %v; want exit status 0\nstderr:\n%s", err, tail(inst.stderr.String(), 3000))
		}
		if !strings.Contains(inst.stderr.String(), "msg=stopped") {
			t.Errorf("server log after SIGTERM lacks msg=stopped\nstderr:\n%s", tail(inst.stderr.String(), 3000))
		}
	case <-time.After(20 * time.Second):
		inst.cmd.Process.Kill()
		t.Errorf("server did not stop within 20 s of SIGTERM")
	}
	if t.Failed() {
		t.Logf("server %s log:\n%s", inst.base, tail(inst.stderr.String(), 6000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// cleanEnv is the environment without the server's own OAUTH_ variables,
// so that the developer's settings do not leak into tests.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OAUTH_") && !strings.HasPrefix(kv, "OAUTH_TEST_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runCLI runs the binary with args and returns its stdout, stderr and exit
// code.
func runCLI(t testing.TB, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(serverBinary(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("run %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// runCLIStdin is runCLI with stdin as the command's standard input.
func runCLIStdin(t testing.TB, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(serverBinary(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), 0
}

// mustCLI runs a command that must succeed.
func mustCLI(t testing.TB, db string, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, nil, append([]string{"-db", db}, args...)...)
	if code != 0 {
		t.Fatalf("server %s: exit %d; want 0\nstderr: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// Databases.

func sqliteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "oauth.db")
}

// mysqlURL creates a fresh database oauth_example_NAME on the server of
// OAUTH_TEST_MYSQL_DSN and returns its mysql:// URL.
func mysqlURL(t testing.TB, name string) string {
	t.Helper()
	dsn := os.Getenv("OAUTH_TEST_MYSQL_DSN")
	if dsn == "" {
		need(t, "OAUTH_TEST_MYSQL_DSN is not set")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("OAUTH_TEST_MYSQL_DSN: %v", err)
	}
	db := "oauth_example_" + name
	cfg.DBName = ""
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.PingContext(ctx); err != nil {
		need(t, "MySQL/MariaDB at %s is unreachable: %v", cfg.Addr, err)
	}
	for _, q := range []string{"DROP DATABASE IF EXISTS " + db, "CREATE DATABASE " + db} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		c, err := sql.Open("mysql", cfg.FormatDSN())
		if err == nil {
			c.Exec("DROP DATABASE IF EXISTS " + db)
			c.Close()
		}
	})
	u := url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + db}
	if cfg.Passwd != "" {
		u.User = url.UserPassword(cfg.User, cfg.Passwd)
	} else if cfg.User != "" {
		u.User = url.User(cfg.User)
	}
	return u.String()
}

// postgresURL creates a fresh database oauth_example_NAME on the server of
// OAUTH_TEST_POSTGRES_DSN and returns its postgres:// URL.
func postgresURL(t testing.TB, name string) string {
	t.Helper()
	dsn := os.Getenv("OAUTH_TEST_POSTGRES_DSN")
	if dsn == "" {
		need(t, "OAUTH_TEST_POSTGRES_DSN is not set")
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("OAUTH_TEST_POSTGRES_DSN must be a postgres:// URL, got %q", dsn)
	}
	db := "oauth_example_" + name
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.PingContext(ctx); err != nil {
		need(t, "PostgreSQL at %s is unreachable: %v", u.Host, err)
	}
	for _, q := range []string{"DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "CREATE DATABASE " + db} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", dsn)
		if err == nil {
			c.Exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)")
			c.Close()
		}
	})
	v := *u
	v.Path = "/" + db
	return v.String()
}

// backends are the databases every flow runs on.
var backends = []struct {
	name string
	url  func(t testing.TB, name string) string
}{
	{"sqlite", func(t testing.TB, _ string) string { return sqliteURL(t) }},
	{"mysql", mysqlURL},
	{"postgres", postgresURL},
}

// A browser: an http.Client with a cookie jar that does not follow
// redirects, so that each step can be checked (and sent to any instance:
// cookies do not depend on the port).

type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return resp, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// hiddenFields returns the hidden inputs of the page's main form (not the
// sign-out form of the header), unescaped.
func hiddenFields(t *testing.T, body string) url.Values {
	t.Helper()
	if _, main, ok := strings.Cut(body, "<main>"); ok {
		body = main
	}
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if v.Get("csrf_token") == "" {
		t.Fatalf("page has no csrf_token field:\n%s", tail(body, 2000))
	}
	return v
}

// expectRedirect checks a 302/303 and returns the Location resolved
// against base.
func expectRedirect(t *testing.T, resp *http.Response, body, base string) string {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("%s %s: got status %d; want a redirect\n%s", resp.Request.Method, resp.Request.URL, resp.StatusCode, tail(body, 2000))
	}
	loc := resp.Header.Get("Location")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	l, err := u.Parse(loc)
	if err != nil {
		t.Fatalf("bad Location %q: %v", loc, err)
	}
	return l.String()
}

// signIn walks the sign-in page at base, starting from a redirect to it,
// and returns where the server sends the browser afterwards.
func (b *browser) signIn(loginURL, base, username, password string) string {
	t := b.t
	t.Helper()
	resp, body := b.get(loginURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got %d; want 200", loginURL, resp.StatusCode)
	}
	form := hiddenFields(t, body)
	form.Set("username", username)
	form.Set("password", password)
	resp, body = b.post(base+"/login", form)
	return expectRedirect(t, resp, body, base)
}

// at rewrites u to be served by base (another instance).
func at(base, u string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	b, _ := url.Parse(base)
	p.Scheme, p.Host = b.Scheme, b.Host
	return p.String()
}
