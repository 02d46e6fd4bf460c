package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"github.com/oauthkit/oauth"
)

// userStore is the host's own user store: the library knows users only by
// the IDs the host hands it. Passwords are kept as bcrypt hashes.
type userStore struct {
	db *sqlx.DB
	// dummyHash is compared against when a username is unknown, so that a
	// wrong username takes as long as a wrong password. It is made on
	// first use: a bcrypt that commands and most starts do not need.
	dummyHash func() []byte
}

// Compile-time check: the user store serves the password grant's hook.
var _ oauth.UserAuthenticator = (*userStore)(nil)

func newUserStore(db *sqlx.DB) *userStore {
	return &userStore{db: db, dummyHash: sync.OnceValue(func() []byte {
		h, err := bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcrypt.DefaultCost)
		if err != nil {
			panic(err) // only fails for passwords over 72 bytes
		}
		return h
	})}
}

const (
	minPasswordLen = 8
	maxUsernameLen = 64
)

var errUserExists = errors.New("user already exists")

// validUsername allows 1 to 64 letters, digits and . _ @ + -.
func validUsername(u string) bool {
	if u == "" || len(u) > maxUsernameLen {
		return false
	}
	for _, r := range u {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("._@+-", r):
		default:
			return false
		}
	}
	return true
}

// create adds a user and returns its ID; errUserExists if the name is taken.
func (s *userStore) create(ctx context.Context, username, password string) (string, error) {
	if !validUsername(username) {
		return "", fmt.Errorf("username %q is not valid: use 1 to %d letters, digits and . _ @ + -", username, maxUsernameLen)
	}
	if len(password) < minPasswordLen {
		return "", fmt.Errorf("password is shorter than %d characters", minPasswordLen)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return "", errors.New("password is longer than 72 bytes")
	}
	if err != nil {
		return "", err
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := "u-" + hex.EncodeToString(b)
	// The unique index on username decides between two creations of one name.
	_, err = s.db.ExecContext(ctx, s.db.Rebind(
		`INSERT INTO example_users (id, username, password_hash, created_at) VALUES (?, ?, ?, ?)`),
		id, username, string(hash), time.Now().Unix())
	if err != nil {
		if s.exists(ctx, username) {
			return "", fmt.Errorf("%w: %s", errUserExists, username)
		}
		return "", fmt.Errorf("create user: %w", err)
	}
	return id, nil
}

func (s *userStore) exists(ctx context.Context, username string) bool {
	var n int
	err := s.db.QueryRowxContext(ctx, s.db.Rebind(`SELECT COUNT(*) FROM example_users WHERE username = ?`), username).Scan(&n)
	return err == nil && n > 0
}

// count returns how many users there are.
func (s *userStore) count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowxContext(ctx, `SELECT COUNT(*) FROM example_users`).Scan(&n)
	return n, err
}

// AuthenticateUser checks a username and password and returns the user's
// ID, or an error wrapping oauth.ErrNotFound when either is wrong.
func (s *userStore) AuthenticateUser(ctx context.Context, username, password string) (string, error) {
	var id, hash string
	err := sql.ErrNoRows
	if validUsername(username) {
		err = s.db.QueryRowxContext(ctx, s.db.Rebind(
			`SELECT id, password_hash FROM example_users WHERE username = ?`), username).Scan(&id, &hash)
	}
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return "", fmt.Errorf("authenticate: %w", oauth.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", fmt.Errorf("authenticate: %w", oauth.ErrNotFound)
	}
	return id, nil
}

// username returns the name of the user with that ID.
func (s *userStore) username(ctx context.Context, id string) (string, error) {
	var name string
	err := s.db.QueryRowxContext(ctx, s.db.Rebind(`SELECT username FROM example_users WHERE id = ?`), id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", oauth.ErrNotFound
	}
	return name, err
}
