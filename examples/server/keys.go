package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/oauthkit/oauth/storage/sqlstore"
	"github.com/oauthkit/oauth/tokens"
)

// keyStore persists the server's signing key set in example_signing_keys:
// one row (id 1) holding the set as tokens.KeySet.MarshalJSON writes it,
// with a version that every change increments. Every instance using the
// database shares that one set.
type keyStore struct {
	db      *sqlx.DB
	dialect sqlstore.Dialect
}

var errNoKeySet = errors.New("no key set stored")

// load returns the stored set and its version, or errNoKeySet.
func (k *keyStore) load(ctx context.Context) (data []byte, version int64, err error) {
	var s string
	err = k.db.QueryRowxContext(ctx, `SELECT key_set, version FROM example_signing_keys WHERE id = 1`).Scan(&s, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, errNoKeySet
	}
	if err != nil {
		return nil, 0, fmt.Errorf("load signing keys: %w", err)
	}
	return []byte(s), version, nil
}

// insert stores data as version 1 unless a set is already stored, in which
// case it does nothing: of several instances starting at once on an empty
// database, the first insert wins and the others lose without error.
func (k *keyStore) insert(ctx context.Context, data []byte) error {
	var q string
	switch k.dialect {
	case sqlstore.MySQL:
		q = `INSERT INTO example_signing_keys (id, key_set, version, updated_at) VALUES (1, ?, 1, ?)
			ON DUPLICATE KEY UPDATE id = id`
	default: // SQLite ≥ 3.24 and PostgreSQL
		q = `INSERT INTO example_signing_keys (id, key_set, version, updated_at) VALUES (1, ?, 1, ?)
			ON CONFLICT (id) DO NOTHING`
	}
	_, err := k.db.ExecContext(ctx, k.db.Rebind(q), string(data), time.Now().Unix())
	if err != nil {
		return fmt.Errorf("store signing keys: %w", err)
	}
	return nil
}

// update replaces the set if it is still at version; it reports whether it
// did (false: another process changed it first).
func (k *keyStore) update(ctx context.Context, data []byte, version int64) (bool, error) {
	res, err := k.db.ExecContext(ctx, k.db.Rebind(
		`UPDATE example_signing_keys SET key_set = ?, version = version + 1, updated_at = ? WHERE id = 1 AND version = ?`),
		string(data), time.Now().Unix(), version)
	if err != nil {
		return false, fmt.Errorf("update signing keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("update signing keys: %w", err)
	}
	return n == 1, nil
}

// loadOrCreate returns the stored key set, generating and storing one for
// alg when the database has none.
func (k *keyStore) loadOrCreate(ctx context.Context, alg string) (*tokens.KeySet, int64, error) {
	data, version, err := k.load(ctx)
	if errors.Is(err, errNoKeySet) {
		ks, gerr := tokens.GenerateKeySet(alg)
		if gerr != nil {
			return nil, 0, gerr
		}
		fresh, merr := ks.MarshalJSON()
		if merr != nil {
			return nil, 0, merr
		}
		if err := k.insert(ctx, fresh); err != nil {
			return nil, 0, err
		}
		// Read back: another instance may have won the insert.
		data, version, err = k.load(ctx)
	}
	if err != nil {
		return nil, 0, err
	}
	ks := new(tokens.KeySet)
	if err := ks.UnmarshalJSON(data); err != nil {
		return nil, 0, err
	}
	return ks, version, nil
}

// rotate adds a new key to the stored set (see tokens.KeySet.Rotate) with
// an optimistic compare-and-set on the version, retrying if another
// process changed the set meanwhile. It returns the new key's kid.
func (k *keyStore) rotate(ctx context.Context, alg string, publishAhead, retain time.Duration) (string, error) {
	for range 5 {
		data, version, err := k.load(ctx)
		if err != nil {
			return "", err
		}
		ks := new(tokens.KeySet)
		if err := ks.UnmarshalJSON(data); err != nil {
			return "", err
		}
		kid, err := ks.Rotate(alg, publishAhead, retain)
		if err != nil {
			return "", err
		}
		next, err := ks.MarshalJSON()
		if err != nil {
			return "", err
		}
		ok, err := k.update(ctx, next, version)
		if err != nil {
			return "", err
		}
		if ok {
			return kid, nil
		}
	}
	return "", errors.New("rotate signing keys: the key set keeps changing under us; try again")
}

// keyInfo describes one key of a stored set, for keys list.
type keyInfo struct {
	Kid       string
	Alg       string
	Activates time.Time
	Expires   time.Time
}

// describeKeys reads the documented persisted form of a key set
// ({"keys":[{"jwk":{…},"activates":…,"expires":…}]}) without the private
// parts, ordered by activation.
func describeKeys(data []byte) ([]keyInfo, error) {
	var set struct {
		Keys []struct {
			JWK struct {
				Kid string `json:"kid"`
				Alg string `json:"alg"`
			} `json:"jwk"`
			Activates time.Time `json:"activates"`
			Expires   time.Time `json:"expires"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("read key set: %w", err)
	}
	out := make([]keyInfo, 0, len(set.Keys))
	for _, k := range set.Keys {
		out = append(out, keyInfo{Kid: k.JWK.Kid, Alg: k.JWK.Alg, Activates: k.Activates, Expires: k.Expires})
	}
	slices.SortStableFunc(out, func(a, b keyInfo) int { return a.Activates.Compare(b.Activates) })
	return out, nil
}

// reloadKeys re-reads the stored set every interval and, when its version
// changed (keys rotate, run by an administrator or another instance),
// replaces the keys of ks in place, so that the JWKS and the signer follow.
// It returns when ctx ends.
func (k *keyStore) reloadKeys(ctx context.Context, ks *tokens.KeySet, version int64, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, v, err := k.load(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("reload signing keys", "err", err)
			}
			continue
		}
		if v == version {
			continue
		}
		if err := ks.UnmarshalJSON(data); err != nil {
			log.Error("reload signing keys", "err", err)
			continue
		}
		version = v
		kid, _ := ks.SigningKey()
		log.Info("signing keys reloaded", "version", v, "signing_kid", kid)
	}
}
