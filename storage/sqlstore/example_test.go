package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the host imports the driver it uses

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/sqlstore"
)

// Open a SQLite database with the recommended settings, create the schema
// and register a client.
func Example() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := sqlstore.Open("sqlite3", sqlstore.SQLiteDSN(filepath.Join(dir, "oauth.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	secret, hash, err := oauth.GenerateSecret()
	if err != nil {
		log.Fatal(err)
	}
	_ = secret // show it to the client's owner once; only the hash is stored
	err = store.CreateClient(ctx, &oauth.Client{
		ID:           "svc-1.app",
		SecretHash:   hash,
		Name:         "Service One",
		RedirectURIs: []string{"https://app.example/callback"},
		Confidential: true,
		GrantTypes:   []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken},
		Scopes:       []string{"openid", "profile"},
	})
	if err != nil {
		log.Fatal(err)
	}

	c, err := store.FindClient(ctx, "svc-1.app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Name, c.RedirectURIs, c.AllowsGrant(oauth.GrantRefreshToken))

	_, err = store.FindClient(ctx, "unknown")
	fmt.Println(err)
	// Output:
	// Service One [https://app.example/callback] true
	// sqlstore: find client "unknown": oauth: not found
}

// With MySQL or MariaDB, open the store with the driver's DSN; strict mode
// keeps the database from truncating anything.
func ExampleOpen_mysql() {
	// import _ "github.com/go-sql-driver/mysql"
	store, err := sqlstore.Open("mysql", "oauth:secret@tcp(db.internal:3306)/oauth?sql_mode=TRADITIONAL&interpolateParams=true")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	// store.Migrate(ctx), then use it as any repository.
	fmt.Println(store.Dialect())
	// Output: mysql
}

// With PostgreSQL, use pgx's database/sql driver, registered as "pgx".
func ExampleOpen_postgres() {
	// import "github.com/jackc/pgx/v5/stdlib"
	// db := stdlib.OpenDB(*config) or sql.Open("pgx", "postgres://oauth@db.internal/oauth")
	store, err := sqlstore.Open("pgx", "postgres://oauth@db.internal:5432/oauth")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	fmt.Println(store.Dialect(), sqlstore.SchemaVersion(store.Dialect()))
	// Output: postgres 1
}
