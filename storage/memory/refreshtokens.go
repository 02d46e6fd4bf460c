package memory

import (
	"context"
	"time"

	"github.com/oauthkit/oauth"
)

// cloneRefreshToken returns a copy of t in one allocation when its scopes
// are few.
func cloneRefreshToken(t *oauth.RefreshToken) *oauth.RefreshToken {
	out := &struct {
		tok    oauth.RefreshToken
		scopes [inlineScopes]string
	}{tok: *t}
	out.tok.Scopes = scopesInto(&out.scopes, t.Scopes)
	return &out.tok
}

// storedRefreshToken validates t and returns the copy to store, with its
// times in UTC and a zero CreatedAt set to now.
func storedRefreshToken(t *oauth.RefreshToken, now func() time.Time) (*oauth.RefreshToken, error) {
	if t == nil {
		return nil, errNilRecord
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	rec := cloneRefreshToken(t)
	rec.ExpiresAt = t.ExpiresAt.UTC()
	rec.RotatedAt = t.RotatedAt.UTC()
	if t.CreatedAt.IsZero() {
		rec.CreatedAt = now()
	} else {
		rec.CreatedAt = t.CreatedAt.UTC()
	}
	return rec, nil
}

// CreateRefreshToken stores a copy of t. A zero CreatedAt is set to the
// store's current time. It returns an error wrapping oauth.ErrInvalid if t
// fails validation or its client or access token does not exist, and
// oauth.ErrDuplicate if the ID exists.
func (s *Store) CreateRefreshToken(ctx context.Context, t *oauth.RefreshToken) error {
	const op = "create refresh token"
	if err := begin(ctx, op); err != nil {
		return err
	}
	rec, err := storedRefreshToken(t, s.now)
	if err != nil {
		return fail(op, err)
	}
	// Lock order: the access token's shard, then the refresh token's.
	ash := s.access.shard(rec.AccessTokenID)
	ash.mu.Lock()
	defer ash.mu.Unlock()
	at, ok := ash.m[rec.AccessTokenID]
	if !ok {
		return fail(op, errUnknownAccess)
	}
	sh := s.refresh.shard(rec.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[rec.ID]; ok {
		return fail(op, oauth.ErrDuplicate)
	}
	if !s.clientExists(rec.ClientID) {
		return fail(op, errUnknownClient)
	}
	sh.m[rec.ID] = rec
	at.keepUntil = later(at.keepUntil, rec.ExpiresAt)
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// FindRefreshToken returns the token with that ID, expired, rotated and
// revoked ones included, or an error wrapping oauth.ErrNotFound.
func (s *Store) FindRefreshToken(ctx context.Context, id string) (*oauth.RefreshToken, error) {
	return find(ctx, "find refresh token", s.refresh, id, cloneRefreshToken)
}

// RotateRefreshToken retires the token oldID (Revoked, RotatedAt = now) and
// stores a copy of next, in one step under the locks of both records'
// shards. A zero next.CreatedAt is set to now. It returns an error wrapping
// oauth.ErrNotFound if there is no token oldID, oauth.ErrAlreadyUsed if it
// was rotated or revoked before (expired or not), oauth.ErrExpired if it
// expired at or before now, oauth.ErrInvalid if next fails validation or
// its client or access token does not exist or now is zero, and
// oauth.ErrDuplicate if next's ID exists; in each of these cases nothing is
// written.
func (s *Store) RotateRefreshToken(ctx context.Context, oldID string, next *oauth.RefreshToken, now time.Time) error {
	const op = "rotate refresh token"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if now.IsZero() {
		return fail(op, errZeroNow)
	}
	now = now.UTC()
	rec, err := storedRefreshToken(next, func() time.Time { return now })
	if err != nil {
		return fail(op, err)
	}
	ash := s.access.shard(rec.AccessTokenID)
	ash.mu.Lock()
	defer ash.mu.Unlock()
	at, ok := ash.m[rec.AccessTokenID]
	if !ok {
		return fail(op, errUnknownAccess)
	}
	// Lock both refresh shards in index order.
	i, j := s.refresh.index(oldID), s.refresh.index(rec.ID)
	if i > j {
		i, j = j, i
	}
	s.refresh.shards[i].mu.Lock()
	defer s.refresh.shards[i].mu.Unlock()
	if j != i {
		s.refresh.shards[j].mu.Lock()
		defer s.refresh.shards[j].mu.Unlock()
	}
	oldShard, nextShard := s.refresh.shard(oldID), s.refresh.shard(rec.ID)
	old, ok := oldShard.m[oldID]
	switch {
	case !ok:
		return fail(op, oauth.ErrNotFound)
	case old.Revoked:
		return fail(op, oauth.ErrAlreadyUsed)
	case !now.Before(old.ExpiresAt):
		return fail(op, oauth.ErrExpired)
	}
	if _, ok := nextShard.m[rec.ID]; ok {
		return fail(op, oauth.ErrDuplicate)
	}
	if !s.clientExists(rec.ClientID) {
		return fail(op, errUnknownClient)
	}
	old.Revoked = true
	old.RotatedAt = now
	nextShard.m[rec.ID] = rec
	at.keepUntil = later(at.keepUntil, rec.ExpiresAt)
	return nil
}

// RevokeRefreshToken marks the token revoked; revoking a revoked token
// succeeds. It returns an error wrapping oauth.ErrNotFound if there is no
// such token.
func (s *Store) RevokeRefreshToken(ctx context.Context, id string) error {
	const op = "revoke refresh token"
	if err := begin(ctx, op); err != nil {
		return err
	}
	sh := s.refresh.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t, ok := sh.m[id]
	if !ok {
		return fail(op, oauth.ErrNotFound)
	}
	t.Revoked = true
	return nil
}

// RevokeRefreshTokenFamily revokes every refresh token of the grant family
// and returns how many were not revoked before, expired ones included.
func (s *Store) RevokeRefreshTokenFamily(ctx context.Context, familyID string) (int64, error) {
	if err := begin(ctx, "revoke refresh token family"); err != nil {
		return 0, err
	}
	return s.refresh.update(func(t *oauth.RefreshToken) bool {
		if t.FamilyID != familyID || t.Revoked {
			return false
		}
		t.Revoked = true
		return true
	}), nil
}

// PurgeRefreshTokens deletes the tokens that expired before the given time
// and returns how many.
func (s *Store) PurgeRefreshTokens(ctx context.Context, before time.Time) (int64, error) {
	if err := begin(ctx, "purge refresh tokens"); err != nil {
		return 0, err
	}
	return s.refresh.sweep(func(t *oauth.RefreshToken) bool { return t.ExpiresAt.Before(before) }), nil
}
