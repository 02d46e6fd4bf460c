package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/oauthkit/oauth/storage/sqlstore"
)

func TestParseDBURL(t *testing.T) {
	tests := []struct {
		in      string
		driver  string
		dialect sqlstore.Dialect
		dsnHas  []string
		display string
		err     string
	}{
		{in: "sqlite:oauth.db", driver: "sqlite3", dialect: sqlstore.SQLite, dsnHas: []string{"file:oauth.db?", "_foreign_keys=on"}, display: "sqlite:oauth.db"},
		{in: "sqlite:///var/lib/x.db", driver: "sqlite3", dialect: sqlstore.SQLite, dsnHas: []string{"file:/var/lib/x.db?"}},
		{in: "sqlite:a?b#c.db", driver: "sqlite3", dialect: sqlstore.SQLite, dsnHas: []string{"file:a%3fb%23c.db?"}},
		{in: "mysql://root@127.0.0.1:3306/oauth", driver: "mysql", dialect: sqlstore.MySQL,
			dsnHas: []string{"root@tcp(127.0.0.1:3306)/oauth?", "sql_mode=TRADITIONAL", "parseTime=true"}},
		{in: "mysql://u:p%40ss%2Fw@db.local/app?sql_mode=ANSI,STRICT_ALL_TABLES", driver: "mysql", dialect: sqlstore.MySQL,
			dsnHas: []string{"tcp(db.local:3306)/app", "sql_mode=ANSI%2CSTRICT_ALL_TABLES"}, display: "mysql://u:xxxxx@db.local/app?sql_mode=ANSI,STRICT_ALL_TABLES"},
		{in: "postgres://postgres@127.0.0.1:5432/oauth?sslmode=disable", driver: "pgx", dialect: sqlstore.Postgres,
			dsnHas: []string{"postgres://postgres@127.0.0.1:5432/oauth?sslmode=disable"}},
		{in: "postgresql://u:secret@h/db", driver: "pgx", dialect: sqlstore.Postgres, display: "postgresql://u:xxxxx@h/db"},
		{in: "oauth.db", err: "has no scheme"},
		{in: "sqlite:", err: "needs a file path"},
		{in: "sqlite::memory:", err: "not supported"},
		{in: "mysql://127.0.0.1:3306/", err: "one database name"},
		{in: "mysql:///db", err: "needs a host"},
		{in: "postgres:///db", err: "needs a host"},
		{in: "oracle://x/y", err: `scheme "oracle" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDBURL(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v; want an error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.driver != tt.driver || got.dialect != tt.dialect {
				t.Errorf("got driver %q dialect %v; want %q %v", got.driver, got.dialect, tt.driver, tt.dialect)
			}
			for _, s := range tt.dsnHas {
				if !strings.Contains(got.dsn, s) {
					t.Errorf("dsn %q lacks %q", got.dsn, s)
				}
			}
			if tt.display != "" && got.display != tt.display {
				t.Errorf("display: got %q; want %q", got.display, tt.display)
			}
			if strings.Contains(got.display, "secret") || strings.Contains(got.display, "p%40ss") {
				t.Errorf("display %q shows the password", got.display)
			}
			if got.driver == "mysql" {
				cfg, err := mysql.ParseDSN(got.dsn)
				if err != nil {
					t.Fatal(err)
				}
				if tt.in == "mysql://u:p%40ss%2Fw@db.local/app?sql_mode=ANSI,STRICT_ALL_TABLES" && (cfg.User != "u" || cfg.Passwd != "p@ss/w") {
					t.Errorf("credentials: got %q %q; want u p@ss/w", cfg.User, cfg.Passwd)
				}
			}
		})
	}
}

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"":                          "/",
		"/":                         "/",
		"/oauth/authorize?a=b&c=d":  "/oauth/authorize?a=b&c=d",
		"/device?user_code=BCDF-GH": "/device?user_code=BCDF-GH",
		"//evil.example/x":          "/",
		"/\\evil.example":           "/",
		"https://evil.example/":     "/",
		"javascript:alert(1)":       "/",
		"relative/path":             "/",
		"/a\r\nLocation: x":         "/",
		// Encoded and dot-segment variants: a path is accepted only as
		// its plain, canonical self.
		"%2F%2Fevil.example":      "/",
		"/%2F%2Fevil.example":     "/",
		"/%2fevil.example":        "/",
		"/%5Cevil.example":        "/",
		"/%5cevil.example":        "/",
		"/.//evil.example":        "/",
		"/a/..//evil.example":     "/",
		"/./":                     "/",
		"/%0d%0aLocation:x":       "/",
		"/%09/evil.example":       "/",
		"/%00":                    "/",
		"\\evil.example":          "/",
		" //evil.example":         "/",
		"/ /evil.example":         "/",
		"HTTPS://evil.example":    "/",
		"javascript:%2F%2F":       "/",
		"/login?next=//evil":      "/login?next=//evil",
		"/device?user_code=a%26b": "/device?user_code=a%26b",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q): got %q; want %q", in, got, want)
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"unknown flag", []string{"-nope"}, nil, exitUsage, "flag provided but not defined: -nope"},
		{"bad format", []string{"-access-token", "paseto"}, nil, exitUsage, `-access-token "paseto": use jwt or opaque`},
		{"bad env", nil, map[string]string{"OAUTH_ACCESS_TOKEN_LIFETIME": "soon"}, exitUsage, "OAUTH_ACCESS_TOKEN_LIFETIME"},
		{"env checked too", nil, map[string]string{"OAUTH_ACCESS_TOKEN": "paseto"}, exitUsage, `-access-token "paseto"`},
		{"long code", []string{"-auth-code-lifetime", "11m"}, nil, exitUsage, "at most 10m0s"},
		{"issuer with slash", []string{"-issuer", "http://x/"}, nil, exitUsage, "-issuer must be"},
		{"bad db", []string{"-db", "bogus"}, nil, exitUsage, "has no scheme"},
		{"unknown command", []string{"-db", "sqlite:x.db", "frob"}, nil, exitUsage, `unknown command "frob"`},
		{"serve args", []string{"serve", "now"}, nil, exitUsage, "serve takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			code := run(context.Background(), tt.args, strings.NewReader(""), &out, &errb, getenv)
			if code != tt.code {
				t.Errorf("exit: got %d; want %d (stderr %q)", code, tt.code, errb.String())
			}
			if strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("stderr: got %q; want one line containing %q", errb.String(), tt.want)
			}
		})
	}
}

func TestUsageListsEnvironment(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, strings.NewReader(""), &out, &errb, func(string) string { return "" }); code != exitOK {
		t.Fatalf("-h: exit %d; want 0", code)
	}
	for _, want := range []string{"OAUTH_DB", "OAUTH_ADDR", "OAUTH_ISSUER", "OAUTH_ACCESS_TOKEN", "client create", "keys rotate", "purge"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// TestEnvironmentSelectsDatabase checks that OAUTH_DB reaches the admin
// commands as -db does.
func TestEnvironmentSelectsDatabase(t *testing.T) {
	db := sqliteURL(t)
	_, errOut, code := runCLI(t, []string{"OAUTH_DB=" + db}, "scope", "create", "-id", "env:scope")
	if code != 0 {
		t.Fatalf("scope create with OAUTH_DB: exit %d: %s", code, errOut)
	}
	if out := mustCLI(t, db, "scope", "list"); !strings.Contains(out, "env:scope") {
		t.Errorf("scope created through OAUTH_DB is not in %s:\n%s", db, out)
	}
}

func TestForwardedClient(t *testing.T) {
	set, err := parseProxies("10.0.0.1, 192.168.0.0/16 ::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		xff  []string
		want string // "" for none
	}{
		{[]string{"203.0.113.7"}, "203.0.113.7"},
		{[]string{"1.1.1.1, 203.0.113.7, 192.168.3.4"}, "203.0.113.7"},
		{[]string{"1.1.1.1", "203.0.113.7, 10.0.0.1"}, "203.0.113.7"},
		{[]string{"2001:db8::1, ::1"}, "2001:db8::1"},
		{[]string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{[]string{"10.0.0.1, 192.168.1.1"}, ""},
		{[]string{"203.0.113.7, not-an-ip"}, ""},
		{[]string{"203.0.113.7:443"}, ""},
		{nil, ""},
		{[]string{" , "}, ""},
	}
	for _, tt := range tests {
		a, ok := set.client(tt.xff)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("client(%q): got %q; want %q", tt.xff, got, tt.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.1/"} {
		if _, err := parseProxies(bad); err == nil {
			t.Errorf("parseProxies(%q): got no error; want one", bad)
		}
	}
}
