package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/oauthkit/oauth"
)

// CreateAuthCode stores a new authorization code: an error wrapping
// oauth.ErrDuplicate if the ID exists, oauth.ErrInvalid if the code fails
// validation or its client does not exist. A zero CreatedAt is set, in c
// too, to the current time.
func (s *Store) CreateAuthCode(ctx context.Context, c *oauth.AuthCode) error {
	if c == nil {
		return opError("create authorization code", "", fmt.Errorf("%w: nil code", oauth.ErrInvalid))
	}
	if err := c.Validate(); err != nil {
		return opError("create authorization code", c.ID, err)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	_, err := s.db.ExecContext(ctx, s.q.insertAuth, c.ID, c.ClientID, c.UserID, join(c.Scopes), c.FamilyID,
		nullable(c.RedirectURI), nullable(c.CodeChallenge), nullable(c.CodeChallengeMethod),
		s.timeArg(c.ExpiresAt), s.timeArg(c.CreatedAt), c.Revoked)
	if err != nil {
		return opError("create authorization code", c.ID, translate(err, "client"))
	}
	return nil
}

// FindAuthCode returns the authorization code with that ID, expired and
// consumed ones included, or an error wrapping oauth.ErrNotFound.
func (s *Store) FindAuthCode(ctx context.Context, id string) (*oauth.AuthCode, error) {
	if !oauth.ValidID(id, oauth.MaxTokenIDLen) {
		return nil, opError("find authorization code", id, oauth.ErrNotFound)
	}
	c, err := s.scanAuth(s.db.QueryRowxContext(ctx, s.q.findAuth, id))
	if err != nil {
		return nil, opError("find authorization code", id, translate(err, "client"))
	}
	return c, nil
}

func (s *Store) scanAuth(row *sqlx.Row) (*oauth.AuthCode, error) {
	var c oauth.AuthCode
	err := row.Scan(&c.ID, &c.ClientID, &c.UserID, (*list)(&c.Scopes), &c.FamilyID,
		(*nullString)(&c.RedirectURI), (*nullString)(&c.CodeChallenge), (*nullString)(&c.CodeChallengeMethod),
		s.timeDest(&c.ExpiresAt), s.timeDest(&c.CreatedAt), &c.Revoked)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// ConsumeAuthCode marks the authorization code used with one conditional
// UPDATE (… WHERE id = ? AND revoked = FALSE AND expires_at > now) and
// returns it as it was before (Revoked false): of many concurrent calls, in
// one process or many, exactly one succeeds. Otherwise it returns an error
// wrapping oauth.ErrNotFound if there is no such code, oauth.ErrAlreadyUsed
// if it was consumed before (even if it has also expired since), or
// oauth.ErrExpired if it expired at or before now.
func (s *Store) ConsumeAuthCode(ctx context.Context, id string, now time.Time) (*oauth.AuthCode, error) {
	const op = "consume authorization code"
	if err := checkTimeArg("now", now); err != nil {
		return nil, opError(op, id, err)
	}
	if !oauth.ValidID(id, oauth.MaxTokenIDLen) {
		return nil, opError(op, id, oauth.ErrNotFound)
	}
	nowArg := s.timeArg(now)
	var won *oauth.AuthCode
	err := s.atomically(ctx, func(ext sqlx.ExtContext) error {
		won = nil
		if s.q.returning {
			c, err := s.scanAuth(ext.QueryRowxContext(ctx, s.q.consumeAuth, id, nowArg))
			if isNoRows(err) {
				return nil
			}
			won = c
			return err
		}
		res, err := ext.ExecContext(ctx, s.q.consumeAuth, id, nowArg)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		// The row is ours; nothing but revoked ever changes in it.
		won, err = s.scanAuth(ext.QueryRowxContext(ctx, s.q.findAuth, id))
		return err
	})
	if err != nil {
		return nil, opError(op, id, translate(err, "client"))
	}
	if won != nil {
		won.Revoked = false
		return won, nil
	}
	// The write matched nothing: say why.
	c, err := s.scanAuth(s.db.QueryRowxContext(ctx, s.q.findAuth, id))
	switch {
	case err != nil:
		return nil, opError(op, id, translate(err, "client"))
	case c.Revoked:
		return nil, opError(op, id, oauth.ErrAlreadyUsed)
	case !now.Before(c.ExpiresAt):
		return nil, opError(op, id, oauth.ErrExpired)
	}
	return nil, opError(op, id, fmt.Errorf("%w: the code changed while it was consumed", oauth.ErrAlreadyUsed))
}

// PurgeAuthCodes deletes the authorization codes that expired before the
// given time and returns how many.
func (s *Store) PurgeAuthCodes(ctx context.Context, before time.Time) (int64, error) {
	return s.purge(ctx, "authorization codes", s.q.purgeAuth, before)
}
