package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
)

// TestBrowser drives headless Chromium (Debian's chromium, through
// playwright-core from testdata/browser) over the real server: sign-in →
// consent → redirect with a code, and the device page → approval. The
// screenshots are saved in testdata/artifacts/browser/ at the repository
// root. It needs node, /usr/bin/chromium (or $CHROMIUM) and
// `npm ci --prefix testdata/browser`; under CI=true their absence fails the
// test.
func TestBrowser(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		need(t, "node is not installed")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		need(t, "chromium is not installed at %s (apt-get install -y chromium)", chromium)
	}
	dir, err := filepath.Abs("../../testdata/browser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		need(t, "playwright-core is not installed: run npm ci --prefix testdata/browser")
	}
	artifacts, err := filepath.Abs("../../testdata/artifacts/browser")
	if err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(artifacts, "*.png"))
	for _, f := range old {
		os.Remove(f)
	}

	inst := startServer(t, "-db", sqliteURL(t))
	da, err := deviceConfig(inst.base).DeviceAuth(context.Background())
	if err != nil {
		t.Fatalf("device authorization: %v", err)
	}

	state := "browser-" + oauth.HashValue(t.Name())[:8]
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {demoWebID},
		"redirect_uri":  {inst.issuer + pathCallback},
		"scope":         {"profile notes:read"},
		"state":         {state},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "flow.mjs"))
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(),
		"BASE_URL="+inst.base,
		"AUTH_URL="+inst.base+pathAuthz+"?"+q.Encode(),
		"STATE="+state,
		"USER_CODE="+da.UserCode,
		"ARTIFACTS="+artifacts,
		"CHROMIUM="+chromium,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("node flow.mjs: %v\n%s", err, out.String())
	}
	t.Logf("browser test output:\n%s", out.String())

	// The device, polling, receives its tokens: the browser approved it.
	if tok, err := deviceConfig(inst.base).DeviceAccessToken(ctx, da); err != nil || tok.AccessToken == "" {
		t.Errorf("device token after the browser approved: %v", err)
	}
	shots, _ := filepath.Glob(filepath.Join(artifacts, "*.png"))
	if len(shots) != 7 {
		t.Errorf("screenshots in %s: got %d; want 7", artifacts, len(shots))
	}
	for _, f := range shots {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 2000 {
			t.Errorf("screenshot %s is not a plausible PNG (%d bytes, %v)", f, len(b), err)
		}
	}
	if !strings.Contains(out.String(), "screenshots saved in") {
		t.Errorf("flow.mjs did not report where the screenshots are")
	}
	t.Logf("screenshots: %s", artifacts)
}
