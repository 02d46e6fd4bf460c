package oauth

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Client is an application registered to use the authorization server.
type Client struct {
	// ID is the client_id, at most 80 bytes.
	ID string
	// SecretHash is the stored form of the client secret (see [HashSecret]
	// and [GenerateSecret]); empty for a public client.
	SecretHash string
	// Name is shown to users on consent and device pages; at most 255 bytes.
	Name string
	// RedirectURIs are the registered redirection endpoints, compared by
	// exact string equality (with the loopback exception of RFC 8252 §7.3).
	RedirectURIs []string
	// Confidential clients authenticate with a secret; public ones do not.
	Confidential bool
	// GrantTypes lists the grants the client may use (GrantAuthorizationCode,
	// GrantRefreshToken, …). A grant not listed is refused with
	// unauthorized_client.
	GrantTypes []string
	// Scopes lists the scopes the client may request; a request that omits
	// scope receives all of them.
	Scopes []string
	// CreatedAt and UpdatedAt are set by the repository when zero.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Public reports whether the client is a public client (no secret).
func (c *Client) Public() bool { return !c.Confidential }

// AllowsGrant reports whether the client may use the grant type.
func (c *Client) AllowsGrant(grantType string) bool {
	return slices.Contains(c.GrantTypes, grantType)
}

// AllowsScope reports whether the client may request the scope.
func (c *Client) AllowsScope(scope string) bool {
	return slices.Contains(c.Scopes, scope)
}

// Validate reports whether the client can be stored: a non-empty ID within
// its length, a name, redirect URIs and scopes free of whitespace, a secret
// hash for a confidential client. It returns an error wrapping [ErrInvalid].
func (c *Client) Validate() error {
	if err := checkID("client id", c.ID, MaxClientIDLen); err != nil {
		return err
	}
	if err := checkText("client name", c.Name, MaxNameLen); err != nil {
		return err
	}
	if c.Name == "" {
		return invalid("client name is empty")
	}
	if len(c.SecretHash) > MaxSecretHashLen {
		return invalid("client secret hash is too long")
	}
	if c.Confidential && c.SecretHash == "" {
		return invalid("confidential client has no secret")
	}
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return err
		}
	}
	for _, g := range c.GrantTypes {
		if err := checkToken("grant type", g, MaxScopeLen); err != nil {
			return err
		}
	}
	if err := checkScopes(c.Scopes); err != nil {
		return err
	}
	return checkOptionalTimes(c.CreatedAt, c.UpdatedAt)
}

// Scope is a permission a client may request.
type Scope struct {
	// ID is the scope token as sent on the wire (RFC 6749 §3.3), at most 80
	// bytes.
	ID string
	// Description is shown to users on consent pages; at most 255 bytes.
	Description string
}

// Validate reports whether the scope can be stored. It returns an error
// wrapping [ErrInvalid].
func (s *Scope) Validate() error {
	if !ValidScopeToken(s.ID) || len(s.ID) > MaxScopeLen {
		return invalid("scope id %q is not a valid scope token of at most %d bytes", s.ID, MaxScopeLen)
	}
	return checkText("scope description", s.Description, MaxNameLen)
}

// checkRedirectURI applies RFC 6749 §3.1.2 to a registered redirection
// endpoint: an absolute URI without a fragment. A private-use scheme
// (com.example.app:/cb, RFC 8252 §7.1) is absolute too. The server compares
// redirect URIs by exact string, so one that breaks these rules could never
// be used; it is refused when registered instead.
func checkRedirectURI(u string) error {
	if err := checkToken("redirect uri", u, MaxURILen); err != nil {
		return err
	}
	if strings.Contains(u, "#") {
		return invalid("redirect uri %q has a fragment", u)
	}
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" {
		return invalid("redirect uri %q is not an absolute URI", u)
	}
	return nil
}
