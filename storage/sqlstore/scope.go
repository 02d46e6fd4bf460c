package sqlstore

import (
	"context"
	"fmt"

	"github.com/oauthkit/oauth"
)

// FindScopes returns the scopes among ids that exist, in the order of ids;
// ids that are unknown, or cannot be scope tokens, are left out without
// error. An id listed twice is returned once, at its first position.
func (s *Store) FindScopes(ctx context.Context, ids []string) ([]oauth.Scope, error) {
	want := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if oauth.ValidScopeToken(id) && len(id) <= oauth.MaxScopeLen && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	found := make(map[string]string, len(want))
	for len(want) > 0 {
		chunk := want[:min(len(want), maxInList)]
		want = want[len(chunk):]
		if err := s.findScopeChunk(ctx, chunk, found); err != nil {
			return nil, fmt.Errorf("sqlstore: find scopes: %w", err)
		}
	}
	var out []oauth.Scope
	for _, id := range ids {
		if d, ok := found[id]; ok {
			out = append(out, oauth.Scope{ID: id, Description: d})
			delete(found, id)
		}
	}
	return out, nil
}

func (s *Store) findScopeChunk(ctx context.Context, ids []string, found map[string]string) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.QueryxContext(ctx, s.q.findScopes[len(ids)], args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var desc nullString
		if err := rows.Scan(&id, &desc); err != nil {
			return err
		}
		found[id] = string(desc)
	}
	return rows.Err()
}

// ListScopes returns every scope, ordered by ID (byte order).
func (s *Store) ListScopes(ctx context.Context) ([]oauth.Scope, error) {
	rows, err := s.db.QueryxContext(ctx, s.q.listScopes)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list scopes: %w", err)
	}
	defer rows.Close()
	var out []oauth.Scope
	for rows.Next() {
		var sc oauth.Scope
		if err := rows.Scan(&sc.ID, (*nullString)(&sc.Description)); err != nil {
			return nil, fmt.Errorf("sqlstore: list scopes: %w", err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list scopes: %w", err)
	}
	return out, nil
}

func validateScope(sc *oauth.Scope) error {
	if sc == nil {
		return fmt.Errorf("%w: nil scope", oauth.ErrInvalid)
	}
	return sc.Validate()
}

func scopeID(sc *oauth.Scope) string {
	if sc == nil {
		return ""
	}
	return sc.ID
}

// CreateScope stores a new scope: an error wrapping oauth.ErrDuplicate if
// the ID exists, oauth.ErrInvalid if the scope fails validation.
func (s *Store) CreateScope(ctx context.Context, sc *oauth.Scope) error {
	if err := validateScope(sc); err != nil {
		return opError("create scope", scopeID(sc), err)
	}
	if _, err := s.db.ExecContext(ctx, s.q.insertScope, sc.ID, sc.Description); err != nil {
		return opError("create scope", sc.ID, translate(err, "scope"))
	}
	return nil
}

// UpdateScope replaces the scope's description: an error wrapping
// oauth.ErrNotFound if there is none.
func (s *Store) UpdateScope(ctx context.Context, sc *oauth.Scope) error {
	if err := validateScope(sc); err != nil {
		return opError("update scope", scopeID(sc), err)
	}
	res, err := s.db.ExecContext(ctx, s.q.updateScope, sc.Description, sc.ID)
	if err == nil {
		err = s.changedOrExists(ctx, s.db, res, s.q.existsScope, sc.ID)
	}
	if err != nil {
		return opError("update scope", sc.ID, translate(err, "scope"))
	}
	return nil
}

// DeleteScope deletes the scope: an error wrapping oauth.ErrNotFound if
// there is none. Clients and tokens that list it keep their lists.
func (s *Store) DeleteScope(ctx context.Context, id string) error {
	if !oauth.ValidScopeToken(id) || len(id) > oauth.MaxScopeLen {
		return opError("delete scope", id, oauth.ErrNotFound)
	}
	res, err := s.db.ExecContext(ctx, s.q.deleteScope, id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = oauth.ErrNotFound
		}
	}
	if err != nil {
		return opError("delete scope", id, translate(err, "scope"))
	}
	return nil
}
