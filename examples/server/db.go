package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/oauthkit/oauth/storage/sqlstore"
)

// dbTarget is a database named by a -db URL.
type dbTarget struct {
	driver  string
	dsn     string
	dialect sqlstore.Dialect
	// display is the URL without its password, for logs.
	display string
}

// parseDBURL reads a -db value:
//
//	sqlite:PATH                           a SQLite file (created if missing)
//	mysql://user:pass@host:port/db?param  MySQL or MariaDB
//	postgres://user:pass@host:port/db     PostgreSQL (also postgresql://)
func parseDBURL(s string) (dbTarget, error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return dbTarget{}, fmt.Errorf("database URL %q has no scheme: use sqlite:PATH, mysql://… or postgres://…", s)
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		path := strings.TrimPrefix(rest, "//")
		if path == "" {
			return dbTarget{}, errors.New("database URL sqlite: needs a file path, as in sqlite:oauth-example.db")
		}
		if path == ":memory:" {
			return dbTarget{}, errors.New("database URL sqlite::memory: is not supported: use a file")
		}
		return dbTarget{driver: "sqlite3", dsn: sqlstore.SQLiteDSN(path), dialect: sqlstore.SQLite, display: "sqlite:" + path}, nil
	case "mysql", "mariadb":
		return parseMySQLURL(s)
	case "postgres", "postgresql":
		u, err := url.Parse(s)
		if err != nil {
			return dbTarget{}, fmt.Errorf("database URL: %w", err)
		}
		if u.Host == "" {
			return dbTarget{}, errors.New("database URL postgres:// needs a host, as in postgres://user:pass@127.0.0.1:5432/db")
		}
		return dbTarget{driver: "pgx", dsn: s, dialect: sqlstore.Postgres, display: u.Redacted()}, nil
	}
	return dbTarget{}, fmt.Errorf("database URL scheme %q is not supported: use sqlite:PATH, mysql://… or postgres://…", scheme)
}

// parseMySQLURL turns mysql://user:pass@host:port/db?params into a
// go-sql-driver/mysql DSN. Query parameters are passed to the driver as
// they are; sql_mode defaults to TRADITIONAL (the store needs strict mode)
// and parseTime to true.
func parseMySQLURL(s string) (dbTarget, error) {
	u, err := url.Parse(s)
	if err != nil {
		return dbTarget{}, fmt.Errorf("database URL: %w", err)
	}
	if u.Host == "" {
		return dbTarget{}, errors.New("database URL mysql:// needs a host, as in mysql://root@127.0.0.1:3306/oauth")
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return dbTarget{}, errors.New("database URL mysql:// needs one database name as its path, as in mysql://root@127.0.0.1:3306/oauth")
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.DBName = db
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	q := u.Query()
	if !q.Has("sql_mode") {
		q.Set("sql_mode", "TRADITIONAL")
	}
	if !q.Has("parseTime") {
		q.Set("parseTime", "true")
	}
	dsn := cfg.FormatDSN()
	if strings.Contains(dsn, "?") {
		dsn += "&" + q.Encode()
	} else {
		dsn += "?" + q.Encode()
	}
	if _, err := mysql.ParseDSN(dsn); err != nil {
		return dbTarget{}, fmt.Errorf("database URL: %w", err)
	}
	return dbTarget{driver: "mysql", dsn: dsn, dialect: sqlstore.MySQL, display: u.Redacted()}, nil
}

// openStore opens the database, applies the library's migrations and the
// example's own (users, sessions, signing keys) and returns the store.
func openStore(ctx context.Context, t dbTarget) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(t.driver, t.dsn)
	if err != nil {
		return nil, err
	}
	if err := store.DB().PingContext(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("connect to %s: %w", t.display, err)
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrate %s: %w", t.display, err)
	}
	if err := migrateExample(ctx, store.DB(), t.dialect); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrate %s: %w", t.display, err)
	}
	return store, nil
}

