package tokens_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/oauthkit/oauth/tokens"
)

// jwksKeys fetches the handler's JWKS and returns its keys as maps.
func jwksKeys(t *testing.T, h http.Handler) []map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwks", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET jwks: got status %d; want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET jwks: got Content-Type %q; want application/json", ct)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatalf("GET jwks: %v in %s", err, rec.Body)
	}
	return set.Keys
}

func jwksKIDs(t *testing.T, ks *tokens.KeySet) []string {
	t.Helper()
	var kids []string
	for _, k := range jwksKeys(t, ks.Handler()) {
		kids = append(kids, k["kid"].(string))
	}
	slices.Sort(kids)
	return kids
}

// thumbprint computes the RFC 7638 thumbprint of a public key by hand.
func thumbprint(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	var members string
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		members = `{"crv":"P-256","kty":"EC","x":"` + b64(pub.X.FillBytes(make([]byte, 32))) + `","y":"` + b64(pub.Y.FillBytes(make([]byte, 32))) + `"}`
	case *rsa.PublicKey:
		e := big(pub.E)
		members = `{"e":"` + b64(e) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	case ed25519.PublicKey:
		members = `{"crv":"Ed25519","kty":"OKP","x":"` + b64(pub) + `"}`
	}
	sum := sha256Sum([]byte(members))
	return b64(sum[:])
}

func big(e int) []byte {
	var b []byte
	for ; e > 0; e >>= 8 {
		b = append([]byte{byte(e)}, b...)
	}
	return b
}

func TestGenerateKeySet(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			ks := newKeySet(t, alg, nil)
			kid, gotAlg := ks.SigningKey()
			if gotAlg != alg {
				t.Fatalf("SigningKey alg: got %q; want %q", gotAlg, alg)
			}
			pk, err := ks.PublicKey(context.Background(), kid)
			if err != nil {
				t.Fatalf("PublicKey(%q): %v", kid, err)
			}
			if want := thumbprint(t, pk.Key); kid != want {
				t.Fatalf("kid: got %q; want the RFC 7638 thumbprint %q", kid, want)
			}
			if rk, ok := pk.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < 2048 {
				t.Fatalf("RSA key: got %d bits; want at least 2048", rk.N.BitLen())
			}
			keys := jwksKeys(t, ks.Handler())
			if len(keys) != 1 {
				t.Fatalf("JWKS: got %d keys; want 1", len(keys))
			}
			k := keys[0]
			if k["kid"] != kid || k["alg"] != alg || k["use"] != "sig" {
				t.Fatalf("JWKS key: got kid=%v alg=%v use=%v; want %s %s sig", k["kid"], k["alg"], k["use"], kid, alg)
			}
			wantKty := map[string]string{tokens.ES256: "EC", tokens.RS256: "RSA", tokens.EdDSA: "OKP"}[alg]
			if k["kty"] != wantKty {
				t.Fatalf("JWKS kty: got %v; want %s", k["kty"], wantKty)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
				if _, ok := k[private]; ok {
					t.Fatalf("JWKS key has private member %q", private)
				}
			}
		})
	}
	if _, err := tokens.GenerateKeySet("HS256"); err == nil {
		t.Fatal(`GenerateKeySet("HS256"): got no error; want one`)
	}
	if _, err := tokens.GenerateKeySet("none"); err == nil {
		t.Fatal(`GenerateKeySet("none"): got no error; want one`)
	}
	ks, err := tokens.GenerateKeySet("")
	if err != nil {
		t.Fatal(err)
	}
	if _, alg := ks.SigningKey(); alg != tokens.ES256 {
		t.Fatalf(`GenerateKeySet(""): got %s; want ES256 by default`, alg)
	}
}

func TestJWKSHandlerMethods(t *testing.T) {
	ks := newKeySet(t, tokens.ES256, nil)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		rec := httptest.NewRecorder()
		ks.Handler().ServeHTTP(rec, httptest.NewRequest(m, "/jwks", strings.NewReader("x")))
		if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Header().Get("Allow"), "GET") {
			t.Errorf("%s jwks: got %d Allow=%q; want 405 with Allow: GET, HEAD", m, rec.Code, rec.Header().Get("Allow"))
		}
	}
	rec := httptest.NewRecorder()
	ks.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/jwks", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD jwks: got %d with %d body bytes; want 200 and none", rec.Code, rec.Body.Len())
	}
}

