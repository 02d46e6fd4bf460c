package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one versioned file of a dialect's migrations, split into its
// statements.
type migration struct {
	version int
	name    string
	steps   []string
}

// applied is a row of oauth_schema_migrations: how many statements of a
// version ran, and whether all of them did.
type applied struct {
	steps int
	done  bool
}

// SchemaVersion returns the highest migration version embedded for the
// dialect: the schema version Migrate brings a database to.
func SchemaVersion(d Dialect) int {
	ms, err := loadMigrations(d)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// loadMigrations reads migrations/<dialect>/NNNN_name.sql in version order.
func loadMigrations(d Dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations of %v: %w", d, err)
	}
	var out []migration
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok {
			continue
		}
		num, name, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration file %s has no version number", e.Name())
		}
		text, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: name, steps: splitStatements(string(text))})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("sqlstore: two %v migrations have version %d", d, out[i].version)
		}
	}
	return out, nil
}

// splitStatements splits a migration into statements: each ends with a
// semicolon at the end of a line. Lines that are only a comment are
// dropped.
func splitStatements(text string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(text) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}

// Migrate creates the schema or brings it up to date: it applies, in order,
// the embedded migrations of the store's dialect that the database has not
// recorded in oauth_schema_migrations. It is idempotent, and safe when
// several processes run it at once:
//
//   - SQLite: all pending migrations run in one BEGIN IMMEDIATE transaction,
//     which takes the database's write lock first;
//   - PostgreSQL: they run in one transaction that first takes a
//     transaction-scoped advisory lock (pg_advisory_xact_lock) for the
//     current schema;
//   - MySQL/MariaDB: DDL is not transactional, so they run one statement at
//     a time on one connection holding GET_LOCK for the current database,
//     recording progress after each statement; a migration interrupted by a
//     crash resumes at the statement that did not complete (the statements
//     are written to be idempotent).
//
// Versions recorded in the database that this package does not know (a
// newer release migrated it) are left alone. Before migrating, Migrate
// checks the connection settings the store relies on and refuses a SQLite
// connection without foreign keys and a MySQL session that is not in strict
// mode.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return err
	}
	if s.dialect == SQLite {
		if err := s.sqliteFirstConnection(ctx); err != nil {
			return fmt.Errorf("sqlstore: migrate %v: %w", s.dialect, err)
		}
	}
	if err := s.checkSession(ctx); err != nil {
		return err
	}
	switch s.dialect {
	case SQLite:
		err = s.migrateSQLite(ctx, ms)
	case MySQL:
		err = s.migrateMySQL(ctx, ms)
	case Postgres:
		err = s.migratePostgres(ctx, ms)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: migrate %v: %w", s.dialect, err)
	}
	return nil
}

// sqliteFirstConnection opens a connection, trying again for up to ten
// seconds while SQLite answers "database is locked". A new connection
// switches the file to WAL mode, which needs the file to itself; processes
// opening a new database at the same moment can be refused that at once,
// without the busy timeout's wait.
func (s *Store) sqliteFirstConnection(ctx context.Context) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.db.PingContext(ctx)
		if err == nil || !strings.Contains(err.Error(), "database is locked") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(10+rand.IntN(40)) * time.Millisecond):
		}
	}
}

// checkSession refuses connection settings under which the store would not
// be correct.
func (s *Store) checkSession(ctx context.Context) error {
	switch s.dialect {
	case SQLite:
		var on int
		if err := s.db.QueryRowxContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
			return fmt.Errorf("sqlstore: check sqlite settings: %w", err)
		}
		if on != 1 {
			return errors.New("sqlstore: sqlite foreign keys are off: open the database with SQLiteDSN, or add _foreign_keys=on to the DSN")
		}
	case MySQL:
		var mode string
		if err := s.db.QueryRowxContext(ctx, "SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
			return fmt.Errorf("sqlstore: check mysql settings: %w", err)
		}
		if !strings.Contains(mode, "STRICT_TRANS_TABLES") && !strings.Contains(mode, "STRICT_ALL_TABLES") {
			return fmt.Errorf("sqlstore: mysql session is not in strict mode (sql_mode %q): add sql_mode=TRADITIONAL to the DSN", mode)
		}
	}
	return nil
}