// The example's own tables: the host's users, its browser sessions and
// consent tickets, its sign-in throttle and its persisted signing key set. Times are Unix seconds in a BIGINT, the same
// in every dialect.
var exampleSchema = map[sqlstore.Dialect][]string{
	sqlstore.SQLite: {
		`CREATE TABLE IF NOT EXISTS example_users (
			id TEXT PRIMARY KEY,
			username TEXT NOT NULL UNIQUE,
			password_hash TEXT NOT NULL,
			created_at INTEGER NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS example_sessions (
			id TEXT PRIMARY KEY,
			user_id TEXT NULL,
			csrf_token TEXT NOT NULL,
			expires_at INTEGER NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS example_sessions_expires ON example_sessions (expires_at)`,
		`CREATE TABLE IF NOT EXISTS example_consents (
			id TEXT PRIMARY KEY,
			session_id TEXT NOT NULL,
			request_hash TEXT NOT NULL,
			expires_at INTEGER NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS example_consents_expires ON example_consents (expires_at)`,
		`CREATE TABLE IF NOT EXISTS example_throttle (
			id TEXT PRIMARY KEY,
			attempts INTEGER NOT NULL,
			window_start INTEGER NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS example_throttle_window ON example_throttle (window_start)`,
		`CREATE TABLE IF NOT EXISTS example_signing_keys (
			id INTEGER PRIMARY KEY,
			key_set TEXT NOT NULL,
			version INTEGER NOT NULL,
			updated_at INTEGER NOT NULL)`,
	},
	sqlstore.MySQL: {
		`CREATE TABLE IF NOT EXISTS example_users (
			id VARCHAR(64) NOT NULL PRIMARY KEY,
			username VARCHAR(64) NOT NULL UNIQUE,
			password_hash VARCHAR(255) NOT NULL,
			created_at BIGINT NOT NULL
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
		`CREATE TABLE IF NOT EXISTS example_sessions (
			id CHAR(64) NOT NULL PRIMARY KEY,
			user_id VARCHAR(64) NULL,
			csrf_token VARCHAR(64) NOT NULL,
			expires_at BIGINT NOT NULL,
			INDEX example_sessions_expires (expires_at)
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
		`CREATE TABLE IF NOT EXISTS example_consents (
			id CHAR(64) NOT NULL PRIMARY KEY,
			session_id CHAR(64) NOT NULL,
			request_hash CHAR(64) NOT NULL,
			expires_at BIGINT NOT NULL,
			INDEX example_consents_expires (expires_at)
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
		`CREATE TABLE IF NOT EXISTS example_throttle (
			id CHAR(64) NOT NULL PRIMARY KEY,
			attempts INT NOT NULL,
			window_start BIGINT NOT NULL,
			INDEX example_throttle_window (window_start)
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
		`CREATE TABLE IF NOT EXISTS example_signing_keys (
			id INT NOT NULL PRIMARY KEY,
			key_set MEDIUMTEXT NOT NULL,
			version BIGINT NOT NULL,
			updated_at BIGINT NOT NULL
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
	},
	sqlstore.Postgres: {
		`CREATE TABLE IF NOT EXISTS example_users (
			id VARCHAR(64) PRIMARY KEY,
			username VARCHAR(64) NOT NULL UNIQUE,
			password_hash VARCHAR(255) NOT NULL,
			created_at BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS example_sessions (
			id CHAR(64) PRIMARY KEY,
			user_id VARCHAR(64) NULL,
			csrf_token VARCHAR(64) NOT NULL,
			expires_at BIGINT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS example_sessions_expires ON example_sessions (expires_at)`,
		`CREATE TABLE IF NOT EXISTS example_consents (
			id CHAR(64) PRIMARY KEY,
			session_id CHAR(64) NOT NULL,
			request_hash CHAR(64) NOT NULL,
			expires_at BIGINT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS example_consents_expires ON example_consents (expires_at)`,
		`CREATE TABLE IF NOT EXISTS example_throttle (
			id CHAR(64) PRIMARY KEY,
			attempts INT NOT NULL,
			window_start BIGINT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS example_throttle_window ON example_throttle (window_start)`,
		`CREATE TABLE IF NOT EXISTS example_signing_keys (
			id INT PRIMARY KEY,
			key_set TEXT NOT NULL,
			version BIGINT NOT NULL,
			updated_at BIGINT NOT NULL)`,
	},
}

// migrateExample creates the example's tables if they do not exist. Several
// processes may start at once: SQLite serializes them with BEGIN IMMEDIATE
// (the DSN's _txlock), PostgreSQL with an advisory lock (concurrent CREATE
// TABLE IF NOT EXISTS can fail there), MySQL with GET_LOCK.
func migrateExample(ctx context.Context, db *sqlx.DB, d sqlstore.Dialect) error {
	stmts := exampleSchema[d]
	switch d {
	case sqlstore.MySQL:
		conn, err := db.Connx(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		var got sql.NullInt64
		if err := conn.QueryRowxContext(ctx, `SELECT GET_LOCK('oauth_example_migrate', 60)`).Scan(&got); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if got.Int64 != 1 {
			return errors.New("lock: timed out waiting for another process's migration")
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT RELEASE_LOCK('oauth_example_migrate')`)
		for _, s := range stmts {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("example schema: %w", err)
			}
		}
		return nil
	default:
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if d == sqlstore.Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('oauth_example_migrate'))`); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("example schema: %w", err)
			}
		}
		return tx.Commit()
	}
}