func pemOf(t *testing.T, priv any, kind string) []byte {
	t.Helper()
	var der []byte
	var err error
	typ := "PRIVATE KEY"
	switch kind {
	case "pkcs8":
		der, err = x509.MarshalPKCS8PrivateKey(priv)
	case "sec1":
		der, err = x509.MarshalECPrivateKey(priv.(*ecdsa.PrivateKey))
		typ = "EC PRIVATE KEY"
	case "pkcs1":
		der = x509.MarshalPKCS1PrivateKey(priv.(*rsa.PrivateKey))
		typ = "RSA PRIVATE KEY"
	}
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestKeySetFromPEM(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsaPriv, _, _ := privateKey(t, newKeySet(t, tokens.RS256, nil))
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	ecPub, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)

	tests := []struct {
		name    string
		pem     []byte
		alg     string
		wantAlg string
		wantErr bool
	}{
		{name: "EC PKCS#8", pem: pemOf(t, ec, "pkcs8"), wantAlg: tokens.ES256},
		{name: "EC SEC 1", pem: pemOf(t, ec, "sec1"), wantAlg: tokens.ES256},
		{name: "Ed25519 PKCS#8", pem: pemOf(t, ed, "pkcs8"), wantAlg: tokens.EdDSA},
		{name: "RSA PKCS#1", pem: pemOf(t, rsaPriv, "pkcs1"), wantAlg: tokens.RS256},
		{name: "RSA PKCS#8 named", pem: pemOf(t, rsaPriv, "pkcs8"), alg: tokens.RS256, wantAlg: tokens.RS256},
		{name: "two keys: the first signs", pem: append(pemOf(t, ed, "pkcs8"), pemOf(t, ec, "sec1")...), wantAlg: tokens.EdDSA},
		{name: "alg that does not fit", pem: pemOf(t, ec, "pkcs8"), alg: tokens.RS256, wantErr: true},
		{name: "HS256", pem: pemOf(t, ec, "pkcs8"), alg: "HS256", wantErr: true},
		{name: "P-384 has no signing algorithm here", pem: pemOf(t, ec384, "pkcs8"), wantErr: true},
		{name: "RSA 1024", pem: pemOf(t, small, "pkcs1"), wantErr: true},
		{name: "public key", pem: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPub}), wantErr: true},
		{name: "garbage", pem: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), wantErr: true},
		{name: "empty", pem: nil, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := tokens.KeySetFromPEM(tt.pem, tt.alg)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("KeySetFromPEM: got no error; want one")
				}
				if !strings.HasPrefix(err.Error(), "tokens: ") {
					t.Fatalf("error %q: want the prefix %q", err, "tokens: ")
				}
				return
			}
			if err != nil {
				t.Fatalf("KeySetFromPEM: %v", err)
			}
			if _, alg := ks.SigningKey(); alg != tt.wantAlg {
				t.Fatalf("signing alg: got %q; want %q", alg, tt.wantAlg)
			}
			// The loaded key really signs: a token verifies.
			iss := &tokens.JWTIssuer{Keys: ks, Issuer: testIssuer, Audience: []string{testAudience}}
			c := validClaims()
			c.ExpiresAt = time.Now().Add(time.Hour)
			tok, err := iss.Issue(c)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: ks}
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestKeySetFromJWK(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	jwkOf := func(raw any, set map[string]any) []byte {
		k, err := jwk.FromRaw(raw)
		if err != nil {
			t.Fatal(err)
		}
		for n, v := range set {
			k.Set(n, v)
		}
		b, _ := json.Marshal(k)
		return b
	}
	single := jwkOf(ec, map[string]any{"kid": "my-own-kid"})
	set := []byte(`{"keys":[` + string(jwkOf(ed, nil)) + `,` + string(single) + `]}`)
	pub, _ := json.Marshal(must(jwk.FromRaw(&ec.PublicKey)))
	oct := []byte(`{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}`)

	ks, err := tokens.KeySetFromJWK(single)
	if err != nil {
		t.Fatalf("KeySetFromJWK(single): %v", err)
	}
	kid, alg := ks.SigningKey()
	if want := thumbprint(t, &ec.PublicKey); kid != want || alg != tokens.ES256 {
		t.Fatalf("single: got kid %q alg %q; want the thumbprint %q and ES256", kid, alg, want)
	}
	ks, err = tokens.KeySetFromJWK(set)
	if err != nil {
		t.Fatalf("KeySetFromJWK(set): %v", err)
	}
	if _, alg := ks.SigningKey(); alg != tokens.EdDSA {
		t.Fatalf("set: got signing alg %q; want EdDSA (the first key)", alg)
	}
	if got := len(jwksKIDs(t, ks)); got != 2 {
		t.Fatalf("set: got %d published keys; want 2", got)
	}
	for name, data := range map[string][]byte{"public key": pub, "symmetric key": oct, "garbage": []byte("{"), "empty set": []byte(`{"keys":[]}`)} {
		if _, err := tokens.KeySetFromJWK(data); err == nil {
			t.Errorf("KeySetFromJWK(%s): got no error; want one", name)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestKeySetPersistence: a set marshaled by one instance and loaded by
// another signs with the same key, and each verifies the other's tokens.
func TestKeySetPersistence(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			a := newFixture(t, alg)
			if _, err := a.keys.Rotate("", time.Hour, 2*time.Hour); err != nil {
				t.Fatal(err)
			}
			data, err := json.Marshal(a.keys)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var b tokens.KeySet
			if err := json.Unmarshal(data, &b); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			b.Now = a.clk.Now
			if !slices.Equal(jwksKIDs(t, a.keys), jwksKIDs(t, &b)) {
				t.Fatalf("published kids: got %v; want %v", jwksKIDs(t, &b), jwksKIDs(t, a.keys))
			}
			for _, at := range []time.Duration{0, time.Hour} {
				a.clk.Advance(at)
				ka, _ := a.keys.SigningKey()
				kb, _ := b.SigningKey()
				if ka != kb {
					t.Fatalf("after %v: signing kid: got %q; want %q", at, kb, ka)
				}
			}
			again, err := json.Marshal(&b)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(data) {
				t.Fatalf("marshal(unmarshal(x)) differs from x:\n%s\n%s", again, data)
			}
			for _, bad := range []string{`{`, `{"keys":[{"jwk":{"kty":"oct","k":"AAAA"}}]}`, `{"keys":[{"jwk":{}}]}`} {
				var ks tokens.KeySet
				if err := json.Unmarshal([]byte(bad), &ks); err == nil {
					t.Errorf("unmarshal %s: got no error; want one", bad)
				}
			}
		})
	}
}

