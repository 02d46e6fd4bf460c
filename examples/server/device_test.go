package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauth"
)

// deviceConfig is the demo device client, with its endpoints at base.
func deviceConfig(base string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: demoDeviceID,
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: base + pathDeviceAz,
			TokenURL:      base + pathToken,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		Scopes: []string{"profile", "notes:read"},
	}
}

// testDeviceFlow runs the device flow with x/oauth2 while a browser enters
// the code on the verification page, each step going to the next of bases.
func testDeviceFlow(t *testing.T, bases []string, issuer string) {
	ctx := context.Background()
	i := 0
	next := func() string { s := bases[i%len(bases)]; i++; return s }

	da, err := deviceConfig(next()).DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("device authorization: %v", err)
	}
	if da.VerificationURI != issuer+pathDevice || !strings.Contains(da.VerificationURIComplete, "user_code=") {
		t.Fatalf("verification URIs: got %q, %q; want %s and a complete one", da.VerificationURI, da.VerificationURIComplete, issuer+pathDevice)
	}

	b := newBrowser(t)
	base := next()
	resp, body := b.get(at(base, da.VerificationURI))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got %d", da.VerificationURI, resp.StatusCode)
	}
	checkPageHeaders(t, resp)
	form := hiddenFields(t, body)

	// A wrong code is refused with a message.
	form.Set("user_code", "BBBB-BBBB")
	resp, body = b.post(base+pathDevice, form)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "That code is not known") {
		t.Errorf("wrong code: got %d; want 400 with a message\n%s", resp.StatusCode, tail(body, 1000))
	}

	// Case, dashes and spaces do not matter; sign-in comes in between.
	typed := strings.ToLower(strings.ReplaceAll(da.UserCode, "-", " - "))
	base = next()
	form.Set("user_code", typed)
	resp, body = b.post(base+pathDevice, form)
	loc := expectRedirect(t, resp, body, base)
	if !strings.Contains(loc, "/login?") {
		t.Fatalf("device code before sign-in: redirected to %s; want the sign-in page", loc)
	}
	base = next()
	loc = b.signIn(at(base, loc), base, demoUser, demoPassword)
	base = next()
	resp, body = b.get(at(base, loc))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Demo TV App") || !strings.Contains(body, da.UserCode) {
		t.Fatalf("device confirmation: got %d\n%s", resp.StatusCode, tail(body, 2000))
	}
	checkPageHeaders(t, resp)
	form = hiddenFields(t, body)
	form.Set("decision", "approve")

	forged := cloneValues(form)
	forged.Set("csrf_token", "forged")
	if resp, _ := b.post(next()+pathDevice+"/decide", forged); resp.StatusCode != http.StatusForbidden {
		t.Errorf("device decision with a forged CSRF token: got %d; want 403", resp.StatusCode)
	}
	base = next()
	resp, body = b.post(base+pathDevice+"/decide", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Device connected") {
		t.Fatalf("approve: got %d\n%s", resp.StatusCode, tail(body, 2000))
	}
	if resp, _ := b.post(next()+pathDevice+"/decide", form); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second decision: got %d; want 400", resp.StatusCode)
	}

	// The device, polling, gets its tokens once.
	tok, err := deviceConfig(next()).DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("device token: %v", err)
	}
	claims, err := jwtVerifier(issuer, next()).Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("device access token: %v", err)
	}
	if claims.ClientID != demoDeviceID || !strings.HasPrefix(claims.Subject, "u-") || tok.RefreshToken == "" {
		t.Errorf("device token: client %q sub %q refresh %t; want demo-device, the demo user, a refresh token", claims.ClientID, claims.Subject, tok.RefreshToken != "")
	}
	if _, err := deviceConfig(next()).DeviceAccessToken(ctx, da); retrieveCode(err) != oauth.ErrCodeInvalidGrant {
		t.Errorf("second redemption of the device code: got %v; want invalid_grant", err)
	}

	// Denied through verification_uri_complete: the device hears access_denied.
	da2, err := deviceConfig(next()).DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base = next()
	resp, body = b.get(at(base, da2.VerificationURIComplete))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verification_uri_complete: got %d\n%s", resp.StatusCode, tail(body, 1000))
	}
	form = hiddenFields(t, body)
	form.Set("decision", "deny")
	resp, body = b.post(next()+pathDevice+"/decide", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Device not connected") {
		t.Fatalf("deny: got %d\n%s", resp.StatusCode, tail(body, 2000))
	}
	if _, err := deviceConfig(next()).DeviceAccessToken(ctx, da2); retrieveCode(err) != oauth.ErrCodeAccessDenied {
		t.Errorf("denied device: got %v; want access_denied", err)
	}
}

// TestDeviceDecisionAfterSessionEnds: a decision posted after the session
// lost its sign-in goes to the sign-in page, and from there back to the
// code as it was typed.
func TestDeviceDecisionAfterSessionEnds(t *testing.T) {
	inst := startServer(t, "-db", sqliteURL(t))
	b := newBrowser(t)
	_, body := b.get(inst.base + pathDevice)
	form := hiddenFields(t, body) // an anonymous session's form
	typed := "bcdf ghjk&next=x#y"
	form.Set("user_code", typed)
	form.Set("decision", "approve")
	resp, body := b.post(inst.base+pathDevice+"/decide", form)
	loc, err := url.Parse(expectRedirect(t, resp, body, inst.base))
	if err != nil || loc.Path != "/login" {
		t.Fatalf("decision without sign-in: redirected to %v; want the sign-in page", loc)
	}
	next, err := url.Parse(loc.Query().Get("next"))
	if err != nil || next.Path != pathDevice || next.Query().Get("user_code") != typed || next.Fragment != "" {
		t.Errorf("sign-in's next: got %q; want %s with user_code=%q", loc.Query().Get("next"), pathDevice, typed)
	}
}

// TestDeviceLinkDoesNotSpendTypedBudget: wrong codes in links
// (verification_uri_complete, GET) spend a budget of their own, so that a
// page elsewhere that makes a visitor's browser fetch such links cannot
// stop that visitor from typing a code on the verification page.
func TestDeviceLinkDoesNotSpendTypedBudget(t *testing.T) {
	inst := startServer(t, "-db", sqliteURL(t))
	da, err := deviceConfig(inst.base).DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const ip = "127.0.6.1"
	for i := range 10 {
		resp, _ := newBrowserFrom(t, ip).get(inst.base + pathDevice + "?user_code=BBBB-BBB" + string(rune('B'+i)))
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong code %d in a link: got %d; want 400", i+1, resp.StatusCode)
		}
	}
	if resp, _ := newBrowserFrom(t, ip).get(inst.base + pathDevice + "?user_code=BBBB-BBBB"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the 11th wrong code in a link: got %d; want 429", resp.StatusCode)
	}
	b := newBrowserFrom(t, ip)
	b.signIn(inst.base+"/login", inst.base, demoUser, demoPassword)
	resp, body := b.get(inst.base + pathDevice)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the device page after wrong links: got %d; want 200 (typing is not throttled)\n%s", resp.StatusCode, tail(body, 500))
	}
	form := hiddenFields(t, body)
	form.Set("user_code", da.UserCode)
	resp, body = b.post(inst.base+pathDevice, form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Connect a device?") {
		t.Errorf("typing the right code after wrong links: got %d; want 200 and the confirmation\n%s", resp.StatusCode, tail(body, 500))
	}
}
