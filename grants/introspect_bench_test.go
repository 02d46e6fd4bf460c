package grants_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oauthkit/oauth/grants"
	"github.com/oauthkit/oauth/storage/memory"
)

// BenchmarkIntrospectOpaqueMemory introspects an active opaque access
// token on memory storage: parse the form and the Basic credentials,
// authenticate the caller, look the token up, encode the answer. It is
// held to 1.5× BenchmarkFloor (bench_test.go), which parses the same kind
// of request and writes a fixed JSON. Run beside it:
//
//	go test -run '^$' -bench 'Introspect|Floor' -count 5 ./grants/
func BenchmarkIntrospectOpaqueMemory(b *testing.B) {
	_, h := benchServer(b, memory.New(), grants.AccessTokenOpaque)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, newBenchTokenRequest(benchBody))
	token := jsonField(w.Body.String(), "access_token")
	if token == "" {
		b.Fatal(w.Code, w.Body.String())
	}
	body := "token=" + token + "&token_type_hint=access_token"
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(benchClient+":"+benchSecret))
	active := []byte(`{"active":true,`)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/oauth/introspect", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || !bytes.HasPrefix(w.Body.Bytes(), active) {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
