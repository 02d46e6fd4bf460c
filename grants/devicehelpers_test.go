package grants_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
)

// The device clients, beside the clients of helpers_test.go (none of which
// may use the device grant).
const (
	// D: a confidential device client allowed refresh tokens too.
	idD     = "tv.app"
	secretD = "tv secret+1"
	// DP: a public device client (a CLI) without refresh tokens.
	idDP = "cli"
	// D2: a second confidential device client.
	idD2     = "tv2"
	secretD2 = "second-tv-secret"

	verifyURI = "https://as.example.com/device"
)

// deviceClients are the device clients, for any store.
func deviceClients() []oauth.Client {
	return []oauth.Client{
		{ID: idD, Name: "Living room TV", SecretHash: sha256Secret(secretD), Confidential: true,
			GrantTypes: []string{oauth.GrantDeviceCode, oauth.GrantRefreshToken}, Scopes: []string{"read", "write", "profile"}},
		{ID: idDP, Name: "Command line", GrantTypes: []string{oauth.GrantDeviceCode}, Scopes: []string{"read", "profile"}},
		{ID: idD2, Name: "Bedroom TV", SecretHash: sha256Secret(secretD2), Confidential: true,
			GrantTypes: []string{oauth.GrantDeviceCode}, Scopes: []string{"read"}},
	}
}

// deviceEvents records what the device hooks saw.
type deviceEvents struct {
	mu                       sync.Mutex
	issued, approved, denied []grants.DeviceCodeEvent
}

func (e *deviceEvents) add(list *[]grants.DeviceCodeEvent) func(context.Context, grants.DeviceCodeEvent) {
	return func(_ context.Context, ev grants.DeviceCodeEvent) {
		e.mu.Lock()
		*list = append(*list, ev)
		e.mu.Unlock()
	}
}

// install sets the device hooks of cfg, keeping the others.
func (e *deviceEvents) install(cfg *grants.Config) {
	cfg.Hooks.DeviceCodeIssued = e.add(&e.issued)
	cfg.Hooks.DeviceApproved = e.add(&e.approved)
	cfg.Hooks.DeviceDenied = e.add(&e.denied)
}

func (e *deviceEvents) counts() (issued, approved, denied int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.issued), len(e.approved), len(e.denied)
}

// deviceFixture is a fixture with the device grant on and the device
// clients registered.
type deviceFixture struct {
	*fixture
	device *deviceEvents
}

func newDeviceFixture(t testing.TB, configure ...func(*grants.Config)) *deviceFixture {
	t.Helper()
	ev := &deviceEvents{}
	f := newFixture(t, append([]func(*grants.Config){func(c *grants.Config) {
		c.DeviceCodes = c.Clients.(*memory.Store)
		c.DeviceVerificationURI = verifyURI
		ev.install(c)
	}}, configure...)...)
	for _, c := range deviceClients() {
		if err := f.store.CreateClient(context.Background(), &c); err != nil {
			t.Fatal(err)
		}
	}
	return &deviceFixture{fixture: f, device: ev}
}

// deviceAuth posts a device authorization request.
func (f *fixture) deviceAuth(q tokenReq) *response {
	f.t.Helper()
	return f.post("/oauth/device_authorization", q)
}

// issued is a device authorization response's device_code and user_code.
type issued struct {
	deviceCode, userCode string
}

// newDeviceCode runs a device authorization request for D with scope
// (omitted when empty) and returns the codes.
func (f *fixture) newDeviceCode(scope string) issued {
	f.t.Helper()
	v := url.Values{}
	if scope != "" {
		v.Set("scope", scope)
	}
	res := f.deviceAuth(tokenReq{form: v}.withBasic(idD, secretD))
	if res.status != http.StatusOK {
		f.t.Fatalf("device authorization: got %d %s; want 200", res.status, res.raw)
	}
	return issued{res.str("device_code"), res.str("user_code")}
}

// pollReq is a device_code token request.
func pollReq(deviceCode string) tokenReq {
	return tokenReq{form: form("grant_type", oauth.GrantDeviceCode, "device_code", deviceCode)}
}

// poll polls the token endpoint as D.
func (f *fixture) poll(deviceCode string) *response {
	f.t.Helper()
	return f.token(pollReq(deviceCode).withBasic(idD, secretD))
}

// lookup looks a user code up as caller "sess-1" and fails the test on an
// error.
func (f *fixture) lookup(userCode string) *grants.DeviceRequest {
	f.t.Helper()
	req, err := f.srv.LookupUserCode(context.Background(), "sess-1", userCode)
	if err != nil {
		f.t.Fatalf("LookupUserCode(%q): %v", userCode, err)
	}
	return req
}

// approve approves a user code as alice with every requested scope.
func (f *fixture) approve(userCode string) {
	f.t.Helper()
	if err := f.srv.ApproveDevice(context.Background(), f.lookup(userCode), "alice", nil); err != nil {
		f.t.Fatalf("ApproveDevice: %v", err)
	}
}

// deviceRecord returns the stored record of a device_code.
func (f *fixture) deviceRecord(deviceCode string) *oauth.DeviceCode {
	f.t.Helper()
	d, err := f.store.FindDeviceCode(context.Background(), oauth.HashValue(deviceCode))
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}
