package grants

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/storage/memory"
)

// FuzzParseForm checks parseForm against net/url: wherever url.ParseQuery
// accepts the input, both agree on every parameter's first value and on
// which names repeat; parseForm never keeps a name twice.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{
		"", "grant_type=client_credentials&scope=a+b", "a=1&a=2", "a=%zz", "=x", "a&&b=",
		"client_secret=a+b%2Bc%25%2F", "a=1;b=2", "%61=1&a=2", "a=%E2%9C%93",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var fm form
		err := parseForm(s, &fm)
		seen := map[string]bool{}
		for _, p := range fm.params {
			if seen[p.key] {
				t.Fatalf("parseForm(%q) kept %q twice", s, p.key)
			}
			if p.key == "" {
				t.Fatalf("parseForm(%q) kept an empty name", s)
			}
			seen[p.key] = true
		}
		if len(fm.params) > maxParams {
			t.Fatalf("parseForm(%q) kept %d parameters", s, len(fm.params))
		}
		want, uerr := url.ParseQuery(s)
		if uerr != nil {
			if err == nil && !strings.Contains(s, ";") {
				t.Fatalf("parseForm(%q) accepted what url.ParseQuery refuses: %v", s, uerr)
			}
			return
		}
		delete(want, "")
		if err != nil {
			n := 0 // parameters, repeats included
			for seg := range strings.SplitSeq(s, "&") {
				if seg != "" {
					n++
				}
			}
			if n > maxParams {
				return
			}
			t.Fatalf("parseForm(%q) = %v; url.ParseQuery accepts it", s, err)
		}
		if len(fm.params) != len(want) {
			t.Fatalf("parseForm(%q) has %d names; url.ParseQuery %d", s, len(fm.params), len(want))
		}
		for k, vs := range want {
			if got := fm.get(k); got != vs[0] {
				t.Fatalf("parseForm(%q)[%q] = %q; want %q", s, k, got, vs[0])
			}
			if fm.wasRepeated(k) != (len(vs) > 1) {
				t.Fatalf("parseForm(%q): repeated(%q) = %v with %d values", s, k, fm.wasRepeated(k), len(vs))
			}
		}
	})
}

// FuzzParseBasic checks that any client id and secret, form-urlencoded into
// a Basic header as RFC 6749 appendix B says, come back unchanged, and that
// no header makes parseBasic panic.
func FuzzParseBasic(f *testing.F) {
	f.Add("svc-1.app", "a b+c%/", "")
	f.Add("", "x", "Basic !!")
	f.Add("é:", ":", "basic YTpi")
	f.Fuzz(func(t *testing.T, id, secret, raw string) {
		parseBasic(raw)
		h := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
		gotID, gotSecret, ok, err := parseBasic(h)
		if !ok {
			t.Fatalf("parseBasic(%q) not basic", h)
		}
		if id == "" {
			if err == nil {
				t.Fatalf("parseBasic accepted an empty id")
			}
			return
		}
		if err != nil || gotID != id || gotSecret != secret {
			t.Fatalf("parseBasic(id %q, secret %q) = %q, %q, %v", id, secret, gotID, gotSecret, err)
		}
	})
}

// FuzzMatchRedirectURI checks that a requested URI matches a registered one
// only when it is the same string, or both are loopback URIs that differ in
// nothing but the port; and that a match is never a URI with a fragment,
// userinfo, or a host other than the loopback literal.
func FuzzMatchRedirectURI(f *testing.F) {
	f.Add("https://app.example.com/cb", "https://app.example.com/cb")
	f.Add("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb")
	f.Add("http://[::1]:1/cb?x", "http://[::1]:65535/cb?x")
	f.Add("http://127.0.0.1/cb", "http://127.0.0.1:8080@evil/cb")
	f.Add("https://a/cb", "https://a/cb#x")
	f.Fuzz(func(t *testing.T, registered, requested string) {
		got := matchRedirectURI([]string{registered}, requested)
		if !got {
			if requested == registered && requested != "" && !strings.Contains(requested, "#") {
				t.Fatalf("%q does not match itself", requested)
			}
			return
		}
		if strings.Contains(requested, "#") {
			t.Fatalf("%q with a fragment matched %q", requested, registered)
		}
		if requested == registered {
			return
		}
		// A loopback match: the two differ only in the port.
		for _, host := range []string{"http://127.0.0.1", "http://[::1]"} {
			if !strings.HasPrefix(requested, host) || !strings.HasPrefix(registered, host) {
				continue
			}
			rq, rg := stripPort(requested[len(host):]), stripPort(registered[len(host):])
			if rq != rg {
				t.Fatalf("%q matched %q but differs beyond the port", requested, registered)
			}
			u, err := url.Parse(requested)
			if err != nil {
				return // exact strings only; a malformed path is the client's
			}
			if u.User != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1") || u.Scheme != "http" {
				t.Fatalf("%q matched %q: host %q user %v", requested, registered, u.Host, u.User)
			}
			if p := u.Port(); p != "" {
				n, err := strconv.Atoi(p)
				if err != nil || n < 1 || n > 65535 {
					t.Fatalf("%q matched with port %q", requested, p)
				}
			}
			return
		}
		t.Fatalf("%q matched %q: neither equal nor loopback", requested, registered)
	})
}

func stripPort(rest string) string {
	if strings.HasPrefix(rest, ":") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		return rest[i:]
	}
	return rest
}

