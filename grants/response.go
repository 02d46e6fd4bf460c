package grants

import (
	"context"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/oauthkit/oauth"
)

// Header values shared by every response; net/http never mutates them.
var (
	hdrNoStore  = []string{"no-store"}
	hdrNoCache  = []string{"no-cache"}
	hdrJSON     = []string{"application/json;charset=UTF-8"}
	hdrHTML     = []string{"text/html;charset=UTF-8"}
	hdrPost     = []string{http.MethodPost}
	hdrGetPost  = []string{"GET, POST"}
	hdrBasic    = []string{`Basic realm="oauth", charset="UTF-8"`}
	hdrDeny     = []string{"DENY"}
	hdrCSP      = []string{"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}
	hdrNoSniff  = []string{"nosniff"}
	hdrNoReferr = []string{"no-referrer"}
)

// setJSONHeaders sets the headers of every token endpoint answer
// (RFC 6749 §5.1): JSON, Cache-Control: no-store, Pragma: no-cache.
func setJSONHeaders(h http.Header) {
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
}

// tokenResponse is a successful token endpoint answer (RFC 6749 §5.1).
type tokenResponse struct {
	accessToken  string
	expiresIn    int64
	refreshToken string
	scopes       []string
}

// writeTokenResponse writes a 200 token response. The JSON is assembled by
// hand: it has five members, and this path runs for every token issued.
func writeTokenResponse(w http.ResponseWriter, tr *tokenResponse) {
	buf := make([]byte, 0, 128+len(tr.accessToken)+len(tr.refreshToken)+16*len(tr.scopes))
	buf = append(buf, `{"access_token":`...)
	buf = appendJSONString(buf, tr.accessToken)
	buf = append(buf, `,"token_type":"Bearer","expires_in":`...)
	buf = strconv.AppendInt(buf, tr.expiresIn, 10)
	if tr.refreshToken != "" {
		buf = append(buf, `,"refresh_token":`...)
		buf = appendJSONString(buf, tr.refreshToken)
	}
	if len(tr.scopes) > 0 {
		// Always sent, though RFC 6749 §5.1 requires it only when it
		// differs from the request: clients need not remember.
		buf = append(buf, `,"scope":"`...)
		for i, sc := range tr.scopes {
			if i > 0 {
				buf = append(buf, ' ')
			}
			buf = appendJSONStringBody(buf, sc)
		}
		buf = append(buf, '"')
	}
	buf = append(buf, '}')
	setJSONHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	w.Write(buf)
}

// writeJSONError writes a protocol error as the JSON body of RFC 6749 §5.2,
// with its status, no-store, and for a 401 the WWW-Authenticate challenge
// that RFC 6749 §5.2 and RFC 7235 §3.1 require.
func writeJSONError(w http.ResponseWriter, e *oauth.Error) {
	buf := make([]byte, 0, 64+len(e.Description)+len(e.URI))
	buf = append(buf, `{"error":`...)
	buf = appendJSONString(buf, errorText(e.Code))
	if e.Description != "" {
		buf = append(buf, `,"error_description":`...)
		buf = appendJSONString(buf, errorText(e.Description))
	}
	if e.URI != "" {
		buf = append(buf, `,"error_uri":`...)
		buf = appendJSONString(buf, errorURI(e.URI))
	}
	buf = append(buf, '}')
	h := w.Header()
	setJSONHeaders(h)
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if status == http.StatusUnauthorized {
		h["Www-Authenticate"] = hdrBasic
	}
	h["Content-Length"] = []string{strconv.Itoa(len(buf))}
	w.WriteHeader(status)
	w.Write(buf)
}

// writeMethodNotAllowed answers 405 with the Allow header and a JSON
// invalid_request body.
func writeMethodNotAllowed(w http.ResponseWriter, allow []string) {
	w.Header()["Allow"] = allow
	writeJSONError(w, &oauth.Error{Code: oauth.ErrCodeInvalidRequest, Description: "method not allowed", Status: http.StatusMethodNotAllowed})
}

// errServer is what a client sees of any failure that is not a protocol
// error: no detail.
var errServer = &oauth.Error{Code: oauth.ErrCodeServerError, Status: http.StatusInternalServerError}

// protocolError returns err as a protocol error when it is one; otherwise
// it logs err and returns server_error.
func (s *Server) protocolError(ctx context.Context, endpoint string, err error) *oauth.Error {
	var pe *oauth.Error
	if errors.As(err, &pe) {
		return pe
	}
	s.log.LogAttrs(ctx, slog.LevelError, "grants: server error",
		slog.String("endpoint", endpoint), slog.String("error", err.Error()))
	return errServer
}

// errorText returns s with each character that RFC 6749 §4.1.2.1 and §5.2
// forbid in error and error_description — anything outside %x20-21 /
// %x23-5B / %x5D-7E — replaced by '?'. The server's own texts keep to the
// set already; this is for the errors a host's hooks return (say a
// localized FinalizeScopes refusal). It allocates only when it replaces.
func errorText(s string) string {
	return cleanText(s, 0x20, func(b *strings.Builder, r rune) { b.WriteByte('?') })
}

// errorURI returns s with each character that RFC 6749 forbids in
// error_uri — anything outside %x21 / %x23-5B / %x5D-7E — percent-encoded,
// byte by byte as UTF-8, so that the URI keeps its meaning.
func errorURI(s string) string {
	return cleanText(s, 0x21, func(b *strings.Builder, r rune) {
		var enc [utf8.UTFMax]byte
		for _, c := range enc[:utf8.EncodeRune(enc[:], r)] {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&0xf])
		}
	})
}

