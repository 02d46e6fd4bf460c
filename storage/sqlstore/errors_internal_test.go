package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"github.com/oauthkit/oauth"
)

// TestClassify checks the driver error codes the package reads without
// importing the drivers, against the drivers' own error values.
func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want errKind
	}{
		{"sqlite unique", sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintUnique}, errUnique},
		{"sqlite primary key", sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintPrimaryKey}, errUnique},
		{"sqlite foreign key", sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintForeignKey}, errForeign},
		{"sqlite too big", sqlite3.Error{Code: sqlite3.ErrTooBig, ExtendedCode: sqlite3.ErrNoExtended(sqlite3.ErrTooBig)}, errTooLong},
		{"sqlite not null", sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintNotNull}, errOther},
		{"sqlite pointer", &sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintUnique}, errUnique},
		{"mysql duplicate", &mysql.MySQLError{Number: 1062}, errUnique},
		{"mysql foreign key", &mysql.MySQLError{Number: 1452}, errForeign},
		{"mysql data too long", &mysql.MySQLError{Number: 1406}, errTooLong},
		{"mysql deadlock", &mysql.MySQLError{Number: 1213}, errRetryable},
		{"mysql other", &mysql.MySQLError{Number: 1146}, errOther},
		{"postgres unique", &pgconn.PgError{Code: "23505"}, errUnique},
		{"postgres foreign key", &pgconn.PgError{Code: "23503"}, errForeign},
		{"postgres too long", &pgconn.PgError{Code: "22001"}, errTooLong},
		{"postgres serialization", &pgconn.PgError{Code: "40001"}, errRetryable},
		{"postgres other", &pgconn.PgError{Code: "42P01"}, errOther},
		{"wrapped", fmt.Errorf("exec: %w", &mysql.MySQLError{Number: 1062}), errUnique},
		{"plain", errors.New("boom"), errOther},
		{"nil pointer", (*mysql.MySQLError)(nil), errOther},
		{"nil", nil, errOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.err); got != tt.want {
				t.Errorf("classify(%#v): got %d; want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestTranslate(t *testing.T) {
	tests := []struct {
		err  error
		want error
	}{
		{sql.ErrNoRows, oauth.ErrNotFound},
		{fmt.Errorf("scan: %w", sql.ErrNoRows), oauth.ErrNotFound},
		{&mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}, oauth.ErrDuplicate},
		{&pgconn.PgError{Code: "23503"}, oauth.ErrInvalid},
		{&pgconn.PgError{Code: "22001"}, oauth.ErrInvalid},
		{&mysql.MySQLError{Number: 1406}, oauth.ErrInvalid},
	}
	for _, tt := range tests {
		got := translate(tt.err, "client")
		if !errors.Is(got, tt.want) {
			t.Errorf("translate(%v): got %v; want one wrapping %v", tt.err, got, tt.want)
		}
		if tt.want != oauth.ErrNotFound && !errors.Is(got, tt.err) {
			t.Errorf("translate(%v): got %v; want the driver error kept in the chain", tt.err, got)
		}
	}
	other := errors.New("connection refused")
	if got := translate(other, "client"); got != other {
		t.Errorf("translate(other): got %v; want it unchanged", got)
	}
}
