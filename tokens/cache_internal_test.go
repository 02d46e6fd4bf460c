package tokens

import (
	"crypto/sha256"
	"strconv"
	"testing"
	"time"
)

// TestCacheBound: the cache never holds more than its size, keeps recently
// used entries, and never returns an entry at or past its exp.
func TestCacheBound(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key := func(i int) [sha256.Size]byte { return sha256.Sum256([]byte(strconv.Itoa(i))) }
	for _, size := range []int{1, 2, 3, 10, 100} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			c := newCache(size)
			hot := key(-1)
			c.put(hot, &Claims{ExpiresAt: now.Add(time.Hour)})
			for i := range 10 * size {
				c.put(key(i), &Claims{ExpiresAt: now.Add(time.Hour)})
				if n := c.len(); n > size {
					t.Fatalf("after %d puts: got %d entries; want at most %d", i+2, n, size)
				}
				if size >= 4 && c.get(hot, now) == nil {
					t.Fatalf("after %d puts: the entry used on every step was evicted", i+2)
				}
			}
			last := key(10*size - 1)
			if c.get(last, now) == nil {
				t.Fatalf("the last entry put: got nothing; want it")
			}
			if c.get(last, now.Add(time.Hour)) != nil {
				t.Fatalf("an entry at its exp: got it; want nothing")
			}
			if c.get(last, now) != nil {
				t.Fatalf("an expired entry was kept")
			}
		})
	}
}

// TestCacheUntil: an entry put with an earlier limit than its exp is
// dropped at that limit; a later limit is cut back to exp.
func TestCacheUntil(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := now.Add(time.Hour)
	tests := []struct {
		name  string
		until time.Time
		last  time.Time // the last instant the entry is returned
	}{
		{"before exp", now.Add(time.Minute), now.Add(time.Minute - time.Nanosecond)},
		{"after exp", now.Add(2 * time.Hour), exp.Add(-time.Nanosecond)},
		{"at exp", exp, exp.Add(-time.Nanosecond)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(10)
			key := sha256.Sum256([]byte(tt.name))
			c.putUntil(key, &Claims{ExpiresAt: exp}, tt.until)
			if c.get(key, tt.last) == nil {
				t.Fatalf("get at %v: got nothing; want the entry", tt.last)
			}
			if c.get(key, tt.last.Add(time.Nanosecond)) != nil {
				t.Fatalf("get at %v: got the entry; want nothing", tt.last.Add(time.Nanosecond))
			}
			if n := c.len(); n != 0 {
				t.Fatalf("entries after expiry: got %d; want 0", n)
			}
		})
	}
}
