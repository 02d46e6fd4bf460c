package grants_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/storage/sqlstore"
)

// deviceStore is every repository the device flow touches, with the admin
// methods that register its clients and scopes.
type deviceStore interface {
	oauth.ClientAdmin
	oauth.ScopeAdmin
	oauth.AccessTokenRepository
	oauth.RefreshTokenRepository
	oauth.DeviceCodeRepository
}

// The environment naming the database servers, as storage/sqlstore's tests
// read it. Under CI=true a missing or unreachable server fails the test;
// elsewhere that backend is skipped.
const (
	envMySQLDSN    = "OAUTH_TEST_MYSQL_DSN"    // e.g. root@tcp(127.0.0.1:3306)/oauth_test?parseTime=true
	envPostgresDSN = "OAUTH_TEST_POSTGRES_DSN" // e.g. postgres://postgres@127.0.0.1:5432/oauth_test?sslmode=disable
)

// serverDSN returns the DSN in env after checking the server answers, or
// skips the test (fails it under CI=true).
func serverDSN(t *testing.T, env, driver string) string {
	t.Helper()
	unavailable := func(msg string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing database fails the run)")
		}
		t.Skip(msg)
	}
	dsn := os.Getenv(env)
	if dsn == "" {
		unavailable(env + " is not set")
	}
	db, err := sql.Open(driver, dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		unavailable(fmt.Sprintf("%s: server unreachable: %v", env, err))
	}
	return dsn
}