// FuzzNarrowScopes checks the scope parameter of a refresh request: a
// result is always a subset of the grant, of valid tokens, each once; a
// subset the client names is accepted as is.
func FuzzNarrowScopes(f *testing.F) {
	f.Add("read write", "read")
	f.Add("read", "read write")
	f.Add("a b", " a")
	f.Add("a b", "a  b")
	f.Add("a", "\"x")
	f.Fuzz(func(t *testing.T, granted, raw string) {
		g, ok := oauth.ParseScope(granted, DefaultMaxScopes)
		if !ok {
			return
		}
		got, err := narrowScopes(raw, g, DefaultMaxScopes)
		if err != nil {
			if pe, ok := err.(*oauth.Error); !ok || pe.Code != oauth.ErrCodeInvalidScope {
				t.Fatalf("narrowScopes(%q, %q) error %v; want invalid_scope", raw, granted, err)
			}
			if req, ok := oauth.ParseScope(raw, DefaultMaxScopes); ok && subset(req, g) {
				t.Fatalf("narrowScopes(%q, %q) refused a subset", raw, granted)
			}
			return
		}
		if !subset(got, g) {
			t.Fatalf("narrowScopes(%q, %q) = %q: not a subset", raw, granted, got)
		}
		for i, s := range got {
			if !oauth.ValidScopeToken(s) || slices.Contains(got[:i], s) {
				t.Fatalf("narrowScopes(%q, %q) = %q", raw, granted, got)
			}
		}
		if raw == "" && !slices.Equal(got, g) {
			t.Fatalf("narrowScopes(\"\", %q) = %q; want the grant", granted, got)
		}
	})
}

// FuzzPKCE checks the verifier rules against a direct reading of RFC 7636
// §4.1, and that S256 verification accepts exactly the verifier whose hash
// is the challenge.
func FuzzPKCE(f *testing.F) {
	f.Add("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	f.Add(strings.Repeat("a", 42), "")
	f.Add(strings.Repeat("~", 128), "x")
	f.Fuzz(func(t *testing.T, verifier, challenge string) {
		want := len(verifier) >= 43 && len(verifier) <= 128
		for _, r := range verifier {
			if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", r) {
				want = false
			}
		}
		if got := validVerifier(verifier); got != want {
			t.Fatalf("validVerifier(%q) = %v; want %v", verifier, got, want)
		}
		if got := verifyPKCE(oauth.PKCEMethodS256, s256Challenge(verifier), verifier); got != want {
			t.Fatalf("verifyPKCE(S256, s256(%q)) = %v; want %v", verifier, got, want)
		}
		if verifyPKCE(oauth.PKCEMethodS256, challenge, verifier) && challenge != s256Challenge(verifier) {
			t.Fatalf("verifyPKCE(S256, %q, %q) = true for a wrong challenge", challenge, verifier)
		}
		if validChallenge(oauth.PKCEMethodS256, challenge) {
			b, err := base64.RawURLEncoding.DecodeString(challenge)
			if err != nil || len(b) != 32 || base64.RawURLEncoding.EncodeToString(b) != challenge {
				t.Fatalf("validChallenge(S256, %q) = true; not a canonical SHA-256", challenge)
			}
		}
	})
}

// FuzzAppendJSONString checks the hand-written JSON string encoder against
// encoding/json.
func FuzzAppendJSONString(f *testing.F) {
	f.Add("plain")
	f.Add("<\"\\\x00\u2028\xff>")
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: %v", s, got, err)
		}
		ref, _ := json.Marshal(s)
		var want string
		json.Unmarshal(ref, &want)
		if back != want {
			t.Fatalf("appendJSONString(%q) = %s decodes to %q; encoding/json's %s to %q", s, got, back, ref, want)
		}
		if strings.ContainsAny(string(got), "<>&\u2028\u2029") {
			t.Fatalf("appendJSONString(%q) = %s: HTML characters unescaped", s, got)
		}
	})
}

// FuzzRequestedScopes checks the scope parameter at the token and
// authorization endpoints against a client and a scope repository: a
// result holds only scopes the client is allowed and the repository knows,
// each once; an omitted scope is the client's default; anything else is
// invalid_scope.
func FuzzRequestedScopes(f *testing.F) {
	f.Add("read write")
	f.Add("")
	f.Add("admin")
	f.Add("read  write")
	f.Add("write read write")
	f.Add("unknown-but-allowed")
	store := memory.New()
	ctx := context.Background()
	for _, id := range []string{"read", "write", "admin"} {
		if err := store.CreateScope(ctx, &oauth.Scope{ID: id}); err != nil {
			f.Fatal(err)
		}
	}
	s, err := New(Config{Issuer: "https://as.example", Clients: store, Scopes: store, AccessTokens: store})
	if err != nil {
		f.Fatal(err)
	}
	client := &oauth.Client{ID: "c", Scopes: []string{"read", "write", "unknown-but-allowed"}}
	known := []string{"read", "write", "admin"}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := s.requestedScopes(ctx, client, raw)
		if err != nil {
			if pe, ok := err.(*oauth.Error); !ok || pe.Code != oauth.ErrCodeInvalidScope {
				t.Fatalf("requestedScopes(%q) error %v; want invalid_scope", raw, err)
			}
			return
		}
		if raw == "" && !slices.Equal(got, client.Scopes) {
			// The default includes a scope the repository does not know,
			// so it must have been refused.
			t.Fatalf("requestedScopes(\"\") = %q", got)
		}
		for i, sc := range got {
			if !client.AllowsScope(sc) || !slices.Contains(known, sc) || slices.Contains(got[:i], sc) {
				t.Fatalf("requestedScopes(%q) = %q", raw, got)
			}
		}
		if want, ok := oauth.ParseScope(raw, DefaultMaxScopes); !ok || !slices.Equal(want, got) {
			t.Fatalf("requestedScopes(%q) = %q; ParseScope gives %q, %v", raw, got, want, ok)
		}
	})
}
