package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/sqlstore"
	"github.com/oauthkit/oauth/tokens"
)

// usageError is an error in how a command was called: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// listFlag is a flag that may be repeated; each use adds a value.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// command is one administration subcommand.
type command struct {
	name  string // "client create"
	usage string // its flags, for the usage line
	flags func(fs *flag.FlagSet) func(ctx context.Context, env *adminEnv) error
}

// adminEnv is what a command works with.
type adminEnv struct {
	cfg    *config
	store  *sqlstore.Store
	target dbTarget
	in     io.Reader // read by -secret - and -password -
	out    io.Writer
}

var commands = []command{
	{"client create", `-id ID [-secret S|-] -name N -redirect-uri URI... -grant TYPE... -scope "a b" [-public]`, clientCreate},
	{"client list", "", noFlags(clientList)},
	{"client delete", "-id ID", clientDelete},
	{"client rotate-secret", "-id ID", clientRotateSecret},
	{"scope create", "-id ID -description D", scopeCreate},
	{"scope list", "", noFlags(scopeList)},
	{"user create", "-username U -password P|-", userCreate},
	{"keys rotate", "[-alg ES256|RS256|EdDSA] [-publish-ahead D] [-retain D]", keysRotate},
	{"keys list", "", noFlags(keysList)},
	{"purge", "", noFlags(purge)},
}

func noFlags(fn func(ctx context.Context, env *adminEnv) error) func(*flag.FlagSet) func(context.Context, *adminEnv) error {
	return func(*flag.FlagSet) func(context.Context, *adminEnv) error { return fn }
}

// admin runs the subcommand in args and returns the exit code.
func admin(ctx context.Context, cfg *config, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cmd *command
	var rest []string
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			cmd, rest = &commands[i], args[len(words):]
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "server: unknown command %q (run with -h for the list)\n", strings.Join(args, " "))
		return exitUsage
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fn := cmd.flags(fs)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, strings.TrimSpace("Usage: server [flags] "+cmd.name+" "+cmd.usage))
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return exitOK
		}
		fmt.Fprintf(stderr, "server: %s: %v (usage: %s)\n", cmd.name, err, strings.TrimSpace(cmd.name+" "+cmd.usage))
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "server: %s: unexpected argument %q (usage: %s)\n", cmd.name, fs.Arg(0), strings.TrimSpace(cmd.name+" "+cmd.usage))
		return exitUsage
	}
	target, err := parseDBURL(cfg.db)
	if err != nil {
		fmt.Fprintf(stderr, "server: %v\n", err)
		return exitUsage
	}
	openCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	store, err := openStore(openCtx, target)
	if err != nil {
		fmt.Fprintf(stderr, "server: %s: %v\n", cmd.name, oneLine(err))
		return exitError
	}
	defer store.Close()
	if err := fn(ctx, &adminEnv{cfg: cfg, store: store, target: target, in: stdin, out: stdout}); err != nil {
		fmt.Fprintf(stderr, "server: %s: %v\n", cmd.name, oneLine(err))
		var ue *usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitError
	}
	return exitOK
}

// grantAliases maps what an administrator may type to grant types.
var grantAliases = map[string]string{
	"authorization_code":  oauth.GrantAuthorizationCode,
	"client_credentials":  oauth.GrantClientCredentials,
	"refresh_token":       oauth.GrantRefreshToken,
	"device_code":         oauth.GrantDeviceCode,
	oauth.GrantDeviceCode: oauth.GrantDeviceCode,
	"password":            oauth.GrantPassword,
}

// minSecretLen is the shortest client secret an administrator may choose:
// the token endpoint does not throttle guesses of client secrets, so a
// chosen one must be too long to guess. Generated ones have 256 bits.
const minSecretLen = 16

// readValue reads a secret given as "-": the first line of in, without
// its line ending.
func readValue(in io.Reader, flagName string) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s -: read standard input: %w", flagName, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("%s -: standard input holds no value on its first line", flagName)
	}
	return line, nil
}

