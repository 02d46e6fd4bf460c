// Command client is a command-line OAuth client built on
// golang.org/x/oauth2. It obtains a token from examples/server with one of
// two flows, then calls the API of examples/resource with it:
//
//	go run ./examples/client -flow code     # authorization code + PKCE
//	go run ./examples/client -flow device   # device authorization grant
//
// The code flow listens on a loopback port of 127.0.0.1 for the redirect
// (RFC 8252 §7.3) and prints the URL to open; it opens nothing by itself.
// The device flow prints the code and the page to enter it on, and polls
// the token endpoint until the user has decided.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		if errors.As(err, new(usageError)) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

type config struct {
	issuer   string
	flow     string
	clientID string
	scope    string
	api      string
	note     string
	timeout  time.Duration
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var c config
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.StringVar(&c.issuer, "issuer", "http://127.0.0.1:8080", "the authorization server's issuer `URL`")
	fs.StringVar(&c.flow, "flow", "code", "`flow`: code (authorization code + PKCE) or device")
	fs.StringVar(&c.clientID, "client-id", "", "client `ID` (default demo-cli for code, demo-device for device)")
	fs.StringVar(&c.scope, "scope", "profile notes:read notes:write", "space-separated `scopes` to request")
	fs.StringVar(&c.api, "api", "http://127.0.0.1:8081", "base `URL` of the resource API; empty to skip calling it")
	fs.StringVar(&c.note, "note", "", "`text` of a note to post to the API (needs notes:write)")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "how `long` to wait for the user")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	c.issuer = strings.TrimSuffix(c.issuer, "/")
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	// Every call of the client library goes through this HTTP client.
	httpc := &http.Client{Timeout: 30 * time.Second}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, httpc)

	ep := discover(ctx, httpc, c.issuer)
	conf := &oauth2.Config{Endpoint: ep, Scopes: strings.Fields(c.scope)}

	var tok *oauth2.Token
	var err error
	switch c.flow {
	case "code":
		conf.ClientID = cmpOr(c.clientID, "demo-cli")
		tok, err = codeFlow(ctx, conf, c.issuer, out)
	case "device":
		conf.ClientID = cmpOr(c.clientID, "demo-device")
		tok, err = deviceFlow(ctx, conf, out)
	default:
		return usageError{fmt.Errorf("-flow %q: use code or device", c.flow)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "got an access token (%s, expires %s, scope %q)", tok.Type(), tok.Expiry.Format(time.RFC3339), tok.Extra("scope"))
	if tok.RefreshToken != "" {
		fmt.Fprint(out, " and a refresh token")
	}
	fmt.Fprintln(out)
	if c.api == "" {
		return nil
	}
	return callAPI(ctx, conf.Client(ctx, tok), strings.TrimSuffix(c.api, "/"), c.note, out)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// discover reads the server's endpoints from its metadata (RFC 8414), or
// assumes the example server's paths when it publishes none.
func discover(ctx context.Context, c *http.Client, issuer string) oauth2.Endpoint {
	ep := oauth2.Endpoint{
		AuthURL:       issuer + "/oauth/authorize",
		TokenURL:      issuer + "/oauth/token",
		DeviceAuthURL: issuer + "/oauth/device_authorization",
		AuthStyle:     oauth2.AuthStyleInParams, // the demo clients are public
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return ep
	}
	resp, err := c.Do(req)
	if err != nil {
		return ep
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ep
	}
	var md struct {
		Issuer                      string `json:"issuer"`
		AuthorizationEndpoint       string `json:"authorization_endpoint"`
		TokenEndpoint               string `json:"token_endpoint"`
		DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md) != nil || md.Issuer != issuer {
		return ep // RFC 8414 §3.3: the metadata must name the issuer it was fetched for
	}
	ep.AuthURL = cmpOr(md.AuthorizationEndpoint, ep.AuthURL)
	ep.TokenURL = cmpOr(md.TokenEndpoint, ep.TokenURL)
	ep.DeviceAuthURL = cmpOr(md.DeviceAuthorizationEndpoint, ep.DeviceAuthURL)
	return ep
}

// codeFlow runs the authorization code flow with PKCE: a loopback
// listener receives the redirect.
func codeFlow(ctx context.Context, conf *oauth2.Config, issuer string, out io.Writer) (*oauth2.Token, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	conf.RedirectURL = fmt.Sprintf("http://%s/callback", ln.Addr())
	verifier := oauth2.GenerateVerifier()
	state := rand.Text()

	type result struct {
		code string
		err  error
	}
	results := make(chan result, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != state:
			// Not the answer to our request: ignore it, keep waiting.
			http.Error(w, "unexpected state", http.StatusBadRequest)
			return
		case q.Get("iss") != "" && q.Get("iss") != issuer: // RFC 9207
			res.err = fmt.Errorf("the response came from issuer %q, not %q", q.Get("iss"), issuer)
		case q.Get("error") != "":
			res.err = fmt.Errorf("authorization failed: %s %s", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			res.err = errors.New("the redirect carried no code")
		default:
			res.code = q.Get("code")
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if res.err != nil {
			fmt.Fprintln(w, "Authorization failed. You can close this window.")
		} else {
			fmt.Fprintln(w, "Signed in. You can close this window and return to the terminal.")
		}
		select {
		case results <- res:
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	fmt.Fprintf(out, "Open this URL in your browser to sign in:\n\n  %s\n\nwaiting for the redirect to %s …\n", authURL, conf.RedirectURL)

	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the redirect: %w", ctx.Err())
	case res := <-results:
		if res.err != nil {
			return nil, res.err
		}
		tok, err := conf.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
		if err != nil {
			return nil, fmt.Errorf("exchange the code: %w", err)
		}
		return tok, nil
	}
}

// deviceFlow runs the device authorization grant (RFC 8628).
func deviceFlow(ctx context.Context, conf *oauth2.Config, out io.Writer) (*oauth2.Token, error) {
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	fmt.Fprintf(out, "On another device, go to\n\n  %s\n\nand enter the code\n\n  %s\n\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(out, "(or open %s)\n\n", da.VerificationURIComplete)
	}
	interval := da.Interval
	if interval <= 0 {
		interval = 5 // RFC 8628 §3.2's default
	}
	fmt.Fprintf(out, "waiting for approval (polling every %ds) …\n", interval)
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		return nil, fmt.Errorf("device flow: %w", err)
	}
	return tok, nil
}

// callAPI calls the resource API with the token's client.
func callAPI(ctx context.Context, c *http.Client, api, note string, out io.Writer) error {
	call := func(method, path, body string) error {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, api+path, rd)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("call the API: %w", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		fmt.Fprintf(out, "%s %s → %d %s\n", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
		if resp.StatusCode >= 400 {
			if ch := resp.Header.Get("WWW-Authenticate"); ch != "" {
				fmt.Fprintf(out, "  WWW-Authenticate: %s\n", ch)
			}
		}
		return nil
	}
	if err := call(http.MethodGet, "/api/hello", ""); err != nil {
		return err
	}
	if note != "" {
		if err := call(http.MethodPost, "/api/notes", note); err != nil {
			return err
		}
	}
	return call(http.MethodGet, "/api/notes", "")
}