const (
	sqliteVersionTable = `CREATE TABLE IF NOT EXISTS oauth_schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    steps      INTEGER NOT NULL,
    done       INTEGER NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT`
	mysqlVersionTable = `CREATE TABLE IF NOT EXISTS oauth_schema_migrations (
    version    INT          NOT NULL PRIMARY KEY,
    name       VARCHAR(255) NOT NULL,
    steps      INT          NOT NULL,
    done       TINYINT(1)   NOT NULL,
    applied_at DATETIME(6)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
	postgresVersionTable = `CREATE TABLE IF NOT EXISTS oauth_schema_migrations (
    version    INTEGER     NOT NULL PRIMARY KEY,
    name       TEXT        NOT NULL,
    steps      INTEGER     NOT NULL,
    done       BOOLEAN     NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)`
)

// readApplied returns the rows of oauth_schema_migrations by version.
func readApplied(ctx context.Context, q sqlx.QueryerContext) (map[int]applied, error) {
	rows, err := q.QueryxContext(ctx, "SELECT version, steps, done FROM oauth_schema_migrations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int]applied)
	for rows.Next() {
		var v int
		var a applied
		if err := rows.Scan(&v, &a.steps, &a.done); err != nil {
			return nil, err
		}
		out[v] = a
	}
	return out, rows.Err()
}

// execer is what the transactional migrations run on: a *sql.Conn inside
// BEGIN IMMEDIATE, or a *sqlx.Tx.
type execer interface {
	sqlx.QueryerContext
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// applyAll runs every pending migration whole and records it; the caller
// holds the lock and the transaction.
func (s *Store) applyAll(ctx context.Context, e execer, ms []migration) error {
	done, err := readApplied(ctx, e)
	if err != nil {
		return err
	}
	record := s.db.Rebind("INSERT INTO oauth_schema_migrations (version, name, steps, done, applied_at) VALUES (?, ?, ?, TRUE, ?)")
	for _, m := range ms {
		if a, ok := done[m.version]; ok && a.done {
			continue
		}
		for i, stmt := range m.steps {
			if _, err := e.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %d_%s, statement %d: %w", m.version, m.name, i+1, err)
			}
		}
		if _, err := e.ExecContext(ctx, record, m.version, m.name, len(m.steps), s.timeArg(time.Now())); err != nil {
			return fmt.Errorf("record migration %d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

func (s *Store) migrateSQLite(ctx context.Context, ms []migration) (err error) {
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// BEGIN IMMEDIATE takes the write lock now, whatever _txlock the DSN
	// sets; a second process waits here (busy_timeout) and then sees the
	// first one's migrations.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, sqliteVersionTable); err != nil {
		return err
	}
	if err := s.applyAll(ctx, conn, ms); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	committed = true
	return nil
}

func (s *Store) migratePostgres(ctx context.Context, ms []migration) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		// Serialize migrators of this schema until the transaction ends;
		// the second one then sees what the first committed (each statement
		// of a READ COMMITTED transaction takes a new snapshot).
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('oauthkit/sqlstore migrate'), hashtext(coalesce(current_schema(), '')))"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, postgresVersionTable); err != nil {
			return err
		}
		return s.applyAll(ctx, tx, ms)
	})
}

// mysqlLock names the migration lock of the current database; GET_LOCK
// names are at most 64 characters.
const mysqlLock = "CONCAT('oauthkit.sqlstore.', MD5(COALESCE(DATABASE(), '')))"

func (s *Store) migrateMySQL(ctx context.Context, ms []migration) error {
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// GET_LOCK belongs to the session: hold it on this connection, waiting
	// a second at a time so that ctx can end the wait.
	for {
		var got sql.NullInt64
		if err := conn.QueryRowxContext(ctx, "SELECT GET_LOCK("+mysqlLock+", 1)").Scan(&got); err != nil {
			return err
		}
		if got.Valid && got.Int64 == 1 {
			break
		}
		if !got.Valid {
			return errors.New("GET_LOCK failed")
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DO RELEASE_LOCK("+mysqlLock+")")

	if _, err := conn.ExecContext(ctx, mysqlVersionTable); err != nil {
		return err
	}
	done, err := readApplied(ctx, conn)
	if err != nil {
		return err
	}
	const record = "INSERT INTO oauth_schema_migrations (version, name, steps, done, applied_at) VALUES (?, ?, ?, ?, ?)" +
		" ON DUPLICATE KEY UPDATE steps = VALUES(steps), done = VALUES(done), applied_at = VALUES(applied_at)"
	for _, m := range ms {
		a := done[m.version]
		if a.done {
			continue
		}
		for i := a.steps; i < len(m.steps); i++ {
			if _, err := conn.ExecContext(ctx, m.steps[i]); err != nil {
				return fmt.Errorf("migration %d_%s, statement %d: %w", m.version, m.name, i+1, err)
			}
			if _, err := conn.ExecContext(ctx, record, m.version, m.name, i+1, i+1 == len(m.steps), s.timeArg(time.Now())); err != nil {
				return fmt.Errorf("record migration %d_%s: %w", m.version, m.name, err)
			}
		}
		if len(m.steps) == 0 {
			if _, err := conn.ExecContext(ctx, record, m.version, m.name, 0, true, s.timeArg(time.Now())); err != nil {
				return fmt.Errorf("record migration %d_%s: %w", m.version, m.name, err)
			}
		}
	}
	return nil
}