// TestRotation follows a rotation through time: the new key is published
// before it signs, and the old one stays published until its tokens have
// expired.
func TestRotation(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	ctx := context.Background()
	oldKid, _ := f.keys.SigningKey()
	oldTok, _ := f.issue(t, func(c *tokens.Claims) { c.ExpiresAt = t0.Add(70 * time.Minute) })

	const ahead, retain = time.Hour, 75 * time.Minute
	newKid, err := f.keys.Rotate(tokens.EdDSA, ahead, retain)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	steps := []struct {
		at        time.Duration // since t0
		signing   string
		published []string
		oldValid  bool
	}{
		{at: 0, signing: oldKid, published: []string{oldKid, newKid}, oldValid: true},
		{at: 59 * time.Minute, signing: oldKid, published: []string{oldKid, newKid}, oldValid: true},
		{at: ahead, signing: newKid, published: []string{oldKid, newKid}, oldValid: true},
		{at: ahead + retain - time.Second, signing: newKid, published: []string{oldKid, newKid}, oldValid: false},
		{at: ahead + retain, signing: newKid, published: []string{newKid}, oldValid: false},
	}
	for _, s := range steps {
		f.clk.t = t0.Add(s.at)
		kid, _ := f.keys.SigningKey()
		if kid != s.signing {
			t.Errorf("at +%v: signing kid: got %q; want %q", s.at, kid, s.signing)
		}
		want := slices.Sorted(slices.Values(s.published))
		if got := jwksKIDs(t, f.keys); !slices.Equal(got, want) {
			t.Errorf("at +%v: published: got %v; want %v", s.at, got, want)
		}
		// A fresh token is signed by the signing key and verifies.
		tok, _ := f.issue(t, func(c *tokens.Claims) { c.ExpiresAt = f.clk.Now().Add(time.Minute) })
		if hdr := decodeSegment(t, tok, 0); hdr["kid"] != s.signing {
			t.Errorf("at +%v: token kid: got %v; want %q", s.at, hdr["kid"], s.signing)
		}
		if _, err := f.verifier.Verify(ctx, tok); err != nil {
			t.Errorf("at +%v: fresh token: %v", s.at, err)
		}
		_, err := f.verifier.Verify(ctx, oldTok)
		if (err == nil) != s.oldValid {
			t.Errorf("at +%v: token of the old key: got err %v; want valid=%v", s.at, err, s.oldValid)
		}
	}
	// Once withdrawn, the old key verifies nothing, even a token that has
	// not expired (one that outlives retain: the host chose retain too short).
	f.clk.t = t0
	longTok, _ := f.issue(t, func(c *tokens.Claims) {
		c.IssuedAt = t0
		c.ExpiresAt = t0.Add(3 * time.Hour)
	})
	f.clk.t = t0.Add(ahead + retain)
	if _, err := f.keys.PublicKey(ctx, oldKid); !errors.Is(err, tokens.ErrUnknownKey) {
		t.Errorf("PublicKey(old kid) at +%v: got %v; want ErrUnknownKey", ahead+retain, err)
	}
	if _, err := f.verifier.Verify(ctx, longTok); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("unexpired token of the withdrawn key: got %v; want invalid_token unknown key", err)
	}
}

