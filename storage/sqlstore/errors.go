package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"github.com/oauthkit/oauth"
)

// errKind is what a driver error means to the repositories.
type errKind int

const (
	errOther     errKind = iota
	errUnique            // a unique or primary key violation
	errForeign           // a foreign key violation
	errTooLong           // a value longer than its column
	errRetryable         // a deadlock or serialization failure
)

// Driver error codes. The package imports no driver, so the codes are read
// from the error values by reflection (MySQL, SQLite) or through the
// SQLState method (pgconn.PgError).
const (
	sqliteConstraintForeignKey = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
	sqliteTooBig               = 18   // SQLITE_TOOBIG

	mysqlDupEntry      = 1062 // ER_DUP_ENTRY
	mysqlNoReferenced  = 1452 // ER_NO_REFERENCED_ROW_2
	mysqlNoReferenced1 = 1216 // ER_NO_REFERENCED_ROW
	mysqlDataTooLong   = 1406 // ER_DATA_TOO_LONG
	mysqlDeadlock      = 1213 // ER_LOCK_DEADLOCK

	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgStringTooLong       = "22001"
	pgSerialization       = "40001"
	pgDeadlock            = "40P01"
)

// classify reads what a driver error means.
func classify(err error) errKind {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if pg, ok := e.(interface{ SQLState() string }); ok {
			switch pg.SQLState() {
			case pgUniqueViolation:
				return errUnique
			case pgForeignKeyViolation:
				return errForeign
			case pgStringTooLong:
				return errTooLong
			case pgSerialization, pgDeadlock:
				return errRetryable
			}
			return errOther
		}
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				continue
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			continue
		}
		switch v.Type().PkgPath() {
		case "github.com/go-sql-driver/mysql":
			f := v.FieldByName("Number")
			if !f.IsValid() || !f.CanUint() {
				continue
			}
			switch f.Uint() {
			case mysqlDupEntry:
				return errUnique
			case mysqlNoReferenced, mysqlNoReferenced1:
				return errForeign
			case mysqlDataTooLong:
				return errTooLong
			case mysqlDeadlock:
				return errRetryable
			}
			return errOther
		case "github.com/mattn/go-sqlite3":
			f := v.FieldByName("ExtendedCode")
			if !f.IsValid() || !f.CanInt() {
				continue
			}
			switch f.Int() {
			case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
				return errUnique
			case sqliteConstraintForeignKey:
				return errForeign
			}
			if f.Int()&0xff == sqliteTooBig {
				return errTooLong
			}
			return errOther
		}
	}
	return errOther
}

// translate maps a driver error to the sentinel the repositories promise,
// keeping the driver error in the chain. what names the records a foreign
// key violation is about ("client", "client or access token").
func translate(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return oauth.ErrNotFound
	}
	switch classify(err) {
	case errUnique:
		return fmt.Errorf("%w: %w", oauth.ErrDuplicate, err)
	case errForeign:
		return fmt.Errorf("%w: unknown %s: %w", oauth.ErrInvalid, what, err)
	case errTooLong:
		return fmt.Errorf("%w: value too long: %w", oauth.ErrInvalid, err)
	}
	return err
}

// opError returns the error of an operation on a record:
// `sqlstore: find client "x": oauth: not found`.
func opError(op, id string, err error) error {
	return fmt.Errorf("sqlstore: %s %q: %w", op, id, err)
}
