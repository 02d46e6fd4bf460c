package grants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/oauthkit/oauth"
	"github.com/oauthkit/oauth/tokens"
)

// MetadataWellKnown is the well-known URI suffix of authorization server
// metadata (RFC 8414 §3).
const MetadataWellKnown = "/.well-known/oauth-authorization-server"

// Endpoints are the absolute URLs of a Server's endpoints, as its metadata
// publishes them. An empty URL leaves that endpoint out of the metadata.
// Mount fills them in for the paths it registers; a host that routes the
// handlers itself passes its own to MetadataHandler.
type Endpoints struct {
	Authorization       string // authorization_endpoint
	Token               string // token_endpoint
	Revocation          string // revocation_endpoint
	Introspection       string // introspection_endpoint
	JWKS                string // jwks_uri, published with JWT access tokens only
	DeviceAuthorization string // device_authorization_endpoint
}

// Metadata is the authorization server metadata document (RFC 8414 §2;
// RFC 8628 §4 for the device endpoint; RFC 9207 §3 for the iss
// parameter): each field is the member its JSON tag names. Members without
// a value are omitted, so the document never holds an empty array. A host
// that wants to publish more can serve its own document built on it.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	ResponseModesSupported                     []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint,omitempty"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
}

// grantOrder is the order in which grant_types_supported lists the grants.
var grantOrder = []string{
	oauth.GrantAuthorizationCode,
	oauth.GrantImplicit,
	oauth.GrantRefreshToken,
	oauth.GrantClientCredentials,
	oauth.GrantDeviceCode,
	oauth.GrantPassword,
}

// Metadata returns the metadata of the Server with its endpoints at e: it
// lists exactly what the Server is configured to do — the grants its token
// endpoint serves, the response types and PKCE methods of its
// authorization endpoint, the client authentication methods of each
// endpoint — and the scopes of Config.PublicScopes that the
// ScopeRepository knows. An error is a repository failure.
func (s *Server) Metadata(ctx context.Context, e Endpoints) (*Metadata, error) {
	m := &Metadata{
		Issuer:                      s.cfg.Issuer,
		AuthorizationEndpoint:       e.Authorization,
		TokenEndpoint:               e.Token,
		RevocationEndpoint:          e.Revocation,
		IntrospectionEndpoint:       e.Introspection,
		DeviceAuthorizationEndpoint: e.DeviceAuthorization,
	}
	if s.cfg.AccessTokenFormat == AccessTokenJWT {
		m.JWKSURI = e.JWKS
	}
	if len(s.cfg.PublicScopes) > 0 {
		found, err := s.cfg.Scopes.FindScopes(ctx, s.cfg.PublicScopes)
		if err != nil {
			return nil, fmt.Errorf("grants: metadata: find scopes: %w", err)
		}
		for _, sc := range found {
			m.ScopesSupported = append(m.ScopesSupported, sc.ID)
		}
	}
	if e.Authorization != "" {
		if s.cfg.AuthCodes != nil {
			m.ResponseTypesSupported = append(m.ResponseTypesSupported, "code")
			m.ResponseModesSupported = append(m.ResponseModesSupported, "query")
			m.CodeChallengeMethodsSupported = []string{oauth.PKCEMethodS256}
			if s.cfg.AllowPlainPKCE {
				m.CodeChallengeMethodsSupported = append(m.CodeChallengeMethodsSupported, oauth.PKCEMethodPlain)
			}
		}
		if s.cfg.EnableImplicitGrant {
			m.ResponseTypesSupported = append(m.ResponseTypesSupported, "token")
			m.ResponseModesSupported = append(m.ResponseModesSupported, "fragment")
		}
		m.AuthorizationResponseIssParameterSupported = len(m.ResponseTypesSupported) > 0
	}
	for _, g := range grantOrder {
		switch {
		case g == oauth.GrantImplicit:
			if s.cfg.EnableImplicitGrant && e.Authorization != "" {
				m.GrantTypesSupported = append(m.GrantTypesSupported, g)
			}
		case e.Token != "" && s.grants[g] != nil:
			m.GrantTypesSupported = append(m.GrantTypesSupported, g)
		}
	}
	allMethods := []string{AuthMethodSecretBasic, AuthMethodSecretPost, AuthMethodNone}
	if e.Token != "" {
		m.TokenEndpointAuthMethodsSupported = allMethods
	}
	if e.Revocation != "" {
		m.RevocationEndpointAuthMethodsSupported = allMethods
	}
	if e.Introspection != "" {
		// Introspection needs a client that can authenticate.
		m.IntrospectionEndpointAuthMethodsSupported = allMethods[:2]
	}
	return m, nil
}

// MetadataPath returns the path of the Server's metadata URL:
// MetadataWellKnown, followed by the issuer's path with any terminating
// "/" removed when it has one (RFC 8414 §3.1). For the issuer
// https://as.example/tenant1 it is
// /.well-known/oauth-authorization-server/tenant1.
func (s *Server) MetadataPath() string {
	u, err := url.Parse(s.cfg.Issuer)
	if err != nil { // checked by New
		return MetadataWellKnown
	}
	return MetadataWellKnown + strings.TrimRight(u.EscapedPath(), "/")
}

