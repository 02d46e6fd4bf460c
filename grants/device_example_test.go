package grants_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
)

// ExampleServer_LookupUserCode runs the device flow: a TV asks for a device
// code, the person types the user code on the host's verification page,
// the page looks it up and approves it, and the TV's next poll receives
// the tokens.
func ExampleServer_LookupUserCode() {
	ctx := context.Background()
	store := memory.New()
	store.CreateScope(ctx, &oauth.Scope{ID: "videos:read", Description: "Watch your videos"})
	store.CreateClient(ctx, &oauth.Client{
		ID: "tv-app", Name: "Living room TV",
		GrantTypes: []string{oauth.GrantDeviceCode}, Scopes: []string{"videos:read"},
	})
	now := time.Now() // the server's clock, moved below as time passes
	srv, err := grants.New(grants.Config{
		Issuer:                "https://auth.example.com",
		Clients:               store,
		Scopes:                store,
		AccessTokens:          store,
		DeviceCodes:           store,
		DeviceVerificationURI: "https://auth.example.com/device",
		Now:                   func() time.Time { return now },
		Logger:                slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	srv.Mount(mux, "", nil)
	post := func(path string, form url.Values) map[string]any {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		var body map[string]any
		json.Unmarshal(w.Body.Bytes(), &body)
		return body
	}

	// The TV: device authorization.
	da := post("/device_authorization", url.Values{"client_id": {"tv-app"}, "scope": {"videos:read"}})
	deviceCode, userCode := da["device_code"].(string), da["user_code"].(string)
	fmt.Println("verification_uri:", da["verification_uri"])
	poll := url.Values{"grant_type": {oauth.GrantDeviceCode}, "device_code": {deviceCode}, "client_id": {"tv-app"}}
	fmt.Println("first poll:", post("/token", poll)["error"])

	// The host's verification page, behind its login: the person typed
	// the code in lower case, without the dash. The caller key throttles
	// wrong entries; here it is the person's session.
	typed := strings.ToLower(strings.ReplaceAll(userCode, "-", ""))
	req, err := srv.LookupUserCode(ctx, "session-42", typed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s asks for %v\n", req.Client.Name, req.Scopes)
	if err := srv.ApproveDevice(ctx, req, "alice", nil); err != nil {
		log.Fatal(err)
	}
	if _, err := srv.LookupUserCode(ctx, "session-42", typed); errors.Is(err, grants.ErrUserCodeUsed) {
		fmt.Println("entered again:", err)
	}

	// The TV polls again after the interval it was told.
	now = now.Add(time.Duration(da["interval"].(float64)) * time.Second)
	tok := post("/token", poll)
	fmt.Println("token type:", tok["token_type"], "scope:", tok["scope"])
	// Output:
	// verification_uri: https://auth.example.com/device
	// first poll: authorization_pending
	// Living room TV asks for [videos:read]
	// entered again: grants: the user code was already used: oauth: already used
	// token type: Bearer scope: videos:read
}
