package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/oauthkit/oauth"
)

// FindClient returns the client with that ID, or an error wrapping
// oauth.ErrNotFound.
func (s *Store) FindClient(ctx context.Context, id string) (*oauth.Client, error) {
	if !oauth.ValidID(id, oauth.MaxClientIDLen) {
		return nil, opError("find client", id, oauth.ErrNotFound)
	}
	c, err := s.scanClient(s.db.QueryRowxContext(ctx, s.q.findClient, id))
	if err != nil {
		return nil, opError("find client", id, translate(err, "client"))
	}
	return c, nil
}

func (s *Store) scanClient(row interface{ Scan(...any) error }) (*oauth.Client, error) {
	var c oauth.Client
	err := row.Scan(&c.ID, (*nullString)(&c.SecretHash), &c.Name, (*list)(&c.RedirectURIs), &c.Confidential,
		(*list)(&c.GrantTypes), (*list)(&c.Scopes), s.timeDest(&c.CreatedAt), s.timeDest(&c.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func validateClient(c *oauth.Client) error {
	if c == nil {
		return fmt.Errorf("%w: nil client", oauth.ErrInvalid)
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if err := checkLists("redirect uris", c.RedirectURIs); err != nil {
		return err
	}
	return checkLists("grant types", c.GrantTypes)
}

// CreateClient stores a new client: an error wrapping oauth.ErrDuplicate if
// the ID exists, oauth.ErrInvalid if the client fails validation. A zero
// CreatedAt or UpdatedAt is set, in c too, to the current time.
func (s *Store) CreateClient(ctx context.Context, c *oauth.Client) error {
	if err := validateClient(c); err != nil {
		return opError("create client", clientID(c), err)
	}
	now := s.now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = now
	}
	_, err := s.db.ExecContext(ctx, s.q.insertClient, c.ID, nullable(c.SecretHash), c.Name, join(c.RedirectURIs),
		c.Confidential, join(c.GrantTypes), join(c.Scopes), s.timeArg(c.CreatedAt), s.timeArg(c.UpdatedAt))
	if err != nil {
		return opError("create client", c.ID, translate(err, "client"))
	}
	return nil
}

func clientID(c *oauth.Client) string {
	if c == nil {
		return ""
	}
	return c.ID
}

// UpdateClient replaces every field of the client with c's ID but
// CreatedAt: an error wrapping oauth.ErrNotFound if there is none,
// oauth.ErrInvalid if c fails validation. A zero UpdatedAt is set, in c too,
// to the current time.
func (s *Store) UpdateClient(ctx context.Context, c *oauth.Client) error {
	if err := validateClient(c); err != nil {
		return opError("update client", clientID(c), err)
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = s.now()
	}
	res, err := s.db.ExecContext(ctx, s.q.updateClient, nullable(c.SecretHash), c.Name, join(c.RedirectURIs),
		c.Confidential, join(c.GrantTypes), join(c.Scopes), s.timeArg(c.UpdatedAt), c.ID)
	if err == nil {
		err = s.changedOrExists(ctx, s.db, res, s.q.existsClient, c.ID)
	}
	if err != nil {
		return opError("update client", c.ID, translate(err, "client"))
	}
	return nil
}

// changedOrExists returns nil if the statement changed a row or the row
// with that id exists (MySQL counts only rows whose values changed), and
// sql.ErrNoRows otherwise.
func (s *Store) changedOrExists(ctx context.Context, ext sqlx.ExtContext, res sql.Result, exists, id string) error {
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err
	}
	var one int
	return ext.QueryRowxContext(ctx, exists, id).Scan(&one)
}

// DeleteClient deletes the client and every token, code and device code
// issued to it, in one transaction; an error wrapping oauth.ErrNotFound if
// there is no such client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	if !oauth.ValidID(id, oauth.MaxClientIDLen) {
		return opError("delete client", id, oauth.ErrNotFound)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var res sql.Result
		for _, q := range s.q.deleteClient {
			var err error
			if res, err = tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return sql.ErrNoRows
		}
		return nil
	})
	if err != nil {
		return opError("delete client", id, translate(err, "client"))
	}
	return nil
}

// ListClients returns every client, ordered by ID (byte order).
func (s *Store) ListClients(ctx context.Context) ([]oauth.Client, error) {
	rows, err := s.db.QueryxContext(ctx, s.q.listClients)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list clients: %w", err)
	}
	defer rows.Close()
	var out []oauth.Client
	for rows.Next() {
		c, err := s.scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list clients: %w", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list clients: %w", err)
	}
	return out, nil
}

// isNoRows reports whether err is sql.ErrNoRows.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
