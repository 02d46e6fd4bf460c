package tokens_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// wantInvalid fails unless err is an *oauth.Error invalid_token, status
// 401, whose description contains desc.
func wantInvalid(t *testing.T, err error, desc string) {
	t.Helper()
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		t.Fatalf("got error %v (%T); want *oauth.Error invalid_token %q", err, err, desc)
	}
	if oe.Code != oauth.ErrCodeInvalidToken || oe.Status != http.StatusUnauthorized || !strings.Contains(oe.Description, desc) {
		t.Fatalf("got %s (status %d); want invalid_token containing %q, status 401", oe, oe.Status, desc)
	}
	if !errors.Is(err, &oauth.Error{Code: oauth.ErrCodeInvalidToken}) {
		t.Fatalf("errors.Is(err, invalid_token): got false; want true")
	}
}

func TestVerifyTampered(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			for _, tc := range tamperCases(t, f) {
				t.Run(tc.name, func(t *testing.T) {
					c, err := f.verifier.Verify(t.Context(), tc.token)
					if tc.desc == "" {
						if err != nil {
							t.Fatalf("Verify: got %v; want valid", err)
						}
						if c.Subject != "user-1" || c.ClientID != "client-1" || !c.HasScope("write") || c.HasScope("admin") {
							t.Fatalf("claims: got %+v; want sub user-1, client-1, scopes read write", c)
						}
						return
					}
					if c != nil {
						t.Fatalf("Verify: got claims %+v; want none", c)
					}
					wantInvalid(t, err, tc.desc)
				})
			}
		})
	}
}

func TestVerifyClaims(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	tok, issued := f.issue(t, func(c *tokens.Claims) {
		c.NotBefore = t0.Add(-time.Minute)
		c.Extra = map[string]any{"tenant": "t1", "n": 2}
	})
	got, err := f.verifier.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	want := &tokens.Claims{
		Issuer: testIssuer, Subject: "user-1", ClientID: "client-1", Audience: []string{testAudience},
		Scopes: []string{"read", "write"}, IssuedAt: t0, NotBefore: t0.Add(-time.Minute),
		ExpiresAt: t0.Add(time.Hour), ID: issued.ID, Extra: map[string]any{"tenant": "t1", "n": float64(2)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Verify:\ngot  %+v\nwant %+v", got, want)
	}
}

func TestVerifyLeeway(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	priv, kid, _ := privateKey(t, f.keys)
	f.verifier.Leeway = 30 * time.Second
	hdr := map[string]any{"typ": "at+jwt", "kid": kid}
	tests := []struct {
		name  string
		edit  map[string]any
		valid bool
	}{
		{"expired 29s ago", map[string]any{"exp": t0.Unix() - 29}, true},
		{"expired 30s ago", map[string]any{"exp": t0.Unix() - 30}, false},
		{"nbf in 30s", map[string]any{"nbf": t0.Unix() + 30}, true},
		{"nbf in 31s", map[string]any{"nbf": t0.Unix() + 31}, false},
		{"iat in 30s", map[string]any{"iat": t0.Unix() + 30}, true},
		{"iat in 31s", map[string]any{"iat": t0.Unix() + 31}, false},
		{"fractional exp", map[string]any{"exp": float64(t0.Unix()) - 29.5}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claimsMap()
			maps.Copy(c, tt.edit)
			_, err := f.verifier.Verify(t.Context(), signJWT(t, jwa.ES256, priv, hdr, c))
			if (err == nil) != tt.valid {
				t.Fatalf("Verify: got %v; want valid=%v", err, tt.valid)
			}
		})
	}
}

func TestVerifyAlgorithms(t *testing.T) {
	ctx := context.Background()
	es, ed := newFixture(t, tokens.ES256), newFixture(t, tokens.EdDSA)
	esTok, _ := es.issue(t, nil)
	edTok, _ := ed.issue(t, nil)
	both := multiKeys{es.keys, ed.keys}

	only := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: both, Now: es.clk.Now, Algorithms: []string{tokens.ES256}}
	if _, err := only.Verify(ctx, esTok); err != nil {
		t.Errorf("ES256 token, allow-list [ES256]: got %v; want valid", err)
	}
	_, err := only.Verify(ctx, edTok)
	wantInvalid(t, err, "algorithm not allowed")

	for _, bad := range [][]string{{"none"}, {"HS256"}, {"ES256", "HS512"}, {"hs256"}, {"XYZ"}} {
		v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: both, Algorithms: bad}
		_, err := v.Verify(ctx, esTok)
		var oe *oauth.Error
		if err == nil || errors.As(err, &oe) || !strings.Contains(err.Error(), "not an asymmetric JWS algorithm") {
			t.Errorf("Algorithms %v: got %v; want a configuration error", bad, err)
		}
	}
}