func TestRotateTwiceAndErrors(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	k0, _ := f.keys.SigningKey()
	k1, err := f.keys.Rotate("", time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(10 * time.Minute)
	k2, err := f.keys.Rotate("", time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// k1 signs from +60m to +70m, k2 from +70m; k0 retires at +60m.
	for _, s := range []struct {
		at        time.Duration
		signing   string
		published int
	}{
		{59 * time.Minute, k0, 3},
		{65 * time.Minute, k1, 3},
		{70 * time.Minute, k2, 3},
		{120 * time.Minute, k2, 2},
		{130 * time.Minute, k2, 1},
	} {
		f.clk.t = t0.Add(s.at)
		if kid, _ := f.keys.SigningKey(); kid != s.signing {
			t.Errorf("at +%v: signing: got %s; want %s", s.at, kid, s.signing)
		}
		if n := len(jwksKIDs(t, f.keys)); n != s.published {
			t.Errorf("at +%v: got %d published keys; want %d", s.at, n, s.published)
		}
	}
	f.clk.t = t0.Add(20 * time.Minute)
	if _, err := f.keys.Rotate("", 0, time.Hour); err == nil {
		t.Errorf("Rotate activating before a scheduled key: got no error; want one")
	}
	if _, err := f.keys.Rotate("", -time.Second, time.Hour); err == nil {
		t.Errorf("Rotate with a negative duration: got no error; want one")
	}
	if _, err := f.keys.Rotate("HS256", time.Hour, time.Hour); err == nil {
		t.Errorf("Rotate to HS256: got no error; want one")
	}
}

func TestJWKSServesOverHTTP(t *testing.T) {
	ks := newKeySet(t, tokens.ES256, nil)
	srv := httptest.NewServer(ks.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	set, err := jwk.Parse(body)
	if err != nil {
		t.Fatalf("jwk.Parse of the served JWKS: %v", err)
	}
	kid, _ := ks.SigningKey()
	if _, ok := set.LookupKeyID(kid); !ok {
		t.Fatalf("served JWKS lacks the signing kid %q: %s", kid, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Fatalf("Cache-Control: got %q; want %q", cc, "public, max-age=300")
	}
}

// TestWithdrawnKeyNeverSigns: a loaded set whose keys are all past their
// withdrawal signs nothing and publishes nothing.
func TestWithdrawnKeyNeverSigns(t *testing.T) {
	f := newFixture(t, tokens.ES256)
	data, _ := json.Marshal(f.keys)
	var p map[string][]map[string]any
	json.Unmarshal(data, &p)
	p["keys"][0]["expires"] = t0.Format(time.RFC3339)
	data, _ = json.Marshal(p)
	var ks tokens.KeySet
	if err := json.Unmarshal(data, &ks); err != nil {
		t.Fatal(err)
	}
	ks.Now = f.clk.Now
	if kid, _ := ks.SigningKey(); kid != "" {
		t.Fatalf("SigningKey: got %q; want none", kid)
	}
	if got := string(ks.JWKS()); got != `{"keys":[]}` {
		t.Fatalf("JWKS: got %s; want no keys", got)
	}
	iss := &tokens.JWTIssuer{Keys: &ks, Issuer: testIssuer, Audience: []string{testAudience}, Now: f.clk.Now}
	if _, err := iss.Issue(validClaims()); err == nil || !strings.Contains(err.Error(), "no signing key") {
		t.Fatalf("Issue: got %v; want no signing key", err)
	}
}
