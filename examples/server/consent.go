package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// A consent page carries, besides the session's CSRF token, a ticket: a
// random value whose hash names a row of example_consents that holds the
// session and the hash of the authorization request the page showed. A
// decision takes the ticket (deletes the row) and is acted on only if the
// row was there, for this session and this exact request. So a decision
// is made once (a replayed or double-submitted form is not), on a request
// the person saw (a request changed in the form, or one whose consent page
// was never shown, is not approved: its consent page is shown instead).
// The rows are in the database, so that any instance takes a ticket
// another issued.
const consentTTL = 15 * time.Minute

// paramConsent is the consent form's field holding the ticket.
const paramConsent = "consent"

type consentStore struct {
	db *sqlx.DB
}

// requestHash identifies an authorization request by its parameters, in
// url.Values.Encode's order (sorted by name).
func requestHash(params url.Values) string {
	return oauth.HashValue(params.Encode())
}

// issue stores a ticket for the request of hash reqHash shown to the
// session, and returns the ticket's value for the form.
func (c *consentStore) issue(ctx context.Context, sessionID, reqHash string) (string, error) {
	value, id, err := tokens.NewOpaque("")
	if err != nil {
		return "", err
	}
	if _, err := c.db.ExecContext(ctx, c.db.Rebind(
		`INSERT INTO example_consents (id, session_id, request_hash, expires_at) VALUES (?, ?, ?, ?)`),
		id, sessionID, reqHash, time.Now().Add(consentTTL).Unix()); err != nil {
		return "", fmt.Errorf("store consent ticket: %w", err)
	}
	return value, nil
}

// take consumes a ticket: it reports whether the ticket was live and
// issued to this session for this request, and deletes it if so. Of
// several concurrent takes, one wins.
func (c *consentStore) take(ctx context.Context, ticket, sessionID, reqHash string) (bool, error) {
	if ticket == "" || len(ticket) > 100 {
		return false, nil
	}
	res, err := c.db.ExecContext(ctx, c.db.Rebind(
		`DELETE FROM example_consents WHERE id = ? AND session_id = ? AND request_hash = ? AND expires_at > ?`),
		oauth.HashValue(ticket), sessionID, reqHash, time.Now().Unix())
	if err != nil {
		return false, fmt.Errorf("take consent ticket: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("take consent ticket: %w", err)
	}
	return n == 1, nil
}

// purge deletes tickets that expired before the given time.
func (c *consentStore) purge(ctx context.Context, before time.Time) (int64, error) {
	res, err := c.db.ExecContext(ctx, c.db.Rebind(`DELETE FROM example_consents WHERE expires_at <= ?`), before.Unix())
	if err != nil {
		return 0, fmt.Errorf("purge consent tickets: %w", err)
	}
	return res.RowsAffected()
}
