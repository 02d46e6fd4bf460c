package grants_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/storage/sqlstore"
)

// TestStorages runs the flows whose correctness rests on the repositories'
// compare-and-set writes — concurrent code redemption, concurrent refresh,
// replay and reuse revocation — over each storage backend: memory and
// SQLite (WAL), whose single-use writes are SQL conditional updates.
func TestStorages(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) benchStore
	}{
		{"memory", func(*testing.T) benchStore { return memory.New() }},
		{"sqlite", func(t *testing.T) benchStore {
			s, err := sqlstore.Open("sqlite3", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "oauth.db")))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.open(t)
			ctx := context.Background()
			for _, sc := range []string{"read", "write"} {
				if err := store.CreateScope(ctx, &oauth.Scope{ID: sc}); err != nil {
					t.Fatal(err)
				}
			}
			if err := store.CreateClient(ctx, &oauth.Client{
				ID: idC, Name: "C", SecretHash: sha256Secret(secretC), Confidential: true,
				RedirectURIs: []string{redirectC},
				GrantTypes:   []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials},
				Scopes:       []string{"read", "write"},
			}); err != nil {
				t.Fatal(err)
			}
			srv, err := grants.New(grants.Config{
				Issuer: issuer, Clients: store, Scopes: store, AccessTokens: store, RefreshTokens: store, AuthCodes: store,
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			srv.Mount(mux, "", srv.AuthorizeHandler(func(http.ResponseWriter, *http.Request, *grants.AuthorizeRequest) (grants.Consent, bool) {
				return grants.Consent{UserID: "alice"}, true
			}))
			post := func(body string) (int, map[string]any) {
				r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("Authorization", basicHeader(idC, secretC))
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, r)
				var m map[string]any
				json.Unmarshal(w.Body.Bytes(), &m)
				return w.Code, m
			}
			code := func(challenge string) string {
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/authorize?"+authParams(idC, redirectC, challenge).Encode(), nil))
				loc, _ := url.Parse(w.Header().Get("Location"))
				c := loc.Query().Get("code")
				if c == "" {
					t.Fatalf("authorize: %d %q", w.Code, w.Header().Get("Location"))
				}
				return c
			}
			exchange := func(c, verifier string) string {
				return "grant_type=authorization_code&code=" + c + "&redirect_uri=" + url.QueryEscape(redirectC) + "&code_verifier=" + verifier
			}
			concurrently := func(n int, body string) (ok int) {
				var wg sync.WaitGroup
				var mu sync.Mutex
				start := make(chan struct{})
				for range n {
					wg.Go(func() {
						<-start
						status, _ := post(body)
						mu.Lock()
						if status == 200 {
							ok++
						} else if status != 400 {
							t.Errorf("status %d; want 200 or 400", status)
						}
						mu.Unlock()
					})
				}
				close(start)
				wg.Wait()
				return ok
			}

			// C.25: one code, many concurrent redemptions, one winner.
			verifier, challenge := newVerifier(t)
			if ok := concurrently(20, exchange(code(challenge), verifier)); ok != 1 {
				t.Fatalf("%d concurrent redemptions succeeded; want 1", ok)
			}

			// F.37/38: one refresh token, many concurrent refreshes.
			status, res := post(exchange(code(challenge), verifier))
			rt, _ := res["refresh_token"].(string)
			if status != 200 || rt == "" {
				t.Fatalf("exchange: %d %v", status, res)
			}
			if ok := concurrently(20, "grant_type=refresh_token&refresh_token="+rt); ok != 1 {
				t.Fatalf("%d concurrent refreshes succeeded; want 1", ok)
			}
			if rec, err := store.FindRefreshToken(ctx, oauth.HashValue(rt)); err != nil || !rec.Revoked || rec.RotatedAt.IsZero() {
				t.Fatalf("old refresh token %+v, %v; want rotated", rec, err)
			}

			// C.23 on this backend: replay revokes the first tokens.
			c := code(challenge)
			status, res = post(exchange(c, verifier))
			at, _ := res["access_token"].(string)
			rt, _ = res["refresh_token"].(string)
			if status != 200 {
				t.Fatalf("exchange: %d %v", status, res)
			}
			if status, _ := post(exchange(c, verifier)); status != 400 {
				t.Fatalf("replay: %d; want 400", status)
			}
			a, err := store.FindAccessToken(ctx, oauth.HashValue(at))
			if err != nil || !a.Revoked {
				t.Errorf("access token after replay: %+v, %v; want revoked", a, err)
			}
			if status, res := post("grant_type=refresh_token&refresh_token=" + rt); status != 400 || res["error"] != oauth.ErrCodeInvalidGrant {
				t.Errorf("refresh after replay: %d %v; want invalid_grant", status, res)
			}
		})
	}
}
