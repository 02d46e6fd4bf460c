package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/oauthkit/oauth"
)

// MiddlewareOption configures [Middleware].
type MiddlewareOption func(*middleware)

// WithRealm sets the realm of WWW-Authenticate challenges; the default is
// the verifier's Audience.
func WithRealm(realm string) MiddlewareOption {
	return func(m *middleware) { m.realm = realm }
}

// WithQueryToken accepts a token in the access_token query parameter (RFC
// 6750 §2.3), which is refused by default: URLs end up in logs and
// browser history. Responses to such requests get Cache-Control: private.
func WithQueryToken() MiddlewareOption {
	return func(m *middleware) { m.query = true }
}

// WithLogger sets the logger of server-side failures (a repository, JWKS
// or introspection error); the default is slog.Default().
func WithLogger(l *slog.Logger) MiddlewareOption {
	return func(m *middleware) { m.log = l }
}

type middleware struct {
	v     *Verifier
	realm string
	query bool
	log   *slog.Logger
}

// authInfo is what Middleware puts in the request context.
type authInfo struct {
	claims *Claims
	realm  string
}

type ctxKey struct{}

// FromContext returns the claims of the token that [Middleware] validated
// for this request.
func FromContext(ctx context.Context) (*Claims, bool) {
	ai, ok := ctx.Value(ctxKey{}).(*authInfo)
	if !ok {
		return nil, false
	}
	return ai.claims, true
}

// Middleware returns resource-server middleware that lets a request through
// only with a valid bearer token (RFC 6750), and puts the token's claims in
// its context for [FromContext] and [RequireScope]. It answers:
//
//   - no credentials (or a scheme other than Bearer): 401 with
//     WWW-Authenticate: Bearer realm="…" and no error;
//   - a malformed Authorization header, several of them, a token sent both
//     in the header and the query, or a query token when WithQueryToken is
//     not given: 400 with error="invalid_request";
//   - a token the verifier rejects: 401 with error="invalid_token";
//   - a failure on the server's side (a repository, JWKS or introspection
//     failure: the verifier could not tell whether the token is valid):
//     500 server_error, logged, never the handler.
//
// The scheme name is matched without case. Error responses carry a JSON
// body {"error":…,"error_description":…} and Cache-Control: no-store.
// Tokens in a form body (RFC 6750 §2.2) are not read.
func Middleware(v *Verifier, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	m := &middleware{v: v, realm: v.Audience, log: slog.Default()}
	for _, o := range opts {
		o(m)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, fromQuery, oerr := m.credentials(r)
			if oerr != nil {
				writeChallenge(w, m.realm, oerr, "")
				return
			}
			if token == "" {
				writeChallenge(w, m.realm, nil, "")
				return
			}
			claims, err := v.Verify(r.Context(), token)
			if err != nil {
				// Verify rejects only with invalid_token; any other error,
				// whatever it wraps, is a failure.
				var oe *oauth.Error
				if errors.As(err, &oe) && oe.Code == oauth.ErrCodeInvalidToken {
					writeChallenge(w, m.realm, oe, "")
					return
				}
				m.log.ErrorContext(r.Context(), "tokens: verify bearer token", "err", err)
				writeError(w, oauth.NewError(oauth.ErrCodeServerError, ""))
				return
			}
			if fromQuery {
				w.Header().Set("Cache-Control", "private")
			}
			ctx := context.WithValue(r.Context(), ctxKey{}, &authInfo{claims: claims, realm: m.realm})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// credentials finds the bearer token of r: "" with no error when there is
// none.
func (m *middleware) credentials(r *http.Request) (token string, fromQuery bool, err *oauth.Error) {
	headers := r.Header.Values("Authorization")
	if len(headers) > 1 {
		return "", false, invalidRequest("more than one Authorization header")
	}
	if len(headers) == 1 {
		scheme, rest, _ := strings.Cut(headers[0], " ")
		if strings.EqualFold(scheme, "Bearer") {
			token = strings.TrimLeft(rest, " ")
			if !isB64Token(token) {
				return "", false, invalidRequest("malformed Authorization header")
			}
		}
	}
	if strings.Contains(r.URL.RawQuery, "access_token") {
		q, perr := url.ParseQuery(r.URL.RawQuery)
		if perr != nil {
			return "", false, invalidRequest("malformed query")
		}
		if qs, ok := q["access_token"]; ok {
			switch {
			case !m.query:
				return "", false, invalidRequest("access_token in the query is not accepted")
			case token != "":
				return "", false, invalidRequest("token sent more than one way")
			case len(qs) != 1 || !isB64Token(qs[0]):
				return "", false, invalidRequest("malformed access_token parameter")
			}
			return qs[0], true, nil
		}
	}
	return token, false, nil
}

// isB64Token reports whether s matches b64token of RFC 6750 §2.1:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	end := len(strings.TrimRight(s, "="))
	if end == 0 {
		return false
	}
	for i := range end {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

func invalidRequest(description string) *oauth.Error {
	return oauth.NewError(oauth.ErrCodeInvalidRequest, description)
}

// RequireScope returns middleware, to be placed after [Middleware], that
// lets a request through only if its token grants every one of scopes. A
// request lacking one gets 403 with WWW-Authenticate: Bearer realm="…",
// error="insufficient_scope", scope="<scopes>". Used without Middleware
// before it, it answers 500 and logs the mistake.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	required := oauth.JoinScope(scopes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ai, ok := r.Context().Value(ctxKey{}).(*authInfo)
			if !ok {
				slog.ErrorContext(r.Context(), "tokens: RequireScope is used without tokens.Middleware before it", "path", r.URL.Path)
				writeError(w, oauth.NewError(oauth.ErrCodeServerError, ""))
				return
			}
			for _, s := range scopes {
				if !ai.claims.HasScope(s) {
					writeChallenge(w, ai.realm, oauth.NewError(oauth.ErrCodeInsufficientScope, "the token lacks a required scope"), required)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// writeChallenge answers with a Bearer challenge (RFC 6750 §3) carrying e's
// code and description, and scope when not empty; e nil means no
// credentials were sent: 401 without an error attribute.
func writeChallenge(w http.ResponseWriter, realm string, e *oauth.Error, scope string) {
	var b strings.Builder
	b.WriteString("Bearer realm=")
	quote(&b, realm)
	if e == nil {
		w.Header().Set("WWW-Authenticate", b.String())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	b.WriteString(", error=")
	quote(&b, e.Code)
	if e.Description != "" {
		b.WriteString(", error_description=")
		quote(&b, e.Description)
	}
	if scope != "" {
		b.WriteString(", scope=")
		quote(&b, scope)
	}
	w.Header().Set("WWW-Authenticate", b.String())
	writeError(w, e)
}

// quote writes s as an HTTP quoted-string, escaping quotes and backslashes
// and dropping control characters.
func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 && c != '\t' || c == 0x7f:
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// writeError writes e as a JSON error body with its status.
func writeError(w http.ResponseWriter, e *oauth.Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}
