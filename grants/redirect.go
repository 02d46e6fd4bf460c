package grants

import (
	"net/url"
	"strings"
)

// matchRedirectURI reports whether requested is one of the registered
// redirection URIs: exact string equality (RFC 6749 §3.1.2.3, RFC 9700
// §4.1.3), with the one exception of RFC 8252 §7.3 — a registered
// http://127.0.0.1/… or http://[::1]/… URI matches the same URI with any
// port. A URI with a fragment never matches (RFC 6749 §3.1.2).
func matchRedirectURI(registered []string, requested string) bool {
	if requested == "" || strings.IndexByte(requested, '#') >= 0 {
		return false
	}
	for _, r := range registered {
		if r == requested {
			return true
		}
	}
	reqNoPort, ok := loopbackWithoutPort(requested)
	if !ok {
		return false
	}
	for _, r := range registered {
		if regNoPort, ok := loopbackWithoutPort(r); ok && regNoPort == reqNoPort {
			return true
		}
	}
	return false
}

// loopbackWithoutPort returns u without its port when u is an http URI on
// the loopback IP literal 127.0.0.1 or [::1], with a port of 1 to 65535
// written without leading zeros or no port at all, followed by a path, a
// query or nothing. ok is false for any other URI. Host names ("localhost")
// are deliberately not loopback here (RFC 8252 §8.3).
func loopbackWithoutPort(u string) (string, bool) {
	for _, host := range [...]string{"http://127.0.0.1", "http://[::1]"} {
		if !strings.HasPrefix(u, host) {
			continue
		}
		rest := u[len(host):]
		if strings.HasPrefix(rest, ":") {
			i := 1
			port := 0
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' && i <= 5 {
				port = port*10 + int(rest[i]-'0')
				i++
			}
			if i == 1 || rest[1] == '0' || port > 65535 {
				return "", false
			}
			rest = rest[i:]
		}
		if rest != "" && rest[0] != '/' && rest[0] != '?' {
			return "", false
		}
		return host + rest, true
	}
	return "", false
}

// resolveRedirectURI returns the URI to redirect to for a request that sent
// requested (possibly empty): the requested URI if it matches a registered
// one; the single registered URI if the request sent none (RFC 6749
// §3.1.2.3). ok is false when the request cannot be redirected.
func resolveRedirectURI(registered []string, requested string) (string, bool) {
	if requested == "" {
		if len(registered) != 1 || strings.IndexByte(registered[0], '#') >= 0 || !absoluteURI(registered[0]) {
			return "", false
		}
		return registered[0], true
	}
	if !matchRedirectURI(registered, requested) || !absoluteURI(requested) {
		return "", false
	}
	return requested, true
}

// absoluteURI reports whether s parses as an absolute URI.
func absoluteURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != ""
}

// appendQuery returns base with params added to its query, each
// form-urlencoded. A query the registered URI already has is kept (RFC 6749
// §3.1.2), except for parameters of the same names as params, which are
// dropped so that no parameter appears twice. Parameters with an empty value
// are left out.
func appendQuery(base string, params ...param) string {
	path, query, _ := strings.Cut(base, "?")
	var b strings.Builder
	b.Grow(len(base) + 128)
	b.WriteString(path)
	sep := byte('?')
	for query != "" {
		var seg string
		if i := strings.IndexByte(query, '&'); i >= 0 {
			seg, query = query[:i], query[i+1:]
		} else {
			seg, query = query, ""
		}
		if seg == "" {
			continue
		}
		k, _, _ := strings.Cut(seg, "=")
		if uk, ok := unescape(k); ok && hasKey(params, uk) {
			continue
		}
		b.WriteByte(sep)
		b.WriteString(seg)
		sep = '&'
	}
	for _, p := range params {
		if p.value == "" {
			continue
		}
		b.WriteByte(sep)
		b.WriteString(url.QueryEscape(p.key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.value))
		sep = '&'
	}
	return b.String()
}

func hasKey(params []param, key string) bool {
	for _, p := range params {
		if p.key == key {
			return true
		}
	}
	return false
}
