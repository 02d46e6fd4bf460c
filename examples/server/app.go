package main

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/sqlstore"
	"github.com/oauthkit/oauth/tokens"
)

//go:embed web
var webFS embed.FS

// app is the host application: its own users, sessions and pages around
// the library's grants.Server.
type app struct {
	cfg      *config
	store    *sqlstore.Store
	users    *userStore
	sessions *sessionStore
	consents *consentStore
	oauth    *grants.Server

	keyStore   *keyStore
	keys       *tokens.KeySet
	keyVersion int64

	pages map[string]*template.Template
	log   *slog.Logger
	// throttle counts password guesses per username and per address, for
	// the sign-in page and the password grant alike.
	throttle *throttle
}

// newApp loads (or creates) the signing keys and configures the grant
// engine over the store.
func newApp(ctx context.Context, cfg *config, store *sqlstore.Store, target dbTarget, log *slog.Logger) (*app, error) {
	ks := &keyStore{db: store.DB(), dialect: target.dialect}
	keys, version, err := ks.loadOrCreate(ctx, cfg.keyAlg)
	if err != nil {
		return nil, err
	}
	a := &app{
		cfg:        cfg,
		store:      store,
		users:      newUserStore(store.DB()),
		sessions:   &sessionStore{db: store.DB(), secure: strings.HasPrefix(cfg.issuer, "https:")},
		consents:   &consentStore{db: store.DB()},
		keyStore:   ks,
		keys:       keys,
		keyVersion: version,
		log:        log,
		throttle:   newThrottle(store.DB(), target.dialect, cfg.throttleAttempts, cfg.throttleWindow),
	}
	// Make the unknown-user hash now, in the background, so that the
	// first sign-in of an unknown username takes no longer than others.
	go a.users.dummyHash()
	if a.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if cfg.demo {
		if err := a.seedDemo(ctx); err != nil {
			return nil, err
		}
	}
	// The metadata advertises the scopes that exist when the server starts.
	scopes, err := store.ListScopes(ctx)
	if err != nil {
		return nil, err
	}
	public := make([]string, len(scopes))
	for i, sc := range scopes {
		public[i] = sc.ID
	}
	gcfg := grants.Config{
		Issuer:               cfg.issuer,
		Clients:              store,
		Scopes:               store,
		AccessTokens:         store,
		RefreshTokens:        store,
		AuthCodes:            store,
		DeviceCodes:          store,
		AccessTokenLifetime:  cfg.accessTokenLifetime,
		RefreshTokenLifetime: cfg.refreshTokenLifetime,
		AuthCodeLifetime:     cfg.authCodeLifetime,
		RefreshGracePeriod:   cfg.refreshGrace,
		// The device flow: the user types the code on this host's page.
		DeviceVerificationURI: cfg.issuer + pathDevice,
		DeviceCodeLifetime:    cfg.deviceCodeLifetime,
		DevicePollInterval:    cfg.deviceInterval,
		// Clients poll on timers that drift by milliseconds (x/oauth2's
		// ticker does); a second of leeway keeps such a poll from being
		// answered slow_down while the interval devices are told is unchanged.
		// (grants wants whole seconds below the interval: at most half of it.)
		DevicePollLeeway:  min(time.Second, (cfg.deviceInterval / 2).Truncate(time.Second)),
		AccessTokenFormat: cfg.format(),
		ErrorPage:         a.authorizeErrorPage,
		Logger:            log,
		// Resource servers (demo-api) may introspect every token; other
		// clients only their own.
		IntrospectionPolicy: grants.IntrospectAny(strings.Fields(cfg.introspectors)...),
		OpaqueTokenAudience: []string{cfg.audience},
		PublicScopes:        public,
	}
	if cfg.passwordGrant {
		gcfg.EnablePasswordGrant = true
		gcfg.UserAuthenticator = a.users
		gcfg.PasswordThrottle = a.passwordThrottle
		gcfg.Hooks.PasswordAuthFailed = a.passwordFailed
	}
	if cfg.format() == grants.AccessTokenJWT {
		gcfg.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Issuer: cfg.issuer, Audience: []string{cfg.audience}}
	}
	if a.oauth, err = grants.New(gcfg); err != nil {
		return nil, err
	}
	return a, nil
}

// Paths of the endpoints, under the issuer.
const (
	oauthPrefix  = "/oauth"
	pathToken    = oauthPrefix + "/token"
	pathAuthz    = oauthPrefix + "/authorize"
	pathJWKS     = oauthPrefix + "/jwks.json"
	pathRevoke   = oauthPrefix + "/revoke"
	pathIntro    = oauthPrefix + "/introspect"
	pathDeviceAz = oauthPrefix + "/device_authorization"
	pathDevice   = "/device"
	pathMetadata = grants.MetadataWellKnown
	pathCallback = "/demo/callback"
)

// handler returns the host's mux with the library's endpoints mounted on
// it, wrapped in request logging and security headers, behind the
// client's address from a trusted proxy's X-Forwarded-For.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	// The library's endpoints: token, authorize (with the host's own
	// handler around ParseAuthorizeRequest, Approve and Deny), revocation,
	// introspection, the JWKS and the metadata.
	a.oauth.Mount(mux, oauthPrefix, http.HandlerFunc(a.authorize))

	// The host's own pages.
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.loginPage)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET "+pathDevice, a.devicePage)
	mux.HandleFunc("POST "+pathDevice, a.deviceLookup)
	mux.HandleFunc("POST "+pathDevice+"/decide", a.deviceDecide)
	mux.HandleFunc("GET "+pathCallback, a.demoCallback)
	mux.HandleFunc("GET /static/style.css", serveCSS)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.store.DB().PingContext(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	return a.cfg.proxies.realClient(a.logRequests(securityHeaders(mux, strings.HasPrefix(a.cfg.issuer, "https:"))))
}

