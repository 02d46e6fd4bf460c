// Command server is a complete OAuth 2.0 authorization server built on the
// library, in the shape its users have: a host application that imports
// it, mounts its handlers on the host's own mux and keeps its own users,
// sessions and pages.
//
//	go run ./examples/server
//
// starts it on 127.0.0.1:8080 with a SQLite file in the working directory;
// the first start creates the schema, the signing keys, a demo user and
// demo clients, and prints how to try each flow. (The demo credentials are
// published, so a server that listens beyond loopback or has an https
// issuer creates them only when -demo is given.) The same binary serves
// MySQL/MariaDB and PostgreSQL (-db mysql://… or -db postgres://…), and
// administers the database with subcommands:
//
//	server [flags] client create -id ID [-secret S|-] -name N -redirect-uri URI… -grant TYPE… -scope "a b" [-public]
//	server [flags] client list | client delete -id ID | client rotate-secret -id ID
//	server [flags] scope create -id ID -description D | scope list
//	server [flags] user create -username U -password P|-
//	server [flags] keys rotate | keys list
//	server [flags] purge
//
// Every flag has an environment variable: -db is OAUTH_DB, -access-token
// is OAUTH_ACCESS_TOKEN, and so on. Run it with -h for the list. Values on
// the command line are visible to every user of the machine in the process
// list: give a -db URL with a password in OAUTH_DB, and -secret or
// -password as "-" to read them from standard input.
package main

import (
	"context"
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
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run is the whole program; it returns the exit code. Errors are printed
// as one line on stderr. stdin is read only by -secret - and -password -.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	var cfg config
	fs := newGlobalFlags(&cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "server: %v (run with -h for usage)\n", err)
		return exitUsage
	}
	if err := applyEnv(fs, getenv); err != nil {
		fmt.Fprintf(stderr, "server: %v\n", err)
		return exitUsage
	}
	fs.Visit(func(f *flag.Flag) { cfg.demoSet = cfg.demoSet || f.Name == "demo" })
	if err := cfg.check(); err != nil {
		fmt.Fprintf(stderr, "server: %v\n", err)
		return exitUsage
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "serve" {
		if len(rest) > 1 {
			fmt.Fprintf(stderr, "server: serve takes no arguments, got %q\n", rest[1:])
			return exitUsage
		}
		if err := serve(ctx, &cfg, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "server: %v\n", oneLine(err))
			return exitError
		}
		return exitOK
	}
	return admin(ctx, &cfg, rest, stdin, stdout, stderr)
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `Usage: server [flags] [command]

Without a command, serves the authorization server. Commands work on the
database that -db names:

  client create -id ID [-secret S|-] -name N -redirect-uri URI... -grant TYPE... -scope "a b" [-public]
  client list
  client delete -id ID
  client rotate-secret -id ID
  scope create -id ID -description D
  scope list
  user create -username U -password P|-
  keys rotate [-alg ALG] [-publish-ahead D] [-retain D]
  keys list
  purge

Values on the command line are visible to every user of the machine in the
process list (ps) and stay in the shell's history. Give -secret and
-password as - to read them from the first line of standard input, and a
-db URL that holds a password in OAUTH_DB.

Flags (each also read from the environment variable shown):
`)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  -%s %s\n    \t%s (%s", f.Name, name, usage, envName(f.Name))
		if f.DefValue != "" && f.DefValue != "0s" {
			fmt.Fprintf(w, "; default %s", f.DefValue)
		}
		fmt.Fprintln(w, ")")
	})
}

// newLogger returns the process's logger, on stderr.
func newLogger(cfg *config, stderr io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(stderr, opts))
	}
	return slog.New(slog.NewTextHandler(stderr, opts))
}

// serve runs the authorization server until ctx ends (SIGINT or SIGTERM),
// then shuts it down gracefully.
func serve(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	slog.SetDefault(log)
	target, err := parseDBURL(cfg.db)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	if cfg.issuer == "" {
		cfg.issuer = "http://" + addr
	}
	host, _, _ := net.SplitHostPort(addr)
	loopback := net.ParseIP(host).IsLoopback()
	if !loopback {
		log.Warn("listening beyond loopback: serve this through TLS and set -issuer to its https URL", "addr", addr)
	}
	// The demo credentials are published (in this source, on the home
	// page): a server others can reach gets them only when asked.
	reachable := !loopback || strings.HasPrefix(cfg.issuer, "https:")
	if reachable && cfg.demo {
		if !cfg.demoSet {
			cfg.demo = false
			log.Info("not creating the demo data: the server is reachable beyond this machine (pass -demo to create it anyway)")
		} else {
			log.Warn("-demo on a server reachable beyond this machine: the demo user and clients have published credentials")
		}
	}

	openCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	store, err := openStore(openCtx, target)
	if err != nil {
		return err
	}
	defer store.Close()

	a, err := newApp(openCtx, cfg, store, target, log)
	if err != nil {
		return err
	}
	if reachable && !cfg.demo {
		if _, err := store.FindClient(openCtx, demoWebID); err == nil {
			log.Warn("the database holds the demo user and clients, which have published credentials: delete the clients (client delete -id demo-web, then demo-cli, demo-device and demo-api), and do not serve this database to others while the demo user exists")
		}
	}
	cancel()

	reloadCtx, stopReload := context.WithCancel(ctx)
	defer stopReload()
	go a.keyStore.reloadKeys(reloadCtx, a.keys, a.keyVersion, cfg.keyReload, log)
	go a.purgeExpired(reloadCtx, purgeInterval)

	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", addr, "issuer", cfg.issuer, "db", target.display, "access_token", cfg.accessToken)
	if cfg.demo {
		a.printDemo(ctx, stdout)
	}
	// A line tests and scripts can wait for.
	fmt.Fprintf(stdout, "serving %s on http://%s\n", cfg.issuer, addr)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
