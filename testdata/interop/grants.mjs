// The grant engine (package grants) driven by oauth4webapi: the
// authorization code flow with PKCE under client_secret_basic,
// client_secret_post and none; refresh rotation and reuse; code replay;
// client credentials; error redirects with state and iss (RFC 9207); a 401
// Basic challenge for bad credentials; and JWT access tokens from the
// grants passing validateJwtAccessToken (CONFORMANCE 56).
//
// Run by grants/interop_test.go, which serves two authorization servers
// over loopback and sets:
//   INTEROP_ISSUER       issuer of the opaque-token server; its endpoints are
//                        $INTEROP_ISSUER/oauth/authorize and /oauth/token
//   INTEROP_JWT_ISSUER   the same for a server issuing JWT access tokens,
//                        with its JWKS at $INTEROP_JWT_ISSUER/jwks
//   INTEROP_AUDIENCE     the audience of those JWTs
//   INTEROP_C_ID, INTEROP_C_SECRET, INTEROP_C_REDIRECT    a confidential client
//   INTEROP_P_ID, INTEROP_P_REDIRECT                       a public client
// The endpoints are configured by hand: the metadata endpoint does not
// exist yet.
import * as oauth from 'oauth4webapi';
import { assert, assertEqual, check, env, rejects, run } from './lib.mjs';

const insecure = { [oauth.allowInsecureRequests]: true }; // loopback speaks plain HTTP

