package oauth

import (
	"slices"
	"strings"
)

// ValidScopeToken reports whether s is a scope token of RFC 6749 §3.3:
// one or more of %x21 / %x23-5B / %x5D-7E (printable ASCII except space,
// double quote and backslash).
func ValidScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// ParseScope splits a scope parameter into its tokens. Tokens are separated
// by single spaces (RFC 6749 §3.3); repeated tokens are kept once, in their
// first position. It reports false when the parameter holds an invalid token,
// an empty token (a leading, trailing or doubled space) or more than max
// tokens. An empty parameter yields no tokens and true.
func ParseScope(s string, max int) ([]string, bool) {
	if s == "" {
		return nil, true
	}
	n := strings.Count(s, " ") + 1
	if n > max {
		return nil, false
	}
	out := make([]string, 0, n)
	for tok := range strings.SplitSeq(s, " ") {
		if !ValidScopeToken(tok) {
			return nil, false
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out, true
}

// JoinScope joins scope tokens with single spaces, as sent on the wire.
func JoinScope(scopes []string) string { return strings.Join(scopes, " ") }
