package main

import (
	"sync"
	"time"
)

// limiter counts failures (wrong passwords, wrong device codes) per client
// address and refuses further attempts once max failures fell within the
// window. It is per process: each instance of the server counts its own.
type limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	failures int
	since    time.Time
}

// maxLimiterEntries bounds the memory a flood of addresses can take.
const maxLimiterEntries = 10000

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, now: time.Now, entries: map[string]*limitEntry{}}
}

// allow reports whether key may try again.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok {
		return true
	}
	if l.now().Sub(e.since) >= l.window {
		delete(l.entries, key)
		return true
	}
	return e.failures < l.max
}

// fail records a failure of key.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.entries[key]
	if !ok || now.Sub(e.since) >= l.window {
		if len(l.entries) >= maxLimiterEntries {
			l.sweep(now)
		}
		l.entries[key] = &limitEntry{failures: 1, since: now}
		return
	}
	e.failures++
}

// sweep drops entries whose window has passed; if none has, it drops all,
// so that memory stays bounded (at the cost of forgetting).
func (l *limiter) sweep(now time.Time) {
	for k, e := range l.entries {
		if now.Sub(e.since) >= l.window {
			delete(l.entries, k)
		}
	}
	if len(l.entries) >= maxLimiterEntries {
		clear(l.entries)
	}
}
