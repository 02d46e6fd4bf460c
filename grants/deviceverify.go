package grants

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/oauthkit/oauth"
)

// Errors of the verification API (LookupUserCode, ApproveDevice,
// DenyDevice). Each says what the host's page should tell the person; the
// first four also match the repository's sentinels with errors.Is
// (oauth.ErrNotFound, oauth.ErrExpired, oauth.ErrAlreadyUsed).
var (
	// ErrUserCodeUnknown: no device request has that user code (or what was
	// typed cannot be a user code).
	ErrUserCodeUnknown = fmt.Errorf("grants: unknown user code: %w", oauth.ErrNotFound)
	// ErrUserCodeExpired: the user code has expired; the device must start
	// over.
	ErrUserCodeExpired = fmt.Errorf("grants: the user code has expired: %w", oauth.ErrExpired)
	// ErrUserCodeUsed: the request was already approved (and perhaps
	// redeemed by the device).
	ErrUserCodeUsed = fmt.Errorf("grants: the user code was already used: %w", oauth.ErrAlreadyUsed)
	// ErrUserCodeDenied: the request was already denied.
	ErrUserCodeDenied = fmt.Errorf("grants: the user code was denied: %w", oauth.ErrAlreadyUsed)
	// ErrThrottled: the caller entered too many wrong user codes in the
	// configured window; it may try again later.
	ErrThrottled = errors.New("grants: too many wrong user codes; try again later")
)

// errDeviceOff is returned by the verification API when Config.DeviceCodes
// is nil.
var errDeviceOff = errors.New("grants: the device authorization grant is not enabled (Config.DeviceCodes is nil)")

// DeviceRequest is a pending device authorization request, as the host's
// verification page shows it to the person who entered its user code: the
// client asking, the scopes it asks for. Obtain one from
// Server.LookupUserCode; decide it with Server.ApproveDevice or
// Server.DenyDevice.
type DeviceRequest struct {
	// UserCode is the user code as devices show it: XXXX-XXXX.
	UserCode string
	// Client is the client that asked; Client.Name is for display.
	Client *oauth.Client
	// Scopes are the requested scopes.
	Scopes []string
	// ExpiresAt is when the request expires.
	ExpiresAt time.Time

	// What ApproveDevice and DenyDevice act on: private copies, so that a
	// host changing the exported fields cannot decide another request or
	// grant a scope that was not asked for.
	id     string
	rec    oauth.DeviceCode
	client oauth.Client
	scopes []string
	server *Server
}

// LookupUserCode finds the pending device request whose user code a person
// typed on the host's verification page: case, dashes and spaces do not
// matter. callerKey identifies who is typing — the session id, the user id
// or the client IP, whatever the host trusts — for throttling: each entry
// that names no request (ErrUserCodeUnknown) spends one of the caller's
// Config.DeviceLookupBudget wrong entries per Config.DeviceLookupWindow;
// once they are spent, every lookup by that caller returns ErrThrottled,
// right codes included, until the window moves on. Right codes spend
// nothing. Codes that were used, denied or have expired return
// ErrUserCodeUsed, ErrUserCodeDenied or ErrUserCodeExpired.
//
// The budget is kept in memory by this Server: with several instances
// behind a load balancer each has a budget of its own, so a caller may
// make up to the number of instances times the budget wrong entries per
// window. At the default 10 per 10 minutes, and 20^8 possible codes, a
// guesser still needs in the order of 10^8 windows per live code.
//
// A host calls LookupUserCode both to show the request and, on the
// confirmation form's submission, to get the DeviceRequest to decide: so
// that deciding goes through the same throttle.
func (s *Server) LookupUserCode(ctx context.Context, callerKey, typed string) (*DeviceRequest, error) {
	d := s.device
	if d == nil {
		return nil, errDeviceOff
	}
	if callerKey == "" {
		return nil, errors.New("grants: LookupUserCode needs a caller key")
	}
	now := s.now().UTC()
	if d.limiter.throttled(callerKey, now) {
		return nil, ErrThrottled
	}
	code, ok := normalizeUserCode(typed)
	if !ok {
		d.limiter.fail(callerKey, now)
		return nil, ErrUserCodeUnknown
	}
	rec, err := d.repo.FindDeviceCodeByUserCode(ctx, code)
	if errors.Is(err, oauth.ErrNotFound) {
		d.limiter.fail(callerKey, now)
		return nil, ErrUserCodeUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("grants: find device code by user code: %w", err)
	}
	if err := deviceState(rec, now); err != nil {
		return nil, err
	}
	client, err := s.cfg.Clients.FindClient(ctx, rec.ClientID)
	if errors.Is(err, oauth.ErrNotFound) {
		// Deleting a client deletes its device codes; this one went with
		// it between the two reads.
		return nil, ErrUserCodeUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("grants: find client: %w", err)
	}
	req := &DeviceRequest{
		UserCode:  displayUserCode(rec.UserCode),
		Client:    client,
		Scopes:    slices.Clone(rec.Scopes),
		ExpiresAt: rec.ExpiresAt,
		id:        rec.ID,
		rec:       *rec,
		client:    cloneClient(client),
		scopes:    slices.Clone(rec.Scopes),
		server:    s,
	}
	req.rec.Scopes = slices.Clone(rec.Scopes)
	return req, nil
}

