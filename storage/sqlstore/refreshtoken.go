package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/oauthkit/oauth"
)

func (s *Store) insertRefresh(ctx context.Context, ext sqlx.ExtContext, t *oauth.RefreshToken) error {
	_, err := ext.ExecContext(ctx, s.q.insertRefresh, t.ID, t.AccessTokenID, t.ClientID, nullable(t.UserID),
		join(t.Scopes), t.FamilyID, s.timeArg(t.ExpiresAt), s.timeArg(t.CreatedAt), t.Revoked, s.optTimeArg(t.RotatedAt))
	return err
}

func validateRefresh(t *oauth.RefreshToken) error {
	if t == nil {
		return fmt.Errorf("%w: nil token", oauth.ErrInvalid)
	}
	return t.Validate()
}

func refreshID(t *oauth.RefreshToken) string {
	if t == nil {
		return ""
	}
	return t.ID
}

// CreateRefreshToken stores a new refresh token: an error wrapping
// oauth.ErrDuplicate if the ID exists, oauth.ErrInvalid if the token fails
// validation or its client or access token does not exist. A zero
// CreatedAt is set, in t too, to the current time.
func (s *Store) CreateRefreshToken(ctx context.Context, t *oauth.RefreshToken) error {
	if err := validateRefresh(t); err != nil {
		return opError("create refresh token", refreshID(t), err)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	if err := s.insertRefresh(ctx, s.db, t); err != nil {
		return opError("create refresh token", t.ID, translate(err, "client or access token"))
	}
	return nil
}

// FindRefreshToken returns the refresh token with that ID, expired,
// rotated and revoked ones included, or an error wrapping
// oauth.ErrNotFound.
func (s *Store) FindRefreshToken(ctx context.Context, id string) (*oauth.RefreshToken, error) {
	if !oauth.ValidID(id, oauth.MaxTokenIDLen) {
		return nil, opError("find refresh token", id, oauth.ErrNotFound)
	}
	t, err := s.findRefresh(ctx, s.db, id)
	if err != nil {
		return nil, opError("find refresh token", id, translate(err, "client"))
	}
	return t, nil
}

func (s *Store) findRefresh(ctx context.Context, ext sqlx.ExtContext, id string) (*oauth.RefreshToken, error) {
	var t oauth.RefreshToken
	err := ext.QueryRowxContext(ctx, s.q.findRefresh, id).Scan(&t.ID, &t.AccessTokenID, &t.ClientID,
		(*nullString)(&t.UserID), (*list)(&t.Scopes), &t.FamilyID, s.timeDest(&t.ExpiresAt), s.timeDest(&t.CreatedAt),
		&t.Revoked, s.timeDest(&t.RotatedAt))
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// RotateRefreshToken retires the refresh token oldID (revoked, rotated_at =
// now) with one conditional UPDATE and stores next, in one transaction: of
// many concurrent calls for one oldID, in one process or many, exactly one
// succeeds. It returns an error wrapping oauth.ErrNotFound if there is no
// such token, oauth.ErrAlreadyUsed if it was rotated or revoked before,
// oauth.ErrExpired if it expired at or before now, and oauth.ErrDuplicate
// or oauth.ErrInvalid if next cannot be stored; in each of these cases
// nothing is written. A zero next.CreatedAt is set, in next too, to now.
func (s *Store) RotateRefreshToken(ctx context.Context, oldID string, next *oauth.RefreshToken, now time.Time) error {
	const op = "rotate refresh token"
	if err := validateRefresh(next); err != nil {
		return opError(op, oldID, err)
	}
	if err := checkTimeArg("now", now); err != nil {
		return opError(op, oldID, err)
	}
	if !oauth.ValidID(oldID, oauth.MaxTokenIDLen) {
		return opError(op, oldID, oauth.ErrNotFound)
	}
	now = now.UTC().Truncate(time.Microsecond)
	if next.CreatedAt.IsZero() {
		next.CreatedAt = now
	}
	won := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		won = false
		nowArg := s.timeArg(now)
		res, err := tx.ExecContext(ctx, s.q.rotateRefresh, nowArg, oldID, nowArg)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		won = true
		if err := s.insertRefresh(ctx, tx, next); err != nil {
			return translate(err, "client or access token")
		}
		return nil
	})
	if err != nil {
		return opError(op, oldID, err)
	}
	if won {
		return nil
	}
	// The write matched nothing: say why.
	old, err := s.findRefresh(ctx, s.db, oldID)
	switch {
	case err != nil:
		return opError(op, oldID, translate(err, "client"))
	case old.Revoked:
		return opError(op, oldID, oauth.ErrAlreadyUsed)
	case !now.Before(old.ExpiresAt):
		return opError(op, oldID, oauth.ErrExpired)
	}
	return opError(op, oldID, fmt.Errorf("%w: the token changed during rotation", oauth.ErrAlreadyUsed))
}

// RevokeRefreshToken marks the refresh token revoked: an error wrapping
// oauth.ErrNotFound if there is none. Revoking a revoked token succeeds.
func (s *Store) RevokeRefreshToken(ctx context.Context, id string) error {
	if !oauth.ValidID(id, oauth.MaxTokenIDLen) {
		return opError("revoke refresh token", id, oauth.ErrNotFound)
	}
	res, err := s.db.ExecContext(ctx, s.q.revokeRefresh, id)
	if err == nil {
		err = s.changedOrExists(ctx, s.db, res, s.q.existsRefresh, id)
	}
	if err != nil {
		return opError("revoke refresh token", id, translate(err, "client"))
	}
	return nil
}

// RevokeRefreshTokenFamily revokes every refresh token of the grant family
// in one statement and returns how many were not revoked before it.
func (s *Store) RevokeRefreshTokenFamily(ctx context.Context, familyID string) (int64, error) {
	if !oauth.ValidID(familyID, oauth.MaxTokenIDLen) {
		return 0, opError("revoke refresh token family", familyID, fmt.Errorf("%w: family id must be printable ASCII of 1 to %d bytes", oauth.ErrInvalid, oauth.MaxTokenIDLen))
	}
	res, err := s.db.ExecContext(ctx, s.q.revokeRefreshFamily, familyID)
	if err != nil {
		return 0, opError("revoke refresh token family", familyID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, opError("revoke refresh token family", familyID, err)
	}
	return n, nil
}

// PurgeRefreshTokens deletes the refresh tokens that expired before the
// given time and returns how many.
func (s *Store) PurgeRefreshTokens(ctx context.Context, before time.Time) (int64, error) {
	return s.purge(ctx, "refresh tokens", s.q.purgeRefresh, before)
}
