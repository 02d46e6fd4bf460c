package sqlstore

import (
	"strings"

	"github.com/jmoiron/sqlx"
)

// Column lists, in the order the scan functions read them.
const (
	clientCols  = "id, secret, name, redirect_uri, is_confidential, grant_types, scopes, created_at, updated_at"
	scopeCols   = "id, description"
	accessCols  = "id, client_id, user_id, scopes, family_id, expires_at, created_at, revoked"
	refreshCols = "id, access_token_id, client_id, user_id, scopes, family_id, expires_at, created_at, revoked, rotated_at"
	authCols    = "id, client_id, user_id, scopes, family_id, redirect_uri, code_challenge, code_challenge_method, expires_at, created_at, revoked"
	deviceCols  = "id, user_code, client_id, user_id, scopes, family_id, verification_uri, verification_uri_complete, interval_seconds, last_polled_at, status, expires_at, created_at, revoked"
)

// maxInList is the largest IN list whose query is built once at
// construction; FindScopes sends longer lists in chunks of this size.
const maxInList = 64

// queries holds every statement of one dialect, built and rebound once.
// Booleans are written TRUE and FALSE, which all three dialects accept.
// Where the dialect has UPDATE … RETURNING (SQLite, PostgreSQL), the
// compare-and-set statements return the row; on MySQL they do not, and the
// row is read after the write.
type queries struct {
	returning bool

	findClient, insertClient, updateClient, existsClient, listClients string
	deleteClient                                                      [5]string

	findScopes                                    [maxInList + 1]string
	insertScope, updateScope, existsScope         string
	deleteScope, listScopes                       string
	findAccess, insertAccess, revokeAccess        string
	existsAccess, revokeAccessFamily, purgeAccess string

	findRefresh, insertRefresh, rotateRefresh, revokeRefresh string
	existsRefresh, revokeRefreshFamily, purgeRefresh         string

	findAuth, insertAuth, consumeAuth, purgeAuth string

	findDevice, findDeviceByUserCode, insertDevice, existsDevice string
	freeUserCode, pollFirst, pollNext, slowDown                  string
	approveDevice, denyDevice, redeemDevice, purgeDevice         string
}

