package grants

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// Defaults and limits of the device authorization grant (RFC 8628), for the
// zero values of the Config fields of the same names.
const (
	// DefaultDeviceCodeLifetime is how long a device code and its user
	// code live.
	DefaultDeviceCodeLifetime = 10 * time.Minute
	// MaxDeviceCodeLifetime is the longest DeviceCodeLifetime New
	// accepts: the longer a user code lives, the more of the 20^8 codes
	// are live at once for a guesser to hit (RFC 8628 §5.1).
	MaxDeviceCodeLifetime = time.Hour
	// DefaultDevicePollInterval is the interval a device is told to keep
	// between polls (RFC 8628 §3.2: 5 seconds when none is given).
	DefaultDevicePollInterval = 5 * time.Second
	// DefaultDeviceLookupBudget is how many wrong user codes one caller may
	// enter per DeviceLookupWindow.
	DefaultDeviceLookupBudget = 10
	// DefaultDeviceLookupWindow is the window of DeviceLookupBudget.
	DefaultDeviceLookupWindow = 10 * time.Minute
)

// pathDeviceAuthorization is where Mount registers the device
// authorization endpoint, under its prefix.
const pathDeviceAuthorization = "/device_authorization"

// userCodeLen is the number of characters of a user code, drawn from
// oauth.UserCodeAlphabet: 20^8 ≈ 2^34.6 codes (RFC 8628 §6.1).
const userCodeLen = 8

// createAttempts is how many user codes the device authorization endpoint
// tries before it gives up: a collision with a live code is rare (one in
// 20^8 per live code), several in a row mean something else is wrong.
const createAttempts = 5

// deviceSettings is the device grant's part of a Server, set by New from
// the Config when DeviceCodes is not nil.
type deviceSettings struct {
	repo            oauth.DeviceCodeRepository
	verificationURI string
	lifetime        time.Duration
	// interval is what devices are told; the stored interval, which the
	// repository enforces, is interval - leeway.
	interval time.Duration
	leeway   time.Duration
	limiter  *lookupLimiter
}

// DeviceCodeEvent describes a device authorization request when it is
// issued, approved or denied.
type DeviceCodeEvent struct {
	// Code is the stored record as after the event: its ID is the hash of
	// the device_code; it holds the normalized user code, and once decided
	// the user and the granted scopes.
	Code oauth.DeviceCode
	// RemoteAddr is the RemoteAddr of the device's request; empty for
	// approvals and denials, which the host makes.
	RemoteAddr string
}

// setupDevice checks the device grant's Config fields and, when
// DeviceCodes is set, turns the grant on.
func (s *Server) setupDevice() error {
	cfg := &s.cfg
	if cfg.DeviceCodes == nil {
		if cfg.DeviceVerificationURI != "" {
			return errors.New("grants: DeviceVerificationURI is set but DeviceCodes is nil")
		}
		return nil
	}
	if err := checkVerificationURI(cfg.DeviceVerificationURI); err != nil {
		return err
	}
	d := &deviceSettings{
		repo:            cfg.DeviceCodes,
		verificationURI: cfg.DeviceVerificationURI,
		lifetime:        cmp.Or(cfg.DeviceCodeLifetime, DefaultDeviceCodeLifetime),
		interval:        cmp.Or(cfg.DevicePollInterval, DefaultDevicePollInterval),
		leeway:          cfg.DevicePollLeeway,
	}
	budget := cmp.Or(cfg.DeviceLookupBudget, DefaultDeviceLookupBudget)
	window := cmp.Or(cfg.DeviceLookupWindow, DefaultDeviceLookupWindow)
	switch {
	case d.interval < time.Second || d.interval%time.Second != 0:
		return fmt.Errorf("grants: DevicePollInterval %v is not a whole number of seconds of at least 1s", d.interval)
	case d.leeway < 0 || d.leeway%time.Second != 0 || d.leeway >= d.interval:
		return fmt.Errorf("grants: DevicePollLeeway %v is not a whole number of seconds below DevicePollInterval %v", d.leeway, d.interval)
	case d.lifetime <= d.interval || d.lifetime > MaxDeviceCodeLifetime:
		return fmt.Errorf("grants: DeviceCodeLifetime %v must exceed DevicePollInterval %v and be at most %v", d.lifetime, d.interval, MaxDeviceCodeLifetime)
	case budget < 1 || window < time.Second:
		return errors.New("grants: DeviceLookupBudget must be positive and DeviceLookupWindow at least a second")
	}
	d.limiter = newLookupLimiter(budget, window)
	s.device = d
	s.grants[oauth.GrantDeviceCode] = (*Server).deviceCodeGrant
	return nil
}