// multiKeys looks a kid up in several key sets.
type multiKeys []*tokens.KeySet

func (m multiKeys) PublicKey(ctx context.Context, kid string) (*tokens.PublicKey, error) {
	for _, ks := range m {
		if k, err := ks.PublicKey(ctx, kid); err == nil {
			return k, nil
		}
	}
	return nil, tokens.ErrUnknownKey
}

func TestVerifierConfiguration(t *testing.T) {
	ks := newKeySet(t, tokens.ES256, nil)
	tests := []struct {
		name string
		v    *tokens.Verifier
		want string
	}{
		{"no issuer", &tokens.Verifier{Audience: testAudience, Keys: ks}, "Issuer is empty"},
		{"no audience", &tokens.Verifier{Issuer: testIssuer, Keys: ks}, "Audience is empty"},
		{"no keys nor repository", &tokens.Verifier{Issuer: testIssuer, Audience: testAudience}, "neither Keys nor AccessTokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(t.Context(), "a.b.c")
			var oe *oauth.Error
			if err == nil || errors.As(err, &oe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify: got %v; want a configuration error containing %q", err, tt.want)
			}
		})
	}
	// Opaque-only: a JWT is refused as invalid_token.
	v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, AccessTokens: newMemRepo()}
	_, err := v.Verify(t.Context(), "a.b.c")
	wantInvalid(t, err, "jwt access tokens are not accepted")
}

// TestVerifyRevocation: with AccessTokens set, a JWT is checked against
// its stored record (CONFORMANCE 47 and 58, revoked).
func TestVerifyRevocation(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	f.verifier.AccessTokens = f.repo
	ctx := t.Context()
	tok, c := f.issue(t, nil)

	_, err := f.verifier.Verify(ctx, tok)
	wantInvalid(t, err, "unknown token")

	f.store(t, c)
	if _, err := f.verifier.Verify(ctx, tok); err != nil {
		t.Fatalf("stored token: got %v; want valid", err)
	}
	if err := f.repo.RevokeAccessToken(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.verifier.Verify(ctx, tok)
	wantInvalid(t, err, "token revoked")

	// A stored record of another client under the same jti does not count.
	tok2, c2 := f.issue(t, nil)
	c2.ClientID = "client-2"
	f.store(t, c2)
	_, err = f.verifier.Verify(ctx, tok2)
	wantInvalid(t, err, "unknown token")

	// A repository failure is the server's, not the token's.
	tok3, c3 := f.issue(t, nil)
	f.store(t, c3)
	f.repo.fail = errors.New("database is down")
	_, err = f.verifier.Verify(ctx, tok3)
	var oe *oauth.Error
	if err == nil || errors.As(err, &oe) || !strings.Contains(err.Error(), "database is down") {
		t.Fatalf("repository failure: got %v; want a plain error wrapping it", err)
	}
}

func TestVerifyOpaque(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	f.verifier.AccessTokens = f.repo
	ctx := t.Context()
	mk := func(userID string, expires time.Time, revoked bool) string {
		value, id, err := tokens.NewOpaque(tokens.PrefixAccessToken)
		if err != nil {
			t.Fatal(err)
		}
		rec := &oauth.AccessToken{ID: id, ClientID: "client-1", UserID: userID, Scopes: []string{"read"},
			FamilyID: "fam", ExpiresAt: expires, CreatedAt: t0.Add(-time.Minute)}
		if err := f.repo.CreateAccessToken(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if revoked {
			f.repo.RevokeAccessToken(ctx, id)
		}
		return value
	}
	user := mk("user-9", t0.Add(time.Hour), false)
	client := mk("", t0.Add(time.Hour), false)
	expired := mk("user-9", t0, false)
	revoked := mk("user-9", t0.Add(time.Hour), true)
	unknown, _, _ := tokens.NewOpaque(tokens.PrefixAccessToken)

	c, err := f.verifier.Verify(ctx, user)
	if err != nil {
		t.Fatalf("opaque token: %v", err)
	}
	want := &tokens.Claims{Issuer: testIssuer, Subject: "user-9", ClientID: "client-1", Scopes: []string{"read"},
		IssuedAt: t0.Add(-time.Minute), ExpiresAt: t0.Add(time.Hour), ID: oauth.HashValue(user)}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("opaque claims:\ngot  %+v\nwant %+v", c, want)
	}
	if c, err := f.verifier.Verify(ctx, client); err != nil || c.Subject != "client-1" {
		t.Fatalf("client credentials opaque token: got %+v, %v; want sub client-1", c, err)
	}
	for name, tc := range map[string]struct{ tok, desc string }{
		"expired":   {expired, "token expired"},
		"revoked":   {revoked, "token revoked"},
		"unknown":   {unknown, "unknown token"},
		"too long":  {strings.Repeat("a", 200), "unknown token"},
		"truncated": {user[:len(user)-1], "unknown token"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.verifier.Verify(ctx, tc.tok)
			wantInvalid(t, err, tc.desc)
		})
	}
	// Without a repository no opaque token is valid.
	_, err = (&tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: f.keys}).Verify(ctx, user)
	wantInvalid(t, err, "unknown token")
}

