package tokens_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// Each benchmark runs beside its floor, in the same process:
//
//   - Issue/<alg>/tokens: JWTIssuer.Issue, jti generation included;
//     Issue/<alg>/jws.Sign: jws.Sign of the same claims, already
//     serialized, with the same protected header — what signing costs in
//     jwx alone.
//   - Verify/<alg>/tokens: Verifier.Verify without a cache;
//     Verify/<alg>/jws.Verify: a bare jws.Verify of the same token with the
//     public key in hand, no claim parsed or checked;
//     Verify/<alg>/cached: Verifier.Verify of a token it has seen.
//   - Opaque: NewOpaque beside reading 32 random bytes, encoding and
//     hashing them; an opaque Verify beside hashing the value and one
//     repository lookup.
//
// Targets: Issue/ES256/tokens ≤ 1.25 × Issue/ES256/jws.Sign;
// Verify/ES256/tokens ≤ 1.25 × Verify/ES256/jws.Verify;
// Verify/ES256/cached ≤ 1/20 × Verify/ES256/tokens.

func BenchmarkIssue(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			priv, kid, _ := privateKey(b, f.keys)
			b.Run("tokens", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					c := validClaims()
					if _, err := f.issuer.Issue(c); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("jws.Sign", func(b *testing.B) {
				tok, _ := f.issue(b, nil)
				payload, err := base64.RawURLEncoding.DecodeString(splitToken(tok)[1])
				if err != nil {
					b.Fatal(err)
				}
				h := jws.NewHeaders()
				h.Set(jws.TypeKey, "at+jwt")
				h.Set(jws.KeyIDKey, kid)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(alg), priv, jws.WithProtectedHeaders(h))); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			tok, _ := f.issue(b, nil)
			_, kid, _ := privateKey(b, f.keys)
			pk, err := f.keys.PublicKey(context.Background(), kid)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.Run("tokens", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f.verifier.Verify(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("jws.Verify", func(b *testing.B) {
				raw := []byte(tok)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := jws.Verify(raw, jws.WithKey(jwa.SignatureAlgorithm(alg), pk.Key)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("cached", func(b *testing.B) {
				v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, Keys: f.keys, Now: f.clk.Now, CacheSize: 1024}
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := v.Verify(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkOpaque(b *testing.B) {
	b.Run("Issue/tokens", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := tokens.NewOpaque(tokens.PrefixAccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Issue/floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r [32]byte
			rand.Read(r[:])
			v := tokens.PrefixAccessToken + base64.RawURLEncoding.EncodeToString(r[:])
			sum := sha256.Sum256([]byte(v))
			_ = hex.EncodeToString(sum[:])
		}
	})
	repo := newMemRepo()
	value, id, _ := tokens.NewOpaque(tokens.PrefixAccessToken)
	repo.CreateAccessToken(context.Background(), &oauth.AccessToken{ID: id, ClientID: "client-1", UserID: "user-1",
		Scopes: []string{"read"}, FamilyID: "fam", ExpiresAt: t0.Add(time.Hour)})
	v := &tokens.Verifier{Issuer: testIssuer, Audience: testAudience, AccessTokens: repo, Now: newClock().Now}
	ctx := context.Background()
	b.Run("Verify/tokens", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, value); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Verify/floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := repo.FindAccessToken(ctx, oauth.HashValue(value)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func splitToken(tok string) []string {
	var parts []string
	start := 0
	for i := range len(tok) {
		if tok[i] == '.' {
			parts = append(parts, tok[start:i])
			start = i + 1
		}
	}
	return append(parts, tok[start:])
}