// checkVerificationURI requires an absolute http(s) URL without fragment,
// short enough to take the user_code parameter and still be stored.
func checkVerificationURI(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" || u.User != nil ||
		len(v) > oauth.MaxURILen-32 {
		return fmt.Errorf("grants: DeviceVerificationURI %q is not an http(s) URL without fragment of at most %d bytes", v, oauth.MaxURILen-32)
	}
	return nil
}

// DeviceAuthorizationHandler returns the device authorization endpoint
// (RFC 8628 §3.1): POST with a form-encoded body. A confidential client
// authenticates as at the token endpoint; a public one sends its client_id.
// The client must be allowed the device_code grant and the scopes it asks
// for (its default scopes when it names none). The answer (§3.2) carries
// device_code, user_code (XXXX-XXXX), verification_uri,
// verification_uri_complete, expires_in and interval, with Cache-Control:
// no-store; errors are as at the token endpoint. The device then polls the
// token endpoint with grant_type urn:ietf:params:oauth:grant-type:device_code
// while the user enters the user code on the host's verification page (see
// LookupUserCode).
//
// When Config.DeviceCodes is nil the handler answers every request with
// unsupported_grant_type.
func (s *Server) DeviceAuthorizationHandler() http.Handler {
	return http.HandlerFunc(s.serveDeviceAuthorization)
}

func (s *Server) serveDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeMethodNotAllowed(w, hdrPost)
		return
	}
	ctx := r.Context()
	var client *oauth.Client
	resp, err := s.deviceAuthorization(ctx, r, &client)
	if err != nil {
		pe := s.protocolError(ctx, "device_authorization", err)
		if pe != errServer {
			var id string
			if client != nil {
				id = client.ID
			}
			s.log.LogAttrs(ctx, levelProtocol, "grants: device authorization request refused",
				logClientID(id), logString("error", pe.Code), logString("description", pe.Description))
		}
		writeJSONError(w, pe)
		return
	}
	writeDeviceAuthorization(w, resp)
}

// deviceAuthorizationResponse is a successful device authorization answer
// (RFC 8628 §3.2).
type deviceAuthorizationResponse struct {
	deviceCode              string
	userCode                string // display form, XXXX-XXXX
	verificationURI         string
	verificationURIComplete string
	expiresIn               int64
	interval                int64
}

// deviceAuthorization runs a device authorization request: parse,
// authenticate the client, check the grant and the scopes, then store a new
// device code under a fresh user code.
func (s *Server) deviceAuthorization(ctx context.Context, r *http.Request, client **oauth.Client) (*deviceAuthorizationResponse, error) {
	d := s.device
	if d == nil {
		return nil, oauth.NewError(oauth.ErrCodeUnsupportedGrantType, "the device authorization grant is not enabled")
	}
	var f form
	if err := readBody(r, s.maxBody, &f); err != nil {
		return nil, err
	}
	if err := f.repeatedErr(); err != nil {
		return nil, err
	}
	c, err := s.authenticateClient(ctx, r, &f)
	if err != nil {
		return nil, err
	}
	*client = c
	if !c.AllowsGrant(oauth.GrantDeviceCode) {
		return nil, oauth.NewError(oauth.ErrCodeUnauthorizedClient, "the client may not use the device authorization grant")
	}
	scopes, err := s.requestedScopes(ctx, c, f.get("scope"))
	if err != nil {
		return nil, err
	}
	family, err := newFamilyID()
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	rec := &oauth.DeviceCode{
		ClientID:        c.ID,
		Scopes:          scopes,
		FamilyID:        family,
		VerificationURI: d.verificationURI,
		Interval:        d.interval - d.leeway,
		Status:          oauth.DevicePending,
		ExpiresAt:       now.Add(d.lifetime),
		CreatedAt:       now,
	}
	var value string
	for attempt := 1; ; attempt++ {
		// A new device code per attempt too: it is independent of the
		// user code, and cannot be derived from it.
		value, rec.ID, err = tokens.NewOpaque(tokens.PrefixDeviceCode)
		if err != nil {
			return nil, fmt.Errorf("grants: new device code: %w", err)
		}
		if rec.UserCode, err = newUserCode(); err != nil {
			return nil, err
		}
		rec.VerificationURIComplete = appendQuery(d.verificationURI, param{"user_code", displayUserCode(rec.UserCode)})
		err = d.repo.CreateDeviceCode(ctx, rec)
		if err == nil {
			break
		}
		if !errors.Is(err, oauth.ErrDuplicate) || attempt == createAttempts {
			return nil, fmt.Errorf("grants: store device code: %w", err)
		}
	}
	s.log.LogAttrs(ctx, levelProtocol, "grants: device code issued",
		logClientID(c.ID), logString("device_code_id", rec.ID[:12]))
	if h := s.cfg.Hooks.DeviceCodeIssued; h != nil {
		h(ctx, DeviceCodeEvent{Code: *rec, RemoteAddr: r.RemoteAddr})
	}
	return &deviceAuthorizationResponse{
		deviceCode:              value,
		userCode:                displayUserCode(rec.UserCode),
		verificationURI:         rec.VerificationURI,
		verificationURIComplete: rec.VerificationURIComplete,
		expiresIn:               int64(d.lifetime / time.Second),
		interval:                int64(d.interval / time.Second),
	}, nil
}

