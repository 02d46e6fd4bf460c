package grants_test

import (
	"testing"

	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/tokens"
)

// TestInteropDiscovery drives discovery, revocation and introspection with
// oauth4webapi: see testdata/interop/discovery.mjs for the checks. One
// server issues opaque tokens under an issuer without a path; the other
// issues JWTs under an issuer with one, so that the metadata's well-known
// URL has the path appended.
func TestInteropDiscovery(t *testing.T) {
	const audience = "https://api.example.com"
	_, opaque, _ := selfIssuedServer(t, nil)
	keys, err := tokens.GenerateKeySet(tokens.ES256)
	if err != nil {
		t.Fatal(err)
	}
	var jwtIssuer string
	selfIssuedServer(t, func(c *grants.Config) {
		c.Issuer += "/tenant1"
		jwtIssuer = c.Issuer
		c.AccessTokenFormat = grants.AccessTokenJWT
		c.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{audience}}
	})
	runInterop(t, "discovery.mjs", map[string]string{
		"INTEROP_ISSUER":     opaque.URL,
		"INTEROP_JWT_ISSUER": jwtIssuer,
		"INTEROP_AUDIENCE":   audience,
		"INTEROP_C_ID":       idC,
		"INTEROP_C_SECRET":   secretC,
		"INTEROP_C_REDIRECT": redirectC,
		"INTEROP_C2_ID":      idC2,
		"INTEROP_C2_SECRET":  secretC2,
	})
}
