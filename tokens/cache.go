package tokens

import (
	"crypto/sha256"
	"sync"
	"time"
)

// cache keeps verified JWT claims by the SHA-256 of the token. It holds at
// most max entries in two generations: entries go into cur; when cur is
// half full it becomes prev and a new cur starts, so prev is dropped
// wholesale. A hit in prev moves the entry to cur. That keeps recently used
// tokens at O(1) per operation with no per-entry bookkeeping.
type cache struct {
	mu        sync.Mutex
	half      int  // the size of one generation
	keepPrev  bool // false for a cache of one entry
	cur, prev map[[sha256.Size]byte]*Claims
}

func newCache(size int) *cache {
	half := max(size/2, 1)
	return &cache{half: half, keepPrev: size >= 2, cur: make(map[[sha256.Size]byte]*Claims, half)}
}

// get returns the claims cached under key if they have not expired at now.
func (c *cache) get(key [sha256.Size]byte, now time.Time) *Claims {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.cur[key]
	if !ok {
		if cl, ok = c.prev[key]; !ok {
			return nil
		}
		delete(c.prev, key)
		c.putLocked(key, cl)
	}
	if !now.Before(cl.ExpiresAt) {
		delete(c.cur, key)
		return nil
	}
	return cl
}

func (c *cache) put(key [sha256.Size]byte, cl *Claims) {
	c.mu.Lock()
	c.putLocked(key, cl)
	c.mu.Unlock()
}

func (c *cache) putLocked(key [sha256.Size]byte, cl *Claims) {
	if len(c.cur) >= c.half {
		old := c.cur
		c.cur, c.prev = make(map[[sha256.Size]byte]*Claims, c.half), nil
		if c.keepPrev {
			c.prev = old
		}
	}
	c.cur[key] = cl
}

// len returns the number of entries, expired ones included.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.prev)
}
