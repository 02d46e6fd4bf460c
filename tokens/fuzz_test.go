package tokens_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// FuzzVerify: no input makes Verify panic, and no input validates unless
// it carries, unchanged, the header and claims of a token that was really
// signed (or is the one stored opaque value). The verifier accepts all
// three algorithms, caches, and consults a repository, so every path runs.
func FuzzVerify(f *testing.F) {
	repo := newMemRepo()
	var keys multiKeys
	signed := map[string]bool{} // signing inputs of valid tokens
	var seeds []string
	for _, alg := range algs {
		fx := newFixture(f, alg)
		fx.repo = repo
		keys = append(keys, fx.keys)
		for _, tc := range tamperCases(f, fx) {
			seeds = append(seeds, tc.token)
			if tc.desc == "" {
				signed[signingInput(tc.token)] = true
			}
		}
	}
	opaque, id, err := tokens.NewOpaque(tokens.PrefixAccessToken)
	if err != nil {
		f.Fatal(err)
	}
	repo.CreateAccessToken(context.Background(), &oauth.AccessToken{ID: id, ClientID: "client-1", UserID: "user-1",
		Scopes: []string{"read"}, FamilyID: "fam", ExpiresAt: t0.Add(1e12)})
	seeds = append(seeds, opaque, opaque[:20], "", ".", "..", "...", "Bearer x", "\x00.\xff.\x80")
	for _, s := range seeds {
		f.Add(s)
	}

	v := &tokens.Verifier{
		Issuer: testIssuer, Audience: testAudience, Keys: keys, Now: newClock().Now,
		CacheSize: 64, AccessTokens: acceptingJTIs{repo},
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err != nil {
			var oe *oauth.Error
			if !errors.As(err, &oe) || oe.Code != oauth.ErrCodeInvalidToken || c != nil {
				t.Fatalf("Verify(%q): got %v, %v; want only an invalid_token error", token, c, err)
			}
			return
		}
		if token != opaque && !signed[signingInput(token)] {
			t.Fatalf("Verify(%q) validated a token nobody signed: %+v", token, c)
		}
	})
}

// signingInput returns header.payload of a compact JWS.
func signingInput(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return ""
	}
	return tok[:i]
}

// acceptingJTIs is the fuzz verifier's repository: opaque tokens are
// looked up for real; every JWT jti counts as stored and live, so that
// JWTs get past the revocation check.
type acceptingJTIs struct{ *memRepo }

func (a acceptingJTIs) FindAccessToken(ctx context.Context, id string) (*oauth.AccessToken, error) {
	if t, err := a.memRepo.FindAccessToken(ctx, id); err == nil {
		return t, nil
	}
	if len(id) == 64 { // a hash: an opaque lookup that missed
		return nil, oauth.ErrNotFound
	}
	return &oauth.AccessToken{ID: id, ClientID: "client-1", ExpiresAt: t0.Add(1e15)}, nil
}