// cleanText returns s with each rune outside lo-0x7e, '"' and '\\' passed
// to bad instead of written; invalid UTF-8 is passed as U+FFFD.
func cleanText(s string, lo byte, bad func(*strings.Builder, rune)) string {
	ok := func(c byte) bool { return c >= lo && c <= 0x7e && c != '"' && c != '\\' }
	i := 0
	for i < len(s) && ok(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if r < utf8.RuneSelf && ok(byte(r)) {
			b.WriteByte(byte(r))
		} else {
			bad(&b, r)
		}
	}
	return b.String()
}

// appendJSONString appends s as a JSON string.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	buf = appendJSONStringBody(buf, s)
	return append(buf, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONStringBody appends s escaped for the inside of a JSON string.
// Invalid UTF-8 becomes U+FFFD; <, > and & are escaped as encoding/json
// does, so a response is safe even if sniffed as HTML.
func appendJSONStringBody(buf []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return buf
}

// writeErrorPage writes the page shown for an authorization request that
// cannot be redirected back to the client (RFC 6749 §4.1.2.1): the host's
// Config.ErrorPage if set, else a minimal HTML page. Either way the headers
// forbid framing and caching.
func (s *Server) writeErrorPage(w http.ResponseWriter, r *http.Request, e *oauth.Error) {
	h := w.Header()
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
	h["X-Frame-Options"] = hdrDeny
	h["Content-Security-Policy"] = hdrCSP
	h["X-Content-Type-Options"] = hdrNoSniff
	h["Referrer-Policy"] = hdrNoReferr
	if e.Status == http.StatusMethodNotAllowed {
		h["Allow"] = hdrGetPost
	}
	if s.cfg.ErrorPage != nil {
		s.cfg.ErrorPage(w, r, e)
		return
	}
	h["Content-Type"] = hdrHTML
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	body := "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Authorization error</title></head>\n" +
		"<body><h1>Authorization error</h1>\n<p>The application sent an authorization request that cannot be completed.</p>\n" +
		"<p><code>" + html.EscapeString(e.Code) + "</code>"
	if e.Description != "" {
		body += ": " + html.EscapeString(e.Description)
	}
	body += "</p>\n</body></html>\n"
	w.Write([]byte(body))
}
