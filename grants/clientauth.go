package grants

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/oauthkit/oauth"
)

// Client authentication methods (RFC 7591 §2 names), as reported in
// ClientAuthFailure.Method.
const (
	AuthMethodSecretBasic = "client_secret_basic"
	AuthMethodSecretPost  = "client_secret_post"
	AuthMethodNone        = "none"
)

// clientCredentials is what a request presented to identify its client.
type clientCredentials struct {
	method string
	id     string
	secret string
}

// parseBasic decodes an Authorization header of the Basic scheme (RFC 7617)
// whose user and password are the form-urlencoded client id and secret
// (RFC 6749 §2.3.1 and appendix B). ok is false when the header does not use
// the Basic scheme; err is non-nil when it does but is malformed.
func parseBasic(header string) (id, secret string, ok bool, err error) {
	scheme, rest, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return "", "", true, errors.New("grants: empty basic credentials")
	}
	var buf [256]byte
	dst := buf[:]
	if n := base64.StdEncoding.DecodedLen(len(rest)); n > len(dst) {
		dst = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(dst, []byte(rest))
	if err != nil {
		return "", "", true, errors.New("grants: basic credentials are not base64")
	}
	user, pass, found := strings.Cut(string(dst[:n]), ":")
	if !found {
		return "", "", true, errors.New("grants: basic credentials without a colon")
	}
	id, ok1 := unescape(user)
	secret, ok2 := unescape(pass)
	if !ok1 || !ok2 {
		return "", "", true, errors.New("grants: basic credentials are not form-urlencoded")
	}
	if id == "" {
		return "", "", true, errors.New("grants: basic credentials without a client id")
	}
	return id, secret, true, nil
}

// credentials extracts the client's credentials from the Authorization
// header and the body (never the query string). Errors are protocol errors:
// invalid_request for conflicting credentials, invalid_client for malformed
// or missing ones.
func credentials(r *http.Request, f *form) (clientCredentials, *oauth.Error) {
	bodyID, bodySecret := f.get("client_id"), f.get("client_secret")
	if len(r.Header["Authorization"]) > 1 {
		return clientCredentials{}, oauth.NewError(oauth.ErrCodeInvalidRequest, "more than one Authorization header")
	}
	if h := r.Header.Get("Authorization"); h != "" {
		id, secret, basic, err := parseBasic(h)
		if !basic {
			return clientCredentials{}, errInvalidClient("unsupported authentication scheme")
		}
		if err != nil {
			return clientCredentials{method: AuthMethodSecretBasic}, errInvalidClient("malformed basic credentials")
		}
		c := clientCredentials{method: AuthMethodSecretBasic, id: id, secret: secret}
		if bodySecret != "" {
			return c, oauth.NewError(oauth.ErrCodeInvalidRequest, "client credentials sent both in the Authorization header and in the body")
		}
		if bodyID != "" && bodyID != id {
			return c, oauth.NewError(oauth.ErrCodeInvalidRequest, "client_id in the body differs from the Authorization header")
		}
		return c, nil
	}
	if bodyID == "" {
		if bodySecret != "" {
			return clientCredentials{method: AuthMethodSecretPost}, errInvalidClient("client_secret without client_id")
		}
		return clientCredentials{method: AuthMethodNone}, errInvalidClient("client authentication required")
	}
	if bodySecret == "" {
		return clientCredentials{method: AuthMethodNone, id: bodyID}, nil
	}
	return clientCredentials{method: AuthMethodSecretPost, id: bodyID, secret: bodySecret}, nil
}

// errInvalidClient is a 401 invalid_client error.
func errInvalidClient(desc string) *oauth.Error {
	return oauth.NewError(oauth.ErrCodeInvalidClient, desc)
}

// findClient looks up a client id a request claimed. An id no registered
// client can have is oauth.ErrNotFound without asking the repository: a
// host's own repository over a database may fail on bytes its column
// cannot hold (NUL, invalid UTF-8, too many) instead of finding nothing,
// which would turn hostile input into a server error.
func (s *Server) findClient(ctx context.Context, id string) (*oauth.Client, error) {
	if !oauth.ValidID(id, oauth.MaxClientIDLen) {
		return nil, oauth.ErrNotFound
	}
	return s.cfg.Clients.FindClient(ctx, id)
}

// dummyHash is compared against when the client is unknown, so that an
// unknown client id costs about as much as a wrong secret.
const dummyHash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

// authenticateClient identifies and authenticates the client of a token
// endpoint request: client_secret_basic, client_secret_post, or none for a
// public client. A failure fires Hooks.ClientAuthFailed and returns a
// protocol error (or, for a repository failure, a plain error); nothing else
// is read or written on failure.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, f *form) (*oauth.Client, error) {
	cred, perr := credentials(r, f)
	if perr != nil {
		s.clientAuthFailed(ctx, r, cred, perr.Description)
		return nil, perr
	}
	client, err := s.findClient(ctx, cred.id)
	if errors.Is(err, oauth.ErrNotFound) {
		oauth.VerifySecret(dummyHash, cred.secret)
		s.clientAuthFailed(ctx, r, cred, "unknown client")
		return nil, errInvalidClient("client authentication failed")
	}
	if err != nil {
		return nil, err
	}
	if client.Confidential {
		if cred.secret == "" {
			s.clientAuthFailed(ctx, r, cred, "confidential client without a secret")
			return nil, errInvalidClient("client authentication failed")
		}
		if !oauth.VerifySecret(client.SecretHash, cred.secret) {
			s.clientAuthFailed(ctx, r, cred, "wrong secret")
			return nil, errInvalidClient("client authentication failed")
		}
		return client, nil
	}
	if cred.secret != "" {
		// A public client has no secret; one that sends a secret is
		// misconfigured or is not who it claims to be.
		s.clientAuthFailed(ctx, r, cred, "public client sent a secret")
		return nil, errInvalidClient("client authentication failed")
	}
	return client, nil
}

// ClientAuthFailure describes a failed client authentication at the token
// endpoint. It never holds the secret.
type ClientAuthFailure struct {
	// ClientID is the client id the request claimed; empty if none.
	ClientID string
	// Method is the authentication method the request attempted.
	Method string
	// Reason says what was wrong, for logs.
	Reason string
	// RemoteAddr is the request's RemoteAddr.
	RemoteAddr string
	// Path is the path of the endpoint the request was sent to (token,
	// revocation, introspection or device authorization).
	Path string
}

func (s *Server) clientAuthFailed(ctx context.Context, r *http.Request, cred clientCredentials, reason string) {
	s.log.LogAttrs(ctx, levelAuthFail, "grants: client authentication failed",
		logClientID(cred.id), logString("method", cred.method), logString("reason", reason))
	if h := s.cfg.Hooks.ClientAuthFailed; h != nil {
		h(ctx, ClientAuthFailure{ClientID: cred.id, Method: cred.method, Reason: reason, RemoteAddr: r.RemoteAddr, Path: r.URL.Path})
	}
}