// deviceState returns nil for a pending, live device code, else the error
// that says why it cannot be decided. A decision is reported before an
// expiry, as the repository does.
func deviceState(d *oauth.DeviceCode, now time.Time) error {
	switch {
	case d.Revoked || d.Status == oauth.DeviceApproved:
		return ErrUserCodeUsed
	case d.Status == oauth.DeviceDenied:
		return ErrUserCodeDenied
	case !now.Before(d.ExpiresAt):
		return ErrUserCodeExpired
	}
	return nil
}

func cloneClient(c *oauth.Client) oauth.Client {
	out := *c
	out.RedirectURIs, out.GrantTypes, out.Scopes = slices.Clone(c.RedirectURIs), slices.Clone(c.GrantTypes), slices.Clone(c.Scopes)
	return out
}

// Throttled reports whether callerKey has spent its budget of wrong user
// codes, so that the host's verification page can say so instead of
// offering the form.
func (s *Server) Throttled(callerKey string) bool {
	if s.device == nil {
		return false
	}
	return s.device.limiter.throttled(callerKey, s.now().UTC())
}

// ApproveDevice records that userID approved a device request, granting
// scopes: nil grants every requested scope; otherwise they must be a subset
// of req.Scopes. Config.FinalizeScopes, if set, then applies the host's
// policy (ScopeRequest.GrantType is oauth.GrantDeviceCode); an *oauth.Error
// it returns is returned, and the request stays pending. The approval is
// one compare-and-set on the pending code, so of two racing decisions one
// wins; the loser gets ErrUserCodeUsed or ErrUserCodeDenied, and a code
// that expired meanwhile ErrUserCodeExpired. The device's next poll
// receives the tokens.
func (s *Server) ApproveDevice(ctx context.Context, req *DeviceRequest, userID string, scopes []string) error {
	if err := s.checkDeviceRequest("ApproveDevice", req, userID); err != nil {
		return err
	}
	scopes, ok := grantScopes(scopes, req.scopes)
	if !ok {
		return errors.New("grants: ApproveDevice: granted scopes are not a subset of the requested ones")
	}
	client := cloneClient(&req.client) // FinalizeScopes may not change the request
	scopes, err := s.finalizeScopes(ctx, ScopeRequest{
		GrantType: oauth.GrantDeviceCode, Client: &client, UserID: userID, Scopes: scopes,
	})
	if err != nil {
		return err
	}
	now := s.now().UTC()
	if err := s.device.repo.ApproveDeviceCode(ctx, req.id, userID, scopes, now); err != nil {
		return s.decisionError(ctx, "approve", req.id, err)
	}
	rec := req.rec
	rec.Status, rec.UserID, rec.Scopes = oauth.DeviceApproved, userID, slices.Clone(scopes)
	s.log.LogAttrs(ctx, levelProtocol, "grants: device request approved", logClientID(rec.ClientID))
	if h := s.cfg.Hooks.DeviceApproved; h != nil {
		h(ctx, DeviceCodeEvent{Code: rec})
	}
	return nil
}

// DenyDevice records that userID denied a device request; the device's
// next poll receives access_denied. It fails as ApproveDevice does when the
// request was decided or expired meanwhile.
func (s *Server) DenyDevice(ctx context.Context, req *DeviceRequest, userID string) error {
	if err := s.checkDeviceRequest("DenyDevice", req, userID); err != nil {
		return err
	}
	now := s.now().UTC()
	if err := s.device.repo.DenyDeviceCode(ctx, req.id, userID, now); err != nil {
		return s.decisionError(ctx, "deny", req.id, err)
	}
	rec := req.rec
	rec.Status, rec.UserID = oauth.DeviceDenied, userID
	s.log.LogAttrs(ctx, levelProtocol, "grants: device request denied", logClientID(rec.ClientID))
	if h := s.cfg.Hooks.DeviceDenied; h != nil {
		h(ctx, DeviceCodeEvent{Code: rec})
	}
	return nil
}

func (s *Server) checkDeviceRequest(op string, req *DeviceRequest, userID string) error {
	if s.device == nil {
		return errDeviceOff
	}
	if req == nil || req.server != s {
		return fmt.Errorf("grants: %s needs a DeviceRequest from this Server's LookupUserCode", op)
	}
	if !oauth.ValidID(userID, oauth.MaxUserIDLen) {
		return fmt.Errorf("grants: %s: user id must be 1 to %d printable ASCII characters", op, oauth.MaxUserIDLen)
	}
	return nil
}

// decisionError translates the repository's refusal of a decision into the
// verification API's errors; when the code was decided meanwhile it reads
// the code again to say how.
func (s *Server) decisionError(ctx context.Context, op, id string, err error) error {
	switch {
	case errors.Is(err, oauth.ErrNotFound):
		return ErrUserCodeUnknown
	case errors.Is(err, oauth.ErrExpired):
		return ErrUserCodeExpired
	case errors.Is(err, oauth.ErrAlreadyUsed):
		d, ferr := s.device.repo.FindDeviceCode(ctx, id)
		if ferr == nil && d.Status == oauth.DeviceDenied {
			return ErrUserCodeDenied
		}
		return ErrUserCodeUsed
	}
	return fmt.Errorf("grants: %s device code: %w", op, err)
}
