package grants_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
	"github.com/oauthkit/oauth/storage/sqlstore"
	"github.com/oauthkit/oauth/tokens"
)

// The token endpoint's hot paths, in process (ServeHTTP on httptest
// requests), on memory and SQLite storage, beside their floor:
// BenchmarkFloor parses the same request (form body and Basic credentials)
// with net/http and writes a fixed token JSON. Targets, on memory storage:
// client_credentials with an opaque token ≤ 2× the floor; with an ES256 JWT
// ≤ BenchmarkJWTIssueES256 + 2× the floor; authorize + code exchange ≤ 5×
// the floor; refresh rotation ≤ 3× the floor. On SQLite (WAL,
// synchronous=NORMAL) client credentials ≤ 1.5× BenchmarkFloorSQLiteInsert,
// one INSERT+COMMIT of the token row. Run:
//
//	go test -run '^$' -bench . -count 5 ./grants/

const (
	benchClient = "bench-client"
	// A generated-style secret: 256 bits, stored as sha256, as
	// oauth.GenerateSecret makes them.
	benchSecret = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"
)

var benchBody = "grant_type=client_credentials&scope=read+write"

// newBenchTokenRequest builds the request every benchmark posts: a form
// body and Basic credentials.
func newBenchTokenRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(benchClient+":"+benchSecret)))
	return r
}

var fixedToken = []byte(`{"access_token":"oat_4hYw0b2mJk1pYy1Yq3f5Jx9T0c7cQeW8c2vQq1gq0bE","token_type":"Bearer","expires_in":3600,"scope":"read write"}`)

// floorHandler is the least a token endpoint can do for the request: parse
// the form and the Basic credentials (decoding them as RFC 6749 appendix B
// says) and write a token response.
var floorHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	user, pass, ok := r.BasicAuth()
	id, err1 := url.QueryUnescape(user)
	secret, err2 := url.QueryUnescape(pass)
	if !ok || err1 != nil || err2 != nil || id == "" || secret == "" || r.PostForm.Get("grant_type") == "" {
		http.Error(w, "bad request", 400)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.Write(fixedToken)
})

