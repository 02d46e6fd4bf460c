// Package sqlstore implements every repository of package oauth over
// jmoiron/sqlx for SQLite (mattn/go-sqlite3), MySQL/MariaDB
// (go-sql-driver/mysql) and PostgreSQL (jackc/pgx/v5 through its
// database/sql driver "pgx").
//
// The package imports no driver: the host imports the one it uses, as with
// database/sql, and names the dialect explicitly ([New]) or through the
// driver name ([Open]):
//
//	import _ "github.com/mattn/go-sqlite3"
//
//	store, err := sqlstore.Open("sqlite3", sqlstore.SQLiteDSN("/var/lib/app/oauth.db"))
//	if err != nil { … }
//	defer store.Close()
//	if err := store.Migrate(ctx); err != nil { … }
//
// # Schema and migrations
//
// The tables follow the seed's DDL (oauth_clients, oauth_scopes,
// oauth_access_tokens, oauth_refresh_tokens, oauth_auth_codes) plus
// oauth_device_codes; SCHEMA.md beside this file lists every table and every
// change from the seed. [Store.Migrate] applies the embedded, versioned
// migrations of the dialect and records them in oauth_schema_migrations; it
// is idempotent and safe when several processes start at once.
//
// # Connection settings
//
//   - SQLite: use [SQLiteDSN], which turns on WAL mode, a busy timeout,
//     foreign keys, synchronous=NORMAL and BEGIN IMMEDIATE transactions.
//     Foreign keys must be on: Migrate refuses a connection without them.
//   - MySQL/MariaDB: the session must be in strict mode
//     (STRICT_TRANS_TABLES or STRICT_ALL_TABLES; the default of MySQL ≥ 5.7
//     and MariaDB ≥ 10.2.4); Migrate refuses a connection without it. Add
//     sql_mode=TRADITIONAL to the DSN to be sure, and interpolateParams=true
//     to save two round trips per statement, for example
//     "user:pass@tcp(host:3306)/db?sql_mode=TRADITIONAL&interpolateParams=true".
//     parseTime and loc may be set or not: times are written as UTC text
//     and read back as UTC whatever they are.
//   - PostgreSQL: any pgx DSN, e.g. "postgres://user@host:5432/db"; tables
//     are created in the first schema of the search_path. The store's
//     transactions run at READ COMMITTED whatever the server's default.
//
// Size the pool (db.SetMaxOpenConns) within the server's connection limit:
// database/sql opens a connection per concurrent call by default.
//
// # Single use
//
// ConsumeAuthCode, RotateRefreshToken, RedeemDeviceCode and the device-code
// decisions are each one conditional UPDATE (… WHERE id = ? AND revoked =
// FALSE AND expires_at > ?) judged by the rows it changed, never a read
// followed by a write; only when it matched nothing does a read say why
// (ErrNotFound, ErrAlreadyUsed, ErrExpired, ErrNotApproved). Rotation adds
// the INSERT of the successor in the same transaction; a poll is an
// optimistic compare-and-set on last_polled_at. Of many concurrent callers,
// in one process or many sharing the database, exactly one wins. On MySQL
// and PostgreSQL these writes run in a transaction, so that a call whose
// context ends while it waits for a row lock commits nothing. SQLite does
// not interrupt a wait for its write lock: such a call ends at the busy
// timeout rather than at its context's deadline.
//
// # Times
//
// Times are stored in UTC with microsecond precision (a time with finer
// precision is truncated to the microsecond): MySQL DATETIME(6),
// PostgreSQL timestamptz, and in SQLite an INTEGER of Unix microseconds, so
// that comparisons in SQL are numeric and exact.
//
// # Errors
//
// Driver errors are translated at the edge: a missing row is
// [oauth.ErrNotFound], a unique violation [oauth.ErrDuplicate], a foreign-key
// violation (an unknown client or access token) or an over-long value
// [oauth.ErrInvalid]. Records are validated with their Validate methods
// before anything is sent to the database, so a bad record writes nothing.
// Lookups of an ID that no record can have (empty, too long, not printable
// ASCII) return ErrNotFound without a query.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/oauthkit/oauth"
)

// Dialect is the SQL dialect of a database.
type Dialect int

// The dialects the store speaks.
const (
	// SQLite is SQLite 3.37 or later (STRICT tables, RETURNING) through
	// mattn/go-sqlite3.
	SQLite Dialect = iota + 1
	// MySQL is MySQL 5.7 or later, or MariaDB 10.3 or later, through
	// go-sql-driver/mysql.
	MySQL
	// Postgres is PostgreSQL 12 or later through jackc/pgx/v5/stdlib.
	Postgres
)

// String returns the dialect's name: "sqlite", "mysql" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case MySQL:
		return "mysql"
	case Postgres:
		return "postgres"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// DialectOf returns the dialect of a database/sql driver name: "sqlite3"
// for SQLite, "mysql" for MySQL and MariaDB, "pgx", "pgx/v5" or "postgres"
// for PostgreSQL. Other names return an error; use [New] with an explicit
// dialect for a driver registered under another name.
func DialectOf(driverName string) (Dialect, error) {
	switch driverName {
	case "sqlite3":
		return SQLite, nil
	case "mysql":
		return MySQL, nil
	case "pgx", "pgx/v5", "postgres":
		return Postgres, nil
	}
	return 0, fmt.Errorf("sqlstore: unknown driver %q: use New with an explicit dialect", driverName)
}

