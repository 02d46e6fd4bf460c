package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/oauthkit/oauth"
)

// deviceFlow is what the device verification page needs from the
// authorization server: find a pending request by the code the user typed,
// and record the user's decision.
type deviceFlow interface {
	// lookup returns the device code with that normalized user code, or an
	// error wrapping oauth.ErrNotFound, oauth.ErrExpired or
	// oauth.ErrAlreadyUsed when it cannot be decided on.
	lookup(ctx context.Context, userCode string) (*oauth.DeviceCode, error)
	approve(ctx context.Context, d *oauth.DeviceCode, userID string, scopes []string) error
	deny(ctx context.Context, d *oauth.DeviceCode, userID string) error
}

// repoDeviceFlow decides device requests through the repository.
type repoDeviceFlow struct {
	repo oauth.DeviceCodeRepository
}

func (f repoDeviceFlow) lookup(ctx context.Context, userCode string) (*oauth.DeviceCode, error) {
	d, err := f.repo.FindDeviceCodeByUserCode(ctx, userCode)
	if err != nil {
		return nil, err
	}
	switch {
	case !time.Now().Before(d.ExpiresAt):
		return nil, oauth.ErrExpired
	case d.Status != oauth.DevicePending || d.Revoked:
		return nil, oauth.ErrAlreadyUsed
	}
	return d, nil
}

func (f repoDeviceFlow) approve(ctx context.Context, d *oauth.DeviceCode, userID string, scopes []string) error {
	return f.repo.ApproveDeviceCode(ctx, d.ID, userID, scopes, time.Now())
}

func (f repoDeviceFlow) deny(ctx context.Context, d *oauth.DeviceCode, userID string) error {
	return f.repo.DenyDeviceCode(ctx, d.ID, userID, time.Now())
}

// normalizeUserCode turns what a user typed into a stored user code:
// case, dashes and spaces do not matter (RFC 8628 §6.1). It reports false
// for anything that cannot be a user code.
func normalizeUserCode(s string) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case strings.ContainsRune(oauth.UserCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != 8 {
		return "", false
	}
	return b.String(), true
}

// displayUserCode shows a normalized user code as XXXX-XXXX.
func displayUserCode(c string) string {
	if len(c) == 8 {
		return c[:4] + "-" + c[4:]
	}
	return c
}

// devicePageData is the data of both device pages.
type devicePageData struct {
	UserCode   string
	ClientName string
	ClientID   string
	Scopes     []oauth.Scope
}

// devicePage shows the form to enter a code; with ?user_code= (the
// verification_uri_complete) it goes straight to the confirmation.
func (a *app) devicePage(w http.ResponseWriter, r *http.Request) {
	if code := r.URL.Query().Get("user_code"); code != "" {
		a.deviceConfirm(w, r, code)
		return
	}
	sess, err := a.sessions.ensure(w, r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "device", pageData{
		Title: "Connect a device", User: a.userName(r.Context(), sess), CSRF: sess.csrf,
		Page: devicePageData{},
	})
}

// deviceLookup takes the entered code.
func (a *app) deviceLookup(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		a.message(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	sess, err := a.sessions.get(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if !sess.validCSRF(r.PostForm.Get("csrf_token")) {
		a.formExpired(w, r)
		return
	}
	a.deviceConfirm(w, r, r.PostForm.Get("user_code"))
}

// deviceConfirm checks a typed code; a visitor who has not signed in is
// sent to sign in first, then back here. Wrong codes are throttled per
// client address, so that codes cannot be guessed.
func (a *app) deviceConfirm(w http.ResponseWriter, r *http.Request, typed string) {
	sess, err := a.sessions.ensure(w, r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	retry := func(status int, msg string) {
		a.render(w, r, status, "device", pageData{
			Title: "Connect a device", User: a.userName(r.Context(), sess), CSRF: sess.csrf, Error: msg,
			Page: devicePageData{UserCode: typed},
		})
	}
	host := remoteHost(r)
	if !a.limiter.allow(host) {
		retry(http.StatusTooManyRequests, "Too many wrong codes. Wait a few minutes and try again.")
		return
	}
	code, ok := normalizeUserCode(typed)
	if !ok {
		a.limiter.fail(host)
		retry(http.StatusBadRequest, "That is not a valid code. Codes look like BDFH-JKLM.")
		return
	}
	d, err := a.devices.lookup(r.Context(), code)
	if err != nil {
		if !errors.Is(err, oauth.ErrNotFound) && !errors.Is(err, oauth.ErrExpired) && !errors.Is(err, oauth.ErrAlreadyUsed) {
			a.serverError(w, r, err)
			return
		}
		a.limiter.fail(host)
		retry(http.StatusBadRequest, "That code is unknown, expired or already used. Check your device for the current code.")
		return
	}
	if sess.userID == "" {
		http.Redirect(w, r, loginURL(pathDevice+"?user_code="+displayUserCode(code)), http.StatusSeeOther)
		return
	}
	client, err := a.store.FindClient(r.Context(), d.ClientID)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	scopes, err := a.store.FindScopes(r.Context(), d.Scopes)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "device_confirm", pageData{
		Title: "Connect a device?", User: a.userName(r.Context(), sess), CSRF: sess.csrf,
		Page: devicePageData{UserCode: displayUserCode(code), ClientName: client.Name, ClientID: client.ID, Scopes: scopes},
	})
}

// deviceDecide records the signed-in user's decision.
func (a *app) deviceDecide(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		a.message(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	sess, err := a.sessions.get(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if !sess.validCSRF(r.PostForm.Get("csrf_token")) {
		a.formExpired(w, r)
		return
	}
	code, ok := normalizeUserCode(r.PostForm.Get("user_code"))
	if !ok {
		a.message(w, r, http.StatusBadRequest, "Bad request", "The code is missing or malformed.")
		return
	}
	if sess.userID == "" {
		http.Redirect(w, r, loginURL(pathDevice+"?user_code="+displayUserCode(code)), http.StatusSeeOther)
		return
	}
	decision := r.PostForm.Get("decision")
	if decision != "approve" && decision != "deny" {
		a.message(w, r, http.StatusBadRequest, "Bad request", "Choose Allow or Deny.")
		return
	}
	d, err := a.devices.lookup(r.Context(), code)
	if err == nil {
		if decision == "approve" {
			err = a.devices.approve(r.Context(), d, sess.userID, d.Scopes)
		} else {
			err = a.devices.deny(r.Context(), d, sess.userID)
		}
	}
	switch {
	case err == nil && decision == "approve":
		a.log.InfoContext(r.Context(), "device approved", "client_id", d.ClientID, "user_id", sess.userID)
		a.message(w, r, http.StatusOK, "Device connected", "You allowed the device. You can return to it now; it will continue by itself.")
	case err == nil:
		a.log.InfoContext(r.Context(), "device denied", "client_id", d.ClientID, "user_id", sess.userID)
		a.message(w, r, http.StatusOK, "Device not connected", "You denied the request. The device gets no access.")
	case errors.Is(err, oauth.ErrNotFound), errors.Is(err, oauth.ErrExpired), errors.Is(err, oauth.ErrAlreadyUsed):
		a.message(w, r, http.StatusBadRequest, "Code no longer valid", "This code expired or was already used. Start again on your device.")
	default:
		a.serverError(w, r, err)
	}
}
