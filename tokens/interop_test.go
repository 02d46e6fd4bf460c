package tokens_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauth/tokens"
)

// interopDir is the Node interop harness, relative to this package.
const interopDir = "../testdata/interop"

// runInterop runs node <script> in testdata/interop with env added to the
// environment and fails the test unless it exits 0. Without node or
// node_modules the test fails under CI=true and is skipped otherwise.
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

// TestInteropJWTAccessToken: CONFORMANCE item 56. oauth4webapi's
// validateJwtAccessToken accepts fresh tokens of each algorithm, fetching
// the JWKS over loopback from KeySet.Handler().
func TestInteropJWTAccessToken(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuer := srv.URL // the issuer is the server, as in production
	for _, alg := range algs {
		ks := newKeySet(t, alg, nil)
		iss := &tokens.JWTIssuer{Keys: ks, Issuer: issuer, Audience: []string{testAudience}}
		mux.Handle("GET /"+alg+"/jwks", ks.Handler())
		mux.HandleFunc("GET /"+alg+"/token", func(w http.ResponseWriter, r *http.Request) {
			tok, err := iss.Issue(&tokens.Claims{
				Subject: "user-1", ClientID: "client-1", Scopes: []string{"read", "write"},
				ExpiresAt: time.Now().Add(5 * time.Minute),
			})
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			io.WriteString(w, tok)
		})
	}
	runInterop(t, "jwt-access-token.mjs", map[string]string{
		"INTEROP_BASE_URL": srv.URL,
		"INTEROP_ISSUER":   issuer,
		"INTEROP_AUDIENCE": testAudience,
		"INTEROP_ALGS":     strings.Join(algs, ","),
	})
}
