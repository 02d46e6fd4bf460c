package grants

import (
	"sync"
	"time"
)

// maxLimiterKeys bounds the callers the lookup limiter tracks per window.
// Past it, new callers share one overflow budget: a flood of distinct keys
// throttles itself instead of growing memory.
const maxLimiterKeys = 1 << 16

// overflowKey is the budget that callers beyond maxLimiterKeys share; no
// real key is empty (LookupUserCode refuses one).
const overflowKey = ""

// lookupLimiter counts wrong user-code entries per caller with a sliding
// window counter: the count of the current fixed window plus the previous
// window's count weighted by how much of it still overlaps the sliding
// window. A caller is throttled while that estimate reaches the budget.
// Memory is two maps, each dropped whole when its window has passed.
type lookupLimiter struct {
	budget int
	window time.Duration

	mu   sync.Mutex
	idx  int64 // index of the current window: Unix nanoseconds / window
	cur  map[string]int
	prev map[string]int
}

func newLookupLimiter(budget int, window time.Duration) *lookupLimiter {
	return &lookupLimiter{budget: budget, window: window, cur: map[string]int{}, prev: map[string]int{}}
}

// advance moves the windows forward to now; the caller holds mu. A clock
// that goes back keeps the current window.
func (l *lookupLimiter) advance(now time.Time) {
	idx := now.UnixNano() / int64(l.window)
	switch {
	case idx <= l.idx:
		return
	case idx == l.idx+1:
		l.prev, l.cur = l.cur, make(map[string]int, len(l.cur))
	default:
		l.prev, l.cur = map[string]int{}, map[string]int{}
	}
	l.idx = idx
}

// estimate returns the caller's weighted count of wrong entries over the
// last window; the caller holds mu.
func (l *lookupLimiter) estimate(key string, now time.Time) float64 {
	start := l.idx * int64(l.window)
	elapsed := float64(now.UnixNano()-start) / float64(l.window)
	elapsed = min(max(elapsed, 0), 1)
	return float64(l.prev[key])*(1-elapsed) + float64(l.cur[key])
}

// bucket returns the key the caller is counted under; the caller holds mu.
func (l *lookupLimiter) bucket(key string) string {
	if _, ok := l.cur[key]; ok || len(l.cur) < maxLimiterKeys {
		return key
	}
	if _, ok := l.prev[key]; ok {
		return key
	}
	return overflowKey
}

// throttled reports whether the caller has spent its budget.
func (l *lookupLimiter) throttled(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advance(now)
	return l.estimate(l.bucket(key), now) >= float64(l.budget)
}

// fail counts one wrong entry of the caller.
func (l *lookupLimiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advance(now)
	l.cur[l.bucket(key)]++
}
