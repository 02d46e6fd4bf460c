package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// newBrowserFrom is a browser whose connections come from the loopback
// address ip (any of 127.0.0.0/8), so that a test can play several
// client addresses.
func newBrowserFrom(t *testing.T, ip string) *browser {
	b := newBrowser(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	b.c.Transport = &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}
	return b
}

// tryLogin signs in at base with a fresh form and returns the status of
// the form's POST: 303 signed in, 401 wrong credentials, 429 throttled.
func (b *browser) tryLogin(base, username, password string) int {
	b.t.Helper()
	_, body := b.get(base + "/login")
	form := hiddenFields(b.t, body)
	form.Set("username", username)
	form.Set("password", password)
	resp, body := b.post(base+"/login", form)
	switch resp.StatusCode {
	case http.StatusSeeOther, http.StatusUnauthorized, http.StatusTooManyRequests:
	default:
		b.t.Fatalf("sign-in as %q: got %d; want 303, 401 or 429\n%s", username, resp.StatusCode, tail(body, 1000))
	}
	return resp.StatusCode
}

// signInBudget is how many wrong sign-ins an address, or a username, has
// per window in these tests (-throttle-attempts): few, for each costs a
// bcrypt, slow under the race detector.
const signInBudget = 3

// throttled are the flags of a server with the tests' budget.
var throttled = []string{"-throttle-attempts", strconv.Itoa(signInBudget)}

func TestSignInThrottle(t *testing.T) {
	t.Run("concurrent guesses share one budget", func(t *testing.T) {
		inst := startServer(t, append([]string{"-db", sqliteURL(t)}, throttled...)...)
		const n = 10 * signInBudget
		browsers := make([]*browser, n)
		forms := make([]url.Values, n)
		for i := range n {
			browsers[i] = newBrowser(t)
			_, body := browsers[i].get(inst.base + "/login")
			forms[i] = hiddenFields(t, body)
			forms[i].Set("username", demoUser)
			forms[i].Set("password", "wrong-password")
		}
		statuses := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				resp, _ := browsers[i].post(inst.base+"/login", forms[i])
				statuses[i] = resp.StatusCode
			})
		}
		close(start)
		wg.Wait()
		checked := 0
		for _, s := range statuses {
			switch s {
			case http.StatusUnauthorized:
				checked++
			case http.StatusTooManyRequests:
			default:
				t.Errorf("concurrent wrong sign-in: got %d; want 401 or 429", s)
			}
		}
		if checked > signInBudget {
			t.Errorf("%d concurrent wrong passwords: %d were checked (401); want at most %d, the rest refused (429)", n, checked, signInBudget)
		}
		if got := newBrowser(t).tryLogin(inst.base, demoUser, demoPassword); got != http.StatusTooManyRequests {
			t.Errorf("right password after the budget is spent: got %d; want 429", got)
		}
	})

	t.Run("a username is throttled whatever the address", func(t *testing.T) {
		db := sqliteURL(t)
		inst := startServer(t, append([]string{"-db", db}, throttled...)...)
		for _, user := range []string{demoUser, "no-such-user"} {
			for i := range signInBudget {
				ip := fmt.Sprintf("127.0.1.%d", i+1)
				if got := newBrowserFrom(t, ip).tryLogin(inst.base, user, "wrong-password"); got != http.StatusUnauthorized {
					t.Fatalf("%s from %s, wrong password %d: got %d; want 401", user, ip, i+1, got)
				}
			}
			// Known and unknown usernames are throttled alike.
			if got := newBrowserFrom(t, "127.0.2.1").tryLogin(inst.base, user, demoPassword); got != http.StatusTooManyRequests {
				t.Errorf("%s from a fresh address after %d wrong passwords from others: got %d; want 429", user, signInBudget, got)
			}
		}
		// Another user from that fresh address is not.
		mustCLI(t, db, "user", "create", "-username", "carol", "-password", "carol-password")
		if got := newBrowserFrom(t, "127.0.2.1").tryLogin(inst.base, "carol", "carol-password"); got != http.StatusSeeOther {
			t.Errorf("another user from that address: got %d; want 303", got)
		}
	})

	t.Run("an address is throttled whatever the username", func(t *testing.T) {
		inst := startServer(t, append([]string{"-db", sqliteURL(t)}, throttled...)...)
		for i := range signInBudget {
			if got := newBrowserFrom(t, "127.0.3.1").tryLogin(inst.base, fmt.Sprintf("guess-%d", i), "wrong-password"); got != http.StatusUnauthorized {
				t.Fatalf("wrong sign-in %d: got %d; want 401", i+1, got)
			}
		}
		if got := newBrowserFrom(t, "127.0.3.1").tryLogin(inst.base, demoUser, demoPassword); got != http.StatusTooManyRequests {
			t.Errorf("that address, right password: got %d; want 429", got)
		}
		if got := newBrowserFrom(t, "127.0.3.2").tryLogin(inst.base, demoUser, demoPassword); got != http.StatusSeeOther {
			t.Errorf("another address: got %d; want 303", got)
		}
	})

	t.Run("successful sign-ins spend nothing", func(t *testing.T) {
		inst := startServer(t, append([]string{"-db", sqliteURL(t)}, throttled...)...)
		for i := range signInBudget + 2 {
			if got := newBrowserFrom(t, "127.0.4.1").tryLogin(inst.base, demoUser, demoPassword); got != http.StatusSeeOther {
				t.Fatalf("sign-in %d: got %d; want 303", i+1, got)
			}
		}
	})
}

