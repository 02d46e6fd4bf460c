package sqlstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/oauthkit/oauth/storage/sqlstore"
)

// migrations returns the rows of oauth_schema_migrations.
func migrations(t testing.TB, s *sqlstore.Store) map[int][2]int {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), "SELECT version, steps, done FROM oauth_schema_migrations")
	if err != nil {
		t.Fatalf("read oauth_schema_migrations: %v", err)
	}
	defer rows.Close()
	out := map[int][2]int{}
	for rows.Next() {
		var v, steps int
		var done bool
		if err := rows.Scan(&v, &steps, &done); err != nil {
			t.Fatal(err)
		}
		d := 0
		if done {
			d = 1
		}
		out[v] = [2]int{steps, d}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantMigrated checks that every migration is recorded once, complete, and
// that the schema works.
func wantMigrated(t testing.TB, s *sqlstore.Store) {
	t.Helper()
	got := migrations(t, s)
	if v := sqlstore.SchemaVersion(s.Dialect()); v < 1 || len(got) != v {
		t.Errorf("oauth_schema_migrations: got %v; want versions 1..%d", got, v)
	}
	for v, row := range got {
		if row[1] != 1 || row[0] < 1 {
			t.Errorf("migration %d: got steps %d, done %d; want done", v, row[0], row[1])
		}
	}
	id := randomName("client-")
	mustCreateClient(t, s, id)
	if _, err := s.FindClient(context.Background(), id); err != nil {
		t.Errorf("FindClient after Migrate: %v", err)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := openStore(t, d)
		before := migrations(t, s)
		for range 2 {
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
		}
		if after := migrations(t, s); len(after) != len(before) {
			t.Errorf("oauth_schema_migrations after migrating again: got %v; want %v", after, before)
		}
		wantMigrated(t, s)
	})
}

// TestMigrateRace starts six handles, each its own *sql.DB (its own
// connections, as separate processes have), migrating one empty database
// at once. TestMultiProcess does the same with processes.
func TestMigrateRace(t *testing.T) {
	const n = 6
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		dsn := newDatabase(t, d)
		stores := make([]*sqlstore.Store, n)
		for i := range stores {
			stores[i] = openDSN(t, d, dsn)
		}
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				<-start
				errs[i] = s.Migrate(context.Background())
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate on handle %d: %v", i, err)
			}
		}
		wantMigrated(t, stores[0])
	})
}

func TestSQLitePragmas(t *testing.T) {
	s := openStore(t, sqlstore.SQLite)
	ctx := context.Background()
	// Every connection of the pool gets the settings: check several.
	var conns []interface{ Close() error }
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		for _, p := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"busy_timeout", "5000"},
			{"foreign_keys", "1"},
			{"synchronous", "1"}, // NORMAL
		} {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", p.pragma, err)
			}
			if got != p.want {
				t.Errorf("PRAGMA %s: got %q; want %q", p.pragma, got, p.want)
			}
		}
	}
}

func TestSQLiteDSN(t *testing.T) {
	got := sqlstore.SQLiteDSN("/tmp/a b/100%?#.db")
	want := "file:/tmp/a b/100%25%3f%23.db?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=64"
	if got != want {
		t.Errorf("SQLiteDSN: got %q; want %q", got, want)
	}
	// The escaped path names the file it says.
	dir := t.TempDir()
	path := filepath.Join(dir, "odd 100%?#.db")
	s := openDSN(t, sqlstore.SQLite, sqlstore.SQLiteDSN(path))
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "odd 100%?#.db")); len(m) != 1 {
		t.Errorf("database file %q not created", path)
	}
}

// TestMigrateRefusesUnsafeSessions: without foreign keys (SQLite) or strict
// mode (MySQL), Migrate fails before it creates anything.
func TestMigrateRefusesUnsafeSessions(t *testing.T) {
	t.Run("sqlite without foreign keys", func(t *testing.T) {
		dsn := "file:" + filepath.Join(t.TempDir(), "fk.db") + "?_journal_mode=WAL"
		s := openDSN(t, sqlstore.SQLite, dsn)
		err := s.Migrate(context.Background())
		if err == nil || !strings.Contains(err.Error(), "foreign keys") {
			t.Errorf("Migrate: got %v; want an error about foreign keys", err)
		}
	})
	t.Run("mysql not strict", func(t *testing.T) {
		cfg, err := mysql.ParseDSN(newDatabase(t, sqlstore.MySQL))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Params["sql_mode"] = "''"
		s := openDSN(t, sqlstore.MySQL, cfg.FormatDSN())
		err = s.Migrate(context.Background())
		if err == nil || !strings.Contains(err.Error(), "strict") {
			t.Errorf("Migrate: got %v; want an error about strict mode", err)
		}
	})
}

// TestMigrateMySQLResumes simulates a crash in the middle of a MySQL
// migration, after a statement ran but before its progress was recorded.
func TestMigrateMySQLResumes(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, sqlstore.MySQL)
	// Statements 1–3 (clients, scopes, access tokens) ran; only 2 were
	// recorded; the rest never ran.
	for _, q := range []string{
		"DROP TABLE oauth_device_codes", "DROP TABLE oauth_auth_codes", "DROP TABLE oauth_refresh_tokens",
		"UPDATE oauth_schema_migrations SET steps = 2, done = 0 WHERE version = 1",
	} {
		if _, err := s.DB().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after the crash: %v", err)
	}
	wantMigrated(t, s)
	if err := s.CreateDeviceCode(ctx, newDeviceCode("dc", "BCDF", mustCreateClient(t, s, "c").ID, t0)); err != nil {
		t.Errorf("CreateDeviceCode after resuming: %v", err)
	}
}
