package grants

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"unsafe"

	"github.com/oauthkit/oauth"
)

// DefaultMaxBodyBytes is the largest request body the endpoints read when
// Config.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 64 << 10

// maxParams is the most parameters one request may carry, repeats
// included. OAuth requests have a dozen; the cap keeps duplicate detection
// cheap on hostile input: each parameter is compared with those before it,
// and without repeats counted a megabyte of query naming the same hundred
// parameters over and over cost a tenth of a second.
const maxParams = 100

// param is one decoded name=value pair of a form or query.
type param struct{ key, value string }

// form holds the parameters of a request body or query string, decoded, in
// the order they were sent, each name at most once: a repeated name keeps its
// first value and is listed in repeated.
type form struct {
	params   []param
	repeated []string
	// n counts the parameters parsed, repeats included.
	n int
	// first holds the first parameters, so that a typical request needs
	// no allocation for them.
	first [8]param
}

// repeatedErr returns an invalid_request error when a parameter was
// repeated (CONFORMANCE A.3), else nil.
func (f *form) repeatedErr() *oauth.Error {
	if len(f.repeated) == 0 {
		return nil
	}
	return errRepeated(f.repeated[0])
}

// wasRepeated reports whether the parameter was sent more than once.
func (f *form) wasRepeated(key string) bool {
	for _, k := range f.repeated {
		if k == key {
			return true
		}
	}
	return false
}

// get returns the value of the parameter, or "" when it is absent. An empty
// value counts as absent (CONFORMANCE A.3).
func (f *form) get(key string) string {
	for i := range f.params {
		if f.params[i].key == key {
			return f.params[i].value
		}
	}
	return ""
}

// seen reports whether the parameter was sent, even with an empty value.
func (f *form) seen(key string) bool {
	for i := range f.params {
		if f.params[i].key == key {
			return true
		}
	}
	return false
}

// has reports whether the parameter is present with a non-empty value.
func (f *form) has(key string) bool { return f.get(key) != "" }

// values returns the parameters as url.Values.
func (f *form) values() url.Values {
	v := make(url.Values, len(f.params))
	for _, p := range f.params {
		v[p.key] = []string{p.value}
	}
	return v
}

// errRepeated is the protocol error for a parameter sent more than once.
func errRepeated(key string) *oauth.Error {
	return oauth.NewError(oauth.ErrCodeInvalidRequest, "parameter "+safeDescription(key)+" is repeated")
}

// parseForm decodes an application/x-www-form-urlencoded string into f,
// appending to what f holds. A name that occurs twice (in s, or in s and f)
// keeps its first value and is recorded in f.repeated, for the caller to
// refuse. Malformed percent-encoding and more than maxParams parameters
// (repeats included, over every call on f) are invalid_request errors. Empty segments ("a=1&&b=2") and segments with an
// empty name are skipped; a segment without "=" is a name with an empty
// value.
func parseForm(s string, f *form) *oauth.Error {
	for s != "" {
		var seg string
		if i := strings.IndexByte(s, '&'); i >= 0 {
			seg, s = s[:i], s[i+1:]
		} else {
			seg, s = s, ""
		}
		if seg == "" {
			continue
		}
		if f.n++; f.n > maxParams {
			return oauth.NewError(oauth.ErrCodeInvalidRequest, "too many parameters")
		}
		key, value, _ := strings.Cut(seg, "=")
		key, ok := unescape(key)
		if !ok {
			return oauth.NewError(oauth.ErrCodeInvalidRequest, "malformed percent-encoding in the request")
		}
		value, ok = unescape(value)
		if !ok {
			return oauth.NewError(oauth.ErrCodeInvalidRequest, "malformed percent-encoding in parameter "+safeDescription(key))
		}
		if key == "" {
			continue
		}
		if f.seen(key) {
			if !f.wasRepeated(key) {
				f.repeated = append(f.repeated, key)
			}
			continue
		}
		if f.params == nil {
			f.params = f.first[:0]
		}
		f.params = append(f.params, param{key, value})
	}
	return nil
}

// unescape decodes one form-urlencoded component ('+' is a space). It
// allocates only when the component holds an escape.
func unescape(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

// formContentType reports whether a Content-Type header names
// application/x-www-form-urlencoded, with or without parameters such as
// charset (RFC 6749 §3.2).
func formContentType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

// readBody reads a form-encoded request body of at most max bytes into f.
// A body of the wrong type, too large or malformed is an invalid_request
// error; an I/O error reading it is returned as is.
func readBody(r *http.Request, max int64, f *form) error {
	if !formContentType(r.Header.Get("Content-Type")) {
		return oauth.NewError(oauth.ErrCodeInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if r.ContentLength > max {
		return errBodyTooLarge
	}
	var buf []byte
	if r.ContentLength >= 0 {
		buf = make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return oauth.NewError(oauth.ErrCodeInvalidRequest, "the body is shorter than its Content-Length")
		}
	} else {
		var err error
		buf, err = io.ReadAll(io.LimitReader(r.Body, max+1))
		if err != nil {
			return oauth.NewError(oauth.ErrCodeInvalidRequest, "the body could not be read")
		}
		if int64(len(buf)) > max {
			return errBodyTooLarge
		}
	}
	if len(buf) == 0 {
		return nil
	}
	// buf is never written again: the parameters may share its memory
	// instead of a copy.
	if err := parseForm(unsafe.String(&buf[0], len(buf)), f); err != nil {
		return err
	}
	return nil
}

var errBodyTooLarge = &oauth.Error{Code: oauth.ErrCodeInvalidRequest, Description: "the body is too large", Status: http.StatusBadRequest}

// safeDescription quotes s for an error_description, whose characters are
// limited to %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2): anything else
// becomes '?', and long values are cut.
func safeDescription(s string) string {
	const max = 40
	var b strings.Builder
	b.Grow(min(len(s), max) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s) && i < max; i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '\'' {
			c = '?'
		}
		b.WriteByte(c)
	}
	if len(s) > max {
		b.WriteString("...")
	}
	b.WriteByte('\'')
	return b.String()
}
