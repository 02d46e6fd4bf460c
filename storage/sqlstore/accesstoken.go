package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/oauthkit/oauth"
)

// CreateAccessToken stores a new access token: an error wrapping
// oauth.ErrDuplicate if the ID exists, oauth.ErrInvalid if the token fails
// validation or its client does not exist. A zero CreatedAt is set, in t
// too, to the current time.
func (s *Store) CreateAccessToken(ctx context.Context, t *oauth.AccessToken) error {
	if t == nil {
		return opError("create access token", "", fmt.Errorf("%w: nil token", oauth.ErrInvalid))
	}
	if err := t.Validate(); err != nil {
		return opError("create access token", t.ID, err)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	created := s.timeArg(t.CreatedAt)
	_, err := s.db.ExecContext(ctx, s.q.insertAccess, t.ID, t.ClientID, nullable(t.UserID), join(t.Scopes),
		t.FamilyID, s.timeArg(t.ExpiresAt), created, t.Revoked, created)
	if err != nil {
		return opError("create access token", t.ID, translate(err, "client"))
	}
	return nil
}

// FindAccessToken returns the access token with that ID, expired and
// revoked ones included, or an error wrapping oauth.ErrNotFound.
func (s *Store) FindAccessToken(ctx context.Context, id string) (*oauth.AccessToken, error) {
	if !oauth.ValidID(id, oauth.MaxTokenIDLen) {
		return nil, opError("find access token", id, oauth.ErrNotFound)
	}
	var t oauth.AccessToken
	err := s.db.QueryRowxContext(ctx, s.q.findAccess, id).Scan(&t.ID, &t.ClientID, (*nullString)(&t.UserID),
		(*list)(&t.Scopes), &t.FamilyID, s.timeDest(&t.ExpiresAt), s.timeDest(&t.CreatedAt), &t.Revoked)
	if err != nil {
		return nil, opError("find access token", id, translate(err, "client"))
	}
	return &t, nil
}

// RevokeAccessToken marks the access token revoked: an error wrapping
// oauth.ErrNotFound if there is none. Revoking a revoked token succeeds.
func (s *Store) RevokeAccessToken(ctx context.Context, id string) error {
	if !oauth.ValidID(id, oauth.MaxTokenIDLen) {
		return opError("revoke access token", id, oauth.ErrNotFound)
	}
	res, err := s.db.ExecContext(ctx, s.q.revokeAccess, s.timeArg(s.now()), id)
	if err == nil {
		err = s.changedOrExists(ctx, s.db, res, s.q.existsAccess, id)
	}
	if err != nil {
		return opError("revoke access token", id, translate(err, "client"))
	}
	return nil
}

// RevokeAccessTokenFamily revokes every access token of the grant family in
// one statement and returns how many were not revoked before it.
func (s *Store) RevokeAccessTokenFamily(ctx context.Context, familyID string) (int64, error) {
	if !oauth.ValidID(familyID, oauth.MaxTokenIDLen) {
		return 0, opError("revoke access token family", familyID, fmt.Errorf("%w: family id must be printable ASCII of 1 to %d bytes", oauth.ErrInvalid, oauth.MaxTokenIDLen))
	}
	res, err := s.db.ExecContext(ctx, s.q.revokeAccessFamily, s.timeArg(s.now()), familyID)
	if err != nil {
		return 0, opError("revoke access token family", familyID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, opError("revoke access token family", familyID, err)
	}
	return n, nil
}

// PurgeAccessTokens deletes the access tokens that expired before the given
// time and returns how many. A token that a refresh token unexpired at that
// time refers to is kept, whether that refresh token is live, rotated or
// revoked: the foreign key from refresh tokens to access tokens is ON DELETE
// CASCADE, and a rotated refresh token must survive until it expires for
// reuse detection. Purge refresh tokens first to purge everything.
func (s *Store) PurgeAccessTokens(ctx context.Context, before time.Time) (int64, error) {
	if err := checkTimeArg("purge time", before); err != nil {
		return 0, fmt.Errorf("sqlstore: purge access tokens: %w", err)
	}
	b := s.timeArg(before)
	res, err := s.db.ExecContext(ctx, s.q.purgeAccess, b, b)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge access tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge access tokens: %w", err)
	}
	return n, nil
}

// purge runs a DELETE … WHERE expires_at < ? and returns how many rows it
// deleted.
func (s *Store) purge(ctx context.Context, what, query string, before time.Time) (int64, error) {
	if err := checkTimeArg("purge time", before); err != nil {
		return 0, fmt.Errorf("sqlstore: purge %s: %w", what, err)
	}
	res, err := s.db.ExecContext(ctx, query, s.timeArg(before))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge %s: %w", what, err)
	}
	return n, nil
}
