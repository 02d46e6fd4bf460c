package memory_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/memory"
)

// batch is how many records a benchmark writes between purges, so that
// memory stays bounded however large b.N grows.
const batch = 1 << 16

func benchStore(b *testing.B) *memory.Store {
	b.Helper()
	s := memory.New()
	if err := s.CreateClient(context.Background(), &oauth.Client{ID: "bench", Name: "Bench"}); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = oauth.HashValue(prefix + strconv.Itoa(i))
	}
	return ids
}

func benchAccessToken(id string, now time.Time) *oauth.AccessToken {
	return &oauth.AccessToken{
		ID:        id,
		ClientID:  "bench",
		UserID:    "user-1",
		Scopes:    []string{"openid", "profile"},
		FamilyID:  "family",
		ExpiresAt: now.Add(time.Hour),
		CreatedAt: now,
	}
}

// purgeAll empties the access-token table outside the timer.
func purgeAll(b *testing.B, s *memory.Store) {
	b.StopTimer()
	if _, err := s.PurgeAccessTokens(context.Background(), time.Now().Add(100*time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
}

func BenchmarkCreateAccessToken(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	ids := benchIDs("create-", batch)
	now := time.Now()
	tok := benchAccessToken("", now)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%batch == 0 && i > 0 {
			purgeAll(b, s)
		}
		tok.ID = ids[i%batch]
		if err := s.CreateAccessToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateAccessTokenParallel(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	now := time.Now()
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		tok := benchAccessToken("", now)
		for pb.Next() {
			// A fresh ID per create; the store grows by b.N tokens, which a
			// parallel benchmark cannot purge between iterations.
			tok.ID = oauth.HashValue(strconv.FormatInt(seq.Add(1), 10))
			if err := s.CreateAccessToken(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// fillAccessTokens stores n tokens and returns their IDs.
func fillAccessTokens(b *testing.B, s *memory.Store, n int) []string {
	b.Helper()
	ids := benchIDs("find-", n)
	now := time.Now()
	for _, id := range ids {
		if err := s.CreateAccessToken(context.Background(), benchAccessToken(id, now)); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

func BenchmarkFindAccessToken(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	ids := fillAccessTokens(b, s, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.FindAccessToken(ctx, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFindAccessTokenParallel(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	ids := fillAccessTokens(b, s, 100_000)
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(7919))
		for pb.Next() {
			i++
			if _, err := s.FindAccessToken(ctx, ids[i%len(ids)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkConsumeAuthCode(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	ids := benchIDs("code-", batch)
	now := time.Now()
	code := &oauth.AuthCode{
		ClientID:            "bench",
		UserID:              "user-1",
		Scopes:              []string{"openid"},
		FamilyID:            "family",
		RedirectURI:         "https://app.example/cb",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: oauth.PKCEMethodS256,
		ExpiresAt:           now.Add(10 * time.Minute),
		CreatedAt:           now,
	}
	// fill stores the next batch of codes, outside the timer, after
	// purging the consumed ones.
	fill := func() {
		b.StopTimer()
		if _, err := s.PurgeAuthCodes(ctx, now.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		for _, id := range ids {
			code.ID = id
			if err := s.CreateAuthCode(ctx, code); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%batch == 0 {
			fill()
		}
		if _, err := s.ConsumeAuthCode(ctx, ids[i%batch], now); err != nil {
			b.Fatal(err)
		}
	}
}