// writeDeviceAuthorization writes a 200 device authorization response
// with the token endpoint's headers (no-store).
func writeDeviceAuthorization(w http.ResponseWriter, d *deviceAuthorizationResponse) {
	buf := make([]byte, 0, 192+len(d.deviceCode)+len(d.verificationURI)+len(d.verificationURIComplete))
	buf = append(buf, `{"device_code":`...)
	buf = appendJSONString(buf, d.deviceCode)
	buf = append(buf, `,"user_code":`...)
	buf = appendJSONString(buf, d.userCode)
	buf = append(buf, `,"verification_uri":`...)
	buf = appendJSONString(buf, d.verificationURI)
	buf = append(buf, `,"verification_uri_complete":`...)
	buf = appendJSONString(buf, d.verificationURIComplete)
	buf = append(buf, `,"expires_in":`...)
	buf = strconv.AppendInt(buf, d.expiresIn, 10)
	buf = append(buf, `,"interval":`...)
	buf = strconv.AppendInt(buf, d.interval, 10)
	buf = append(buf, '}')
	setJSONHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	w.Write(buf)
}

// newUserCode returns a normalized user code: userCodeLen characters of
// oauth.UserCodeAlphabet from crypto/rand, each uniform. Bytes of 240 and
// above are rejected rather than reduced modulo 20, which would favour the
// first 16 characters.
func newUserCode() (string, error) {
	const alphabet = oauth.UserCodeAlphabet
	const limit = 256 - 256%len(alphabet) // 240
	var out [userCodeLen]byte
	var buf [2 * userCodeLen]byte
	n := 0
	for n < userCodeLen {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("grants: new user code: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out[n] = alphabet[int(b)%len(alphabet)]
			if n++; n == userCodeLen {
				break
			}
		}
	}
	return string(out[:]), nil
}

// displayUserCode returns a normalized user code as shown to users: two
// groups of four letters joined by a dash (RFC 8628 §6.1).
func displayUserCode(code string) string {
	if len(code) != userCodeLen {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// normalizeUserCode turns what a person typed into a normalized user code:
// case does not matter, and dashes (ASCII and Unicode), spaces and tabs are
// ignored (RFC 8628 §6.1). It reports false for anything that cannot be a
// user code: the wrong length or a character outside the alphabet.
func normalizeUserCode(typed string) (string, bool) {
	if len(typed) > 64 {
		return "", false
	}
	var out [userCodeLen]byte
	n := 0
	for _, r := range typed {
		switch {
		case r == ' ' || r == '\t' || r == '-' || r == '\u00a0' || (r >= '\u2010' && r <= '\u2015') || r == '\u2212':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if r > 'Z' || !userCodeChar[r] || n == userCodeLen {
			return "", false
		}
		out[n] = byte(r)
		n++
	}
	if n != userCodeLen {
		return "", false
	}
	return string(out[:]), true
}

// userCodeChar marks the characters of oauth.UserCodeAlphabet.
var userCodeChar = func() (t ['Z' + 1]bool) {
	for i := 0; i < len(oauth.UserCodeAlphabet); i++ {
		t[oauth.UserCodeAlphabet[i]] = true
	}
	return t
}()
