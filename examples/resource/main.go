// Command resource is a small protected API, the resource server of the
// example: it accepts the access tokens that examples/server issues and
// serves routes that need different scopes.
//
//	go run ./examples/resource -issuer http://127.0.0.1:8080
//
// With -tokens jwt (the default, matching the server's default) it verifies
// JWT access tokens locally, with the keys of the server's JWKS, fetched
// once and refreshed as tokens name new keys: the authorization server is
// not called per request. With -tokens opaque it asks the server's
// introspection endpoint (RFC 7662) about every token, authenticating as
// the demo-api client (tokens.Introspector), so that a revoked token is
// refused at once. Both go through the library's bearer-token middleware,
// which answers RFC 6750 challenges.
//
// Routes:
//
//	GET  /api/hello   any valid token: who is calling
//	GET  /api/profile scope profile
//	GET  /api/notes   scope notes:read
//	POST /api/notes   scope notes:write (body: the note's text)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/oauthkit/oauth/tokens"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "resource: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

// config is what the flags set; every flag also reads OAUTH_RESOURCE_<NAME>.
type config struct {
	addr             string
	issuer           string
	audience         string
	mode             string
	jwksURL          string
	introspectionURL string
	clientID         string
	clientSecret     string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("resource", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8081", "`address` to listen on")
	fs.StringVar(&c.issuer, "issuer", "http://127.0.0.1:8080", "the authorization server's issuer `URL`")
	fs.StringVar(&c.audience, "audience", "demo-api", "this API's `identifier`: the aud JWT access tokens must carry")
	fs.StringVar(&c.mode, "tokens", "jwt", "access token `kind`: jwt (verified locally with the JWKS) or opaque (introspection)")
	fs.StringVar(&c.jwksURL, "jwks-url", "", "JWKS `URL` (default: the server metadata's jwks_uri, else ISSUER/oauth/jwks.json)")
	fs.StringVar(&c.introspectionURL, "introspection-url", "", "introspection `URL` (default: the metadata's introspection_endpoint, else ISSUER/oauth/introspect)")
	fs.StringVar(&c.clientID, "client-id", "demo-api", "client `ID` this API introspects with")
	fs.StringVar(&c.clientSecret, "client-secret", "demo-api-secret", "client `secret` this API introspects with")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := "OAUTH_RESOURCE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := os.Getenv(env); v != "" && !set[f.Name] && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = usageError{fmt.Errorf("%s: %v", env, err)}
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if c.mode != "jwt" && c.mode != "opaque" {
		return usageError{fmt.Errorf("-tokens %q: use jwt or opaque", c.mode)}
	}
	c.issuer = strings.TrimSuffix(c.issuer, "/")

	log := slog.New(slog.NewTextHandler(stderr, nil))
	httpc := &http.Client{Timeout: 10 * time.Second}
	discover(ctx, httpc, &c, log)

	v := &tokens.Verifier{Issuer: c.issuer, Audience: c.audience, Leeway: 5 * time.Second}
	if c.mode == "jwt" {
		v.Keys = &tokens.RemoteKeySet{URL: c.jwksURL, Client: httpc}
		v.CacheSize = 1000
	} else {
		// Every token is introspected (Keys is nil) and no answer is
		// cached, so a revoked token is refused on its next use. The
		// Introspector's default client times out after 10 s and follows
		// no redirect.
		in := &tokens.Introspector{URL: c.introspectionURL, ClientID: c.clientID, ClientSecret: c.clientSecret}
		v.Introspect = in.Introspect
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           logRequests(log, newAPI(v, log)),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "issuer", c.issuer, "tokens", c.mode, "jwks", c.jwksURL, "introspection", c.introspectionURL)
	fmt.Fprintf(stdout, "serving the API on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}

// discover fills in the endpoints the flags left empty from the
// authorization server's metadata (RFC 8414), or from the example
// server's paths when there is none.
func discover(ctx context.Context, c *http.Client, cfg *config, log *slog.Logger) {
	var md struct {
		Issuer                string `json:"issuer"`
		JWKSURI               string `json:"jwks_uri"`
		IntrospectionEndpoint string `json:"introspection_endpoint"`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.issuer+"/.well-known/oauth-authorization-server", nil)
	if err == nil {
		resp, err := c.Do(req)
		if err == nil {
			if resp.StatusCode == http.StatusOK {
				json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md)
			}
			if md.Issuer != cfg.issuer {
				// RFC 8414 §3.3: metadata that names another issuer is not used.
				md.JWKSURI, md.IntrospectionEndpoint = "", ""
			}
			resp.Body.Close()
		} else {
			log.Warn("authorization server metadata unavailable; using default endpoints", "err", err)
		}
	}
	if cfg.jwksURL == "" {
		cfg.jwksURL = cmpOr(md.JWKSURI, cfg.issuer+"/oauth/jwks.json")
	}
	if cfg.introspectionURL == "" {
		cfg.introspectionURL = cmpOr(md.IntrospectionEndpoint, cfg.issuer+"/oauth/introspect")
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// newAPI returns the API's routes behind the bearer-token middleware.
func newAPI(v *tokens.Verifier, log *slog.Logger) http.Handler {
	n := &notes{bySubject: map[string][]note{}}
	auth := tokens.Middleware(v, tokens.WithLogger(log))
	mux := http.NewServeMux()
	mux.Handle("GET /api/hello", auth(http.HandlerFunc(hello)))
	mux.Handle("GET /api/profile", auth(tokens.RequireScope("profile")(http.HandlerFunc(profile))))
	mux.Handle("GET /api/notes", auth(tokens.RequireScope("notes:read")(http.HandlerFunc(n.list))))
	mux.Handle("POST /api/notes", auth(tokens.RequireScope("notes:write")(http.HandlerFunc(n.add))))
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func hello(w http.ResponseWriter, r *http.Request) {
	c, _ := tokens.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"message":   "hello, " + c.Subject,
		"subject":   c.Subject,
		"client_id": c.ClientID,
		"scope":     strings.Join(c.Scopes, " "),
		"expires":   c.ExpiresAt.UTC().Format(time.RFC3339),
	})
}

func profile(w http.ResponseWriter, r *http.Request) {
	c, _ := tokens.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"sub": c.Subject, "client_id": c.ClientID})
}

// notes keeps each subject's notes in memory.
type notes struct {
	mu        sync.Mutex
	bySubject map[string][]note
}

type note struct {
	Text    string    `json:"text"`
	Created time.Time `json:"created"`
}

const maxNoteBytes = 4 << 10

func (n *notes) list(w http.ResponseWriter, r *http.Request) {
	c, _ := tokens.FromContext(r.Context())
	n.mu.Lock()
	out := append([]note{}, n.bySubject[c.Subject]...)
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"subject": c.Subject, "notes": out})
}

func (n *notes) add(w http.ResponseWriter, r *http.Request) {
	c, _ := tokens.FromContext(r.Context())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxNoteBytes))
	text := strings.TrimSpace(string(body))
	if err != nil || text == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": fmt.Sprintf("send the note as the body, 1 to %d bytes", maxNoteBytes)})
		return
	}
	nt := note{Text: text, Created: time.Now().UTC()}
	n.mu.Lock()
	list := append(n.bySubject[c.Subject], nt)
	if len(list) > 100 {
		list = list[len(list)-100:]
	}
	n.bySubject[c.Subject] = list
	n.mu.Unlock()
	writeJSON(w, http.StatusCreated, nt)
}

// logRequests logs every request: method, path, status and duration.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
