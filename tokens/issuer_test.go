package tokens_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"github.com/oauthkit/oauth/tokens"
)

// TestIssueRFC9068 checks CONFORMANCE items 54 and 55 for every algorithm:
// the header and the claims of an issued token, checked by decoding it by
// hand and by jwx's own jwt.Parse against the published key.
func TestIssueRFC9068(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			tok, c := f.issue(t, nil)
			kid, _ := f.keys.SigningKey()

			hdr := decodeSegment(t, tok, 0)
			want := map[string]any{"typ": "at+jwt", "alg": alg, "kid": kid}
			if len(hdr) != len(want) {
				t.Errorf("header: got %v; want exactly %v", hdr, want)
			}
			for k, v := range want {
				if hdr[k] != v {
					t.Errorf("header %s: got %v; want %v", k, hdr[k], v)
				}
			}

			cl := decodeSegment(t, tok, 1)
			wantClaims := map[string]string{
				"iss": testIssuer, "sub": "user-1", "aud": testAudience, "client_id": "client-1",
				"scope": "read write", "iat": "1772600767", "exp": "1772604367", "jti": c.ID,
			}
			for k, v := range wantClaims {
				if got := jsonString(cl[k]); got != v {
					t.Errorf("claim %s: got %s; want %s", k, got, v)
				}
			}
			if len(cl) != len(wantClaims) {
				t.Errorf("claims: got %v; want exactly %v", cl, wantClaims)
			}
			if len(c.ID) < 22 {
				t.Errorf("jti %q: got %d characters; want at least 22 (128 bits)", c.ID, len(c.ID))
			}

			// jwx's full JWT validation accepts it with the published key.
			set, err := jwk.Parse(f.keys.JWKS())
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jwt.ParseString(tok, jwt.WithKeySet(set), jwt.WithClock(jwt.ClockFunc(f.clk.Now)),
				jwt.WithIssuer(testIssuer), jwt.WithAudience(testAudience), jwt.WithValidate(true))
			if err != nil {
				t.Fatalf("jwt.Parse: %v", err)
			}
			if parsed.Subject() != "user-1" || parsed.JwtID() != c.ID {
				t.Errorf("jwt.Parse: got sub %q jti %q; want user-1 and %q", parsed.Subject(), parsed.JwtID(), c.ID)
			}
		})
	}
}