// testThrottleShared checks that the instances of a pair count wrong
// sign-ins together: the budget spent on one is spent on the other.
func testThrottleShared(t *testing.T, a, b *instance) {
	const ip = "127.0.5.1"
	for i := range signInBudget {
		if got := newBrowserFrom(t, ip).tryLogin(a.base, "ghost", "wrong-password"); got != http.StatusUnauthorized {
			t.Fatalf("wrong sign-in %d on A: got %d; want 401", i+1, got)
		}
	}
	if got := newBrowserFrom(t, ip).tryLogin(b.base, demoUser, demoPassword); got != http.StatusTooManyRequests {
		t.Errorf("B, from the address that spent its budget on A: got %d; want 429", got)
	}
	if got := newBrowserFrom(t, "127.0.5.2").tryLogin(b.base, "ghost", "wrong-password"); got != http.StatusTooManyRequests {
		t.Errorf("B, the username that spent its budget on A: got %d; want 429", got)
	}
	if got := newBrowserFrom(t, "127.0.5.3").tryLogin(b.base, demoUser, demoPassword); got != http.StatusSeeOther {
		t.Errorf("B, another user and address: got %d; want 303", got)
	}
}

// TestThrottleCounts checks the counting of throttle.go on each database,
// with a clock the test moves.
func TestThrottleCounts(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			db := be.url(t, "throttle")
			target, _ := parseDBURL(db)
			store := openTestStore(t, db)
			now := time.Unix(1_000_000, 0)
			th := newThrottle(store.DB(), target.dialect, 3, time.Minute)
			th.now = func() time.Time { return now }

			for i := range 3 {
				if _, ok, err := th.reserve(ctx, "a"); err != nil || !ok {
					t.Fatalf("attempt %d: got ok %v, %v; want allowed", i+1, ok, err)
				}
			}
			if ok, _ := th.allowed(ctx, "a"); ok {
				t.Error("allowed after 3 attempts: got true; want false")
			}
			counted, ok, err := th.reserve(ctx, "b", "a")
			if err != nil || ok || !slices.Equal(counted, []string{"b", "a"}) {
				t.Errorf("reserve b, a after a's budget: got %v %v %v; want [b a] refused", counted, ok, err)
			}
			if ok, _ := th.allowed(ctx, "b"); !ok {
				t.Error("b after one attempt: refused; want allowed")
			}
			// Giving back an attempt makes room for one more.
			if err := th.release(ctx, "a", "a"); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := th.reserve(ctx, "a"); !ok {
				t.Error("a after two releases: refused; want allowed")
			}
			if _, ok, _ := th.reserve(ctx, "a"); ok {
				t.Error("a over budget again: allowed; want refused")
			}
			// A new window starts a minute after the first attempt.
			now = now.Add(time.Minute)
			if ok, _ := th.allowed(ctx, "a"); !ok {
				t.Error("a in a new window: refused; want allowed")
			}
			if n, err := th.hit(ctx, "a"); err != nil || n != 1 {
				t.Errorf("first attempt of a new window: got count %d, %v; want 1", n, err)
			}
			if err := th.fail(ctx, "a", "a"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := th.allowed(ctx, "a"); ok {
				t.Error("a after 3 counted attempts in the new window: allowed; want refused")
			}
			// Purge forgets the counts older than the longest window.
			if n, err := purgeThrottle(ctx, store.DB(), now.Add(maxThrottleWindow-time.Second)); err != nil || n != 1 {
				t.Errorf("purge: got %d, %v; want b's row", n, err)
			}
		})
	}
}