// securityHeaders forbids framing (RFC 9700 §4.16) and sniffing on every
// response, and restricts pages to the server's own stylesheet. With an
// https issuer it also tells browsers to come back over https only (HSTS),
// so that no later visit starts in plain http where a session cookie or a
// code could be seen or a page changed.
func securityHeaders(next http.Handler, https bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if https {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs every request with slog: method, path (never the query,
// which may hold a code), status, size and duration.
func (a *app) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr))
	})
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	b, err := webFS.ReadFile("web/style.css")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

// parsePages parses each page with the layout.
func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range []string{"home", "login", "consent", "device", "device_confirm", "message", "callback"} {
		t, err := template.ParseFS(webFS, "web/layout.html", "web/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// pageData is what every page receives.
type pageData struct {
	Title string
	User  string // the signed-in user's name, "" if none
	CSRF  string
	Error string
	Page  any
}

// render writes a page with the given status. Pages carry CSRF tokens and
// personal data: they are never cached.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		a.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// messagePage is the data of the message page.
type messagePage struct {
	Lines    []string
	Code     string
	Link     string
	LinkText string
}

// message renders a page with a title and a few lines of text.
func (a *app) message(w http.ResponseWriter, r *http.Request, status int, title string, lines ...string) {
	a.render(w, r, status, "message", pageData{Title: title, Page: messagePage{Lines: lines, Link: "/", LinkText: "Home"}})
}

// serverError logs err and renders a page that says nothing about it.
func (a *app) serverError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	a.message(w, r, http.StatusInternalServerError, "Something went wrong", "The server could not complete the request. Please try again.")
}

// authorizeErrorPage is the grants.Config.ErrorPage: the page shown for
// an authorization request that cannot be sent back to its client.
func (a *app) authorizeErrorPage(w http.ResponseWriter, r *http.Request, e *oauth.Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	lines := []string{"The application sent an authorization request that cannot be completed, so you were not sent back to it."}
	if e.Description != "" {
		lines = append(lines, "Reason: "+e.Description+".")
	}
	a.render(w, r, status, "message", pageData{Title: "Authorization error", Page: messagePage{Lines: lines, Code: e.Code, Link: "/", LinkText: "Home"}})
}

// userName returns the signed-in user's name for the page header.
func (a *app) userName(ctx context.Context, sess *session) string {
	if sess == nil || sess.userID == "" {
		return ""
	}
	name, err := a.users.username(ctx, sess.userID)
	if err != nil {
		return ""
	}
	return name
}

// purgeInterval is how often the server deletes the expired rows of its
// own tables.
const purgeInterval = 10 * time.Minute

// purgeExpired deletes the expired sessions, consent tickets and throttle
// counts at once and then every interval, until ctx ends. Visitors create
// them without signing in (an anonymous session per cookieless visit of
// the sign-in page), so the server cleans up after them instead of
// leaving it to an administrator's purge. Every instance does; the
// deletes are idempotent.
func (a *app) purgeExpired(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		now := time.Now()
		for what, purge := range map[string]func(context.Context, time.Time) (int64, error){
			"sessions":        a.sessions.purge,
			"consent tickets": a.consents.purge,
			"throttle counts": func(ctx context.Context, t time.Time) (int64, error) { return purgeThrottle(ctx, a.store.DB(), t) },
		} {
			n, err := purge(ctx, now)
			switch {
			case err != nil && ctx.Err() == nil:
				a.log.Warn("purge expired rows", "what", what, "err", err)
			case n > 0:
				a.log.Debug("purged expired rows", "what", what, "rows", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// passwordThrottle refuses password grant requests for a username, or
// from an address, with too many recent failures. The library's hooks
// check before and count after the password is checked, so concurrent
// guesses can each pass the check (the sign-in page counts before).
func (a *app) passwordThrottle(ctx context.Context, at grants.PasswordAttempt) error {
	ok, err := a.throttle.allowed(ctx, userKey(at.Username), addrKey(hostOf(at.RemoteAddr)))
	if err != nil {
		return err
	}
	if !ok {
		return oauth.NewError(oauth.ErrCodeInvalidGrant, "too many failed attempts; try again later")
	}
	return nil
}

// passwordFailed counts a failed password grant request.
func (a *app) passwordFailed(ctx context.Context, at grants.PasswordAttempt) {
	if err := a.throttle.fail(ctx, userKey(at.Username), addrKey(hostOf(at.RemoteAddr))); err != nil {
		a.log.ErrorContext(ctx, "password grant: count failure", "err", err)
	}
	a.log.WarnContext(ctx, "password grant: wrong credentials", "client_id", at.ClientID, "remote", at.RemoteAddr)
}

func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[:i]
	}
	return addr
}

// remoteHost is the client address a request came from, for throttling.
func remoteHost(r *http.Request) string { return hostOf(r.RemoteAddr) }
