package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/oauthkit/oauth"
)

func cloneClient(c *oauth.Client) *oauth.Client {
	out := *c
	out.RedirectURIs = cloneStrings(c.RedirectURIs)
	out.GrantTypes = cloneStrings(c.GrantTypes)
	out.Scopes = cloneStrings(c.Scopes)
	out.CreatedAt = c.CreatedAt.UTC()
	out.UpdatedAt = c.UpdatedAt.UTC()
	return &out
}

// FindClient returns the client with that ID, or an error wrapping
// oauth.ErrNotFound.
func (s *Store) FindClient(ctx context.Context, id string) (*oauth.Client, error) {
	return find(ctx, "find client", s.clients, id, cloneClient)
}

// CreateClient stores a copy of c. Zero CreatedAt and UpdatedAt are set to
// the store's current time. It returns an error wrapping oauth.ErrInvalid if
// c fails validation and oauth.ErrDuplicate if the ID exists.
func (s *Store) CreateClient(ctx context.Context, c *oauth.Client) error {
	const op = "create client"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if c == nil {
		return fail(op, errNilRecord)
	}
	if err := c.Validate(); err != nil {
		return fail(op, err)
	}
	rec := cloneClient(c)
	if rec.CreatedAt.IsZero() || rec.UpdatedAt.IsZero() {
		now := s.now()
		if rec.CreatedAt.IsZero() {
			rec.CreatedAt = now
		}
		if rec.UpdatedAt.IsZero() {
			rec.UpdatedAt = now
		}
	}
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	sh := s.clients.shard(rec.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[rec.ID]; ok {
		return fail(op, oauth.ErrDuplicate)
	}
	sh.m[rec.ID] = rec
	return nil
}

// UpdateClient replaces every field of the stored client with c.ID but
// CreatedAt. A zero UpdatedAt is set to the store's current time. It
// returns an error wrapping oauth.ErrInvalid if c fails validation and
// oauth.ErrNotFound if there is no such client.
func (s *Store) UpdateClient(ctx context.Context, c *oauth.Client) error {
	const op = "update client"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if c == nil {
		return fail(op, errNilRecord)
	}
	if err := c.Validate(); err != nil {
		return fail(op, err)
	}
	rec := cloneClient(c)
	if rec.UpdatedAt.IsZero() {
		rec.UpdatedAt = s.now()
	}
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	sh := s.clients.shard(rec.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old, ok := sh.m[rec.ID]
	if !ok {
		return fail(op, oauth.ErrNotFound)
	}
	rec.CreatedAt = old.CreatedAt
	sh.m[rec.ID] = rec
	return nil
}

// DeleteClient deletes the client and every access token, refresh token,
// authorization code and device code issued to it. It returns an error
// wrapping oauth.ErrNotFound if there is no such client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	const op = "delete client"
	if err := begin(ctx, op); err != nil {
		return err
	}
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	sh := s.clients.shard(id)
	sh.mu.Lock()
	_, ok := sh.m[id]
	delete(sh.m, id)
	sh.mu.Unlock()
	if !ok {
		return fail(op, oauth.ErrNotFound)
	}
	// The client is gone: every create of a record for it, which checks the
	// client under the lock of the shard it writes, now fails; sweep what
	// was written before.
	s.access.sweep(func(r *accessRecord) bool { return r.tok.ClientID == id })
	s.refresh.sweep(func(r *oauth.RefreshToken) bool { return r.ClientID == id })
	s.codes.sweep(func(r *oauth.AuthCode) bool { return r.ClientID == id })
	s.deviceMu.Lock()
	defer s.deviceMu.Unlock()
	for did, d := range s.devices {
		if d.ClientID == id {
			s.deleteDeviceLocked(did, d.UserCode)
		}
	}
	return nil
}

// ListClients returns every client, ordered by ID.
func (s *Store) ListClients(ctx context.Context) ([]oauth.Client, error) {
	if err := begin(ctx, "list clients"); err != nil {
		return nil, err
	}
	var out []oauth.Client
	for i := range s.clients.shards {
		sh := &s.clients.shards[i]
		sh.mu.RLock()
		for _, c := range sh.m {
			out = append(out, *cloneClient(c))
		}
		sh.mu.RUnlock()
	}
	slices.SortFunc(out, func(a, b oauth.Client) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