// BenchmarkFloor is the floor the grant benchmarks are held to.
func BenchmarkFloor(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		floorHandler.ServeHTTP(w, newBenchTokenRequest(benchBody))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// benchStore is the repositories a benchmark runs on.
type benchStore interface {
	oauth.ClientAdmin
	oauth.ScopeAdmin
	oauth.AccessTokenRepository
	oauth.RefreshTokenRepository
	oauth.AuthCodeRepository
}

// storages lists the backends: memory, and SQLite in a temporary file.
var storages = []struct {
	name string
	open func(b *testing.B) benchStore
}{
	{"memory", func(*testing.B) benchStore { return memory.New() }},
	{"sqlite", func(b *testing.B) benchStore { return openSQLite(b) }},
}

func openSQLite(b *testing.B) *sqlstore.Store {
	b.Helper()
	s, err := sqlstore.Open("sqlite3", sqlstore.SQLiteDSN(filepath.Join(b.TempDir(), "oauth.db")))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchServer returns a Server over store, with the bench client registered.
func benchServer(b *testing.B, store benchStore, format grants.AccessTokenFormat) (*grants.Server, http.Handler) {
	b.Helper()
	ctx := context.Background()
	for _, sc := range []string{"read", "write"} {
		if err := store.CreateScope(ctx, &oauth.Scope{ID: sc}); err != nil {
			b.Fatal(err)
		}
	}
	sum := sha256.Sum256([]byte(benchSecret))
	err := store.CreateClient(ctx, &oauth.Client{
		ID: benchClient, Name: "bench", SecretHash: "sha256:" + hex.EncodeToString(sum[:]), Confidential: true,
		RedirectURIs: []string{"https://bench.example.com/cb"},
		GrantTypes:   []string{oauth.GrantClientCredentials, oauth.GrantAuthorizationCode, oauth.GrantRefreshToken},
		Scopes:       []string{"read", "write"},
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg := grants.Config{
		Issuer: issuer, Clients: store, Scopes: store, AccessTokens: store, RefreshTokens: store, AuthCodes: store,
		Logger: slog.New(slog.DiscardHandler), AccessTokenFormat: format,
	}
	if format == grants.AccessTokenJWT {
		keys, err := tokens.GenerateKeySet(tokens.ES256)
		if err != nil {
			b.Fatal(err)
		}
		cfg.JWTIssuer = &tokens.JWTIssuer{Keys: keys, Audience: []string{"https://api.example.com"}}
	}
	srv, err := grants.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	srv.Mount(mux, "/oauth", srv.AuthorizeHandler(func(http.ResponseWriter, *http.Request, *grants.AuthorizeRequest) (grants.Consent, bool) {
		return grants.Consent{UserID: "user-1"}, true
	}))
	return srv, mux
}

func BenchmarkClientCredentials(b *testing.B) {
	for _, st := range storages {
		for _, format := range []grants.AccessTokenFormat{grants.AccessTokenOpaque, grants.AccessTokenJWT} {
			name := st.name + "/opaque"
			if format == grants.AccessTokenJWT {
				name = st.name + "/ES256"
			}
			b.Run(name, func(b *testing.B) {
				_, h := benchServer(b, st.open(b), format)
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, newBenchTokenRequest(benchBody))
					if w.Code != 200 {
						b.Fatal(w.Code, w.Body.String())
					}
				}
			})
		}
	}
}

// jsonField extracts a string member from a token response without
// decoding the whole document.
func jsonField(body, name string) string {
	_, rest, ok := strings.Cut(body, `"`+name+`":"`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// BenchmarkAuthorizeCodeExchange is one authorization request with PKCE
// (approved at once) plus the exchange of its code, as one op.
func BenchmarkAuthorizeCodeExchange(b *testing.B) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	authURL := "/oauth/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {benchClient}, "redirect_uri": {"https://bench.example.com/cb"},
		"scope": {"read write"}, "state": {"xyzzy"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}.Encode()
	for _, st := range storages {
		b.Run(st.name, func(b *testing.B) {
			_, h := benchServer(b, st.open(b), grants.AccessTokenOpaque)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, authURL, nil))
				loc := w.Header().Get("Location")
				_, code, _ := strings.Cut(loc, "code=")
				code, _, _ = strings.Cut(code, "&")
				if w.Code != http.StatusFound || code == "" {
					b.Fatal(w.Code, loc)
				}
				body := "grant_type=authorization_code&code=" + code +
					"&redirect_uri=https%3A%2F%2Fbench.example.com%2Fcb&code_verifier=" + verifier
				w = httptest.NewRecorder()
				h.ServeHTTP(w, newBenchTokenRequest(body))
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}

// BenchmarkRefreshRotation refreshes a chain of rotated refresh tokens:
// each op presents the token the previous one returned.
func BenchmarkRefreshRotation(b *testing.B) {
	for _, st := range storages {
		b.Run(st.name, func(b *testing.B) {
			_, h := benchServer(b, st.open(b), grants.AccessTokenOpaque)
			// Obtain the first refresh token through the code flow.
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/oauth/authorize?response_type=code&client_id="+benchClient+"&scope=read", nil))
			_, code, _ := strings.Cut(w.Header().Get("Location"), "code=")
			code, _, _ = strings.Cut(code, "&")
			w = httptest.NewRecorder()
			h.ServeHTTP(w, newBenchTokenRequest("grant_type=authorization_code&code="+code))
			rt := jsonField(w.Body.String(), "refresh_token")
			if rt == "" {
				b.Fatal(w.Code, w.Body.String())
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, newBenchTokenRequest("grant_type=refresh_token&refresh_token="+rt))
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
				rt = jsonField(w.Body.String(), "refresh_token")
			}
		})
	}
}

// BenchmarkJWTIssueES256 is the tokens package's ES256 issue cost, measured
// in this run for the JWT target.
func BenchmarkJWTIssueES256(b *testing.B) {
	keys, err := tokens.GenerateKeySet(tokens.ES256)
	if err != nil {
		b.Fatal(err)
	}
	iss := &tokens.JWTIssuer{Keys: keys, Issuer: issuer, Audience: []string{"https://api.example.com"}}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		c := tokens.Claims{Subject: benchClient, ClientID: benchClient, Scopes: []string{"read", "write"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if _, err := iss.Issue(&c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorSQLiteInsert is one INSERT+COMMIT of an access token row
// through bare database/sql on the SQLite store's database: the floor of
// client credentials on SQLite.
func BenchmarkFloorSQLiteInsert(b *testing.B) {
	s := openSQLite(b)
	benchServer(b, s, grants.AccessTokenOpaque) // registers the client
	db := s.DB().DB
	ctx := context.Background()
	const q = "INSERT INTO oauth_access_tokens (id, client_id, user_id, scopes, family_id, expires_at, created_at, revoked, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
	now := time.Now().UTC()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("%064x", i)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, q, id, benchClient, nil, "read write", "family-"+id[:16],
			now.Add(time.Hour).UnixMicro(), now.UnixMicro(), false, now.UnixMicro()); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
