package tokens

import (
	"crypto/sha256"
	"sync"
	"time"
)

// cache keeps verified claims by the SHA-256 of the token. It holds at most
// max entries in two generations: entries go into cur; when cur is half
// full it becomes prev and a new cur starts, so prev is dropped wholesale.
// A hit in prev moves the entry to cur. That keeps recently used tokens at
// O(1) per operation with no per-entry bookkeeping.
type cache struct {
	mu        sync.Mutex
	half      int  // the size of one generation
	keepPrev  bool // false for a cache of one entry
	cur, prev map[[sha256.Size]byte]cacheEntry
}

// cacheEntry is a cached token's claims and the time from which they are
// no longer used: the token's exp, or earlier.
type cacheEntry struct {
	claims *Claims
	until  time.Time
}

func newCache(size int) *cache {
	half := max(size/2, 1)
	return &cache{half: half, keepPrev: size >= 2, cur: make(map[[sha256.Size]byte]cacheEntry, half)}
}

// get returns the claims cached under key if their entry has not expired
// at now.
func (c *cache) get(key [sha256.Size]byte, now time.Time) *Claims {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cur[key]
	if !ok {
		if e, ok = c.prev[key]; !ok {
			return nil
		}
		delete(c.prev, key)
		c.putLocked(key, e)
	}
	if !now.Before(e.until) {
		delete(c.cur, key)
		return nil
	}
	return e.claims
}

// put caches cl under key until its exp.
func (c *cache) put(key [sha256.Size]byte, cl *Claims) {
	c.putUntil(key, cl, cl.ExpiresAt)
}

// putUntil caches cl under key until the earlier of until and its exp.
func (c *cache) putUntil(key [sha256.Size]byte, cl *Claims, until time.Time) {
	if cl.ExpiresAt.Before(until) {
		until = cl.ExpiresAt
	}
	c.mu.Lock()
	c.putLocked(key, cacheEntry{claims: cl, until: until})
	c.mu.Unlock()
}

func (c *cache) putLocked(key [sha256.Size]byte, e cacheEntry) {
	if len(c.cur) >= c.half {
		old := c.cur
		c.cur, c.prev = make(map[[sha256.Size]byte]cacheEntry, c.half), nil
		if c.keepPrev {
			c.prev = old
		}
	}
	c.cur[key] = e
}

// len returns the number of entries, expired ones included.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.prev)
}
