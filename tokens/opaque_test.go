package tokens_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

func TestNewOpaque(t *testing.T) {
	prefixes := []string{"", tokens.PrefixAccessToken, tokens.PrefixRefreshToken, tokens.PrefixAuthCode, tokens.PrefixDeviceCode}
	for _, prefix := range prefixes {
		t.Run("prefix="+prefix, func(t *testing.T) {
			seen := map[string]bool{}
			for range 100 {
				value, id, err := tokens.NewOpaque(prefix)
				if err != nil {
					t.Fatalf("NewOpaque: %v", err)
				}
				rest, ok := strings.CutPrefix(value, prefix)
				if !ok {
					t.Fatalf("value %q: got no prefix; want %q", value, prefix)
				}
				raw, err := base64.RawURLEncoding.Strict().DecodeString(rest)
				if err != nil {
					t.Fatalf("value %q: not base64url without padding: %v", value, err)
				}
				if len(raw) != tokens.OpaqueBytes || tokens.OpaqueBytes != 32 {
					t.Fatalf("value %q: got %d random bytes; want 32", value, len(raw))
				}
				if want := oauth.HashValue(value); id != want {
					t.Fatalf("id: got %q; want %q (hex SHA-256 of the value)", id, want)
				}
				if len(id) != 64 || strings.ToLower(id) != id {
					t.Fatalf("id %q: got length %d; want 64 lowercase hex digits", id, len(id))
				}
				if seen[value] {
					t.Fatalf("value %q: got it twice", value)
				}
				seen[value] = true
			}
		})
	}
}
