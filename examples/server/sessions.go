package main

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// Browser sessions are the host's business too. A session is a random
// cookie value whose SHA-256 names a row of example_sessions; the row holds
// the signed-in user (none before sign-in) and the session's CSRF token,
// which every form carries. Rows live in the database, so any instance
// serves any request.
const (
	sessionCookie   = "oauth_example_session"
	anonSessionTTL  = time.Hour
	loginSessionTTL = 8 * time.Hour
)

type session struct {
	id     string // HashValue of the cookie value
	userID string // "" before sign-in
	csrf   string
}

type sessionStore struct {
	db     *sqlx.DB
	secure bool // set the cookie's Secure attribute (an https issuer)
}

// cookieName is the session cookie's name: with an https issuer it has
// the __Host- prefix, so that browsers take it only when it is Secure,
// for Path=/ and without a Domain — a cookie set by a sibling domain or
// over plain http cannot plant a session (RFC 6265bis §4.1.3.2).
func (s *sessionStore) cookieName() string {
	if s.secure {
		return "__Host-" + sessionCookie
	}
	return sessionCookie
}

// get returns the request's live session, or nil.
func (s *sessionStore) get(r *http.Request) (*session, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	id := oauth.HashValue(c.Value)
	var userID sql.NullString
	var csrf string
	err = s.db.QueryRowxContext(r.Context(), s.db.Rebind(
		`SELECT user_id, csrf_token FROM example_sessions WHERE id = ? AND expires_at > ?`),
		id, time.Now().Unix()).Scan(&userID, &csrf)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return &session{id: id, userID: userID.String, csrf: csrf}, nil
}

// ensure returns the request's session, starting an anonymous one (and
// setting its cookie) when there is none, so that a form can carry a CSRF
// token before anyone has signed in.
func (s *sessionStore) ensure(w http.ResponseWriter, r *http.Request) (*session, error) {
	sess, err := s.get(r)
	if err != nil || sess != nil {
		return sess, err
	}
	return s.start(w, r, "", anonSessionTTL)
}

// start creates a session for userID ("" for anonymous) and sets its cookie.
func (s *sessionStore) start(w http.ResponseWriter, r *http.Request, userID string, ttl time.Duration) (*session, error) {
	value, id, err := tokens.NewOpaque("")
	if err != nil {
		return nil, err
	}
	csrf, _, err := tokens.NewOpaque("")
	if err != nil {
		return nil, err
	}
	var uid any
	if userID != "" {
		uid = userID
	}
	if _, err := s.db.ExecContext(r.Context(), s.db.Rebind(
		`INSERT INTO example_sessions (id, user_id, csrf_token, expires_at) VALUES (?, ?, ?, ?)`),
		id, uid, csrf, time.Now().Add(ttl).Unix()); err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(),
		Value:    value,
		Path:     "/",
		MaxAge:   int(ttl / time.Second),
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	})
	return &session{id: id, userID: userID, csrf: csrf}, nil
}

// login replaces the request's session (if any) by a new one for userID:
// a new cookie value at sign-in, so that a session fixed before it is
// worth nothing after.
func (s *sessionStore) login(w http.ResponseWriter, r *http.Request, old *session, userID string) (*session, error) {
	if old != nil {
		if err := s.delete(r.Context(), old.id); err != nil {
			return nil, err
		}
	}
	return s.start(w, r, userID, loginSessionTTL)
}

// logout ends the session and clears its cookie.
func (s *sessionStore) logout(w http.ResponseWriter, r *http.Request, sess *session) error {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	if sess == nil {
		return nil
	}
	return s.delete(r.Context(), sess.id)
}

func (s *sessionStore) delete(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM example_sessions WHERE id = ?`), id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// purge deletes sessions that expired before the given time.
func (s *sessionStore) purge(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM example_sessions WHERE expires_at <= ?`), before.Unix())
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return res.RowsAffected()
}

// validCSRF reports whether token is the session's CSRF token, in constant
// time.
func (sess *session) validCSRF(token string) bool {
	return sess != nil && token != "" && subtle.ConstantTimeCompare([]byte(sess.csrf), []byte(token)) == 1
}