// TestThrottleBehindProxy: behind a reverse proxy every request comes from
// the proxy's address. With -trusted-proxies naming it, the address a
// request is counted under is the client's, from X-Forwarded-For; without
// it, X-Forwarded-For is not believed.
func TestThrottleBehindProxy(t *testing.T) {
	forwarded := func(b *browser, xff string) *browser {
		tr := b.c.Transport.(*http.Transport).Clone()
		b.c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set("X-Forwarded-For", xff)
			return tr.RoundTrip(r)
		})
		return b
	}
	const proxy = "127.0.7.1"
	t.Run("trusted proxy", func(t *testing.T) {
		inst := startServer(t, append([]string{"-db", sqliteURL(t), "-trusted-proxies", proxy + " 10.9.0.0/16"}, throttled...)...)
		for i := range signInBudget {
			// The client's address is the right-most one that is not a
			// trusted proxy; what the client itself wrote before it is not
			// believed.
			xff := fmt.Sprintf("203.0.113.%d, 198.51.100.1, 10.9.0.1", i)
			if got := forwarded(newBrowserFrom(t, proxy), xff).tryLogin(inst.base, fmt.Sprintf("guess-%d", i), "wrong-password"); got != http.StatusUnauthorized {
				t.Fatalf("wrong sign-in %d: got %d; want 401", i+1, got)
			}
		}
		if got := forwarded(newBrowserFrom(t, proxy), "198.51.100.1").tryLogin(inst.base, demoUser, demoPassword); got != http.StatusTooManyRequests {
			t.Errorf("the client that spent its budget, through the proxy: got %d; want 429", got)
		}
		if got := forwarded(newBrowserFrom(t, proxy), "198.51.100.2").tryLogin(inst.base, demoUser, demoPassword); got != http.StatusSeeOther {
			t.Errorf("another client through the proxy: got %d; want 303", got)
		}
		if !inst.logHas("remote=198.51.100.2") {
			t.Errorf("the request log does not name the client's address:\n%s", tail(inst.stderr.String(), 2000))
		}
	})
	t.Run("untrusted X-Forwarded-For", func(t *testing.T) {
		inst := startServer(t, append([]string{"-db", sqliteURL(t)}, throttled...)...)
		for i := range signInBudget {
			xff := fmt.Sprintf("203.0.113.%d", i)
			if got := forwarded(newBrowserFrom(t, proxy), xff).tryLogin(inst.base, fmt.Sprintf("guess-%d", i), "wrong-password"); got != http.StatusUnauthorized {
				t.Fatalf("wrong sign-in %d: got %d; want 401", i+1, got)
			}
		}
		if got := forwarded(newBrowserFrom(t, proxy), "198.51.100.9").tryLogin(inst.base, demoUser, demoPassword); got != http.StatusTooManyRequests {
			t.Errorf("a made-up X-Forwarded-For from an address that spent its budget: got %d; want 429", got)
		}
	})
	t.Run("malformed -trusted-proxies", func(t *testing.T) {
		expectCLIError(t, sqliteURL(t), exitUsage, `-trusted-proxies: "10.0.0.0/33"`, "-trusted-proxies", "10.0.0.0/33", "scope", "list")
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
