package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/grants"
)

// maxFormBytes caps the body of the host's own forms.
const maxFormBytes = 16 << 10

// parseForm reads a POSTed form of at most maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return r.ParseForm()
}

// homePage is the data of the home page.
type homePage struct {
	Issuer        string
	Metadata      string
	Endpoints     []endpoint
	Demo          bool
	DemoPassword  string
	DemoAuthorize string
}

type endpoint struct{ Name, URL string }

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	sess, err := a.sessions.get(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	iss := a.cfg.issuer
	p := homePage{
		Issuer:   iss,
		Metadata: a.oauth.MetadataURL(),
		Endpoints: []endpoint{
			{"Authorization endpoint", iss + pathAuthz},
			{"Token endpoint", iss + pathToken},
			{"Revocation endpoint", iss + pathRevoke},
			{"Introspection endpoint", iss + pathIntro},
			{"Device authorization endpoint", iss + pathDeviceAz},
			{"Device verification page", iss + pathDevice},
		},
	}
	if a.cfg.format() == grants.AccessTokenJWT {
		p.Endpoints = append(p.Endpoints, endpoint{"JSON Web Key Set", iss + pathJWKS})
	}
	if a.cfg.demo {
		p.Demo = true
		p.DemoPassword = demoPassword
		p.DemoAuthorize = a.demoAuthorizeURL()
	}
	d := pageData{Title: "Home", User: a.userName(r.Context(), sess), Page: p}
	if sess != nil {
		d.CSRF = sess.csrf
	}
	a.render(w, r, http.StatusOK, "home", d)
}

// loginPageData is the data of the sign-in page.
type loginPageData struct {
	Next     string
	Username string
}

