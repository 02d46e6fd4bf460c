package grants

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
)

// TestNewUserCodeUniform: user codes use only the alphabet, and every
// character is equally likely. Reducing random bytes modulo 20 would give
// the first 16 characters 13/256 each and the last 4 only 12/256: over
// 160,000 characters the last four would then total about 30,000 instead
// of 32,000, twelve standard deviations off, which this test detects.
func TestNewUserCodeUniform(t *testing.T) {
	const codes = 20000
	counts := map[byte]int{}
	for range codes {
		c, err := newUserCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != userCodeLen {
			t.Fatalf("user code %q has %d characters; want %d", c, len(c), userCodeLen)
		}
		if _, ok := normalizeUserCode(c); !ok {
			t.Fatalf("user code %q does not normalize to itself", c)
		}
		for i := 0; i < len(c); i++ {
			counts[c[i]]++
		}
	}
	const n = codes * userCodeLen
	const alphabet = oauth.UserCodeAlphabet
	if len(counts) != len(alphabet) {
		t.Fatalf("%d distinct characters; want %d", len(counts), len(alphabet))
	}
	p := 1.0 / float64(len(alphabet))
	sd := math.Sqrt(n * p * (1 - p))
	for i := 0; i < len(alphabet); i++ {
		if got := float64(counts[alphabet[i]]); math.Abs(got-n*p) > 6*sd {
			t.Errorf("%c: %v times; want %v ± %v", alphabet[i], got, n*p, 6*sd)
		}
	}
	last4 := 0
	for i := 16; i < 20; i++ {
		last4 += counts[alphabet[i]]
	}
	p4 := 4 * p
	sd4 := math.Sqrt(n * p4 * (1 - p4))
	if math.Abs(float64(last4)-n*p4) > 5*sd4 {
		t.Errorf("the last four characters: %d times; want %v ± %v (modulo bias?)", last4, n*p4, 5*sd4)
	}
}

func TestNormalizeUserCode(t *testing.T) {
	for _, tc := range []struct {
		typed, want string
		ok          bool
	}{
		{"BCDF-GHJK", "BCDFGHJK", true},
		{"bcdfghjk", "BCDFGHJK", true},
		{" bcdf ghjk ", "BCDFGHJK", true},
		{"b-c-d-f-g-h-j-k", "BCDFGHJK", true},
		{"BCDF\u2014GHJK", "BCDFGHJK", true},
		{"BCDF\u00a0GHJK", "BCDFGHJK", true},
		{"\tBCDF-GHJK\t", "BCDFGHJK", true},
		{"", "", false},
		{"----", "", false},
		{"BCDF-GHJ", "", false},
		{"BCDF-GHJKL", "", false},
		{"BCDF-GHJA", "", false}, // a vowel
		{"BCDF-GHJ0", "", false},
		{"BCDF_GHJK", "", false},
		{"BCDF.GHJK", "", false},
		{"BCDF\nGHJK", "", false},
		{"ＢＣＤＦＧＨＪＫ", "", false}, // full-width
		{"BCDFGHJ\xff", "", false},
		{strings.Repeat(" ", 60) + "BCDFGHJK", "", false}, // too long to read
	} {
		t.Run(fmt.Sprintf("%q", tc.typed), func(t *testing.T) {
			got, ok := normalizeUserCode(tc.typed)
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	if got := displayUserCode("BCDFGHJK"); got != "BCDF-GHJK" {
		t.Errorf("displayUserCode: got %q; want BCDF-GHJK", got)
	}
}

// TestLookupLimiterBounded: past maxLimiterKeys callers in a window, new
// callers share one overflow budget, and the maps are dropped as the
// windows pass.
func TestLookupLimiterBounded(t *testing.T) {
	l := newLookupLimiter(3, time.Minute)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range maxLimiterKeys {
		l.fail(fmt.Sprint("k", i), now)
	}
	if len(l.cur) != maxLimiterKeys {
		t.Fatalf("%d keys tracked; want %d", len(l.cur), maxLimiterKeys)
	}
	for i := range 3 {
		if l.throttled(fmt.Sprint("new", i), now) {
			t.Fatalf("overflow throttled after %d entries", i)
		}
		l.fail(fmt.Sprint("new", i), now)
	}
	if len(l.cur) != maxLimiterKeys+1 {
		t.Errorf("%d keys tracked; want %d", len(l.cur), maxLimiterKeys+1)
	}
	if !l.throttled("another-new", now) || l.throttled("k1", now) {
		t.Error("the overflow budget is not shared by new callers, or a tracked caller shares it")
	}
	l.fail("k1", now)
	l.fail("k1", now)
	if !l.throttled("k1", now) {
		t.Error("a tracked caller is not counted under its own key")
	}
	now = now.Add(2 * time.Minute)
	if l.throttled("k1", now) || l.throttled("another-new", now) || len(l.cur) != 0 || len(l.prev) != 0 {
		t.Errorf("two windows later: %d, %d keys tracked; want none", len(l.cur), len(l.prev))
	}
	// A clock that goes back keeps the current window.
	l.fail("k1", now)
	l.fail("k1", now.Add(-time.Hour))
	l.fail("k1", now)
	if !l.throttled("k1", now) {
		t.Error("entries at an earlier time were not counted")
	}
}
