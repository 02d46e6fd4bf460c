package grants

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/oauthkit/oauth"
)

func TestParseForm(t *testing.T) {
	many := strings.Repeat("k=v&", 0)
	for i := range maxParams + 1 {
		many += "k" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + "=v&"
	}
	// Repeats count: a body of the same few names over and over costs a
	// scan of the names for each.
	repeats := strings.Repeat("a=1&b=2&", maxParams/2) + "c=3"
	tests := []struct {
		name     string
		in       string
		want     []param
		repeated []string
		err      bool
	}{
		{name: "empty", in: ""},
		{name: "simple", in: "grant_type=client_credentials&scope=a+b", want: []param{{"grant_type", "client_credentials"}, {"scope", "a b"}}},
		{name: "percent", in: "client_secret=a+b%2Bc%25%2F", want: []param{{"client_secret", "a b+c%/"}}},
		{name: "encoded key", in: "client%5Fid=x", want: []param{{"client_id", "x"}}},
		{name: "no equals", in: "a&b=1", want: []param{{"a", ""}, {"b", "1"}}},
		{name: "empty segments", in: "&a=1&&b=2&", want: []param{{"a", "1"}, {"b", "2"}}},
		{name: "empty key skipped", in: "=x&b=2", want: []param{{"b", "2"}}},
		{name: "value with equals", in: "a=b=c", want: []param{{"a", "b=c"}}},
		{name: "semicolon is data", in: "a=1;b=2", want: []param{{"a", "1;b=2"}}},
		{name: "repeated", in: "a=1&b=2&a=3", want: []param{{"a", "1"}, {"b", "2"}}, repeated: []string{"a"}},
		{name: "repeated empty", in: "a=&a=1", want: []param{{"a", ""}}, repeated: []string{"a"}},
		{name: "repeated via encoding", in: "a=1&%61=2", want: []param{{"a", "1"}}, repeated: []string{"a"}},
		{name: "repeated thrice listed once", in: "a=1&a=2&a=3", want: []param{{"a", "1"}}, repeated: []string{"a"}},
		{name: "bad escape in value", in: "a=%zz", err: true},
		{name: "bad escape in key", in: "%g1=a", err: true},
		{name: "truncated escape", in: "a=%2", err: true},
		{name: "too many", in: many, err: true},
		{name: "too many with repeats", in: repeats, err: true},
		{name: "repeats up to the limit", in: repeats[:len(repeats)-4], want: []param{{"a", "1"}, {"b", "2"}}, repeated: []string{"a", "b"}},
		{name: "empty segments do not count", in: strings.Repeat("&", 10*maxParams) + "a=1", want: []param{{"a", "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f form
			err := parseForm(tt.in, &f)
			if (err != nil) != tt.err {
				t.Fatalf("parseForm(%q) error = %v; want error %v", tt.in, err, tt.err)
			}
			if err != nil {
				if err.Code != oauth.ErrCodeInvalidRequest {
					t.Errorf("error code = %q; want invalid_request", err.Code)
				}
				return
			}
			if !slices.Equal(f.params, tt.want) {
				t.Errorf("params = %q; want %q", f.params, tt.want)
			}
			if !slices.Equal(f.repeated, tt.repeated) {
				t.Errorf("repeated = %q; want %q", f.repeated, tt.repeated)
			}
		})
	}
}

func TestFormContentType(t *testing.T) {
	tests := []struct {
		ct   string
		want bool
	}{
		{"application/x-www-form-urlencoded", true},
		{"application/x-www-form-urlencoded;charset=UTF-8", true},
		{"Application/X-WWW-Form-Urlencoded ; charset=utf-8", true},
		{"application/json", false},
		{"", false},
		{"multipart/form-data; boundary=x", false},
		{"application/x-www-form-urlencoded-not", false},
	}
	for _, tt := range tests {
		if got := formContentType(tt.ct); got != tt.want {
			t.Errorf("formContentType(%q) = %v; want %v", tt.ct, got, tt.want)
		}
	}
}

func TestReadBody(t *testing.T) {
	tests := []struct {
		name string
		ct   string
		body string
		max  int64
		want string // value of "a", or "error:<description prefix>"
	}{
		{name: "ok", ct: "application/x-www-form-urlencoded", body: "a=1", max: 1024, want: "1"},
		{name: "json", ct: "application/json", body: `{"a":"1"}`, max: 1024, want: "error"},
		{name: "no content type", ct: "", body: "a=1", max: 1024, want: "error"},
		{name: "too large", ct: "application/x-www-form-urlencoded", body: "a=" + strings.Repeat("x", 2000), max: 1024, want: "error"},
		{name: "at the limit", ct: "application/x-www-form-urlencoded", body: "a=" + strings.Repeat("x", 1022), max: 1024, want: strings.Repeat("x", 1022)},
	}
	for _, tt := range tests {
		for _, chunked := range []bool{false, true} {
			name := tt.name
			if chunked {
				name += "/chunked"
			}
			t.Run(name, func(t *testing.T) {
				r := httptest.NewRequest("POST", "/token", strings.NewReader(tt.body))
				if chunked {
					r.ContentLength = -1
				}
				if tt.ct != "" {
					r.Header.Set("Content-Type", tt.ct)
				}
				var f form
				err := readBody(r, tt.max, &f)
				if tt.want == "error" {
					if pe, ok := err.(*oauth.Error); !ok || pe.Code != oauth.ErrCodeInvalidRequest {
						t.Fatalf("readBody error = %v; want invalid_request", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("readBody error = %v", err)
				}
				if got := f.get("a"); got != tt.want {
					t.Errorf("a = %q; want %q", got, tt.want)
				}
			})
		}
	}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestParseBasic(t *testing.T) {
	tests := []struct {
		name       string
		header     string
		id, secret string
		notBasic   bool
		err        bool
	}{
		// CONFORMANCE A.4: both encodings authenticate C.
		{name: "fully encoded", header: basic("svc%2D1%2Eapp", "a+b%2Bc%25%2F"), id: "svc-1.app", secret: "a b+c%/"},
		{name: "id unencoded", header: basic("svc-1.app", "a+b%2Bc%25%2F"), id: "svc-1.app", secret: "a b+c%/"},
		{name: "scheme case", header: "bAsIc " + base64.StdEncoding.EncodeToString([]byte("a:b")), id: "a", secret: "b"},
		{name: "extra spaces", header: "Basic   " + base64.StdEncoding.EncodeToString([]byte("a:b")), id: "a", secret: "b"},
		{name: "empty secret", header: basic("pub", ""), id: "pub", secret: ""},
		{name: "colon in secret", header: basic("a", "b%3Ac:d"), id: "a", secret: "b:c:d"},
		{name: "bearer", header: "Bearer abc", notBasic: true},
		{name: "no space", header: "Basicabc", notBasic: true},
		{name: "empty", header: "Basic ", err: true},
		{name: "not base64", header: "Basic !!!", err: true},
		{name: "unpadded", header: "Basic YTpi", id: "a", secret: "b"},
		{name: "bad padding", header: "Basic YTpiYw", err: true},
		{name: "no colon", header: "Basic " + base64.StdEncoding.EncodeToString([]byte("abc")), err: true},
		{name: "bad escape", header: basic("a", "%zz"), err: true},
		{name: "empty id", header: basic("", "x"), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, ok, err := parseBasic(tt.header)
			if ok == tt.notBasic {
				t.Fatalf("basic = %v; want %v", ok, !tt.notBasic)
			}
			if (err != nil) != tt.err {
				t.Fatalf("err = %v; want error %v", err, tt.err)
			}
			if id != tt.id || secret != tt.secret {
				t.Errorf("got %q, %q; want %q, %q", id, secret, tt.id, tt.secret)
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name   string
		auth   string
		body   string
		method string
		id     string
		code   string // expected error code, "" for none
	}{
		{name: "basic", auth: basic("c", "s"), method: AuthMethodSecretBasic, id: "c"},
		{name: "basic and same body id", auth: basic("c", "s"), body: "client_id=c", method: AuthMethodSecretBasic, id: "c"},
		{name: "basic and other body id", auth: basic("c", "s"), body: "client_id=d", code: oauth.ErrCodeInvalidRequest},
		{name: "basic and body secret", auth: basic("c", "s"), body: "client_secret=s", code: oauth.ErrCodeInvalidRequest},
		{name: "post", body: "client_id=c&client_secret=s", method: AuthMethodSecretPost, id: "c"},
		{name: "none", body: "client_id=c", method: AuthMethodNone, id: "c"},
		{name: "nothing", code: oauth.ErrCodeInvalidClient},
		{name: "secret without id", body: "client_secret=s", code: oauth.ErrCodeInvalidClient},
		{name: "bearer scheme", auth: "Bearer x", body: "client_id=c&client_secret=s", code: oauth.ErrCodeInvalidClient},
		{name: "malformed basic", auth: "Basic %%%", code: oauth.ErrCodeInvalidClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/token", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			var f form
			if err := parseForm(tt.body, &f); err != nil {
				t.Fatal(err)
			}
			c, err := credentials(r, &f)
			if tt.code != "" {
				if err == nil || err.Code != tt.code {
					t.Fatalf("error = %v; want %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if c.method != tt.method || c.id != tt.id {
				t.Errorf("got method %q id %q; want %q %q", c.method, c.id, tt.method, tt.id)
			}
		})
	}
}

// TestMatchRedirectURI is CONFORMANCE B.15.
func TestMatchRedirectURI(t *testing.T) {
	reg := []string{
		"https://app.example.com/cb",
		"https://app.example.com/q?x=1",
		"http://127.0.0.1/loop",
		"http://[::1]:8080/v6",
		"com.example.app:/native",
	}
	tests := []struct {
		uri  string
		want bool
	}{
		{"https://app.example.com/cb", true},
		{"https://app.example.com/q?x=1", true},
		{"com.example.app:/native", true},
		{"https://app.example.com/cb/", false},
		{"https://APP.example.com/cb", false},
		{"https://app.example.com/CB", false},
		{"https://app.example.com/cb?x=1", false},
		{"https://app.example.com/cb/extra", false},
		{"https://app.example.com:443/cb", false},
		{"https://app.example.com:8443/cb", false},
		{"http://app.example.com/cb", false},
		{"https://evil.app.example.com/cb", false},
		{"https://app.example.com/cb/../cb", false},
		{"https://app.example.com/x/../cb", false},
		{"https://app.example.com/cb#frag", false},
		{"https://app.example.com/cb#", false},
		{"https://client@app.example.com/cb", false},
		{"https://app.example.com@evil.example/cb", false},
		{"https://app.example.com/%63b", false},
		{"https://app%2Eexample.com/cb", false},
		{"https://app.example.com/q?x=%31", false},
		{"https://app.example.com/q?x=1&y=2", false},
		{"", false},
		// RFC 8252 §7.3: loopback IP literals match any port.
		{"http://127.0.0.1/loop", true},
		{"http://127.0.0.1:1/loop", true},
		{"http://127.0.0.1:51234/loop", true},
		{"http://127.0.0.1:65535/loop", true},
		{"http://127.0.0.1:65536/loop", false},
		{"http://127.0.0.1:0/loop", false},
		{"http://127.0.0.1:080/loop", false},
		{"http://127.0.0.1:/loop", false},
		{"http://127.0.0.1:123456/loop", false},
		{"http://127.0.0.1:8080/loop/", false},
		{"http://127.0.0.1:8080/other", false},
		{"http://127.0.0.1:8080/loop?x", false},
		{"http://127.0.0.1:8080/loop#f", false},
		{"https://127.0.0.1:8080/loop", false},
		{"http://localhost:8080/loop", false},
		{"http://127.0.0.1.evil.example/loop", false},
		{"http://127.0.0.1@evil.example/loop", false},
		{"http://127.0.0.1:8080@evil.example/loop", false},
		{"http://[::1]/loop", false},
		{"http://[::1]/v6", true},
		{"http://[::1]:8080/v6", true},
		{"http://[::1]:9999/v6", true},
		{"http://127.0.0.1:9999/v6", false},
		{"http://[0:0:0:0:0:0:0:1]:9999/v6", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			if got := matchRedirectURI(reg, tt.uri); got != tt.want {
				t.Errorf("matchRedirectURI(%q) = %v; want %v", tt.uri, got, tt.want)
			}
		})
	}
}

func TestResolveRedirectURI(t *testing.T) {
	tests := []struct {
		name       string
		registered []string
		requested  string
		want       string
		ok         bool
	}{
		{name: "one registered, omitted", registered: []string{"https://a/cb"}, want: "https://a/cb", ok: true},
		{name: "two registered, omitted", registered: []string{"https://a/cb", "https://a/cb2"}, ok: false},
		{name: "two registered, sent", registered: []string{"https://a/cb", "https://a/cb2"}, requested: "https://a/cb2", want: "https://a/cb2", ok: true},
		{name: "none registered", registered: nil, ok: false},
		{name: "loopback keeps requested port", registered: []string{"http://127.0.0.1/cb"}, requested: "http://127.0.0.1:4567/cb", want: "http://127.0.0.1:4567/cb", ok: true},
		{name: "relative registered", registered: []string{"/cb"}, requested: "/cb", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := resolveRedirectURI(tt.registered, tt.requested)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAppendQuery(t *testing.T) {
	tests := []struct {
		base   string
		params []param
		want   string
	}{
		{"https://a/cb", []param{{"code", "x"}, {"state", "s t"}, {"iss", "https://as"}}, "https://a/cb?code=x&state=s+t&iss=https%3A%2F%2Fas"},
		{"https://a/cb", []param{{"code", "x"}, {"state", ""}}, "https://a/cb?code=x"},
		// CONFORMANCE B.17: a registered query is kept.
		{"https://a/cb?keep=1&k2", []param{{"code", "x"}}, "https://a/cb?keep=1&k2&code=x"},
		// CONFORMANCE B.18: no parameter twice.
		{"https://a/cb?state=old&keep=1&co%64e=old", []param{{"code", "x"}, {"state", "new"}}, "https://a/cb?keep=1&code=x&state=new"},
		{"https://a/cb?", []param{{"code", "x"}}, "https://a/cb?code=x"},
	}
	for _, tt := range tests {
		if got := appendQuery(tt.base, tt.params...); got != tt.want {
			t.Errorf("appendQuery(%q) = %q; want %q", tt.base, got, tt.want)
		}
	}
}

// TestPKCE is CONFORMANCE D.31, with the example of RFC 7636 appendix B.
func TestPKCE(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if got := s256Challenge(verifier); got != challenge {
		t.Fatalf("s256Challenge = %q; want %q", got, challenge)
	}
	if !validChallenge(oauth.PKCEMethodS256, challenge) {
		t.Errorf("validChallenge(S256, %q) = false; want true", challenge)
	}
	if !verifyPKCE(oauth.PKCEMethodS256, challenge, verifier) {
		t.Errorf("verifyPKCE(S256) = false; want true")
	}
	if verifyPKCE(oauth.PKCEMethodS256, challenge, verifier[:42]+"Y") {
		t.Errorf("verifyPKCE with another verifier = true; want false")
	}
	if !verifyPKCE(oauth.PKCEMethodPlain, verifier, verifier) || verifyPKCE(oauth.PKCEMethodPlain, verifier, verifier+"a") {
		t.Errorf("verifyPKCE(plain) wrong")
	}
	if verifyPKCE("S512", challenge, verifier) {
		t.Errorf("verifyPKCE with an unknown method = true")
	}
	v43 := strings.Repeat("a", 43)
	tests := []struct {
		name string
		v    string
		want bool
	}{
		{"43", v43, true},
		{"128", strings.Repeat("Az0-._~", 19)[:128], true},
		{"42", strings.Repeat("a", 42), false},
		{"129", strings.Repeat("a", 129), false},
		{"plus", v43[:42] + "+", false},
		{"slash", v43[:42] + "/", false},
		{"equals", v43[:42] + "=", false},
		{"space", v43[:42] + " ", false},
		{"percent", v43[:42] + "%", false},
		{"non-ascii", v43[:41] + "é", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validVerifier(tt.v); got != tt.want {
				t.Errorf("validVerifier(%q) = %v; want %v", tt.v, got, tt.want)
			}
			if got := verifyPKCE(oauth.PKCEMethodS256, s256Challenge(tt.v), tt.v); got != tt.want {
				t.Errorf("verifyPKCE(S256, s256(v), v) = %v; want %v", got, tt.want)
			}
		})
	}
	for _, c := range []string{"", challenge[:42], challenge + "A", challenge[:42] + "+", challenge[:42] + "=", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"} {
		if validChallenge(oauth.PKCEMethodS256, c) {
			t.Errorf("validChallenge(S256, %q) = true; want false", c)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "ctl\x01\n\t", "<tag>&", "é✓", "bad\xff\xfeutf8", "\u2028\u2029", "\x7f"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: not JSON: %v", s, got, err)
			continue
		}
		ref, _ := json.Marshal(s)
		var want string
		json.Unmarshal(ref, &want)
		if back != want {
			t.Errorf("appendJSONString(%q) decodes to %q; want %q", s, back, want)
		}
	}
}

func TestSafeDescription(t *testing.T) {
	got := safeDescription("a\"b\\c\x01é" + strings.Repeat("x", 60))
	for i := 0; i < len(got); i++ {
		c := got[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			t.Fatalf("safeDescription produced %q with forbidden byte %#x", got, c)
		}
	}
	if len(got) > 50 {
		t.Errorf("safeDescription length = %d; want at most 50", len(got))
	}
}
