package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/tokens"
)

// config is what the global flags (and their environment variables) set.
type config struct {
	addr   string
	issuer string
	db     string

	accessToken          string // "jwt" or "opaque"
	audience             string
	accessTokenLifetime  time.Duration
	refreshTokenLifetime time.Duration
	authCodeLifetime     time.Duration
	deviceCodeLifetime   time.Duration
	deviceInterval       time.Duration
	refreshGrace         time.Duration

	keyAlg    string
	keyReload time.Duration

	introspectors string
	passwordGrant bool

	throttleAttempts int
	throttleWindow   time.Duration
	trustedProxies   string
	proxies          proxySet // parsed from trustedProxies by check

	demo      bool
	demoSet   bool // -demo (or OAUTH_DEMO) was given, not defaulted
	logFormat string
	logLevel  string
}

// envName is the environment variable of a global flag: -access-token is
// OAUTH_ACCESS_TOKEN.
func envName(flagName string) string {
	return "OAUTH_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// newGlobalFlags returns the flag set of the server and every subcommand.
func newGlobalFlags(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "`address` to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&c.issuer, "issuer", "", "issuer `URL` (default http://ADDR)")
	fs.StringVar(&c.db, "db", "sqlite:oauth-example.db", "database `URL`: sqlite:PATH, mysql://user:pass@host:port/db or postgres://user:pass@host:port/db")
	fs.StringVar(&c.accessToken, "access-token", "jwt", "access token `format`: jwt or opaque")
	fs.StringVar(&c.audience, "audience", "demo-api", "aud of JWT access tokens: the `identifier` of the resource server")
	fs.DurationVar(&c.accessTokenLifetime, "access-token-lifetime", grants.DefaultAccessTokenLifetime, "access token `lifetime`")
	fs.DurationVar(&c.refreshTokenLifetime, "refresh-token-lifetime", grants.DefaultRefreshTokenLifetime, "refresh token `lifetime`")
	fs.DurationVar(&c.authCodeLifetime, "auth-code-lifetime", 5*time.Minute, "authorization code `lifetime` (at most 10m; long enough here to copy the demo's curl command)")
	fs.DurationVar(&c.deviceCodeLifetime, "device-code-lifetime", grants.DefaultDeviceCodeLifetime, "device code `lifetime`")
	fs.DurationVar(&c.deviceInterval, "device-interval", grants.DefaultDevicePollInterval, "least `time` between device polls")
	fs.DurationVar(&c.refreshGrace, "refresh-grace", 0, "`time` after a rotation during which the old refresh token may be retried once (0: never)")
	fs.StringVar(&c.introspectors, "introspectors", "demo-api", "space-separated `client IDs` (resource servers) that may introspect any token")
	fs.BoolVar(&c.passwordGrant, "password-grant", false, "switch on the password grant for clients that list it (not recommended: RFC 9700 §2.4)")
	fs.IntVar(&c.throttleAttempts, "throttle-attempts", defaultThrottleAttempts, "password `attempts` a username, or a client address, may fail per -throttle-window (the sign-in page and the password grant)")
	fs.DurationVar(&c.throttleWindow, "throttle-window", defaultThrottleWindow, "the `window` of -throttle-attempts (at most 24h)")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "space-separated `addresses` and CIDR prefixes of reverse proxies whose X-Forwarded-For names the client")
	fs.StringVar(&c.keyAlg, "key-alg", tokens.ES256, "`algorithm` of generated signing keys: ES256, RS256 or EdDSA")
	fs.DurationVar(&c.keyReload, "key-reload", 30*time.Second, "how `often` to re-read the signing keys from the database")
	fs.BoolVar(&c.demo, "demo", true, "create a demo user, scopes and clients, whose credentials are published, in an empty database (unless given, only when listening on loopback with an http issuer)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.SetOutput(io.Discard)
	return fs
}

// applyEnv sets every flag that the command line left alone from its
// environment variable, if that is set.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// check validates the configuration after parsing.
func (c *config) check() error {
	switch c.accessToken {
	case "jwt", "opaque":
	default:
		return fmt.Errorf("-access-token %q: use jwt or opaque", c.accessToken)
	}
	switch c.keyAlg {
	case tokens.ES256, tokens.RS256, tokens.EdDSA:
	default:
		return fmt.Errorf("-key-alg %q: use ES256, RS256 or EdDSA", c.keyAlg)
	}
	for name, d := range map[string]time.Duration{
		"-access-token-lifetime": c.accessTokenLifetime, "-refresh-token-lifetime": c.refreshTokenLifetime,
		"-auth-code-lifetime": c.authCodeLifetime, "-device-code-lifetime": c.deviceCodeLifetime,
		"-device-interval": c.deviceInterval, "-key-reload": c.keyReload, "-throttle-window": c.throttleWindow,
	} {
		if d <= 0 {
			return fmt.Errorf("%s must be positive, got %v", name, d)
		}
	}
	if c.authCodeLifetime > grants.MaxAuthCodeLifetime {
		return fmt.Errorf("-auth-code-lifetime must be at most %v, got %v", grants.MaxAuthCodeLifetime, c.authCodeLifetime)
	}
	if c.deviceCodeLifetime > grants.MaxDeviceCodeLifetime || c.deviceCodeLifetime <= c.deviceInterval {
		return fmt.Errorf("-device-code-lifetime must exceed -device-interval and be at most %v, got %v", grants.MaxDeviceCodeLifetime, c.deviceCodeLifetime)
	}
	if c.deviceInterval%time.Second != 0 {
		return fmt.Errorf("-device-interval must be whole seconds, got %v", c.deviceInterval)
	}
	if c.throttleAttempts < 1 {
		return fmt.Errorf("-throttle-attempts must be positive, got %d", c.throttleAttempts)
	}
	if c.throttleWindow > maxThrottleWindow {
		return fmt.Errorf("-throttle-window must be at most %v, got %v", maxThrottleWindow, c.throttleWindow)
	}
	var err error
	if c.proxies, err = parseProxies(c.trustedProxies); err != nil {
		return err
	}
	if c.refreshGrace < 0 {
		return fmt.Errorf("-refresh-grace must not be negative, got %v", c.refreshGrace)
	}
	switch c.logFormat {
	case "text", "json":
	default:
		return fmt.Errorf("-log-format %q: use text or json", c.logFormat)
	}
	if _, err := parseDBURL(c.db); err != nil {
		return fmt.Errorf("-db: %w", err)
	}
	if c.issuer != "" {
		if err := checkIssuerURL(c.issuer); err != nil {
			return err
		}
	}
	return nil
}

// checkIssuerURL requires an absolute http(s) URL without query, fragment
// or trailing slash.
func checkIssuerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("-issuer: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(u.Path, "/") {
		return errors.New("-issuer must be an http or https URL without query, fragment or trailing slash, as in http://127.0.0.1:8080")
	}
	return nil
}

func (c *config) format() grants.AccessTokenFormat {
	if c.accessToken == "opaque" {
		return grants.AccessTokenOpaque
	}
	return grants.AccessTokenJWT
}
