// Package memory is a complete in-memory implementation of every repository
// of package oauth: clients and their administration, scopes and their
// administration, access tokens, refresh tokens, authorization codes and
// device codes, all in one [Store].
//
// It suits tests, examples and single-process hosts; records live in process
// memory and are lost when the process exits.
//
// A Store is safe for concurrent use and has no global lock. Clients, access
// tokens, refresh tokens and authorization codes are each spread over shards
// with a read-write lock apiece, so that the token endpoint's creates and
// finds on different records do not contend; scopes and device codes each
// have one read-write lock. The single-use operations (ConsumeAuthCode,
// RotateRefreshToken, RedeemDeviceCode, the device-code decisions and polls)
// are a compare-and-set under the record's lock, so exactly one of many
// concurrent callers wins.
//
// Every record passed in is validated with its Validate method and copied;
// every record returned is a copy, which the caller may change freely.
// Times are stored in UTC.
package memory

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/oauthkit/oauth"
)

// Compile-time checks that a Store implements every repository.
var (
	_ oauth.ClientRepository       = (*Store)(nil)
	_ oauth.ClientAdmin            = (*Store)(nil)
	_ oauth.ScopeRepository        = (*Store)(nil)
	_ oauth.ScopeAdmin             = (*Store)(nil)
	_ oauth.AccessTokenRepository  = (*Store)(nil)
	_ oauth.RefreshTokenRepository = (*Store)(nil)
	_ oauth.AuthCodeRepository     = (*Store)(nil)
	_ oauth.DeviceCodeRepository   = (*Store)(nil)
)

// Store holds every kind of record in memory. Create one with [New]; the
// zero value is not usable.
type Store struct {
	// Now returns the current time. The store uses it for the CreatedAt
	// and UpdatedAt a record is given when they are zero, and for the
	// live-user-code check of CreateDeviceCode when CreatedAt is zero.
	// Nil means time.Now. Set it before the store is first used.
	Now func() time.Time

	// clientMu serializes client writes, so that DeleteClient's sweep of
	// the client's tokens completes before a client with the same ID can
	// be created again.
	clientMu sync.Mutex
	clients  *table[oauth.Client]

	scopeMu sync.RWMutex
	scopes  map[string]oauth.Scope

	access  *table[accessRecord]
	refresh *table[oauth.RefreshToken]
	codes   *table[oauth.AuthCode]

	deviceMu sync.RWMutex
	devices  map[string]*oauth.DeviceCode
	// userCodes maps a user code to the IDs of the device codes that
	// carry it: at most one live, any number expired.
	userCodes map[string][]string
}

// accessRecord is a stored access token and the latest expiry of the
// refresh tokens issued with it: PurgeAccessTokens keeps the token while any
// of them has not expired.
type accessRecord struct {
	tok       oauth.AccessToken
	keepUntil time.Time
	scopes    [inlineScopes]string
}

// New returns an empty store.
func New() *Store {
	return &Store{
		clients:   newTable[oauth.Client](),
		scopes:    make(map[string]oauth.Scope),
		access:    newTable[accessRecord](),
		refresh:   newTable[oauth.RefreshToken](),
		codes:     newTable[oauth.AuthCode](),
		devices:   make(map[string]*oauth.DeviceCode),
		userCodes: make(map[string][]string),
	}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// clientExists reports whether a client with that ID is stored. Callers
// hold the lock of the shard they are about to write, so that DeleteClient,
// which removes the client before sweeping each shard, either sees their
// record in its sweep or makes them see the client gone.
func (s *Store) clientExists(id string) bool {
	sh := s.clients.shard(id)
	sh.mu.RLock()
	_, ok := sh.m[id]
	sh.mu.RUnlock()
	return ok
}

// find returns the copy that clone makes of the record with that ID in t,
// made under its shard's read lock, or an error wrapping oauth.ErrNotFound.
func find[T, R any](ctx context.Context, op string, t *table[T], id string, clone func(*T) *R) (*R, error) {
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	sh := t.shard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	rec, ok := sh.m[id]
	if !ok {
		return nil, fail(op, oauth.ErrNotFound)
	}
	return clone(rec), nil
}

// shardCount is the number of shards of a table, a power of two.
const shardCount = 32

// shard is one lock and the records it guards.
type shard[T any] struct {
	mu sync.RWMutex
	m  map[string]*T
	// Padding keeps neighbouring shards' locks off one cache line.
	_ [32]byte
}

// table is a map from ID to record, sharded by a hash of the ID.
type table[T any] struct {
	seed   maphash.Seed
	shards [shardCount]shard[T]
}

func newTable[T any]() *table[T] {
	t := &table[T]{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*T)
	}
	return t
}

func (t *table[T]) index(id string) int {
	return int(maphash.String(t.seed, id) & (shardCount - 1))
}

func (t *table[T]) shard(id string) *shard[T] { return &t.shards[t.index(id)] }

// sweep deletes, shard by shard, every record for which del returns true,
// and returns how many it deleted.
func (t *table[T]) sweep(del func(*T) bool) int64 {
	var n int64
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for id, r := range sh.m {
			if del(r) {
				delete(sh.m, id)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// update calls fn, shard by shard, on every record under the shard's write
// lock and returns how many calls returned true.
func (t *table[T]) update(fn func(*T) bool) int64 {
	var n int64
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, r := range sh.m {
			if fn(r) {
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// opError is an error of one store operation: "memory: op: cause".
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return "memory: " + e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func fail(op string, err error) error { return &opError{op: op, err: err} }

// Causes the store adds to the root package's sentinel errors.
var (
	errNilRecord     = because(oauth.ErrInvalid, "record is nil")
	errUnknownClient = because(oauth.ErrInvalid, "unknown client")
	errUnknownAccess = because(oauth.ErrInvalid, "unknown access token")
	errZeroNow       = because(oauth.ErrInvalid, "the current time is zero")
	errNoUser        = because(oauth.ErrInvalid, "user id is empty")
	errLiveUserCode  = because(oauth.ErrDuplicate, "a live device code has that user code")
)

// cause is a sentinel error with a detail: "sentinel: msg".
type cause struct {
	sentinel error
	msg      string
}

func because(sentinel error, msg string) error { return &cause{sentinel: sentinel, msg: msg} }

func (e *cause) Error() string { return e.sentinel.Error() + ": " + e.msg }
func (e *cause) Unwrap() error { return e.sentinel }

// begin returns the context's error, wrapped for op, if it is done.
func begin(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fail(op, err)
	}
	return nil
}

// inlineScopes is how many scopes a copied record carries in the same
// allocation as the record itself; longer lists get their own.
const inlineScopes = 4

// scopesInto copies scopes into buf when they fit, else into a new slice.
// The result's capacity is its length, so an append by the caller never
// writes into buf's neighbours.
func scopesInto(buf *[inlineScopes]string, scopes []string) []string {
	if len(scopes) == 0 {
		return nil
	}
	if len(scopes) <= inlineScopes {
		n := copy(buf[:], scopes)
		return buf[:n:n]
	}
	return slices.Clone(scopes)
}

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
