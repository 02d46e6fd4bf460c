package main

import (
	"strings"
	"testing"
)

// TestDemoDataOnlyOnLoopback: the demo user and clients, whose
// credentials are published, are created by default only on a server
// that listens on loopback with an http issuer — not on one others can
// reach, unless -demo asks for them — and a server others can reach
// warns when its database holds them.
func TestDemoDataOnlyOnLoopback(t *testing.T) {
	hasDemo := func(t *testing.T, db string) bool {
		t.Helper()
		return strings.Contains(mustCLI(t, db, "client", "list"), demoWebID)
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"https issuer", []string{"-issuer", "https://auth.example"}},
		{"all interfaces", []string{"-addr", "0.0.0.0:0"}},
	} {
		t.Run(tt.name+" without -demo", func(t *testing.T) {
			db := sqliteURL(t)
			inst := startServer(t, append([]string{"-db", db}, tt.args...)...)
			if strings.Contains(inst.stdout.String(), "Demo data is in the database") {
				t.Errorf("the server printed the demo steps:\n%s", inst.stdout)
			}
			if !inst.logHas("not creating the demo data") {
				t.Errorf("the log does not say why there is no demo data:\n%s", tail(inst.stderr.String(), 2000))
			}
			if hasDemo(t, db) {
				t.Errorf("the demo clients were created")
			}
			if got := newBrowser(t).tryLogin(inst.base, demoUser, demoPassword); got != 401 {
				t.Errorf("sign-in as the demo user: got %d; want 401", got)
			}
		})
	}

	t.Run("https issuer with -demo", func(t *testing.T) {
		db := sqliteURL(t)
		inst := startServer(t, "-db", db, "-issuer", "https://auth.example", "-demo")
		if !hasDemo(t, db) {
			t.Errorf("-demo did not create the demo clients")
		}
		if !inst.logHas("published credentials") {
			t.Errorf("the log does not warn of the demo credentials:\n%s", tail(inst.stderr.String(), 2000))
		}
	})

	t.Run("demo data left in a database now served to others", func(t *testing.T) {
		db := sqliteURL(t)
		local := startServer(t, "-db", db)
		local.stop(t) // and so its log is complete
		if strings.Contains(local.stderr.String(), "published credentials") {
			t.Errorf("a loopback server warns of the demo credentials:\n%s", tail(local.stderr.String(), 2000))
		}
		inst := startServer(t, "-db", db, "-issuer", "https://auth.example")
		if !inst.logHas("published credentials") {
			t.Errorf("the log does not warn of the demo credentials in the database:\n%s", tail(inst.stderr.String(), 2000))
		}
	})
}
