package grants

import (
	"net/http"
	"strings"
)

// Mount registers the Server's endpoints on mux under prefix ("" or a path
// such as "/oauth", without a trailing slash), with method patterns:
//
//	POST {prefix}/token       the token endpoint
//	GET  {prefix}/authorize   authorize, when the authorization code or
//	POST {prefix}/authorize   implicit grant is on and authorize is not nil
//	POST {prefix}/revoke      the revocation endpoint (RevocationHandler)
//	POST {prefix}/introspect  the introspection endpoint (IntrospectionHandler)
//	POST {prefix}/device_authorization  the device authorization endpoint
//	                          (DeviceAuthorizationHandler), when Config.DeviceCodes is set
//	GET  {prefix}/jwks.json   the JWKS of Config.JWTIssuer, with JWT access tokens
//	GET  MetadataPath()       the metadata (MetadataHandler), listing the
//	                          endpoints above as absolute URLs on the issuer's origin
//
// Other methods on those paths receive 405 with an Allow header, in the
// endpoint's own format (JSON at the token endpoint). authorize is the
// host's authorization endpoint — its own handler around
// ParseAuthorizeRequest, Approve and Deny, or AuthorizeHandler(fn).
//
// The metadata's URLs assume that mux serves the issuer's origin at its
// root, as the metadata's own well-known URL requires (RFC 8414 §3); a
// host that routes otherwise registers MetadataHandler with its own
// Endpoints.
//
// Like http.ServeMux.Handle, Mount panics if a pattern conflicts with one
// already registered or prefix is malformed.
func (s *Server) Mount(mux *http.ServeMux, prefix string, authorize http.Handler) {
	if prefix != "" && (!strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") || strings.ContainsAny(prefix, "{} \t")) {
		panic("grants: Mount prefix must be empty or start with / and not end with /: " + prefix)
	}
	token := s.TokenHandler()
	mux.Handle("POST "+prefix+"/token", token)
	mux.Handle(prefix+"/token", token) // 405 for every other method
	withAuthorize := authorize != nil && (s.cfg.AuthCodes != nil || s.cfg.EnableImplicitGrant)
	if withAuthorize {
		mux.Handle("GET "+prefix+"/authorize", authorize)
		mux.Handle("POST "+prefix+"/authorize", authorize)
		mux.Handle(prefix+"/authorize", http.HandlerFunc(s.authorizeMethodNotAllowed))
	}
	if s.device != nil {
		device := s.DeviceAuthorizationHandler()
		mux.Handle("POST "+prefix+pathDeviceAuthorization, device)
		mux.Handle(prefix+pathDeviceAuthorization, device) // 405 for every other method
	}
	s.mountExtensions(mux, prefix, withAuthorize) // metadata.go
}

func (s *Server) authorizeMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.WriteAuthorizeError(w, r, &AuthorizeError{Err: errAuthorizeMethod})
}