// hasControl reports whether s holds a control character (a newline, an
// escape sequence), which has no place in a name shown to users.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// checkRedirectURI refuses a redirect URI that no authorization request
// could use, or that should not be a redirection target: it must be an
// absolute URI without a fragment (RFC 6749 §3.1.2); an http(s) one needs
// a host and no user information; schemes that run or show content in
// the browser are refused. Other schemes are private-use schemes of native
// apps (RFC 8252 §7.1).
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return usagef("-redirect-uri %q is not a URI: %v", s, errors.Unwrap(err))
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case strings.Contains(s, "#"):
		return usagef("-redirect-uri %q must not have a fragment (RFC 6749 §3.1.2)", s)
	case scheme == "":
		return usagef("-redirect-uri %q must be an absolute URI, as in https://app.example/callback", s)
	case slices.Contains([]string{"javascript", "data", "vbscript", "file", "blob", "about", "filesystem"}, scheme):
		return usagef("-redirect-uri %q: scheme %q is not allowed", s, scheme)
	case scheme == "http" || scheme == "https":
		if u.Host == "" {
			return usagef("-redirect-uri %q needs a host", s)
		}
		if u.User != nil {
			return usagef("-redirect-uri %q must not have user information", s)
		}
	}
	return nil
}

// splitScopes splits each value on spaces: -scope "a b" -scope c.
func splitScopes(values []string) []string {
	var out []string
	for _, v := range values {
		for s := range strings.FieldsSeq(v) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func clientCreate(fs *flag.FlagSet) func(context.Context, *adminEnv) error {
	id := fs.String("id", "", "client `ID` (required)")
	secret := fs.String("secret", "", "client `secret` of at least 16 characters, or - to read it from standard input (a value given here shows in the process list); without it a 256-bit secret is generated and printed once")
	name := fs.String("name", "", "`name` shown to users (required)")
	public := fs.Bool("public", false, "a public client (no secret; PKCE required)")
	var redirects, grantsF, scopes listFlag
	fs.Var(&redirects, "redirect-uri", "redirect `URI` (repeat for several)")
	fs.Var(&grantsF, "grant", "grant `type`: authorization_code, refresh_token, client_credentials, device_code, password (repeat for several)")
	fs.Var(&scopes, "scope", "space-separated `scopes` the client may request (repeatable)")
	return func(ctx context.Context, env *adminEnv) error {
		switch {
		case *id == "":
			return usagef("-id is required")
		case *name == "":
			return usagef("-name is required")
		case hasControl(*name):
			return usagef("-name must not contain control characters")
		case *public && *secret != "":
			return usagef("a -public client has no -secret")
		}
		for _, u := range redirects {
			if err := checkRedirectURI(u); err != nil {
				return err
			}
		}
		if *secret == "-" {
			s, err := readValue(env.in, "-secret")
			if err != nil {
				return err
			}
			*secret = s
		}
		if *secret != "" && len(*secret) < minSecretLen {
			return usagef("-secret must be at least %d characters (or leave it out to have one generated)", minSecretLen)
		}
		c := &oauth.Client{ID: *id, Name: *name, RedirectURIs: redirects, Confidential: !*public}
		for _, g := range grantsF {
			t, ok := grantAliases[g]
			if !ok {
				return usagef("unknown -grant %q: use authorization_code, refresh_token, client_credentials, device_code or password", g)
			}
			if !slices.Contains(c.GrantTypes, t) {
				c.GrantTypes = append(c.GrantTypes, t)
			}
		}
		if c.AllowsGrant(oauth.GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
			return usagef("the authorization_code grant needs at least one -redirect-uri")
		}
		if *public && c.AllowsGrant(oauth.GrantClientCredentials) {
			return usagef("a public client cannot use the client_credentials grant")
		}
		c.Scopes = splitScopes(scopes)
		for _, s := range c.Scopes {
			if !oauth.ValidScopeToken(s) {
				return usagef("scope %q is not a valid scope token", s)
			}
		}
		known, err := env.store.FindScopes(ctx, c.Scopes)
		if err != nil {
			return err
		}
		if len(known) != len(c.Scopes) {
			for _, s := range c.Scopes {
				if !slices.ContainsFunc(known, func(k oauth.Scope) bool { return k.ID == s }) {
					return fmt.Errorf("scope %q does not exist: create it first with scope create -id %s -description …", s, s)
				}
			}
		}
		shown := ""
		switch {
		case *public:
		case *secret != "":
			if c.SecretHash, err = oauth.HashSecret(*secret); err != nil {
				return err
			}
		default:
			if shown, c.SecretHash, err = oauth.GenerateSecret(); err != nil {
				return err
			}
		}
		if err := env.store.CreateClient(ctx, c); err != nil {
			if errors.Is(err, oauth.ErrDuplicate) {
				return fmt.Errorf("client %q already exists", c.ID)
			}
			return err
		}
		kind := "confidential"
		if *public {
			kind = "public"
		}
		fmt.Fprintf(env.out, "created %s client %s\n", kind, c.ID)
		if shown != "" {
			fmt.Fprintf(env.out, "client_secret: %s\n(shown once: only its hash is stored)\n", shown)
		}
		return nil
	}
}

func clientList(ctx context.Context, env *adminEnv) error {
	clients, err := env.store.ListClients(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tNAME\tGRANTS\tSCOPES\tREDIRECT URIS")
	for _, c := range clients {
		kind := "confidential"
		if c.Public() {
			kind = "public"
		}
		gs := make([]string, len(c.GrantTypes))
		for i, g := range c.GrantTypes {
			gs[i] = strings.TrimPrefix(g, "urn:ietf:params:oauth:grant-type:")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, kind, c.Name, dash(strings.Join(gs, ",")),
			dash(strings.Join(c.Scopes, " ")), dash(strings.Join(c.RedirectURIs, " ")))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clientDelete(fs *flag.FlagSet) func(context.Context, *adminEnv) error {
	id := fs.String("id", "", "client `ID` (required)")
	return func(ctx context.Context, env *adminEnv) error {
		if *id == "" {
			return usagef("-id is required")
		}
		if err := env.store.DeleteClient(ctx, *id); err != nil {
			if errors.Is(err, oauth.ErrNotFound) {
				return fmt.Errorf("no client %q", *id)
			}
			return err
		}
		fmt.Fprintf(env.out, "deleted client %s and every token issued to it\n", *id)
		return nil
	}
}

func clientRotateSecret(fs *flag.FlagSet) func(context.Context, *adminEnv) error {
	id := fs.String("id", "", "client `ID` (required)")
	return func(ctx context.Context, env *adminEnv) error {
		if *id == "" {
			return usagef("-id is required")
		}
		c, err := env.store.FindClient(ctx, *id)
		if errors.Is(err, oauth.ErrNotFound) {
			return fmt.Errorf("no client %q", *id)
		}
		if err != nil {
			return err
		}
		if c.Public() {
			return fmt.Errorf("client %q is public: it has no secret", *id)
		}
		secret, hash, err := oauth.GenerateSecret()
		if err != nil {
			return err
		}
		c.SecretHash, c.UpdatedAt = hash, time.Time{}
		if err := env.store.UpdateClient(ctx, c); err != nil {
			return err
		}
		fmt.Fprintf(env.out, "new client_secret for %s: %s\n(shown once; the old secret no longer works)\n", c.ID, secret)
		return nil
	}
}

func scopeCreate(fs *flag.FlagSet) func(context.Context, *adminEnv) error {
	id := fs.String("id", "", "scope `ID`, as sent on the wire (required)")
	desc := fs.String("description", "", "`text` shown on consent pages")
	return func(ctx context.Context, env *adminEnv) error {
		if *id == "" {
			return usagef("-id is required")
		}
		if hasControl(*desc) {
			return usagef("-description must not contain control characters")
		}
		s := &oauth.Scope{ID: *id, Description: *desc}
		if err := env.store.CreateScope(ctx, s); err != nil {
			if errors.Is(err, oauth.ErrDuplicate) {
				return fmt.Errorf("scope %q already exists", *id)
			}
			return err
		}
		fmt.Fprintf(env.out, "created scope %s\n", s.ID)
		return nil
	}
}

func scopeList(ctx context.Context, env *adminEnv) error {
	scopes, err := env.store.ListScopes(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDESCRIPTION")
	for _, s := range scopes {
		fmt.Fprintf(tw, "%s\t%s\n", s.ID, dash(s.Description))
	}
	return tw.Flush()
}

func userCreate(fs *flag.FlagSet) func(context.Context, *adminEnv) error {
	username := fs.String("username", "", "`name` to sign in with (required)")
	password := fs.String("password", "", fmt.Sprintf("`password`, at least %d characters, or - to read it from standard input (a value given here shows in the process list) (required)", minPasswordLen))
	return func(ctx context.Context, env *adminEnv) error {
		if *username == "" || *password == "" {
			return usagef("-username and -password are required")
		}
		if *password == "-" {
			p, err := readValue(env.in, "-password")
			if err != nil {
				return err
			}
			*password = p
		}
		id, err := newUserStore(env.store.DB()).create(ctx, *username, *password)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.out, "created user %s (id %s)\n", *username, id)
		return nil
	}
}

func keysRotate(fs *flag.FlagSet) func(context.Context, *adminEnv) error {
	alg := fs.String("alg", "", "`algorithm` of the new key (default: that of the current key)")
	ahead := fs.Duration("publish-ahead", 10*time.Minute, "publish the new key this `long` before it signs (longer than any JWKS cache)")
	retain := fs.Duration("retain", 0, "keep the replaced key published this `long` after (default: -access-token-lifetime + 5m)")
	return func(ctx context.Context, env *adminEnv) error {
		switch *alg {
		case "", tokens.ES256, tokens.RS256, tokens.EdDSA:
		default:
			return usagef("-alg %q: use ES256, RS256 or EdDSA", *alg)
		}
		if *ahead < 0 || *retain < 0 {
			return usagef("-publish-ahead and -retain must not be negative")
		}
		if *retain == 0 {
			*retain = env.cfg.accessTokenLifetime + 5*time.Minute
		}
		ks := &keyStore{db: env.store.DB(), dialect: env.target.dialect}
		if _, _, err := ks.loadOrCreate(ctx, env.cfg.keyAlg); err != nil {
			return err
		}
		kid, err := ks.rotate(ctx, *alg, *ahead, *retain)
		if err != nil {
			return err
		}
		at := time.Now().Add(*ahead).UTC().Format(time.RFC3339)
		fmt.Fprintf(env.out, "new key %s is published now and signs from %s; running servers pick it up within -key-reload\n", kid, at)
		return nil
	}
}

func keysList(ctx context.Context, env *adminEnv) error {
	ks := &keyStore{db: env.store.DB(), dialect: env.target.dialect}
	data, version, err := ks.load(ctx)
	if errors.Is(err, errNoKeySet) {
		fmt.Fprintln(env.out, "no signing keys yet: the server creates them on its first start")
		return nil
	}
	if err != nil {
		return err
	}
	set := new(tokens.KeySet)
	if err := set.UnmarshalJSON(data); err != nil {
		return err
	}
	signing, _ := set.SigningKey()
	keys, err := describeKeys(data)
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(env.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "KID\tALG\tSTATE\tSIGNS FROM\tWITHDRAWN AT\n")
	for _, k := range keys {
		state := "published"
		switch {
		case k.Kid == signing:
			state = "signing"
		case !k.Activates.IsZero() && k.Activates.After(now):
			state = "next"
		case !k.Expires.IsZero() && !k.Expires.After(now):
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Kid, k.Alg, state, fmtTime(k.Activates), fmtTime(k.Expires))
	}
	fmt.Fprintf(tw, "(key set version %d)\n", version)
	return tw.Flush()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func purge(ctx context.Context, env *adminEnv) error {
	now := time.Now()
	s := env.store
	// Refresh tokens first: an access token that a live refresh token
	// refers to is kept.
	steps := []struct {
		what string
		fn   func(context.Context, time.Time) (int64, error)
	}{
		{"refresh tokens", s.PurgeRefreshTokens},
		{"access tokens", s.PurgeAccessTokens},
		{"authorization codes", s.PurgeAuthCodes},
		{"device codes", s.PurgeDeviceCodes},
		{"sessions", (&sessionStore{db: s.DB()}).purge},
		{"consent tickets", (&consentStore{db: s.DB()}).purge},
		{"sign-in throttle counts", func(ctx context.Context, t time.Time) (int64, error) { return purgeThrottle(ctx, s.DB(), t) }},
	}
	for _, st := range steps {
		n, err := st.fn(ctx, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.out, "purged %d expired %s\n", n, st.what)
	}
	return nil
}