func TestVerifyCache(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	keys := &countingKeys{KeySource: f.keys}
	f.verifier.Keys = keys
	f.verifier.CacheSize = 100
	ctx := t.Context()
	tok, c := f.issue(t, func(c *tokens.Claims) { c.ExpiresAt = t0.Add(time.Minute) })

	first, err := f.verifier.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	first.Subject = "changed by the caller"
	second, err := f.verifier.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if n := keys.count(); n != 1 {
		t.Fatalf("key lookups after two checks: got %d; want 1 (the second from the cache)", n)
	}
	if second.Subject != "user-1" || second.ID != c.ID {
		t.Fatalf("cached claims: got %+v; want sub user-1 and jti %s", second, c.ID)
	}
	// A tampered copy is not served from the cache.
	_, err = f.verifier.Verify(ctx, tok+"x")
	wantInvalid(t, err, "signature")

	// Never past exp, even with leeway that would still accept it.
	f.verifier.Leeway = 0
	f.clk.Advance(time.Minute)
	_, err = f.verifier.Verify(ctx, tok)
	wantInvalid(t, err, "token expired")
	if n := keys.count(); n != 3 {
		t.Fatalf("key lookups: got %d; want 3 (an expired entry is not used)", n)
	}
}

func TestVerifyCacheConsultsRevocation(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	f.verifier.AccessTokens = f.repo
	f.verifier.CacheSize = 10
	ctx := t.Context()
	tok, c := f.issue(t, nil)
	f.store(t, c)
	for range 3 {
		if _, err := f.verifier.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.repo.findCount(); n != 3 {
		t.Fatalf("repository lookups: got %d; want 3 (one per check, cached or not)", n)
	}
	f.repo.RevokeAccessToken(ctx, c.ID)
	_, err := f.verifier.Verify(ctx, tok)
	wantInvalid(t, err, "token revoked")
}

// TestVerifyConcurrent runs cached and uncached checks from many
// goroutines, for the race detector.
func TestVerifyConcurrent(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	f.verifier.CacheSize = 4
	var toks []string
	for range 8 {
		tok, _ := f.issue(t, nil)
		toks = append(toks, tok)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := f.verifier.Verify(context.Background(), toks[(g+i)%len(toks)]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// tamperCase is a token and what Verify must say about it; desc "" means
// valid.
type tamperCase struct {
	name  string
	token string
	desc  string
}

// tamperCases builds the valid token of f and every way of breaking it
// that CONFORMANCE items 58 and the issue list.
func tamperCases(t testing.TB, f *fixture) []tamperCase {
	t.Helper()
	priv, kid, alg := privateKey(t, f.keys)
	jalg := jwa.SignatureAlgorithm(alg)
	valid, _ := f.issue(t, nil)
	parts := strings.Split(valid, ".")
	hdr := func(extra map[string]any) map[string]any {
		h := map[string]any{"typ": "at+jwt", "kid": kid}
		maps.Copy(h, extra)
		for k, v := range h {
			if v == nil {
				delete(h, k)
			}
		}
		return h
	}
	with := func(edit map[string]any) map[string]any {
		c := claimsMap()
		for k, v := range edit {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	sign := func(h, c map[string]any) string { return signJWT(t, jalg, priv, hdr(h), with(c)) }

	// Another key of the same algorithm, claiming the real kid.
	otherPriv, _, _ := privateKey(t, mustGenerate(t, alg))
	// The public key, as an attacker would find it, used as an HMAC secret.
	pk, _ := f.keys.PublicKey(context.Background(), kid)
	der, _ := x509.MarshalPKIXPublicKey(pk.Key)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pubJWK := f.keys.JWKS()
	pubJWK = pubJWK[len(`{"keys":[`) : len(pubJWK)-2]
	hs := func(secret []byte, a jwa.SignatureAlgorithm) string {
		return signJWT(t, a, secret, hdr(nil), claimsMap())
	}
	none := func(h map[string]any, sig string) string {
		return b64json(t, h) + "." + b64json(t, claimsMap()) + "." + sig
	}
	// A key of another type, for "the alg does not fit the key".
	var wrongAlg jwa.SignatureAlgorithm = jwa.RS256
	if alg == tokens.RS256 {
		wrongAlg = jwa.ES256
	}
	ecOther, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	long := "a" + strings.Repeat(".a", 1) + "." + strings.Repeat("a", tokens.MaxTokenLen)

	return []tamperCase{
		{name: "valid", token: valid},
		{name: "valid: hand-built by jws.Sign", token: sign(nil, nil)},
		{name: "valid: typ application/at+jwt", token: sign(map[string]any{"typ": "application/at+jwt"}, nil)},
		{name: "valid: typ in other case", token: sign(map[string]any{"typ": "AT+JWT"}, nil)},
		{name: "valid: aud array containing ours", token: sign(nil, map[string]any{"aud": []string{"x", testAudience}})},
		{name: "valid: jku header is ignored", token: sign(map[string]any{"jku": "https://evil.example/jwks"}, nil)},

		{name: "bad signature: flipped", token: parts[0] + "." + parts[1] + "." + flip(parts[2], 5), desc: "bad signature"},
		{name: "bad signature: claims changed", token: parts[0] + "." + b64json(t, with(map[string]any{"sub": "admin"})) + "." + parts[2], desc: "bad signature"},
		{name: "bad signature: header changed", token: b64json(t, map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt", "x": 1}) + "." + parts[1] + "." + parts[2], desc: "bad signature"},
		{name: "bad signature: another key, same kid", token: signJWT(t, jalg, otherPriv, hdr(nil), claimsMap()), desc: "bad signature"},
		{name: "bad signature: empty", token: parts[0] + "." + parts[1] + ".", desc: "bad signature"},
		{name: "unknown kid", token: sign(map[string]any{"kid": "not-a-kid"}, nil), desc: "unknown key"},
		{name: "no kid", token: sign(map[string]any{"kid": nil}, nil), desc: "no key id"},
		{name: "alg none, no signature", token: none(map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid}, ""), desc: "algorithm not allowed"},
		{name: "alg none, real signature", token: none(map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid}, parts[2]), desc: "algorithm not allowed"},
		{name: "alg NONE", token: none(map[string]any{"alg": "NONE", "typ": "at+jwt", "kid": kid}, ""), desc: "algorithm not allowed"},
		{name: "no alg", token: none(map[string]any{"typ": "at+jwt", "kid": kid}, parts[2]), desc: "algorithm not allowed"},
		{name: "HS256 with the public key PEM as secret", token: hs(pubPEM, jwa.HS256), desc: "algorithm not allowed"},
		{name: "HS256 with the public JWK as secret", token: hs(pubJWK, jwa.HS256), desc: "algorithm not allowed"},
		{name: "HS256 with the public key DER as secret", token: hs(der, jwa.HS256), desc: "algorithm not allowed"},
		{name: "HS512 with the public key PEM as secret", token: hs(pubPEM, jwa.HS512), desc: "algorithm not allowed"},
		{name: "alg that does not fit the key", token: signJWT(t, wrongAlg, map[jwa.SignatureAlgorithm]any{jwa.RS256: mustRSA(t), jwa.ES256: ecOther}[wrongAlg], hdr(nil), claimsMap()), desc: "does not fit"},
		{name: "typ missing", token: sign(map[string]any{"typ": nil}, nil), desc: "typ"},
		{name: "typ JWT", token: sign(map[string]any{"typ": "JWT"}, nil), desc: "typ"},
		{name: "typ at+jwt2", token: sign(map[string]any{"typ": "at+jwt2"}, nil), desc: "typ"},
		{name: "typ application/", token: sign(map[string]any{"typ": "application/"}, nil), desc: "typ"},
		{name: "typ not a string", token: signRawHeader(t, jalg, priv, map[string]any{"alg": alg, "kid": kid, "typ": 1}, claimsMap()), desc: "malformed token header"},
		{name: "kid not a string", token: signRawHeader(t, jalg, priv, map[string]any{"alg": alg, "kid": 1, "typ": "at+jwt"}, claimsMap()), desc: "malformed token header"},
		{name: "header member names in upper case", token: signRawHeader(t, jalg, priv, map[string]any{"ALG": alg, "KID": kid, "TYP": "at+jwt"}, claimsMap()), desc: "typ"},
		{name: "header member names capitalized, typ right", token: signRawHeader(t, jalg, priv, map[string]any{"Alg": alg, "Kid": kid, "typ": "at+jwt"}, claimsMap()), desc: "algorithm not allowed"},
		{name: "valid: duplicate-free raw header", token: signRawHeader(t, jalg, priv, map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"}, claimsMap())},
		{name: "crit header", token: sign(map[string]any{"crit": []string{"exp"}, "exp": 1}, nil), desc: "unsupported token header"},
		{name: "b64 header", token: sign(map[string]any{"b64": true}, nil), desc: "unsupported token header"},
		{name: "wrong iss", token: sign(nil, map[string]any{"iss": "https://evil.example"}), desc: "wrong issuer"},
		{name: "iss with trailing slash", token: sign(nil, map[string]any{"iss": testIssuer + "/"}), desc: "wrong issuer"},
		{name: "no iss", token: sign(nil, map[string]any{"iss": nil}), desc: "wrong issuer"},
		{name: "wrong aud", token: sign(nil, map[string]any{"aud": "https://other.example"}), desc: "wrong audience"},
		{name: "aud array without ours", token: sign(nil, map[string]any{"aud": []string{"a", "b"}}), desc: "wrong audience"},
		{name: "no aud", token: sign(nil, map[string]any{"aud": nil}), desc: "wrong audience"},
		{name: "aud a number", token: sign(nil, map[string]any{"aud": 1}), desc: "malformed aud"},
		{name: "expired", token: sign(nil, map[string]any{"exp": t0.Unix() - 1}), desc: "token expired"},
		{name: "expires now", token: sign(nil, map[string]any{"exp": t0.Unix()}), desc: "token expired"},
		{name: "not yet valid", token: sign(nil, map[string]any{"nbf": t0.Unix() + 1}), desc: "not yet valid"},
		{name: "valid: nbf now", token: sign(nil, map[string]any{"nbf": t0.Unix()})},
		{name: "issued in the future", token: sign(nil, map[string]any{"iat": t0.Unix() + 1}), desc: "issued in the future"},
		{name: "no exp", token: sign(nil, map[string]any{"exp": nil}), desc: "no exp"},
		{name: "no iat", token: sign(nil, map[string]any{"iat": nil}), desc: "no iat"},
		{name: "no sub", token: sign(nil, map[string]any{"sub": nil}), desc: "no sub"},
		{name: "no client_id", token: sign(nil, map[string]any{"client_id": nil}), desc: "no client_id"},
		{name: "no jti", token: sign(nil, map[string]any{"jti": nil}), desc: "no jti"},
		{name: "exp a string", token: sign(nil, map[string]any{"exp": "2099-01-01"}), desc: "malformed exp"},
		{name: "exp negative", token: sign(nil, map[string]any{"exp": -5}), desc: "malformed exp"},
		{name: "exp past year 9999", token: sign(nil, map[string]any{"exp": 1e15}), desc: "malformed exp"},
		{name: "sub a number", token: sign(nil, map[string]any{"sub": 7}), desc: "malformed sub"},
		{name: "sub null", token: sign(nil, map[string]any{"sub": json.RawMessage("null")}), desc: "malformed sub"},
		{name: "scope an array", token: sign(nil, map[string]any{"scope": []string{"read"}}), desc: "malformed scope"},
		{name: "scope with a double space", token: sign(nil, map[string]any{"scope": "read  write"}), desc: "malformed scope"},
		{name: "truncated: two segments", token: parts[0] + "." + parts[1], desc: "malformed token"},
		{name: "truncated: header only", token: parts[0] + ".", desc: "malformed token"},
		{name: "truncated signature", token: valid[:len(valid)-10], desc: "signature"},
		{name: "truncated in the claims", token: parts[0] + "." + parts[1][:len(parts[1])-7] + "." + parts[2], desc: "bad signature"},
		{name: "extra segment", token: valid + ".x", desc: "malformed token"},
		{name: "extra empty segment", token: valid + ".", desc: "malformed token"},
		{name: "five segments (JWE shape)", token: valid + ".a.b", desc: "malformed token"},
		{name: "padded signature", token: valid + "==", desc: "malformed signature"},
		{name: "header not base64url", token: "eyJ+" + valid[4:], desc: "malformed token header"},
		{name: "header not JSON", token: b64str("alg") + "." + parts[1] + "." + parts[2], desc: "malformed token header"},
		{name: "header a JSON array", token: b64str("[1]") + "." + parts[1] + "." + parts[2], desc: "malformed token header"},
		{name: "claims not JSON", token: signRawPayload(t, jalg, priv, hdr(nil), "not json"), desc: "malformed claims"},
		{name: "claims a JSON array", token: signRawPayload(t, jalg, priv, hdr(nil), "[]"), desc: "malformed claims"},
		{name: "claims null", token: signRawPayload(t, jalg, priv, hdr(nil), "null"), desc: "malformed claims"},
		{name: "whitespace", token: " " + valid, desc: "malformed token header"},
		{name: "empty", token: "", desc: "malformed token"},
		{name: "dots only", token: "..", desc: "malformed token header"},
		{name: "too long", token: long, desc: "malformed token"},
		{name: "opaque-looking garbage", token: "oat_garbage", desc: "unknown token"},
	}
}

func b64str(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signRawPayload signs a payload that need not be JSON.
func signRawPayload(t testing.TB, alg jwa.SignatureAlgorithm, key any, hdr map[string]any, payload string) string {
	t.Helper()
	return signPayload(t, alg, key, hdr, []byte(payload))
}

// signRawHeader signs claims under a header given as is, with jwx's
// signer, for headers jws.Sign refuses to build.
func signRawHeader(t testing.TB, alg jwa.SignatureAlgorithm, key any, hdr, claims map[string]any) string {
	t.Helper()
	input := b64json(t, hdr) + "." + b64json(t, claims)
	signer, err := jws.NewSigner(alg)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign([]byte(input), key)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func mustRSA(t testing.TB) any {
	t.Helper()
	priv, _, _ := privateKey(t, cachedKeySet(t, "rsa-for-confusion", tokens.RS256))
	return priv
}

// mustGenerate returns a key set other than the fixtures' for alg.
func mustGenerate(t testing.TB, alg string) *tokens.KeySet {
	t.Helper()
	return cachedKeySet(t, "other-"+alg, alg)
}

// TestVerifyOtherAlgorithms: algorithms the KeySet does not sign with are
// verified when allowed and the key fits: a PS256 token against an RSA key
// published without alg. A key that names its alg accepts only that one.
func TestVerifyOtherAlgorithms(t *testing.T) {
	f := newFixture(t, tokens.RS256)
	priv, kid, _ := privateKey(t, f.keys)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	json.Unmarshal(f.keys.JWKS(), &set)
	delete(set.Keys[0], "alg")
	body, _ := json.Marshal(set)
	srv := newJWKSServer(t, f.keys)
	srv.set(false, body)
	hdr := map[string]any{"typ": "at+jwt", "kid": kid}
	ps256 := signJWT(t, jwa.PS256, priv, hdr, claimsMap())
	rs512 := signJWT(t, jwa.RS512, priv, hdr, claimsMap())

	remote := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Now: f.clk.Now,
		Keys: &tokens.RemoteKeySet{URL: srv.URL}, Algorithms: []string{"PS256", "RS256"}}
	if _, err := remote.Verify(t.Context(), ps256); err != nil {
		t.Fatalf("PS256 token, RSA key without alg, PS256 allowed: %v", err)
	}
	_, err := remote.Verify(t.Context(), rs512)
	wantInvalid(t, err, "algorithm not allowed")

	local := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Now: f.clk.Now,
		Keys: f.keys, Algorithms: []string{"PS256", "RS256"}}
	_, err = local.Verify(t.Context(), ps256)
	wantInvalid(t, err, "does not fit")
}