// MetadataURL returns the absolute URL of the Server's metadata: the
// issuer's origin followed by MetadataPath.
func (s *Server) MetadataURL() string { return s.origin() + s.MetadataPath() }

// origin returns the scheme and authority of the issuer.
func (s *Server) origin() string {
	u, err := url.Parse(s.cfg.Issuer)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// MetadataHandler returns a handler serving the Server's metadata with its
// endpoints at e (see Server.Metadata) to GET and HEAD, as JSON, with
// Cache-Control: public, max-age=300 and Access-Control-Allow-Origin: *
// (the document is public, and browser-based clients discover servers
// too). Other methods get 405. Serve it at MetadataPath on the issuer's
// origin; Mount does.
//
// Every URL in e must be absolute (http or https, with a host); like Mount,
// MetadataHandler panics otherwise.
func (s *Server) MetadataHandler(e Endpoints) http.Handler {
	for _, u := range []string{e.Authorization, e.Token, e.Revocation, e.Introspection, e.JWKS, e.DeviceAuthorization} {
		if u != "" && !absoluteHTTPURL(u) {
			panic("grants: MetadataHandler: endpoint URL is not absolute: " + u)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeMethodNotAllowed(w, hdrGetHead)
			return
		}
		m, err := s.Metadata(r.Context(), e)
		if err != nil {
			writeJSONError(w, s.protocolError(r.Context(), "metadata", err))
			return
		}
		body, err := json.Marshal(m)
		if err != nil {
			writeJSONError(w, s.protocolError(r.Context(), "metadata", err))
			return
		}
		h := w.Header()
		h["Content-Type"] = hdrJSON
		h["Cache-Control"] = hdrPublic
		h["Access-Control-Allow-Origin"] = hdrAnyOrigin
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(body)
		}
	})
}

var (
	hdrGetHead   = []string{"GET, HEAD"}
	hdrPublic    = []string{"public, max-age=300"}
	hdrAnyOrigin = []string{"*"}
)

// absoluteHTTPURL reports whether s is an absolute http or https URL with
// a host.
func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// Paths Mount registers under its prefix, besides /token and /authorize.
const (
	pathRevoke     = "/revoke"
	pathIntrospect = "/introspect"
	pathJWKS       = "/jwks.json"
)

// mountedEndpoints returns the absolute URLs of the endpoints Mount
// registers under prefix, on the issuer's origin.
func (s *Server) mountedEndpoints(prefix string, authorize bool) Endpoints {
	base := s.origin() + prefix
	e := Endpoints{
		Token:         base + "/token",
		Revocation:    base + pathRevoke,
		Introspection: base + pathIntrospect,
	}
	if authorize {
		e.Authorization = base + "/authorize"
	}
	if s.cfg.AccessTokenFormat == AccessTokenJWT {
		e.JWKS = base + pathJWKS
	}
	if s.device != nil {
		e.DeviceAuthorization = base + pathDeviceAuthorization
	}
	return e
}

// mountExtensions registers, for Mount, the revocation and introspection
// endpoints and the JWKS under prefix, and the metadata at MetadataPath.
// authorize reports whether Mount registered an authorization endpoint.
func (s *Server) mountExtensions(mux *http.ServeMux, prefix string, authorize bool) {
	revoke := s.RevocationHandler()
	mux.Handle("POST "+prefix+pathRevoke, revoke)
	mux.Handle(prefix+pathRevoke, revoke) // 405 for every other method
	introspect := s.IntrospectionHandler()
	mux.Handle("POST "+prefix+pathIntrospect, introspect)
	mux.Handle(prefix+pathIntrospect, introspect)
	if s.cfg.AccessTokenFormat == AccessTokenJWT {
		mux.Handle(prefix+pathJWKS, s.cfg.JWTIssuer.Keys.Handler())
	}
	path := s.MetadataPath()
	if strings.ContainsAny(path, "{}") {
		panic("grants: Mount: the issuer's path cannot be a ServeMux pattern: " + path)
	}
	mux.Handle(path, s.MetadataHandler(s.mountedEndpoints(prefix, authorize)))
}

// initExtensions checks the Config fields of revocation, introspection,
// metadata and the legacy grants, for New, and prepares them: the JWT
// verifier, the password grant.
func (s *Server) initExtensions() error {
	cfg := &s.cfg
	// New has checked that a JWTIssuer has an audience, none empty.
	if cfg.AccessTokenFormat == AccessTokenJWT {
		s.jwtVerifier = &tokens.Verifier{
			Issuer:   cfg.Issuer,
			Audience: cfg.JWTIssuer.Audience[0],
			Keys:     cfg.JWTIssuer.Keys,
			Now:      s.now,
		}
	}
	for _, a := range cfg.OpaqueTokenAudience {
		if a == "" {
			return errors.New("grants: OpaqueTokenAudience holds an empty string")
		}
	}
	for _, sc := range cfg.PublicScopes {
		if !oauth.ValidScopeToken(sc) || len(sc) > oauth.MaxScopeLen {
			return fmt.Errorf("grants: PublicScopes: %q is not a valid scope", sc)
		}
	}
	if cfg.EnablePasswordGrant {
		if cfg.UserAuthenticator == nil {
			return errors.New("grants: EnablePasswordGrant needs a UserAuthenticator")
		}
		s.grants[oauth.GrantPassword] = (*Server).passwordGrant
	}
	return nil
}
