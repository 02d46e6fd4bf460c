package memory

import (
	"context"
	"time"

	"github.com/oauthkit/oauth"
)

// cloneAuthCode returns a copy of c in one allocation when its scopes are
// few.
func cloneAuthCode(c *oauth.AuthCode) *oauth.AuthCode {
	out := &struct {
		code   oauth.AuthCode
		scopes [inlineScopes]string
	}{code: *c}
	out.code.Scopes = scopesInto(&out.scopes, c.Scopes)
	return &out.code
}

// CreateAuthCode stores a copy of c. A zero CreatedAt is set to the store's
// current time. It returns an error wrapping oauth.ErrInvalid if c fails
// validation or its client does not exist, and oauth.ErrDuplicate if the ID
// exists.
func (s *Store) CreateAuthCode(ctx context.Context, c *oauth.AuthCode) error {
	const op = "create auth code"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if c == nil {
		return fail(op, errNilRecord)
	}
	if err := c.Validate(); err != nil {
		return fail(op, err)
	}
	rec := cloneAuthCode(c)
	rec.ExpiresAt = c.ExpiresAt.UTC()
	if c.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	} else {
		rec.CreatedAt = c.CreatedAt.UTC()
	}
	sh := s.codes.shard(c.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[c.ID]; ok {
		return fail(op, oauth.ErrDuplicate)
	}
	if !s.clientExists(c.ClientID) {
		return fail(op, errUnknownClient)
	}
	sh.m[c.ID] = rec
	return nil
}

// FindAuthCode returns the code with that ID, expired and consumed ones
// included, or an error wrapping oauth.ErrNotFound.
func (s *Store) FindAuthCode(ctx context.Context, id string) (*oauth.AuthCode, error) {
	return find(ctx, "find auth code", s.codes, id, cloneAuthCode)
}

// ConsumeAuthCode marks the code used, under its shard's lock, and returns
// it as it was before (Revoked false). It returns an error wrapping
// oauth.ErrNotFound if there is no such code, oauth.ErrAlreadyUsed if it was
// consumed before (expired or not), and oauth.ErrExpired if it expired at or
// before now.
func (s *Store) ConsumeAuthCode(ctx context.Context, id string, now time.Time) (*oauth.AuthCode, error) {
	const op = "consume auth code"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	sh := s.codes.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c, ok := sh.m[id]
	switch {
	case !ok:
		return nil, fail(op, oauth.ErrNotFound)
	case c.Revoked:
		return nil, fail(op, oauth.ErrAlreadyUsed)
	case !now.Before(c.ExpiresAt):
		return nil, fail(op, oauth.ErrExpired)
	}
	out := cloneAuthCode(c)
	c.Revoked = true
	return out, nil
}

// PurgeAuthCodes deletes the codes that expired before the given time and
// returns how many.
func (s *Store) PurgeAuthCodes(ctx context.Context, before time.Time) (int64, error) {
	if err := begin(ctx, "purge auth codes"); err != nil {
		return 0, err
	}
	return s.codes.sweep(func(c *oauth.AuthCode) bool { return c.ExpiresAt.Before(before) }), nil
}
