package sqlstore_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/sqlstore"
)

// childEnv marks a child process of TestMultiProcess and carries its
// instructions.
const childEnv = "SQLSTORE_TEST_CHILD"

type childSpec struct {
	Dialect sqlstore.Dialect
	DSN     string
	Index   int
}

// The child's protocol, one line each way: it prints READY once its
// connection is open, then for every command line read from stdin
// ("migrate", "consume ID", "rotate ID", "redeem ID") prints "RESULT ok",
// "RESULT already_used" or "RESULT error: …".

// TestChildProcess is the body of a child process; it skips in a normal
// run.
func TestChildProcess(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		t.Skip("runs only as a child process of TestMultiProcess")
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.Open(driverOf(spec.Dialect), spec.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// Processes opening a new SQLite file at once can be refused its
	// switch to WAL mode ("database is locked") without waiting; Migrate
	// tries again, and so does this first contact.
	for i := 0; ; i++ {
		err := s.DB().PingContext(ctx)
		if err == nil {
			break
		}
		if i == 200 || !strings.Contains(err.Error(), "database is locked") {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond)
	}
	fmt.Println("READY")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, id, _ := strings.Cut(in.Text(), " ")
		var err error
		switch cmd {
		case "migrate":
			err = s.Migrate(ctx)
		case "consume":
			_, err = s.ConsumeAuthCode(ctx, id, t0)
		case "rotate":
			next := newRefresh(hashID("next %d %d", os.Getpid(), spec.Index), "at", "c", "f", t0.Add(time.Hour))
			err = s.RotateRefreshToken(ctx, id, next, t0)
		case "redeem":
			_, err = s.RedeemDeviceCode(ctx, id, t0)
		case "exit":
			return
		default:
			err = fmt.Errorf("unknown command %q", cmd)
		}
		switch {
		case err == nil:
			fmt.Println("RESULT ok")
		case errors.Is(err, oauth.ErrAlreadyUsed):
			fmt.Println("RESULT already_used")
		default:
			fmt.Println("RESULT error: " + strings.ReplaceAll(err.Error(), "\n", " "))
		}
	}
}

// child is a running child process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr bytes.Buffer
}

func (c *child) next(t *testing.T, want string) string {
	t.Helper()
	var other []string // what the child printed instead, such as a t.Fatal
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				// Wait for the process, so that its stderr is copied in
				// full before it is read.
				err := c.cmd.Wait()
				t.Fatalf("child %d ended (%v) before %s; stdout:\n%s\nstderr:\n%s",
					c.cmd.Process.Pid, err, want, strings.Join(other, "\n"), c.stderr.String())
			}
			if strings.HasPrefix(line, want) {
				return strings.TrimSpace(strings.TrimPrefix(line, want))
			}
			other = append(other, line)
		case <-time.After(2 * time.Minute):
			t.Fatalf("child %d: no %s within 2 minutes", c.cmd.Process.Pid, want)
		}
	}
}

// TestMultiProcess runs eight OS processes (this test binary, re-executed)
// against one database per dialect: they race to migrate the empty
// database, then to consume one authorization code, to rotate one refresh
// token and to redeem one device code. Every migration must succeed, and
// each single-use operation must have exactly one winner.
func TestMultiProcess(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in a child process")
	}
	const n = 8
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		dsn := newDatabase(t, d)
		children := make([]*child, n)
		// On the way out, close every child's stdin (which ends it), then
		// wait for all of them.
		t.Cleanup(func() {
			for _, c := range children {
				if c != nil {
					c.stdin.Close()
				}
			}
			for _, c := range children {
				if c == nil {
					continue
				}
				done := make(chan error, 1)
				go func() { done <- c.cmd.Wait() }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					c.cmd.Process.Kill()
					<-done
				}
			}
		})
		for i := range children {
			spec, _ := json.Marshal(childSpec{Dialect: d, DSN: dsn, Index: i})
			c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")}
			c.cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
			if os.Getenv("GORACE") == "" {
				// A race-enabled binary sleeps a second at exit by default.
				c.cmd.Env = append(c.cmd.Env, "GORACE=atexit_sleep_ms=0")
			}
			c.cmd.Stderr = &c.stderr
			var err error
			if c.stdin, err = c.cmd.StdinPipe(); err != nil {
				t.Fatal(err)
			}
			stdout, err := c.cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			c.lines = make(chan string, 16)
			go func() {
				defer close(c.lines)
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					c.lines <- sc.Text()
				}
			}()
			children[i] = c
		}
		for _, c := range children {
			c.next(t, "READY")
		}
		// run sends cmd to every child at once and returns their results.
		run := func(cmd string) []string {
			for _, c := range children {
				if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
					t.Fatalf("write to child: %v", err)
				}
			}
			out := make([]string, n)
			for i, c := range children {
				out[i] = c.next(t, "RESULT ")
			}
			return out
		}
		count := func(results []string, want string) int {
			k := 0
			for _, r := range results {
				if r == want {
					k++
				}
			}
			return k
		}

		if res := run("migrate"); count(res, "ok") != n {
			t.Fatalf("racing Migrate in %d processes: got %q; want all ok", n, res)
		}
		s := openDSN(t, d, dsn)
		wantMigrated(t, s)

		ctx := context.Background()
		mustCreateClient(t, s, "c")
		exp := t0.Add(time.Hour)
		for _, err := range []error{
			s.CreateAuthCode(ctx, newAuthCode("code", "c", exp)),
			s.CreateAccessToken(ctx, newAccess("at", "c", "f", exp)),
			s.CreateRefreshToken(ctx, newRefresh("rt", "at", "c", "f", exp)),
			s.CreateDeviceCode(ctx, newDeviceCode("dc", "BCDF", "c", exp)),
			s.ApproveDeviceCode(ctx, "dc", "user-1", []string{"openid"}, t0),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, cmd := range []string{"consume code", "rotate rt", "redeem dc"} {
			res := run(cmd)
			if count(res, "ok") != 1 || count(res, "already_used") != n-1 {
				t.Errorf("%s in %d processes: got %q; want one ok and %d already_used", cmd, n, res, n-1)
			}
		}
		var rts int
		q := s.DB().Rebind("SELECT COUNT(*) FROM oauth_refresh_tokens WHERE family_id = ?")
		if err := s.DB().QueryRowContext(ctx, q, "f").Scan(&rts); err != nil || rts != 2 {
			t.Errorf("refresh tokens after the rotation race: got %d, %v; want 2 (the old one and one successor)", rts, err)
		}
	})
}
