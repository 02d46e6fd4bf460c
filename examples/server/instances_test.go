package main

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauth"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startPair starts two instances at once on one empty database, with one
// issuer, as a deployment behind a balancer would run them.
func startPair(t *testing.T, db string, extra ...string) (a, b *instance) {
	t.Helper()
	port := freePort(t)
	issuer := "http://127.0.0.1:" + strconv.Itoa(port)
	a = spawnServer(t, append([]string{"-addr", "127.0.0.1:" + strconv.Itoa(port), "-issuer", issuer, "-db", db}, extra...)...)
	b = spawnServer(t, append([]string{"-issuer", issuer, "-db", db}, extra...)...)
	a.await(t)
	b.await(t)
	return a, b
}

// TestTwoInstancesMariaDB runs two instances of the server on one MariaDB
// database, behind no balancer, with the requests of every flow
// alternating between them.
func TestTwoInstancesMariaDB(t *testing.T) {
	db := mysqlURL(t, "pair")
	a, b := startPair(t, db, throttled...)
	bases := []string{a.base, b.base}
	ctx := context.Background()

	t.Run("one key set", func(t *testing.T) {
		ka, kb := jwksKids(t, a.base), jwksKids(t, b.base)
		if len(ka) != 1 || !slices.Equal(ka, kb) {
			t.Fatalf("JWKS: instance A has %v, B has %v; want the same single key", ka, kb)
		}
	})

	t.Run("authorization code and refresh rotation", func(t *testing.T) {
		br := newBrowser(t)
		// authorize on A, sign in on B, consent page on A, consent POST on
		// B, exchange on A.
		tok, confA := codeFlow(t, br, bases, a.base)
		for _, base := range bases {
			if _, err := jwtVerifier(a.issuer, base).Verify(ctx, tok.AccessToken); err != nil {
				t.Errorf("verify with the JWKS of %s: %v", base, err)
			}
		}
		confB := cliConfig(b.base)
		tok2, err := refresh(confB, tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh on B: %v", err)
		}
		tok3, err := refresh(confA, tok2.RefreshToken)
		if err != nil {
			t.Fatalf("refresh on A: %v", err)
		}
		if _, err := refresh(confB, tok2.RefreshToken); retrieveCode(err) != oauth.ErrCodeInvalidGrant {
			t.Fatalf("reuse of a rotated refresh token on B: got %v; want invalid_grant", err)
		}
		if _, err := refresh(confA, tok3.RefreshToken); retrieveCode(err) != oauth.ErrCodeInvalidGrant {
			t.Fatalf("latest refresh token after reuse detection, on A: got %v; want invalid_grant", err)
		}
	})

	t.Run("device flow", func(t *testing.T) {
		testDeviceFlow(t, bases, a.issuer)
	})

	t.Run("wrong sign-ins are counted across instances", func(t *testing.T) {
		testThrottleShared(t, a, b)
	})

	t.Run("concurrent redemption has one winner", func(t *testing.T) {
		br := newBrowser(t)
		for round := range 5 {
			conf := cliConfig(a.base)
			verifier := oauth2.GenerateVerifier()
			back := authorize(t, br, bases, conf.AuthCodeURL("r", oauth2.S256ChallengeOption(verifier)), "approve")
			code := back.Query().Get("code")
			const n = 8
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := cliConfig(bases[i%2])
					<-start
					_, errs[i] = c.Exchange(ctx, code, oauth2.VerifierOption(verifier))
				}()
			}
			close(start)
			wg.Wait()
			wins := 0
			for i, err := range errs {
				switch {
				case err == nil:
					wins++
				case retrieveCode(err) != oauth.ErrCodeInvalidGrant:
					t.Errorf("round %d, redemption %d on %s: got %v; want success or invalid_grant", round, i, bases[i%2], err)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d of %d concurrent redemptions across two instances succeeded; want exactly 1", round, wins, n)
			}
		}
	})
}

// TestKeysPersistAcrossRestarts: a restarted server signs and publishes
// with the keys it had, so tokens issued before the restart still verify.
func TestKeysPersistAcrossRestarts(t *testing.T) {
	db := sqliteURL(t)
	first := startServer(t, "-db", db)
	before := jwksKids(t, first.base)
	tok, err := clientToken(first.base, demoWebID, demoWebSecret, "profile")
	if err != nil {
		t.Fatal(err)
	}
	first.stop(t)

	second := startServer(t, "-db", db, "-issuer", first.issuer)
	if after := jwksKids(t, second.base); !slices.Equal(before, after) {
		t.Fatalf("JWKS after restart: got %v; want %v", after, before)
	}
	if _, err := jwtVerifier(first.issuer, second.base).Verify(context.Background(), tok.AccessToken); err != nil {
		t.Errorf("token issued before the restart, checked with the restarted server's JWKS: %v", err)
	}
	if strings.Count(second.stdout.String(), "Demo data is in the database") != 1 {
		t.Errorf("restarted server should still print the demo steps once:\n%s", second.stdout.String())
	}
}
