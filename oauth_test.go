package oauth_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauth"
)

func TestHashValue(t *testing.T) {
	// SHA-256 of "abc", FIPS 180-2 appendix B.1.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := oauth.HashValue("abc"); got != want {
		t.Fatalf("HashValue(abc) = %s; want %s", got, want)
	}
}

func TestGeneratedSecret(t *testing.T) {
	secret, hash, err := oauth.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 43 {
		t.Errorf("secret length %d; want 43 (256 bits base64url)", len(secret))
	}
	if !strings.HasPrefix(hash, "sha256:") || strings.Contains(hash, secret) {
		t.Errorf("hash %q is not a sha256: hash hiding the secret", hash)
	}
	if !oauth.VerifySecret(hash, secret) {
		t.Error("VerifySecret(hash, secret) = false; want true")
	}
	for _, wrong := range []string{"", secret[:42], secret + "x", strings.ToUpper(secret)} {
		if oauth.VerifySecret(hash, wrong) {
			t.Errorf("VerifySecret accepted %q", wrong)
		}
	}
	s2, h2, _ := oauth.GenerateSecret()
	if s2 == secret || h2 == hash {
		t.Error("two generated secrets are equal")
	}
}

func TestHashSecretBcrypt(t *testing.T) {
	const secret = "a b+c%/"
	hash, err := oauth.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2") {
		t.Fatalf("hash %q is not bcrypt", hash)
	}
	if !oauth.VerifySecret(hash, secret) {
		t.Error("VerifySecret(bcrypt, secret) = false")
	}
	if oauth.VerifySecret(hash, "a b+c%") {
		t.Error("VerifySecret accepted a wrong secret")
	}
	if _, err := oauth.HashSecret(""); !errors.Is(err, oauth.ErrInvalid) {
		t.Errorf("HashSecret(\"\") error %v; want ErrInvalid", err)
	}
	if _, err := oauth.HashSecret(strings.Repeat("x", 73)); !errors.Is(err, oauth.ErrInvalid) {
		t.Errorf("HashSecret(73 bytes) error %v; want ErrInvalid", err)
	}
}

func TestVerifySecretUnknownFormats(t *testing.T) {
	for _, hash := range []string{"", "plain", "sha256:", "sha256:zz", "sha256:" + strings.Repeat("0", 62), "md5:abc"} {
		if oauth.VerifySecret(hash, "") || oauth.VerifySecret(hash, "plain") {
			t.Errorf("VerifySecret(%q, …) matched", hash)
		}
	}
}

func TestParseScope(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"read", []string{"read"}, true},
		{"read write", []string{"read", "write"}, true},
		{"read write read", []string{"read", "write"}, true},
		{"user:read a!#$%&'()*+,-./[]^_`{|}~", []string{"user:read", "a!#$%&'()*+,-./[]^_`{|}~"}, true},
		{" read", nil, false},
		{"read ", nil, false},
		{"read  write", nil, false},
		{"read\twrite", nil, false},
		{`a"b`, nil, false},
		{`a\b`, nil, false},
		{"é", nil, false},
		{"a b c d", nil, false}, // over the max of 3
	}
	for _, tt := range tests {
		got, ok := oauth.ParseScope(tt.in, 3)
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("ParseScope(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if got := oauth.JoinScope([]string{"a", "b"}); got != "a b" {
		t.Errorf("JoinScope = %q; want %q", got, "a b")
	}
}

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		code   string
		status int
	}{
		{oauth.ErrCodeInvalidRequest, http.StatusBadRequest},
		{oauth.ErrCodeInvalidClient, http.StatusUnauthorized},
		{oauth.ErrCodeInvalidGrant, http.StatusBadRequest},
		{oauth.ErrCodeInvalidToken, http.StatusUnauthorized},
		{oauth.ErrCodeInsufficientScope, http.StatusForbidden},
		{oauth.ErrCodeServerError, http.StatusInternalServerError},
		{oauth.ErrCodeTemporarilyUnavailable, http.StatusServiceUnavailable},
		{oauth.ErrCodeSlowDown, http.StatusBadRequest},
	}
	for _, tt := range tests {
		e := oauth.NewError(tt.code, "why")
		if e.Status != tt.status {
			t.Errorf("NewError(%s).Status = %d; want %d", tt.code, e.Status, tt.status)
		}
		if e.Error() != "oauth: "+tt.code+": why" {
			t.Errorf("Error() = %q", e.Error())
		}
	}
	var err error = oauth.NewError(oauth.ErrCodeInvalidGrant, "code expired")
	if !errors.Is(err, &oauth.Error{Code: oauth.ErrCodeInvalidGrant}) {
		t.Error("errors.Is does not match by code")
	}
	if errors.Is(err, &oauth.Error{Code: oauth.ErrCodeInvalidClient}) {
		t.Error("errors.Is matched another code")
	}
}

func validClient() *oauth.Client {
	return &oauth.Client{
		ID: "svc-1.app", SecretHash: "sha256:00", Name: "Service", Confidential: true,
		RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes:   []string{oauth.GrantAuthorizationCode},
		Scopes:       []string{"read"},
	}
}

func TestClientValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*oauth.Client)
		ok     bool
	}{
		{"valid", func(*oauth.Client) {}, true},
		{"public without secret", func(c *oauth.Client) { c.Confidential = false; c.SecretHash = "" }, true},
		{"empty id", func(c *oauth.Client) { c.ID = "" }, false},
		{"long id", func(c *oauth.Client) { c.ID = strings.Repeat("a", 81) }, false},
		{"id with space", func(c *oauth.Client) { c.ID = "a b" }, false},
		{"empty name", func(c *oauth.Client) { c.Name = "" }, false},
		{"long name", func(c *oauth.Client) { c.Name = strings.Repeat("n", 256) }, false},
		{"invalid utf8 name", func(c *oauth.Client) { c.Name = "\xff" }, false},
		{"confidential without secret", func(c *oauth.Client) { c.SecretHash = "" }, false},
		{"uri with space", func(c *oauth.Client) { c.RedirectURIs = []string{"https://a/ b"} }, false},
		{"empty uri", func(c *oauth.Client) { c.RedirectURIs = []string{""} }, false},
		{"uri with fragment", func(c *oauth.Client) { c.RedirectURIs = []string{"https://app.example/cb#x"} }, false},
		{"uri with empty fragment", func(c *oauth.Client) { c.RedirectURIs = []string{"https://app.example/cb#"} }, false},
		{"relative uri", func(c *oauth.Client) { c.RedirectURIs = []string{"/cb"} }, false},
		{"unparsable uri", func(c *oauth.Client) { c.RedirectURIs = []string{"https://app.example:x/cb"} }, false},
		{"private-use scheme", func(c *oauth.Client) { c.RedirectURIs = []string{"com.example.app:/cb"} }, true},
		{"loopback with query", func(c *oauth.Client) { c.RedirectURIs = []string{"http://127.0.0.1/cb?a=1,b"} }, true},
		{"bad scope", func(c *oauth.Client) { c.Scopes = []string{"a b"} }, false},
		{"time before 1970", func(c *oauth.Client) { c.CreatedAt = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClient()
			tt.mutate(c)
			err := c.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v; want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, oauth.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestTokenValidate(t *testing.T) {
	now := time.Now()
	base := func() *oauth.DeviceCode {
		return &oauth.DeviceCode{
			ID: oauth.HashValue("x"), UserCode: "BCDFGHJK", ClientID: "c", FamilyID: "f",
			VerificationURI: "https://as.example/device", Interval: 5 * time.Second,
			Status: oauth.DevicePending, ExpiresAt: now.Add(time.Minute),
		}
	}
	tests := []struct {
		name   string
		mutate func(*oauth.DeviceCode)
		ok     bool
	}{
		{"valid", func(*oauth.DeviceCode) {}, true},
		{"no expiry", func(d *oauth.DeviceCode) { d.ExpiresAt = time.Time{} }, false},
		{"year 10000", func(d *oauth.DeviceCode) { d.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, false},
		{"no family", func(d *oauth.DeviceCode) { d.FamilyID = "" }, false},
		{"user code with dash", func(d *oauth.DeviceCode) { d.UserCode = "BCDF-GHJK" }, false},
		{"lowercase user code", func(d *oauth.DeviceCode) { d.UserCode = "bcdfghjk" }, false},
		{"sub-second interval", func(d *oauth.DeviceCode) { d.Interval = 1500 * time.Millisecond }, false},
		{"zero interval", func(d *oauth.DeviceCode) { d.Interval = 0 }, false},
		{"unknown status", func(d *oauth.DeviceCode) { d.Status = "maybe" }, false},
		{"long user id", func(d *oauth.DeviceCode) { d.UserID = strings.Repeat("u", 256) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			tt.mutate(d)
			if err := d.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v; want ok=%v", err, tt.ok)
			}
		})
	}

	code := &oauth.AuthCode{ID: "id", ClientID: "c", UserID: "u", FamilyID: "id", ExpiresAt: now,
		CodeChallenge: "abc", CodeChallengeMethod: oauth.PKCEMethodS256}
	if err := code.Validate(); err != nil {
		t.Errorf("valid code: %v", err)
	}
	code.CodeChallengeMethod = "S512"
	if err := code.Validate(); !errors.Is(err, oauth.ErrInvalid) {
		t.Errorf("unknown method: %v; want ErrInvalid", err)
	}
	code.CodeChallengeMethod, code.UserID = oauth.PKCEMethodS256, ""
	if err := code.Validate(); !errors.Is(err, oauth.ErrInvalid) {
		t.Errorf("code without user: %v; want ErrInvalid", err)
	}
}

func TestActive(t *testing.T) {
	now := time.Now()
	at := &oauth.AccessToken{ExpiresAt: now.Add(time.Second)}
	if !at.Active(now) || at.Active(now.Add(time.Second)) {
		t.Error("access token activity at the expiry boundary is wrong")
	}
	at.Revoked = true
	if at.Active(now) {
		t.Error("revoked access token is active")
	}
	rt := &oauth.RefreshToken{ExpiresAt: now.Add(time.Second), Revoked: true}
	if rt.Active(now) {
		t.Error("revoked refresh token is active")
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		max  int
		want bool
	}{
		{"svc-1.app", 80, true},
		{"~!#", 3, true},
		{"", 80, false},
		{"abcd", 3, false},
		{"a b", 80, false},
		{"a\x00b", 80, false},
		{"a\x7fb", 80, false},
		{"é", 80, false},
		{"\xff", 80, false},
	}
	for _, tt := range tests {
		if got := oauth.ValidID(tt.id, tt.max); got != tt.want {
			t.Errorf("ValidID(%q, %d) = %v; want %v", tt.id, tt.max, got, tt.want)
		}
	}
}
