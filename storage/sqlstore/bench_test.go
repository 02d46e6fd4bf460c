package sqlstore_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/sqlstore"
)

// The hot paths on SQLite (WAL, synchronous=NORMAL, as SQLiteDSN sets), and
// on MariaDB and PostgreSQL when their DSNs are set, beside their floor:
// BenchmarkFloorInsertCommit stores the same access token row with bare
// database/sql (BeginTx, ExecContext, Commit). Target: CreateAccessToken
// within 1.5× the floor on SQLite. Run:
//
//	go test -run '^$' -bench . -benchtime 2000x -count 5 ./storage/sqlstore/

// benchDialects runs f per dialect: SQLite always, a server dialect when
// its DSN is set.
func benchDialects(b *testing.B, f func(b *testing.B, d sqlstore.Dialect)) {
	for _, d := range dialects {
		if (d == sqlstore.MySQL && os.Getenv(envMySQL) == "") || (d == sqlstore.Postgres && os.Getenv(envPostgres) == "") {
			continue
		}
		b.Run(d.String(), func(b *testing.B) { f(b, d) })
	}
}

func benchStore(b *testing.B, d sqlstore.Dialect) *sqlstore.Store {
	b.Helper()
	s := openStore(b, d)
	mustCreateClient(b, s, "c")
	return s
}

func benchTokens(n int) []*oauth.AccessToken {
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	out := make([]*oauth.AccessToken, n)
	for i := range out {
		id := hashID("bench %d", i)
		out[i] = newAccess(id, "c", id, exp)
	}
	return out
}

func BenchmarkCreateAccessToken(b *testing.B) {
	benchDialects(b, func(b *testing.B, d sqlstore.Dialect) {
		s := benchStore(b, d)
		ctx := context.Background()
		toks := benchTokens(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := s.CreateAccessToken(ctx, toks[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFloorInsertCommit is CreateAccessToken's floor: the same row
// through bare database/sql in a transaction.
func BenchmarkFloorInsertCommit(b *testing.B) {
	benchDialects(b, func(b *testing.B, d sqlstore.Dialect) {
		s := benchStore(b, d)
		db := s.DB().DB
		ctx := context.Background()
		q := s.DB().Rebind("INSERT INTO oauth_access_tokens (id, client_id, user_id, scopes, family_id, expires_at, created_at, revoked, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
		toks := benchTokens(b.N)
		timeArg := func(t time.Time) any {
			switch d {
			case sqlstore.SQLite:
				return t.UnixMicro()
			case sqlstore.MySQL:
				return t.Format("2006-01-02 15:04:05.000000")
			}
			return t
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			t := toks[i]
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			created := timeArg(t.CreatedAt)
			if _, err := tx.ExecContext(ctx, q, t.ID, t.ClientID, t.UserID, "openid profile", t.FamilyID,
				timeArg(t.ExpiresAt), created, false, created); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFindAccessToken(b *testing.B) {
	benchDialects(b, func(b *testing.B, d sqlstore.Dialect) {
		s := benchStore(b, d)
		ctx := context.Background()
		toks := benchTokens(1000)
		for _, t := range toks {
			if err := s.CreateAccessToken(ctx, t); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.FindAccessToken(ctx, toks[i%len(toks)].ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkConsumeAuthCode(b *testing.B) {
	benchDialects(b, func(b *testing.B, d sqlstore.Dialect) {
		s := benchStore(b, d)
		ctx := context.Background()
		now := time.Now().UTC()
		ids := make([]string, b.N)
		for i := range ids {
			ids[i] = hashID("code %d", i)
			if err := s.CreateAuthCode(ctx, newAuthCode(ids[i], "c", now.Add(10*time.Minute))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.ConsumeAuthCode(ctx, ids[i], now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
