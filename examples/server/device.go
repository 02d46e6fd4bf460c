package main

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
)

// The device verification page (RFC 8628 §3.3) is the host's: the library
// serves the device authorization endpoint and the polling at the token
// endpoint, and gives the page LookupUserCode, ApproveDevice and
// DenyDevice. The page asks for the code, has the person sign in, shows
// the client and the scopes, and records the decision.

// devicePageData is the data of both device pages.
type devicePageData struct {
	UserCode   string
	ClientName string
	ClientID   string
	Scopes     []oauth.Scope
}

// deviceCaller is who is typing codes, for the library's throttle of wrong
// entries: the client address, which a visitor cannot renew as freely as a
// session.
func deviceCaller(r *http.Request) string { return "ip:" + remoteHost(r) }

// deviceLinkCaller is who is following links with a code
// (verification_uri_complete): the client address too, with a budget of
// its own. Any page on the web can make a visitor's browser fetch such
// links; with one budget it could spend the visitor's, and the visitor
// could not type a code for the rest of the window. (A guesser gets two
// budgets per address: at 10 per 10 minutes and 20^8 codes, no help.)
func deviceLinkCaller(r *http.Request) string { return "link-ip:" + remoteHost(r) }

// devicePage shows the form to enter a code; with ?user_code= (the
// verification_uri_complete) it goes straight to the confirmation.
func (a *app) devicePage(w http.ResponseWriter, r *http.Request) {
	if code := r.URL.Query().Get("user_code"); code != "" {
		a.deviceConfirm(w, r, deviceLinkCaller(r), code)
		return
	}
	sess, err := a.sessions.ensure(w, r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d := pageData{Title: "Connect a device", User: a.userName(r.Context(), sess), CSRF: sess.csrf, Page: devicePageData{}}
	status := http.StatusOK
	if a.oauth.Throttled(deviceCaller(r)) {
		status, d.Error = http.StatusTooManyRequests, "Too many wrong codes. Wait a few minutes and try again."
	}
	a.render(w, r, status, "device", d)
}

// deviceLookup takes the entered code.
func (a *app) deviceLookup(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.postedForm(w, r); !ok {
		return
	}
	a.deviceConfirm(w, r, deviceCaller(r), r.PostForm.Get("user_code"))
}

// deviceError says what the person should know about a code that cannot
// be decided on, and the status to answer with; ok is false for a failure
// of the server.
func deviceError(err error) (status int, msg string, ok bool) {
	switch {
	case errors.Is(err, grants.ErrThrottled):
		return http.StatusTooManyRequests, "Too many wrong codes. Wait a few minutes and try again.", true
	case errors.Is(err, grants.ErrUserCodeUnknown):
		return http.StatusBadRequest, "That code is not known. Check the code your device shows; codes look like BDFH-JKLM.", true
	case errors.Is(err, grants.ErrUserCodeExpired):
		return http.StatusBadRequest, "That code has expired. Start again on your device to get a new one.", true
	case errors.Is(err, grants.ErrUserCodeUsed):
		return http.StatusBadRequest, "That code was already used.", true
	case errors.Is(err, grants.ErrUserCodeDenied):
		return http.StatusBadRequest, "That request was denied. Start again on your device if you meant to allow it.", true
	}
	return 0, "", false
}

// deviceConfirm looks a typed code up; a visitor who has not signed in is
// sent to sign in first, then back here. Wrong codes are throttled per
// caller (a client address) by the library.
func (a *app) deviceConfirm(w http.ResponseWriter, r *http.Request, caller, typed string) {
	sess, err := a.sessions.ensure(w, r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	req, err := a.oauth.LookupUserCode(r.Context(), caller, typed)
	if err != nil {
		status, msg, ok := deviceError(err)
		if !ok {
			a.serverError(w, r, err)
			return
		}
		a.render(w, r, status, "device", pageData{
			Title: "Connect a device", User: a.userName(r.Context(), sess), CSRF: sess.csrf, Error: msg,
			Page: devicePageData{UserCode: typed},
		})
		return
	}
	if sess.userID == "" {
		http.Redirect(w, r, loginURL(pathDevice+"?user_code="+url.QueryEscape(req.UserCode)), http.StatusSeeOther)
		return
	}
	scopes, err := a.store.FindScopes(r.Context(), req.Scopes)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "device_confirm", pageData{
		Title: "Connect a device?", User: a.userName(r.Context(), sess), CSRF: sess.csrf,
		Page: devicePageData{UserCode: req.UserCode, ClientName: req.Client.Name, ClientID: req.Client.ID, Scopes: scopes},
	})
}

// deviceDecide records the signed-in user's decision.
func (a *app) deviceDecide(w http.ResponseWriter, r *http.Request) {
	sess, ok := a.postedForm(w, r)
	if !ok {
		return
	}
	typed := r.PostForm.Get("user_code")
	if sess.userID == "" {
		http.Redirect(w, r, loginURL(pathDevice+"?user_code="+url.QueryEscape(typed)), http.StatusSeeOther)
		return
	}
	decision := r.PostForm.Get("decision")
	if decision != "approve" && decision != "deny" {
		a.message(w, r, http.StatusBadRequest, "Bad request", "Choose Allow or Deny.")
		return
	}
	// Look the code up again, through the same throttle, to decide it.
	req, err := a.oauth.LookupUserCode(r.Context(), deviceCaller(r), typed)
	if err == nil {
		if decision == "approve" {
			err = a.oauth.ApproveDevice(r.Context(), req, sess.userID, nil)
		} else {
			err = a.oauth.DenyDevice(r.Context(), req, sess.userID)
		}
	}
	if err != nil {
		status, msg, ok := deviceError(err)
		if !ok {
			a.serverError(w, r, err)
			return
		}
		a.message(w, r, status, "Code no longer valid", msg)
		return
	}
	if decision == "approve" {
		a.log.InfoContext(r.Context(), "device approved", "client_id", req.Client.ID, "user_id", sess.userID)
		a.message(w, r, http.StatusOK, "Device connected", "You allowed the device. You can return to it now; it will continue by itself.")
		return
	}
	a.log.InfoContext(r.Context(), "device denied", "client_id", req.Client.ID, "user_id", sess.userID)
	a.message(w, r, http.StatusOK, "Device not connected", "You denied the request. The device gets no access.")
}
