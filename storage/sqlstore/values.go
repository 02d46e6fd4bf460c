package sqlstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/oauthkit/oauth"
)

// mysqlTimeLayout is how times are sent to MySQL: UTC wall clock with six
// fractional digits, which DATETIME(6) stores exactly whatever the
// connection's loc and parseTime settings are.
const mysqlTimeLayout = "2006-01-02 15:04:05.000000"

// The range of times the root package's Validate methods accept.
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// maxListLen bounds a space-joined list of redirect URIs or grant types:
// MySQL's TEXT holds 65,535 bytes.
const maxListLen = 65535

// timeArg returns t as the dialect stores it: UTC, truncated to the
// microsecond.
func (s *Store) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	switch s.dialect {
	case SQLite:
		return t.UnixMicro()
	case MySQL:
		return t.Format(mysqlTimeLayout)
	default:
		return t
	}
}

// optTimeArg is timeArg with NULL for the zero time.
func (s *Store) optTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.timeArg(t)
}

// timeDest returns a scan destination for a time column of the dialect; a
// NULL scans as the zero time.
func (s *Store) timeDest(t *time.Time) any {
	if s.dialect == MySQL {
		return (*wallTime)(t)
	}
	return (*instant)(t)
}

// instant scans a stored time that denotes an instant: Unix microseconds
// (SQLite), a time.Time (PostgreSQL timestamptz) or UTC text.
type instant time.Time

// Scan implements sql.Scanner.
func (t *instant) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = instant{}
	case int64:
		*t = instant(time.UnixMicro(v).UTC())
	case time.Time:
		*t = instant(v.UTC())
	case []byte:
		return t.parse(string(v))
	case string:
		return t.parse(v)
	default:
		return fmt.Errorf("cannot scan %T into a time", src)
	}
	return nil
}

func (t *instant) parse(s string) error {
	v, err := parseUTC(s)
	*t = instant(v)
	return err
}

// wallTime scans a MySQL DATETIME written as UTC wall clock. With
// parseTime=true the driver returns a time.Time in the connection's loc;
// its wall clock is the stored UTC one, so it is reinterpreted as UTC.
type wallTime time.Time

// Scan implements sql.Scanner.
func (t *wallTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = wallTime{}
	case time.Time:
		y, mo, d := v.Date()
		h, mi, sec := v.Clock()
		*t = wallTime(time.Date(y, mo, d, h, mi, sec, v.Nanosecond(), time.UTC))
	case []byte:
		p, err := parseUTC(string(v))
		*t = wallTime(p)
		return err
	case string:
		p, err := parseUTC(v)
		*t = wallTime(p)
		return err
	default:
		return fmt.Errorf("cannot scan %T into a time", src)
	}
	return nil
}

func parseUTC(s string) (time.Time, error) {
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, nil
	}
	v, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", s, time.UTC)
	if err != nil {
		v, err = time.Parse(time.RFC3339Nano, s)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("cannot parse time %q", s)
	}
	return v.UTC(), nil
}

// nullString scans a nullable text column; NULL scans as "".
type nullString string

// Scan implements sql.Scanner.
func (n *nullString) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n = ""
	case string:
		*n = nullString(v)
	case []byte:
		*n = nullString(v)
	default:
		return fmt.Errorf("cannot scan %T into a string", src)
	}
	return nil
}

// list scans a space-separated list; an empty or NULL column scans as nil.
type list []string

// Scan implements sql.Scanner.
func (l *list) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("cannot scan %T into a list", src)
	}
	if s == "" {
		*l = nil
		return nil
	}
	*l = strings.Fields(s)
	return nil
}

// seconds scans an integer number of seconds into a time.Duration.
type seconds time.Duration

// Scan implements sql.Scanner.
func (d *seconds) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*d = seconds(time.Duration(v) * time.Second)
	case []byte:
		var n int64
		if _, err := fmt.Sscan(string(v), &n); err != nil {
			return fmt.Errorf("cannot scan %q into seconds", v)
		}
		*d = seconds(time.Duration(n) * time.Second)
	default:
		return fmt.Errorf("cannot scan %T into seconds", src)
	}
	return nil
}

// join stores a list space-separated; the root's validation keeps its
// elements free of whitespace.
func join(l []string) string { return strings.Join(l, " ") }

// nullable stores "" as NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkTimeArg refuses a time the schema cannot store.
func checkTimeArg(what string, t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return fmt.Errorf("%w: %s %v is outside 1970–9999", oauth.ErrInvalid, what, t)
	}
	return nil
}

// checkLists refuses lists longer than their TEXT column.
func checkLists(what string, l []string) error {
	n := 0
	for _, v := range l {
		n += len(v) + 1
	}
	if n > maxListLen+1 {
		return fmt.Errorf("%w: %s are longer than %d bytes", oauth.ErrInvalid, what, maxListLen)
	}
	return nil
}

// checkUserID validates a required user ID given outside a record, as the
// root validates a record's.
func checkUserID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: user id is empty", oauth.ErrInvalid)
	}
	if !oauth.ValidID(id, oauth.MaxUserIDLen) {
		return fmt.Errorf("%w: user id must be printable ASCII of at most %d bytes", oauth.ErrInvalid, oauth.MaxUserIDLen)
	}
	return nil
}

// checkScopeList validates scopes given outside a record, as the root
// validates a record's.
func checkScopeList(scopes []string) error {
	n := 0
	for _, sc := range scopes {
		if !oauth.ValidScopeToken(sc) || len(sc) > oauth.MaxScopeLen {
			return fmt.Errorf("%w: scope %q is not a valid scope token of at most %d bytes", oauth.ErrInvalid, sc, oauth.MaxScopeLen)
		}
		n += len(sc) + 1
	}
	if n > oauth.MaxScopesLen {
		return fmt.Errorf("%w: scopes are longer than %d bytes", oauth.ErrInvalid, oauth.MaxScopesLen)
	}
	return nil
}
