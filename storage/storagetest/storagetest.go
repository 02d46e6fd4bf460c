// Package storagetest is the conformance suite for implementations of the
// oauth repository interfaces. A backend — this module's or a host's own —
// passes it with one call:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storagetest.Store { return newEmptyStore(t) })
//	}
//
// The suite checks every method of every repository against its doc
// comment in package oauth: that every field of every record round-trips,
// the errors a missing, expired, used, duplicate or invalid record returns
// (with errors.Is), lookups by hash and by user code, grant-family
// revocation, refresh-token rotation, device-code polling and decisions,
// purging, client and scope administration, exactly one winner among 100
// goroutines racing for each single-use operation, and that a cancelled
// context fails a call.
//
// The suite is deterministic: it sleeps nowhere and passes explicit times to
// the methods that take one. Its times are microsecond-precise (the
// repository rules promise no more) and compared with time.Time.Equal; nil
// and empty slices compare equal, order counts.
//
// # Decisions where the interface docs leave room
//
// Where a doc comment is silent or ambiguous the suite decides, and says so
// in a comment beside the check. In short:
//
//   - Record IDs are exact: lookups are case-sensitive ("Client" is not
//     "client"); a Find with an empty or over-long ID is ErrNotFound.
//   - When a single-use record is both used and expired, ErrAlreadyUsed wins
//     (as ConsumeAuthCode's doc says) for RotateRefreshToken, the device-code
//     decisions and RedeemDeviceCode; for RedeemDeviceCode ErrExpired wins
//     over ErrNotApproved.
//   - A refresh token whose access token is not stored is invalid
//     (ErrInvalid), on Create and as the next token of a rotation.
//   - The family revocations count the tokens that were not revoked, expired
//     ones included (the methods take no time to judge expiry by).
//   - Purges delete records whose expiry is strictly before the cutoff. An
//     access token is kept while a refresh token referring to it has not
//     expired at the cutoff, even a revoked or rotated one: rotated refresh
//     tokens are kept for reuse detection, and a database's ON DELETE
//     CASCADE would delete them with their access token.
//   - Every poll of a device code sets LastPolledAt, a too-fast one too, so
//     the next poll must wait the grown interval from the too-fast one; each
//     too-fast poll, a racing one included, adds exactly 5 seconds.
//   - RedeemDeviceCode returns the record as after the redemption (Revoked
//     true); ConsumeAuthCode, as its doc says, as before it.
//   - ApproveDeviceCode and DenyDeviceCode require a user ID and valid
//     scopes (ErrInvalid otherwise); DenyDeviceCode keeps the scopes.
//   - FindScopes returns each scope once, at its first position in ids; an
//     empty ids is an empty result.
//   - FindDeviceCodeByUserCode returns an expired code when it is the only
//     one with that user code.
//   - A cancelled context fails every method with an error wrapping
//     context.Canceled, and a write under it writes nothing.
//
// Each leaf subtest opens a fresh store and none runs in parallel, so open
// may reuse one database it empties each time.
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
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					c.fn(newHarness(t, open(t)))
				})
			}
		})
	}
}

// group is a named set of cases; each case gets a fresh store.
type group struct {
	name  string
	cases []testCase
}

type testCase struct {
	name string
	fn   func(h *harness)
}

func groups() []group {
	return []group{
		{"Clients", clientCases()},
		{"Scopes", scopeCases()},
		{"AccessTokens", accessTokenCases()},
		{"RefreshTokens", refreshTokenCases()},
		{"AuthCodes", authCodeCases()},
		{"DeviceCodes", deviceCodeCases()},
		{"Purge", purgeCases()},
		{"Invalid", invalidCases()},
		{"Limits", limitCases()},
		{"Copies", copyCases()},
		{"Races", raceCases()},
		{"Context", contextCases()},
	}
}
