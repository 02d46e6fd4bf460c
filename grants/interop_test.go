package grants_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/tokens"
)

// interopDir is the Node interop harness, relative to this package.
const interopDir = "../testdata/interop"

// runInterop runs node <script> in testdata/interop with env added to the
// environment and fails the test unless it exits 0. Without node or
// node_modules the test fails under CI=true and is skipped otherwise.
// (Copied from tokens/interop_test.go, as testdata/interop/README.md says.)
func runInterop(t *testing.T, script string, env map[string]string) {
	t.Helper()
	dir, err := filepath.Abs(interopDir)
	if err != nil {
		t.Fatal(err)
	}
	missing := func(what string) {
		t.Helper()
		msg := what + ": run `npm ci --prefix testdata/interop` (Node 20 or later) to run the interop tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oauth4webapi", "package.json")); err != nil {
		missing("testdata/interop/node_modules is missing")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("node %s: exit code %d; want 0. Output:\n%s", script, exit.ExitCode(), out)
		}
		t.Fatalf("node %s: %v. Output:\n%s", script, err, out)
	}
	t.Logf("node %s:\n%s", script, out)
}

// selfIssuedServer starts an httptest server whose URL is the issuer of the
// fixture it serves, as in production, on the real clock: the Node client
// checks JWT times against its own.
func selfIssuedServer(t *testing.T, configure func(*grants.Config)) (*fixture, *httptest.Server, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	f := newFixture(t, func(c *grants.Config) {
		c.Issuer = ts.URL
		c.Now = time.Now
		if configure != nil {
			configure(c)
		}
	})
	f.store.Now = time.Now
	mux.Handle("/", f.handler)
	return f, ts, mux
}

// TestInteropGrants drives the grants with oauth4webapi: see
// testdata/interop/grants.mjs for the checks.
func TestInteropGrants(t *testing.T) {
	const audience = "https://api.example.com"
	_, opaque, _ := selfIssuedServer(t, nil)
	keys, err := tokens.GenerateKeySet(tokens.ES256)
	if err != nil {
		t.Fatal(err)
	}
	_, jwt, jwtMux := selfIssuedServer(t, func(c *grants.Config) {
		c.AccessTokenFormat = grants.AccessTokenJWT
		c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{audience}}
	})
	jwtMux.Handle("GET /jwks", keys.Handler())
	runInterop(t, "grants.mjs", map[string]string{
		"INTEROP_ISSUER":     opaque.URL,
		"INTEROP_JWT_ISSUER": jwt.URL,
		"INTEROP_AUDIENCE":   audience,
		"INTEROP_C_ID":       idC,
		"INTEROP_C_SECRET":   secretC,
		"INTEROP_C_REDIRECT": redirectC,
		"INTEROP_P_ID":       idP,
		"INTEROP_P_REDIRECT": redirectP,
	})
}