func (a *app) loginPage(w http.ResponseWriter, r *http.Request) {
	sess, err := a.sessions.ensure(w, r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	next := safeNext(r.URL.Query().Get("next"))
	a.render(w, r, http.StatusOK, "login", pageData{
		Title: "Sign in", User: a.userName(r.Context(), sess), CSRF: sess.csrf,
		Page: loginPageData{Next: next},
	})
}

// postedForm reads a state-changing form: its body, the caller's session and
// the session's CSRF token. When it returns false it has answered the request.
func (a *app) postedForm(w http.ResponseWriter, r *http.Request) (*session, bool) {
	if err := parseForm(w, r); err != nil {
		a.message(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return nil, false
	}
	sess, err := a.sessions.get(r)
	if err != nil {
		a.serverError(w, r, err)
		return nil, false
	}
	if !sess.validCSRF(r.PostForm.Get("csrf_token")) {
		a.formExpired(w, r)
		return nil, false
	}
	return sess, true
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	sess, ok := a.postedForm(w, r)
	if !ok {
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	username := r.PostForm.Get("username")
	again := func(status int, msg string) {
		a.render(w, r, status, "login", pageData{
			Title: "Sign in", CSRF: sess.csrf, Error: msg,
			Page: loginPageData{Next: next, Username: username},
		})
	}
	// The attempt is counted before the password is checked, and given
	// back if it was right (throttle.go).
	counted, ok, err := a.throttle.reserve(r.Context(), addrKey(remoteHost(r)), userKey(username))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if !ok {
		again(http.StatusTooManyRequests, "Too many failed attempts. Wait a few minutes and try again.")
		return
	}
	userID, err := a.users.AuthenticateUser(r.Context(), username, r.PostForm.Get("password"))
	if errors.Is(err, oauth.ErrNotFound) {
		again(http.StatusUnauthorized, "Wrong username or password.")
		return
	}
	if rerr := a.throttle.release(r.Context(), counted...); rerr != nil {
		a.log.ErrorContext(r.Context(), "sign-in: release throttle", "err", rerr)
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if _, err := a.sessions.login(w, r, sess, userID); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "signed in", "user_id", userID)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	sess, ok := a.postedForm(w, r)
	if !ok {
		return
	}
	if err := a.sessions.logout(w, r, sess); err != nil {
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// formExpired answers a form whose CSRF token does not match the session.
func (a *app) formExpired(w http.ResponseWriter, r *http.Request) {
	a.message(w, r, http.StatusForbidden, "This form has expired",
		"The form was not sent from this site, or your session ended in the meantime. Go back, reload the page and try again.")
}

// safeNext returns next if it is a path on this server, "/" otherwise, so
// that the sign-in page cannot be made to redirect elsewhere. Beyond
// refusing schemes, hosts and "//" or "/\" (which browsers read as a
// host), it accepts a path only as its plain, canonical self once decoded
// — no encoded slash or backslash, no dot or empty segments, no spaces or
// control characters — so that nothing that later decodes or normalizes
// it (a proxy, a framework) can turn it into another host.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	p := u.Path
	if p != path.Clean(p) || strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		return "/"
	}
	return next
}

// loginURL is the sign-in page that comes back to next.
func loginURL(next string) string {
	return "/login?next=" + url.QueryEscape(next)
}

// hiddenField is a name and value carried through a form.
type hiddenField struct{ Name, Value string }

// consentPage is the data of the consent page.
type consentPage struct {
	ClientName   string
	ClientID     string
	Scopes       []oauth.Scope
	RedirectHost string
	Action       string
	Hidden       []hiddenField
}

// Parameters of the consent form that are the host's, not the
// authorization request's.
const (
	paramDecision = "decision"
	paramCSRF     = "csrf_token"
)

// authorize is the host's authorization endpoint around the library's
// ParseAuthorizeRequest, Approve and Deny: it sends a visitor who has not
// signed in to the sign-in page, shows the consent page, and on the
// consent form's POST (which carries the request's parameters again, plus
// the decision, the CSRF token and the consent ticket) approves or denies
// — only the request the page showed, and once (consent.go).
func (a *app) authorize(w http.ResponseWriter, r *http.Request) {
	ar, err := a.oauth.ParseAuthorizeRequest(r)
	if err != nil {
		a.oauth.WriteAuthorizeError(w, r, err)
		return
	}
	sess, err := a.sessions.get(r)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	params, err := url.ParseQuery(ar.Query())
	if err != nil {
		a.serverError(w, r, fmt.Errorf("re-parse authorization request: %w", err))
		return
	}
	decision := params.Get(paramDecision)
	csrf := params.Get(paramCSRF)
	ticket := params.Get(paramConsent)
	params.Del(paramDecision)
	params.Del(paramCSRF)
	params.Del(paramConsent)
	self := pathAuthz + "?" + params.Encode()

	if sess == nil || sess.userID == "" {
		http.Redirect(w, r, loginURL(self), http.StatusSeeOther)
		return
	}
	if r.Method != http.MethodPost || decision == "" {
		a.showConsent(w, r, sess, ar, params, http.StatusOK, "")
		return
	}
	if !sess.validCSRF(csrf) {
		a.formExpired(w, r)
		return
	}
	if decision != "approve" && decision != "deny" {
		a.message(w, r, http.StatusBadRequest, "Bad request", "Choose Allow or Deny.")
		return
	}
	ok, err := a.consents.take(r.Context(), ticket, sess.id, requestHash(params))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if !ok {
		// Replayed, expired, changed or never shown: show this request.
		a.showConsent(w, r, sess, ar, params, http.StatusConflict,
			"This request was already answered, its page had expired, or it is not the request the page showed. Check it and choose again.")
		return
	}
	if decision == "deny" {
		a.oauth.Deny(w, r, ar)
		return
	}
	// nil grants every requested scope; Approve writes the redirect (or an
	// error redirect) itself.
	if err := a.oauth.Approve(w, r, ar, sess.userID, nil); err != nil {
		a.log.WarnContext(r.Context(), "approve failed", "client_id", ar.Client.ID, "err", err)
	}
}

// showConsent renders the consent page for the request ar, whose
// parameters are params, with a new consent ticket; note is shown above
// it.
func (a *app) showConsent(w http.ResponseWriter, r *http.Request, sess *session, ar *grants.AuthorizeRequest, params url.Values, status int, note string) {
	scopes, err := a.store.FindScopes(r.Context(), ar.Scopes)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	ticket, err := a.consents.issue(r.Context(), sess.id, requestHash(params))
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	hidden := make([]hiddenField, 0, len(params)+1)
	for _, k := range sortedKeys(params) {
		for _, v := range params[k] {
			hidden = append(hidden, hiddenField{k, v})
		}
	}
	hidden = append(hidden, hiddenField{paramConsent, ticket})
	redirectHost := ar.RedirectURI
	if u, err := url.Parse(ar.RedirectURI); err == nil && u.Host != "" {
		redirectHost = u.Scheme + "://" + u.Host
	}
	a.render(w, r, status, "consent", pageData{
		Title: "Allow access?", User: a.userName(r.Context(), sess), CSRF: sess.csrf, Error: note,
		Page: consentPage{
			ClientName:   ar.Client.Name,
			ClientID:     ar.Client.ID,
			Scopes:       scopes,
			RedirectHost: redirectHost,
			Action:       pathAuthz,
			Hidden:       hidden,
		},
	})
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