// Store implements [oauth.ClientAdmin], [oauth.ScopeAdmin],
// [oauth.AccessTokenRepository], [oauth.RefreshTokenRepository],
// [oauth.AuthCodeRepository] and [oauth.DeviceCodeRepository] over one SQL
// database. It is safe for concurrent use, by many goroutines and by many
// processes sharing the database.
type Store struct {
	// Now returns the current time; nil means time.Now. The store uses it
	// for a zero CreatedAt or UpdatedAt, a revocation's updated_at and a
	// device code's creation time. Set it before the store is used.
	Now func() time.Time

	db        *sqlx.DB
	dialect   Dialect
	q         *queries
	txOptions *sql.TxOptions
}

// Compile-time checks that Store implements every repository.
var (
	_ oauth.ClientAdmin            = (*Store)(nil)
	_ oauth.ScopeAdmin             = (*Store)(nil)
	_ oauth.AccessTokenRepository  = (*Store)(nil)
	_ oauth.RefreshTokenRepository = (*Store)(nil)
	_ oauth.AuthCodeRepository     = (*Store)(nil)
	_ oauth.DeviceCodeRepository   = (*Store)(nil)
)

// New returns a store over db, which speaks dialect. It does no I/O; call
// [Store.Migrate] to create or update the schema. The store does not own
// db, but [Store.Close] closes it.
func New(db *sql.DB, dialect Dialect) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil database")
	}
	var driverName string
	switch dialect {
	case SQLite:
		driverName = "sqlite3"
	case MySQL:
		driverName = "mysql"
	case Postgres:
		driverName = "pgx"
	default:
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", dialect)
	}
	s := &Store{
		db:      sqlx.NewDb(db, driverName),
		dialect: dialect,
		q:       queriesFor(dialect),
	}
	if dialect == Postgres {
		// The compare-and-sets rely on READ COMMITTED: an UPDATE that waited
		// for a row lock re-reads the committed row (and matches nothing),
		// where REPEATABLE READ and SERIALIZABLE raise a serialization
		// failure. Ask for it whatever the server's default.
		s.txOptions = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	return s, nil
}

// Open opens a database with database/sql and returns a store over it, the
// dialect following from driverName (see [DialectOf]). The driver must be
// registered: import it in the program. Open does no I/O beyond what
// sql.Open does (none for the three drivers); call [Store.Migrate] next.
func Open(driverName, dataSourceName string) (*Store, error) {
	dialect, err := DialectOf(driverName)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driverName, dataSourceName)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", driverName, err)
	}
	return New(db, dialect)
}

// SQLiteDSN returns a go-sqlite3 data source name for the database file at
// path with the settings the store is meant to run with:
//
//	file:PATH?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=64
//
// WAL lets readers run beside the one writer; the busy timeout makes a
// writer wait up to 5 s for the lock instead of failing; foreign keys
// enforce the clients and access tokens that records refer to (and cascade
// their deletion); synchronous=NORMAL is durable across crashes of the
// process in WAL mode and much faster than FULL; immediate transactions take
// the write lock at BEGIN, so a transaction that reads first cannot fail to
// upgrade; the statement cache keeps each connection's prepared statements
// (the store has fewer than 64), which halves the cost of a lookup.
// Characters of path that a URI gives meaning to (%, ?, #) are
// escaped. An in-memory database (":memory:") is not supported: every
// connection of the pool would get its own.
func SQLiteDSN(path string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(path) + "?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=64"
}

// DB returns the database the store runs on.
func (s *Store) DB() *sqlx.DB { return s.db }

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// now returns the current time in UTC, truncated to what the database
// stores.
func (s *Store) now() time.Time {
	var t time.Time
	if s.Now != nil {
		t = s.Now()
	} else {
		t = time.Now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// atomically runs a single-use write. On MySQL and PostgreSQL it runs in a
// transaction, so that a call whose context ends while the write waits for
// a row lock commits nothing: the driver drops the connection, and the
// server rolls the transaction back instead of committing a write whose
// caller was told it failed. On SQLite the driver interrupts the statement
// itself, and an autocommit statement is all or nothing.
func (s *Store) atomically(ctx context.Context, fn func(ext sqlx.ExtContext) error) error {
	if s.dialect == SQLite {
		return fn(s.db)
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return fn(tx) })
}

// maxAttempts bounds how often inTx runs a transaction that the database
// aborted as a deadlock victim or a serialization failure.
const maxAttempts = 3

// inTx runs fn in a transaction, committing if fn returns nil and rolling
// back otherwise. A transaction the database aborted to break a deadlock
// (MySQL) or for a serialization failure (PostgreSQL at REPEATABLE READ or
// SERIALIZABLE) is run again, up to maxAttempts times in all: fn must reset
// whatever it reports at its start.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return retrying(ctx, maxAttempts, func() error { return s.tryTx(ctx, fn) })
}

// retrying runs fn until it succeeds, fails with an error that is not a
// deadlock or serialization failure, the context ends, or it has run
// attempts times. Between runs it pauses a random few milliseconds, more
// after each attempt, so that racers that deadlocked do not meet again in
// step. fn must be safe to run again after such a failure: the database
// wrote nothing of it.
func retrying(ctx context.Context, attempts int, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == attempts || classify(err) != errRetryable || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(1+rand.IntN(5*attempt)) * time.Millisecond):
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, s.txOptions)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