func jsonString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func TestIssueDefaultsAndFields(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	f.clk.Advance(1500 * time.Millisecond)
	tests := []struct {
		name  string
		edit  func(*tokens.Claims)
		check func(t *testing.T, c *tokens.Claims, claims map[string]any)
	}{
		{
			name: "client credentials: sub is the client",
			edit: func(c *tokens.Claims) { c.Subject = c.ClientID },
			check: func(t *testing.T, c *tokens.Claims, cl map[string]any) {
				if cl["sub"] != "client-1" || cl["client_id"] != "client-1" {
					t.Errorf("got sub %v client_id %v; want both client-1", cl["sub"], cl["client_id"])
				}
			},
		},
		{
			name: "defaults are filled in",
			check: func(t *testing.T, c *tokens.Claims, cl map[string]any) {
				if c.Issuer != testIssuer || len(c.Audience) != 1 || c.Audience[0] != testAudience {
					t.Errorf("got iss %q aud %v; want the issuer's defaults", c.Issuer, c.Audience)
				}
				if want := t0.Add(time.Second); !c.IssuedAt.Equal(want) {
					t.Errorf("IssuedAt: got %v; want %v (now, whole seconds)", c.IssuedAt, want)
				}
				if c.ID == "" || cl["jti"] != c.ID {
					t.Errorf("ID: got %q, jti %v; want a generated jti stored in c.ID", c.ID, cl["jti"])
				}
			},
		},
		{
			name: "explicit values win",
			edit: func(c *tokens.Claims) {
				c.Issuer, c.Audience, c.ID = "https://other", []string{"a", "b"}, "my-jti"
				c.IssuedAt, c.NotBefore = t0.Add(-time.Minute), t0.Add(time.Minute)
			},
			check: func(t *testing.T, c *tokens.Claims, cl map[string]any) {
				if cl["iss"] != "https://other" || jsonString(cl["aud"]) != `["a","b"]` || cl["jti"] != "my-jti" {
					t.Errorf("got iss %v aud %v jti %v; want the caller's", cl["iss"], cl["aud"], cl["jti"])
				}
				if jsonString(cl["nbf"]) != "1772600827" || jsonString(cl["iat"]) != "1772600707" {
					t.Errorf("got nbf %v iat %v; want 1772600827 and 1772600707", cl["nbf"], cl["iat"])
				}
			},
		},
		{
			name: "no scopes: no scope claim",
			edit: func(c *tokens.Claims) { c.Scopes = nil },
			check: func(t *testing.T, c *tokens.Claims, cl map[string]any) {
				if _, ok := cl["scope"]; ok {
					t.Errorf("got scope %v; want none", cl["scope"])
				}
			},
		},
		{
			name: "strings needing escapes",
			edit: func(c *tokens.Claims) { c.Subject = "ü\"\\\n</" },
			check: func(t *testing.T, c *tokens.Claims, cl map[string]any) {
				if cl["sub"] != "ü\"\\\n</" {
					t.Errorf("sub: got %q; want %q", cl["sub"], "ü\"\\\n</")
				}
			},
		},
		{
			name: "extra claims",
			edit: func(c *tokens.Claims) { c.Extra = map[string]any{"tenant": "t1", "roles": []string{"a"}} },
			check: func(t *testing.T, c *tokens.Claims, cl map[string]any) {
				if cl["tenant"] != "t1" || jsonString(cl["roles"]) != `["a"]` {
					t.Errorf("got tenant %v roles %v; want t1 and [a]", cl["tenant"], cl["roles"])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, c := f.issue(t, tt.edit)
			tt.check(t, c, decodeSegment(t, tok, 1))
		})
	}
}

func TestIssueUniqueJTI(t *testing.T) {
	f := newFixture(t, tokens.EdDSA)
	seen := map[string]bool{}
	for range 1000 {
		_, c := f.issue(t, nil)
		if seen[c.ID] {
			t.Fatalf("jti %q issued twice", c.ID)
		}
		seen[c.ID] = true
	}
}

func TestIssueErrors(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	tests := []struct {
		name string
		iss  *tokens.JWTIssuer
		edit func(*tokens.Claims)
		want string
	}{
		{name: "no subject", edit: func(c *tokens.Claims) { c.Subject = "" }, want: "no subject"},
		{name: "no client", edit: func(c *tokens.Claims) { c.ClientID = "" }, want: "no client id"},
		{name: "no expiry", edit: func(c *tokens.Claims) { c.ExpiresAt = time.Time{} }, want: "no expiry"},
		{name: "expiry before iat", edit: func(c *tokens.Claims) { c.ExpiresAt = t0.Add(-time.Second) }, want: "expiry is not after"},
		{name: "bad scope", edit: func(c *tokens.Claims) { c.Scopes = []string{"a b"} }, want: "invalid scope token"},
		{name: "registered name in Extra", edit: func(c *tokens.Claims) { c.Extra = map[string]any{"sub": "admin"} }, want: `"sub" is registered`},
		{name: "unencodable Extra", edit: func(c *tokens.Claims) { c.Extra = map[string]any{"f": func() {}} }, want: "encode claims"},
		{name: "no issuer", iss: &tokens.JWTIssuer{Keys: f.keys, Audience: []string{testAudience}}, want: "no issuer"},
		{name: "no audience", iss: &tokens.JWTIssuer{Keys: f.keys, Issuer: testIssuer}, want: "no audience"},
		{name: "no keys", iss: &tokens.JWTIssuer{Issuer: testIssuer, Audience: []string{testAudience}}, want: "no Keys"},
		{name: "empty key set", iss: &tokens.JWTIssuer{Keys: &tokens.KeySet{}, Issuer: testIssuer, Audience: []string{testAudience}}, want: "no signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := tt.iss
			if iss == nil {
				iss = f.issuer
			}
			c := validClaims()
			c.IssuedAt = t0
			if tt.edit != nil {
				tt.edit(c)
			}
			tok, err := iss.Issue(c)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "tokens: issue: ") {
				t.Fatalf("Issue: got %q, %v; want an error containing %q", tok, err, tt.want)
			}
		})
	}
}

// TestAddClaims: the hook adds claims, but neither set nor changing the
// Claims it is shown can override a registered claim.
func TestAddClaims(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	f.issuer.AddClaims = func(c *tokens.Claims, set func(string, any)) {
		set("tenant", "t-"+c.ClientID)
		set("amr", []string{"pwd"})
		c.Subject = "admin"   // a copy: no effect
		c.Scopes[0] = "admin" // a copy: no effect
		c.Audience = []string{"evil"}
	}
	tok, c := f.issue(t, func(c *tokens.Claims) { c.Extra = map[string]any{"tenant": "overridden by the hook", "x": 1} })
	cl := decodeSegment(t, tok, 1)
	if cl["tenant"] != "t-client-1" || jsonString(cl["amr"]) != `["pwd"]` || jsonString(cl["x"]) != "1" {
		t.Errorf("host claims: got tenant %v amr %v x %v; want t-client-1 [pwd] 1", cl["tenant"], cl["amr"], cl["x"])
	}
	if cl["sub"] != "user-1" || cl["scope"] != "read write" || cl["aud"] != testAudience || c.Subject != "user-1" {
		t.Errorf("registered claims: got sub %v scope %v aud %v; want them unchanged by the hook", cl["sub"], cl["scope"], cl["aud"])
	}
	got, err := f.verifier.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Extra["tenant"] != "t-client-1" || len(got.Extra) != 3 {
		t.Errorf("verified Extra: got %v; want tenant, amr and x", got.Extra)
	}

	for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope"} {
		if !tokens.IsRegisteredClaim(name) {
			t.Errorf("IsRegisteredClaim(%q): got false; want true", name)
		}
		f.issuer.AddClaims = func(c *tokens.Claims, set func(string, any)) { set(name, "x") }
		if _, err := f.issuer.Issue(validClaims()); err == nil || !strings.Contains(err.Error(), "registered") {
			t.Errorf("hook setting %q: got %v; want an error", name, err)
		}
	}
	if tokens.IsRegisteredClaim("tenant") {
		t.Errorf(`IsRegisteredClaim("tenant"): got true; want false`)
	}
}