func queriesFor(d Dialect) *queries {
	var bind int
	switch d {
	case Postgres:
		bind = sqlx.DOLLAR
	default:
		bind = sqlx.QUESTION
	}
	returning := d != MySQL
	ret := func(cols string) string {
		if returning {
			return " RETURNING " + cols
		}
		return ""
	}
	q := &queries{
		returning: returning,

		findClient:   "SELECT " + clientCols + " FROM oauth_clients WHERE id = ?",
		insertClient: "INSERT INTO oauth_clients (" + clientCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		updateClient: "UPDATE oauth_clients SET secret = ?, name = ?, redirect_uri = ?, is_confidential = ?, grant_types = ?, scopes = ?, updated_at = ? WHERE id = ?",
		existsClient: "SELECT 1 FROM oauth_clients WHERE id = ?",
		listClients:  "SELECT " + clientCols + " FROM oauth_clients ORDER BY id",
		// Children first, so that deletion does not depend on ON DELETE
		// CASCADE (a SQLite connection without foreign_keys=on).
		deleteClient: [5]string{
			"DELETE FROM oauth_refresh_tokens WHERE client_id = ?",
			"DELETE FROM oauth_access_tokens WHERE client_id = ?",
			"DELETE FROM oauth_auth_codes WHERE client_id = ?",
			"DELETE FROM oauth_device_codes WHERE client_id = ?",
			"DELETE FROM oauth_clients WHERE id = ?",
		},

		insertScope: "INSERT INTO oauth_scopes (" + scopeCols + ") VALUES (?, ?)",
		updateScope: "UPDATE oauth_scopes SET description = ? WHERE id = ?",
		existsScope: "SELECT 1 FROM oauth_scopes WHERE id = ?",
		deleteScope: "DELETE FROM oauth_scopes WHERE id = ?",
		listScopes:  "SELECT " + scopeCols + " FROM oauth_scopes ORDER BY id",

		findAccess:         "SELECT " + accessCols + " FROM oauth_access_tokens WHERE id = ?",
		insertAccess:       "INSERT INTO oauth_access_tokens (" + accessCols + ", updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		revokeAccess:       "UPDATE oauth_access_tokens SET revoked = TRUE, updated_at = ? WHERE id = ? AND revoked = FALSE",
		existsAccess:       "SELECT 1 FROM oauth_access_tokens WHERE id = ?",
		revokeAccessFamily: "UPDATE oauth_access_tokens SET revoked = TRUE, updated_at = ? WHERE family_id = ? AND revoked = FALSE",
		// An access token that an unexpired refresh token refers to stays,
		// revoked or not: the foreign key from refresh tokens cascades, and
		// would delete a rotated refresh token that reuse detection needs.
		purgeAccess: "DELETE FROM oauth_access_tokens WHERE expires_at < ? AND NOT EXISTS (" +
			"SELECT 1 FROM oauth_refresh_tokens r WHERE r.access_token_id = oauth_access_tokens.id" +
			" AND r.expires_at >= ?)",

		findRefresh:         "SELECT " + refreshCols + " FROM oauth_refresh_tokens WHERE id = ?",
		insertRefresh:       "INSERT INTO oauth_refresh_tokens (" + refreshCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		rotateRefresh:       "UPDATE oauth_refresh_tokens SET revoked = TRUE, rotated_at = ? WHERE id = ? AND revoked = FALSE AND expires_at > ?",
		revokeRefresh:       "UPDATE oauth_refresh_tokens SET revoked = TRUE WHERE id = ? AND revoked = FALSE",
		existsRefresh:       "SELECT 1 FROM oauth_refresh_tokens WHERE id = ?",
		revokeRefreshFamily: "UPDATE oauth_refresh_tokens SET revoked = TRUE WHERE family_id = ? AND revoked = FALSE",
		purgeRefresh:        "DELETE FROM oauth_refresh_tokens WHERE expires_at < ?",

		findAuth:    "SELECT " + authCols + " FROM oauth_auth_codes WHERE id = ?",
		insertAuth:  "INSERT INTO oauth_auth_codes (" + authCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		consumeAuth: "UPDATE oauth_auth_codes SET revoked = TRUE WHERE id = ? AND revoked = FALSE AND expires_at > ?" + ret(authCols),
		purgeAuth:   "DELETE FROM oauth_auth_codes WHERE expires_at < ?",

		findDevice: "SELECT " + deviceCols + " FROM oauth_device_codes WHERE id = ?",
		// The live code, if any, expires last.
		findDeviceByUserCode: "SELECT " + deviceCols + " FROM oauth_device_codes WHERE user_code = ? ORDER BY expires_at DESC LIMIT 1",
		insertDevice:         "INSERT INTO oauth_device_codes (" + deviceCols + ", user_code_slot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		existsDevice:         "SELECT 1 FROM oauth_device_codes WHERE id = ?",
		freeUserCode:         "UPDATE oauth_device_codes SET user_code_slot = NULL WHERE user_code_slot = ? AND expires_at <= ?",
		pollFirst:            "UPDATE oauth_device_codes SET last_polled_at = ? WHERE id = ? AND last_polled_at IS NULL AND expires_at > ?" + ret(deviceCols),
		pollNext:             "UPDATE oauth_device_codes SET last_polled_at = ? WHERE id = ? AND last_polled_at = ? AND expires_at > ?" + ret(deviceCols),
		slowDown: "UPDATE oauth_device_codes SET last_polled_at = ?, interval_seconds = CASE WHEN interval_seconds < 86395" +
			" THEN interval_seconds + 5 ELSE 86400 END WHERE id = ? AND expires_at > ?" + ret(deviceCols),
		approveDevice: "UPDATE oauth_device_codes SET status = 'approved', user_id = ?, scopes = ?" +
			" WHERE id = ? AND status = 'pending' AND revoked = FALSE AND expires_at > ?",
		denyDevice: "UPDATE oauth_device_codes SET status = 'denied', user_id = ?" +
			" WHERE id = ? AND status = 'pending' AND revoked = FALSE AND expires_at > ?",
		redeemDevice: "UPDATE oauth_device_codes SET revoked = TRUE WHERE id = ? AND status = 'approved' AND revoked = FALSE AND expires_at > ?" + ret(deviceCols),
		purgeDevice:  "DELETE FROM oauth_device_codes WHERE expires_at < ?",
	}
	for n := 1; n <= maxInList; n++ {
		q.findScopes[n] = inQuery("SELECT "+scopeCols+" FROM oauth_scopes WHERE id IN ", n)
	}

	rebind := func(s *string) { *s = sqlx.Rebind(bind, *s) }
	for _, s := range []*string{
		&q.findClient, &q.insertClient, &q.updateClient, &q.existsClient,
		&q.insertScope, &q.updateScope, &q.existsScope, &q.deleteScope,
		&q.findAccess, &q.insertAccess, &q.revokeAccess, &q.existsAccess, &q.revokeAccessFamily, &q.purgeAccess,
		&q.findRefresh, &q.insertRefresh, &q.rotateRefresh, &q.revokeRefresh, &q.existsRefresh, &q.revokeRefreshFamily, &q.purgeRefresh,
		&q.findAuth, &q.insertAuth, &q.consumeAuth, &q.purgeAuth,
		&q.findDevice, &q.findDeviceByUserCode, &q.insertDevice, &q.existsDevice, &q.freeUserCode,
		&q.pollFirst, &q.pollNext, &q.slowDown, &q.approveDevice, &q.denyDevice, &q.redeemDevice, &q.purgeDevice,
	} {
		rebind(s)
	}
	for i := range q.deleteClient {
		rebind(&q.deleteClient[i])
	}
	for i := range q.findScopes {
		rebind(&q.findScopes[i])
	}
	return q
}

// inQuery appends an IN list of n placeholders to prefix.
func inQuery(prefix string, n int) string {
	var b strings.Builder
	b.Grow(len(prefix) + 3*n + 2)
	b.WriteString(prefix)
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('?')
	}
	b.WriteByte(')')
	return b.String()
}
