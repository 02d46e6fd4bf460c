package memory

import (
	"context"
	"time"

	"github.com/oauthkit/oauth"
)

// cloneAccessToken returns a copy of t in one allocation when its scopes
// are few.
func cloneAccessToken(t *oauth.AccessToken) *oauth.AccessToken {
	out := &struct {
		tok    oauth.AccessToken
		scopes [inlineScopes]string
	}{tok: *t}
	out.tok.Scopes = scopesInto(&out.scopes, t.Scopes)
	return &out.tok
}

// CreateAccessToken stores a copy of t. A zero CreatedAt is set to the
// store's current time. It returns an error wrapping oauth.ErrInvalid if t
// fails validation or its client does not exist, and oauth.ErrDuplicate if
// the ID exists.
func (s *Store) CreateAccessToken(ctx context.Context, t *oauth.AccessToken) error {
	const op = "create access token"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if t == nil {
		return fail(op, errNilRecord)
	}
	if err := t.Validate(); err != nil {
		return fail(op, err)
	}
	rec := &accessRecord{tok: *t}
	rec.tok.Scopes = scopesInto(&rec.scopes, t.Scopes)
	rec.tok.ExpiresAt = t.ExpiresAt.UTC()
	if t.CreatedAt.IsZero() {
		rec.tok.CreatedAt = s.now()
	} else {
		rec.tok.CreatedAt = t.CreatedAt.UTC()
	}
	sh := s.access.shard(t.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[t.ID]; ok {
		return fail(op, oauth.ErrDuplicate)
	}
	if !s.clientExists(t.ClientID) {
		return fail(op, errUnknownClient)
	}
	sh.m[t.ID] = rec
	return nil
}

// FindAccessToken returns the token with that ID, expired and revoked ones
// included, or an error wrapping oauth.ErrNotFound.
func (s *Store) FindAccessToken(ctx context.Context, id string) (*oauth.AccessToken, error) {
	return find(ctx, "find access token", s.access, id, func(rec *accessRecord) *oauth.AccessToken { return cloneAccessToken(&rec.tok) })
}

// RevokeAccessToken marks the token revoked; revoking a revoked token
// succeeds. It returns an error wrapping oauth.ErrNotFound if there is no
// such token.
func (s *Store) RevokeAccessToken(ctx context.Context, id string) error {
	const op = "revoke access token"
	if err := begin(ctx, op); err != nil {
		return err
	}
	sh := s.access.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rec, ok := sh.m[id]
	if !ok {
		return fail(op, oauth.ErrNotFound)
	}
	rec.tok.Revoked = true
	return nil
}

// RevokeAccessTokenFamily revokes every access token of the grant family
// and returns how many were not revoked before, expired ones included.
func (s *Store) RevokeAccessTokenFamily(ctx context.Context, familyID string) (int64, error) {
	if err := begin(ctx, "revoke access token family"); err != nil {
		return 0, err
	}
	return s.access.update(func(r *accessRecord) bool {
		if r.tok.FamilyID != familyID || r.tok.Revoked {
			return false
		}
		r.tok.Revoked = true
		return true
	}), nil
}

// PurgeAccessTokens deletes the tokens that expired before the given time
// and returns how many. A token is kept while a refresh token issued with
// it (revoked or not) has not expired before that time.
func (s *Store) PurgeAccessTokens(ctx context.Context, before time.Time) (int64, error) {
	if err := begin(ctx, "purge access tokens"); err != nil {
		return 0, err
	}
	return s.access.sweep(func(r *accessRecord) bool {
		return r.tok.ExpiresAt.Before(before) && r.keepUntil.Before(before)
	}), nil
}