function server(issuer) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/jwks`,
    authorization_response_iss_parameter_supported: true,
    code_challenge_methods_supported: ['S256'],
  };
}

const as = server(env('INTEROP_ISSUER'));
const jwtAS = server(env('INTEROP_JWT_ISSUER'));
const audience = env('INTEROP_AUDIENCE');
const C = { client: { client_id: env('INTEROP_C_ID') }, secret: env('INTEROP_C_SECRET'), redirect: env('INTEROP_C_REDIRECT') };
const P = { client: { client_id: env('INTEROP_P_ID') }, redirect: env('INTEROP_P_REDIRECT') };

// authorize sends an authorization request as a browser would and returns
// the redirect's URL; the Go side approves every request at once.
async function authorize(server, who, params) {
  const url = new URL(server.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', who.client.client_id);
  url.searchParams.set('redirect_uri', who.redirect);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url, { redirect: 'manual' });
  assertEqual(res.status, 302, 'authorization response status');
  const location = res.headers.get('location');
  assert(location, 'authorization response has no Location');
  return new URL(location);
}

// codeFlow runs authorization code + PKCE and returns the token response.
async function codeFlow(server, who, clientAuth, scope = 'read') {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const redirect = await authorize(server, who, {
    scope,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const params = oauth.validateAuthResponse(server, who.client, redirect, state);
  const res = await oauth.authorizationCodeGrantRequest(server, who.client, clientAuth, params, who.redirect, verifier, insecure);
  const tokens = await oauth.processAuthorizationCodeResponse(server, who.client, res);
  return { tokens, params, verifier };
}

function checkTokens(tokens, scope, withRefresh) {
  assertEqual(tokens.token_type, 'bearer', 'token_type');
  assertEqual(tokens.expires_in, 3600, 'expires_in');
  assertEqual(tokens.scope, scope, 'scope');
  assert(typeof tokens.access_token === 'string' && tokens.access_token.length >= 43, 'access_token missing or short');
  assertEqual(typeof tokens.refresh_token, withRefresh ? 'string' : 'undefined', 'refresh_token type');
}

check('confidential client, client_secret_basic (appendix B encoding): code + PKCE', async () => {
  const { tokens } = await codeFlow(as, C, oauth.ClientSecretBasic(C.secret), 'read profile');
  checkTokens(tokens, 'read profile', true);
});

check('confidential client, client_secret_post: code + PKCE', async () => {
  const { tokens } = await codeFlow(as, C, oauth.ClientSecretPost(C.secret));
  checkTokens(tokens, 'read', true);
});

check('public client, none: code + PKCE, refresh rotation, reuse refused', async () => {
  const { tokens } = await codeFlow(as, P, oauth.None());
  checkTokens(tokens, 'read', true);
  const rt1 = tokens.refresh_token;
  const res = await oauth.refreshTokenGrantRequest(as, P.client, oauth.None(), rt1, insecure);
  const next = await oauth.processRefreshTokenResponse(as, P.client, res);
  checkTokens(next, 'read', true);
  assert(next.refresh_token !== rt1, 'refresh did not rotate the refresh token');
  // RT1 again: reuse, and the whole family dies with it.
  const reuse = await oauth.refreshTokenGrantRequest(as, P.client, oauth.None(), rt1, insecure);
  const err = await rejects(oauth.processRefreshTokenResponse(as, P.client, reuse), 'reused refresh token');
  assertEqual(err.error, 'invalid_grant', 'reuse error');
  const after = await oauth.refreshTokenGrantRequest(as, P.client, oauth.None(), next.refresh_token, insecure);
  const err2 = await rejects(oauth.processRefreshTokenResponse(as, P.client, after), 'refresh token of a revoked family');
  assertEqual(err2.error, 'invalid_grant', 'revoked family error');
});

check('narrower scope on refresh is granted and echoed', async () => {
  const { tokens } = await codeFlow(as, C, oauth.ClientSecretBasic(C.secret), 'read profile');
  const res = await oauth.refreshTokenGrantRequest(as, C.client, oauth.ClientSecretBasic(C.secret), tokens.refresh_token, {
    ...insecure,
    additionalParameters: { scope: 'profile' },
  });
  const next = await oauth.processRefreshTokenResponse(as, C.client, res);
  assertEqual(next.scope, 'profile', 'narrowed scope');
});

check('a replayed code is invalid_grant and revokes its tokens', async () => {
  const { tokens, params, verifier } = await codeFlow(as, C, oauth.ClientSecretBasic(C.secret));
  const again = await oauth.authorizationCodeGrantRequest(as, C.client, oauth.ClientSecretBasic(C.secret), params, C.redirect, verifier, insecure);
  const err = await rejects(oauth.processAuthorizationCodeResponse(as, C.client, again), 'replayed code');
  assert(err instanceof oauth.ResponseBodyError, `replayed code: got ${err.name}; want ResponseBodyError`);
  assertEqual(err.error, 'invalid_grant', 'replay error');
  assertEqual(err.status, 400, 'replay status');
  const res = await oauth.refreshTokenGrantRequest(as, C.client, oauth.ClientSecretBasic(C.secret), tokens.refresh_token, insecure);
  const err2 = await rejects(oauth.processRefreshTokenResponse(as, C.client, res), 'refresh after replay');
  assertEqual(err2.error, 'invalid_grant', 'refresh after replay error');
});

check('client credentials: a token without refresh_token', async () => {
  const res = await oauth.clientCredentialsGrantRequest(as, C.client, oauth.ClientSecretBasic(C.secret), { scope: 'read write' }, insecure);
  const tokens = await oauth.processClientCredentialsResponse(as, C.client, res);
  checkTokens(tokens, 'read write', false);
});

check('a wrong secret gets 401 with a Basic challenge', async () => {
  const res = await oauth.clientCredentialsGrantRequest(as, C.client, oauth.ClientSecretBasic(`${C.secret}x`), {}, insecure);
  const err = await rejects(oauth.processClientCredentialsResponse(as, C.client, res), 'wrong secret');
  assert(err instanceof oauth.WWWAuthenticateChallengeError, `wrong secret: got ${err.name}; want WWWAuthenticateChallengeError`);
  assertEqual(err.status, 401, 'status');
  assertEqual(err.cause[0]?.scheme, 'basic', 'challenge scheme');
  const post = await oauth.clientCredentialsGrantRequest(as, C.client, oauth.ClientSecretPost(`${C.secret}x`), {}, insecure);
  const err2 = await rejects(oauth.processClientCredentialsResponse(as, C.client, post), 'wrong secret by post');
  assertEqual(err2.status, 401, 'status by post');
});

check('an error redirect carries the error, state and iss', async () => {
  const state = oauth.generateRandomState();
  const verifier = oauth.generateRandomCodeVerifier();
  const redirect = await authorize(as, C, {
    scope: 'no-such-scope',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const err = await rejects(Promise.resolve().then(() => oauth.validateAuthResponse(as, C.client, redirect, state)), 'invalid_scope redirect');
  assert(err instanceof oauth.AuthorizationResponseError, `got ${err.name}; want AuthorizationResponseError`);
  assertEqual(err.error, 'invalid_scope', 'error');
  // The client checks iss: the same redirect fails for another issuer.
  const other = { ...as, issuer: 'https://other.example' };
  const err2 = await rejects(Promise.resolve().then(() => oauth.validateAuthResponse(other, C.client, redirect, state)), 'foreign iss');
  assert(/iss/.test(err2.message), `foreign iss: got "${err2.message}"`);
});

check('a public client without PKCE is refused with invalid_request', async () => {
  const state = oauth.generateRandomState();
  const redirect = await authorize(as, P, { scope: 'read', state });
  const err = await rejects(Promise.resolve().then(() => oauth.validateAuthResponse(as, P.client, redirect, state)), 'no PKCE');
  assertEqual(err.error, 'invalid_request', 'error');
});

check('JWT access tokens from the grants pass validateJwtAccessToken', async () => {
  const { tokens } = await codeFlow(jwtAS, C, oauth.ClientSecretBasic(C.secret), 'read profile');
  const req = (t) => new Request('http://127.0.0.1/resource', { headers: { authorization: `Bearer ${t}` } });
  const claims = await oauth.validateJwtAccessToken(jwtAS, req(tokens.access_token), audience, insecure);
  assertEqual(claims.iss, jwtAS.issuer, 'iss');
  assertEqual(claims.sub, 'alice', 'sub');
  assertEqual(claims.client_id, C.client.client_id, 'client_id');
  assertEqual(claims.scope, 'read profile', 'scope');
  const res = await oauth.clientCredentialsGrantRequest(jwtAS, C.client, oauth.ClientSecretPost(C.secret), { scope: 'read' }, insecure);
  const cc = await oauth.processClientCredentialsResponse(jwtAS, C.client, res);
  const ccClaims = await oauth.validateJwtAccessToken(jwtAS, req(cc.access_token), audience, insecure);
  assertEqual(ccClaims.sub, C.client.client_id, 'client credentials sub');
  const err = await rejects(oauth.validateJwtAccessToken(jwtAS, req(cc.access_token), 'https://other.example', insecure), 'other audience');
  assert(/aud/.test(err.message), `other audience: got "${err.message}"`);
});

await run();