func adminExec(t *testing.T, driver, dsn, stmt string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// deviceTestDBName returns a fresh name for a database or schema of this
// test, so that concurrent runs and other packages' tests never share one.
func deviceTestDBName() string {
	b := make([]byte, 5)
	rand.Read(b)
	return "oauth_device_test_" + hex.EncodeToString(b)
}

// openSQLStore opens and migrates a store on dsn, closed when the test ends.
func openSQLStore(t *testing.T, driver, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if driver != "sqlite3" {
		s.DB().SetMaxOpenConns(16)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// deviceBackends opens an empty store per backend: memory; SQLite in a
// temporary file; a database of its own on MariaDB/MySQL; a schema of its
// own on PostgreSQL. The server ones are dropped when the test ends.
var deviceBackends = []struct {
	name string
	open func(t *testing.T) deviceStore
}{
	{"memory", func(*testing.T) deviceStore { return memory.New() }},
	{"sqlite", func(t *testing.T) deviceStore {
		return openSQLStore(t, "sqlite3", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "oauth.db")))
	}},
	{"mysql", func(t *testing.T) deviceStore {
		base := serverDSN(t, envMySQLDSN, "mysql")
		cfg, err := mysql.ParseDSN(base)
		if err != nil {
			t.Fatalf("%s: %v", envMySQLDSN, err)
		}
		name := deviceTestDBName()
		adminExec(t, "mysql", base, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
		t.Cleanup(func() { adminExec(t, "mysql", base, "DROP DATABASE IF EXISTS "+name) })
		cfg.DBName = name
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		if _, ok := cfg.Params["sql_mode"]; !ok {
			cfg.Params["sql_mode"] = "TRADITIONAL" // as storage/sqlstore's doc recommends
		}
		return openSQLStore(t, "mysql", cfg.FormatDSN())
	}},
	{"postgres", func(t *testing.T) deviceStore {
		base := serverDSN(t, envPostgresDSN, "pgx")
		name := deviceTestDBName()
		adminExec(t, "pgx", base, "CREATE SCHEMA "+name)
		t.Cleanup(func() { adminExec(t, "pgx", base, "DROP SCHEMA IF EXISTS "+name+" CASCADE") })
		dsn := base + " search_path=" + name
		if u, err := url.Parse(base); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
			q := u.Query()
			q.Set("search_path", name)
			u.RawQuery = q.Encode()
			dsn = u.String()
		}
		return openSQLStore(t, "pgx", dsn)
	}},
}

// unthrottledRepo lets every poll through, too fast or not, so that
// concurrent polls all reach the redemption.
type unthrottledRepo struct{ oauth.DeviceCodeRepository }

func (r unthrottledRepo) PollDeviceCode(ctx context.Context, id string, now time.Time) (*oauth.DeviceCode, error) {
	d, err := r.DeviceCodeRepository.PollDeviceCode(ctx, id, now)
	if errors.Is(err, oauth.ErrSlowDown) {
		return d, nil
	}
	return d, err
}

// TestDeviceFlowStorages runs the device flow over each storage backend,
// with two Servers sharing the store as two instances of a host would and
// requests alternating between them: the slow_down interval is persisted
// and holds across them, concurrent polls get tokens once, and denial and
// expiry are answered as on memory.
func TestDeviceFlowStorages(t *testing.T) {
	for _, b := range deviceBackends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			store := b.open(t)
			for _, sc := range []string{"read", "write", "profile"} {
				if err := store.CreateScope(ctx, &oauth.Scope{ID: sc}); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range deviceClients() {
				if err := store.CreateClient(ctx, &c); err != nil {
					t.Fatal(err)
				}
			}
			clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			newInstance := func(repo oauth.DeviceCodeRepository) (*grants.Server, *fixture) {
				srv, err := grants.New(grants.Config{
					Issuer: issuer, Clients: store, Scopes: store, AccessTokens: store, RefreshTokens: store,
					DeviceCodes: repo, DeviceVerificationURI: verifyURI,
					Now: clk.Now, Logger: slog.New(slog.DiscardHandler),
				})
				if err != nil {
					t.Fatal(err)
				}
				mux := http.NewServeMux()
				srv.Mount(mux, "/oauth", nil)
				return srv, &fixture{t: t, srv: srv, handler: mux, clock: clk}
			}
			srvA, a := newInstance(store)
			srvB, bb := newInstance(store)
			instances := []*fixture{a, bb}
			record := func(dc string) *oauth.DeviceCode {
				t.Helper()
				d, err := store.FindDeviceCode(ctx, oauth.HashValue(dc))
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			storm := func(n int, dc string) map[string]int {
				var mu sync.Mutex
				var wg sync.WaitGroup
				got := map[string]int{}
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						<-start
						res := instances[i%2].poll(dc)
						key := res.str("error")
						if res.status == http.StatusOK {
							key = "tokens"
						} else if res.status != http.StatusBadRequest {
							t.Errorf("status %d %s; want 200 or 400", res.status, res.raw)
						}
						mu.Lock()
						got[key]++
						mu.Unlock()
					})
				}
				close(start)
				wg.Wait()
				return got
			}

			// G.39: issued by one instance, stored hashed.
			c := a.newDeviceCode("read write")
			if d := record(c.deviceCode); d.ID != oauth.HashValue(c.deviceCode) || d.Status != oauth.DevicePending ||
				d.UserCode != strings.ReplaceAll(c.userCode, "-", "") || d.Interval != 5*time.Second {
				t.Fatalf("stored %+v", d)
			}

			// G.40 across instances: A's poll counts for B.
			wantError(t, a.poll(c.deviceCode), 400, oauth.ErrCodeAuthorizationPending)
			clk.Advance(time.Second)
			wantError(t, bb.poll(c.deviceCode), 400, oauth.ErrCodeSlowDown)
			if d := record(c.deviceCode); d.Interval != 10*time.Second {
				t.Fatalf("interval after slow_down %v; want 10s in the database", d.Interval)
			}
			clk.Advance(9 * time.Second)
			wantError(t, a.poll(c.deviceCode), 400, oauth.ErrCodeSlowDown) // 9 s < 10 s
			clk.Advance(15 * time.Second)
			wantError(t, bb.poll(c.deviceCode), 400, oauth.ErrCodeAuthorizationPending)

			// A storm on the pending code: one poll in time, the rest too fast.
			const n = 20
			clk.Advance(15 * time.Second)
			got := storm(n, c.deviceCode)
			if got[oauth.ErrCodeAuthorizationPending] != 1 || got[oauth.ErrCodeSlowDown] != n-1 {
				t.Fatalf("pending storm: %v; want 1 authorization_pending, %d slow_down", got, n-1)
			}
			interval := record(c.deviceCode).Interval
			if want := 15*time.Second + (n-1)*5*time.Second; interval != want {
				t.Fatalf("interval after the storm %v; want %v", interval, want)
			}

			// Looked up on one instance (the verification page), approved
			// on the other (the form's submission).
			req, err := srvB.LookupUserCode(ctx, "sess", strings.ToLower(c.userCode))
			if err != nil || req.Client.ID != idD {
				t.Fatalf("lookup: %+v, %v", req, err)
			}
			if req, err = srvA.LookupUserCode(ctx, "sess", c.userCode); err != nil {
				t.Fatal(err)
			}
			if err := srvA.ApproveDevice(ctx, req, "alice", []string{"read"}); err != nil {
				t.Fatal(err)
			}
			if _, err := srvB.LookupUserCode(ctx, "sess", c.userCode); !errors.Is(err, grants.ErrUserCodeUsed) {
				t.Errorf("lookup after approval: got %v; want ErrUserCodeUsed", err)
			}

			// G.41: one token response, whichever instance wins.
			clk.Advance(interval)
			got = storm(n, c.deviceCode)
			if got["tokens"] != 1 || got["tokens"]+got[oauth.ErrCodeSlowDown]+got[oauth.ErrCodeInvalidGrant] != n {
				t.Fatalf("approved storm: %v; want one token response, the rest slow_down or invalid_grant", got)
			}
			d := record(c.deviceCode)
			if !d.Revoked || d.UserID != "alice" {
				t.Errorf("after redemption: %+v", d)
			}
			clk.Advance(time.Hour)
			wantError(t, a.poll(c.deviceCode), 400, oauth.ErrCodeInvalidGrant)

			// The same with every poll let through: the redemption alone
			// decides.
			_, lax := newInstance(unthrottledRepo{store})
			c = a.newDeviceCode("read")
			a.approve(c.userCode)
			instances = []*fixture{lax, lax}
			got = storm(n, c.deviceCode)
			if got["tokens"] != 1 || got[oauth.ErrCodeInvalidGrant] != n-1 {
				t.Fatalf("unthrottled storm: %v; want 1 token response, %d invalid_grant", got, n-1)
			}
			instances = []*fixture{a, bb}

			// G.41: denied, expired.
			denied := a.newDeviceCode("read")
			req, err = srvB.LookupUserCode(ctx, "sess", denied.userCode)
			if err != nil {
				t.Fatal(err)
			}
			if err := srvB.DenyDevice(ctx, req, "alice"); err != nil {
				t.Fatal(err)
			}
			wantError(t, bb.poll(denied.deviceCode), 400, oauth.ErrCodeAccessDenied)
			expired := bb.newDeviceCode("read")
			wantError(t, a.poll(expired.deviceCode), 400, oauth.ErrCodeAuthorizationPending)
			clk.Advance(10 * time.Minute)
			wantError(t, bb.poll(expired.deviceCode), 400, oauth.ErrCodeExpiredToken)
			if _, err := srvA.LookupUserCode(ctx, "sess", expired.userCode); !errors.Is(err, grants.ErrUserCodeExpired) {
				t.Errorf("lookup of an expired code: got %v; want ErrUserCodeExpired", err)
			}

			// G.42: another client's device code.
			other := a.newDeviceCode("read")
			a.approve(other.userCode)
			wantError(t, a.token(pollReq(other.deviceCode).withBasic(idD2, secretD2)), 400, oauth.ErrCodeInvalidGrant)
			res := bb.poll(other.deviceCode)
			wantTokens(t, res)
			at, err := store.FindAccessToken(ctx, oauth.HashValue(res.str("access_token")))
			if err != nil || at.FamilyID != record(other.deviceCode).FamilyID || at.UserID != "alice" || at.ClientID != idD {
				t.Errorf("access token %+v, %v; want alice's, of the device code's family", at, err)
			}
			// Expired codes can be purged.
			if n, err := store.PurgeDeviceCodes(ctx, clk.Now().Add(time.Hour)); err != nil || n == 0 {
				t.Errorf("PurgeDeviceCodes: %d, %v", n, err)
			}
		})
	}
}
