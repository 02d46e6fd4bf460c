package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/oauthkit/oauth"
)

// FindScopes returns the stored scopes among ids, in the order of ids, each
// once (at its first position); unknown ids are left out without error.
func (s *Store) FindScopes(ctx context.Context, ids []string) ([]oauth.Scope, error) {
	if err := begin(ctx, "find scopes"); err != nil {
		return nil, err
	}
	out := make([]oauth.Scope, 0, len(ids))
	s.scopeMu.RLock()
	defer s.scopeMu.RUnlock()
	for _, id := range ids {
		sc, ok := s.scopes[id]
		if !ok || slices.ContainsFunc(out, func(o oauth.Scope) bool { return o.ID == id }) {
			continue
		}
		out = append(out, sc)
	}
	return out, nil
}

// ListScopes returns every scope, ordered by ID.
func (s *Store) ListScopes(ctx context.Context) ([]oauth.Scope, error) {
	if err := begin(ctx, "list scopes"); err != nil {
		return nil, err
	}
	s.scopeMu.RLock()
	out := make([]oauth.Scope, 0, len(s.scopes))
	for _, sc := range s.scopes {
		out = append(out, sc)
	}
	s.scopeMu.RUnlock()
	slices.SortFunc(out, func(a, b oauth.Scope) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// CreateScope stores a copy of sc. It returns an error wrapping
// oauth.ErrInvalid if sc fails validation and oauth.ErrDuplicate if the ID
// exists.
func (s *Store) CreateScope(ctx context.Context, sc *oauth.Scope) error {
	const op = "create scope"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if sc == nil {
		return fail(op, errNilRecord)
	}
	if err := sc.Validate(); err != nil {
		return fail(op, err)
	}
	s.scopeMu.Lock()
	defer s.scopeMu.Unlock()
	if _, ok := s.scopes[sc.ID]; ok {
		return fail(op, oauth.ErrDuplicate)
	}
	s.scopes[sc.ID] = *sc
	return nil
}

// UpdateScope replaces the description of the scope sc.ID. It returns an
// error wrapping oauth.ErrInvalid if sc fails validation and
// oauth.ErrNotFound if there is no such scope.
func (s *Store) UpdateScope(ctx context.Context, sc *oauth.Scope) error {
	const op = "update scope"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if sc == nil {
		return fail(op, errNilRecord)
	}
	if err := sc.Validate(); err != nil {
		return fail(op, err)
	}
	s.scopeMu.Lock()
	defer s.scopeMu.Unlock()
	if _, ok := s.scopes[sc.ID]; !ok {
		return fail(op, oauth.ErrNotFound)
	}
	s.scopes[sc.ID] = *sc
	return nil
}

// DeleteScope deletes the scope. It returns an error wrapping
// oauth.ErrNotFound if there is no such scope.
func (s *Store) DeleteScope(ctx context.Context, id string) error {
	const op = "delete scope"
	if err := begin(ctx, op); err != nil {
		return err
	}
	s.scopeMu.Lock()
	defer s.scopeMu.Unlock()
	if _, ok := s.scopes[id]; !ok {
		return fail(op, oauth.ErrNotFound)
	}
	delete(s.scopes, id)
	return nil
}
