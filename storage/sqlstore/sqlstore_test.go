package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/oauthkit/oauth/storage/sqlstore"
	"github.com/oauthkit/oauth/storage/storagetest"
)

// The environment the tests read. Under CI=true a dialect whose DSN is
// missing or unreachable fails the tests; elsewhere they skip it.
const (
	envMySQL    = "OAUTH_TEST_MYSQL_DSN"    // e.g. root@tcp(127.0.0.1:3306)/oauth_test?parseTime=true
	envPostgres = "OAUTH_TEST_POSTGRES_DSN" // e.g. postgres://postgres@127.0.0.1:5432/oauth_test?sslmode=disable
)

// dialects lists every dialect the tests run on.
var dialects = []sqlstore.Dialect{sqlstore.SQLite, sqlstore.MySQL, sqlstore.Postgres}

func driverOf(d sqlstore.Dialect) string {
	switch d {
	case sqlstore.MySQL:
		return "mysql"
	case sqlstore.Postgres:
		return "pgx"
	}
	return "sqlite3"
}

// forEachDialect runs f as a subtest per dialect.
func forEachDialect(t *testing.T, f func(t *testing.T, d sqlstore.Dialect)) {
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) { f(t, d) })
	}
}

// baseDSN returns the DSN of a server dialect from the environment, or
// skips the test (fails it under CI=true) when it is not set or the server
// does not answer.
func baseDSN(t testing.TB, d sqlstore.Dialect) string {
	t.Helper()
	env := envMySQL
	if d == sqlstore.Postgres {
		env = envPostgres
	}
	dsn := os.Getenv(env)
	if dsn == "" {
		unavailable(t, fmt.Sprintf("%s is not set: %v tests need a server", env, d))
	}
	db, err := sql.Open(driverOf(d), dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		unavailable(t, fmt.Sprintf("%s: %v server unreachable: %v", env, d, err))
	}
	return dsn
}

func unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing database fails the run)")
	}
	t.Skip(msg)
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// newDatabase creates an empty database of the dialect, dropped when the
// test ends, and returns a DSN of it: a file for SQLite, a database for
// MySQL, a schema (via search_path) for PostgreSQL.
func newDatabase(t testing.TB, d sqlstore.Dialect) string {
	t.Helper()
	switch d {
	case sqlstore.SQLite:
		return sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "oauth.db"))
	case sqlstore.MySQL:
		base := baseDSN(t, d)
		cfg, err := mysql.ParseDSN(base)
		if err != nil {
			t.Fatalf("%s: %v", envMySQL, err)
		}
		name := randomName("oauth_t_")
		admin(t, d, base, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
		t.Cleanup(func() { admin(t, d, base, "DROP DATABASE IF EXISTS "+name) })
		cfg.DBName = name
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		if _, ok := cfg.Params["sql_mode"]; !ok {
			cfg.Params["sql_mode"] = "TRADITIONAL" // as the package doc recommends
		}
		return cfg.FormatDSN()
	case sqlstore.Postgres:
		base := baseDSN(t, d)
		name := randomName("oauth_t_")
		admin(t, d, base, "CREATE SCHEMA "+name)
		t.Cleanup(func() { admin(t, d, base, "DROP SCHEMA IF EXISTS "+name+" CASCADE") })
		return withSearchPath(t, base, name)
	}
	t.Fatalf("unknown dialect %v", d)
	return ""
}

// withSearchPath adds a search_path run-time parameter to a pgx DSN, in URL
// or keyword/value form.
func withSearchPath(t testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("%s: %v", envPostgres, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

func admin(t testing.TB, d sqlstore.Dialect, dsn, stmt string) {
	t.Helper()
	db, err := sql.Open(driverOf(d), dsn)
	if err != nil {
		t.Fatalf("open %v: %v", d, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// openDSN opens a store on dsn without migrating; it is closed when the
// test ends. Server pools are capped so that the racing tests stay well
// inside the servers' connection limits.
func openDSN(t testing.TB, d sqlstore.Dialect, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(driverOf(d), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if d != sqlstore.SQLite {
		s.DB().SetMaxOpenConns(16)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openStore returns a migrated, empty store of the dialect.
func openStore(t testing.TB, d sqlstore.Dialect) *sqlstore.Store {
	t.Helper()
	s := openDSN(t, d, newDatabase(t, d))
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// tables lists the store's tables, children before parents.
var tables = []string{
	"oauth_refresh_tokens", "oauth_access_tokens", "oauth_auth_codes", "oauth_device_codes",
	"oauth_clients", "oauth_scopes",
}

// reusedStore returns an open function for the conformance suite that
// creates and migrates one database and empties it for every subtest (the
// suite runs none in parallel): a fresh MySQL database or PostgreSQL schema
// per subtest would cost a quarter of a second each. SQLite gets a fresh
// file per subtest, which is cheap.
func reusedStore(t *testing.T, d sqlstore.Dialect) func(t *testing.T) storagetest.Store {
	if d == sqlstore.SQLite {
		return func(t *testing.T) storagetest.Store { return openStore(t, d) }
	}
	shared := openStore(t, d)
	return func(t *testing.T) storagetest.Store {
		for _, table := range tables {
			if _, err := shared.DB().ExecContext(context.Background(), "DELETE FROM "+table); err != nil {
				t.Fatalf("empty %s: %v", table, err)
			}
		}
		s, err := sqlstore.New(shared.DB().DB, d)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestConformance(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		storagetest.Run(t, reusedStore(t, d))
	})
}
