// Discovery, revocation and introspection of the grant engine (package
// grants) driven by oauth4webapi: the metadata (RFC 8414) accepted by
// processDiscoveryResponse as served, for an issuer without and with a
// path; then, with nothing configured by hand beyond the issuer, client
// credentials and the code flow at the discovered endpoints, introspection
// (RFC 7662) of opaque, refresh and JWT tokens, and revocation (RFC 7009)
// of each, seen by introspection afterwards. Wrong credentials and a wrong
// expected issuer are refused.
//
// Run by grants/interop_discovery_test.go, which serves two authorization
// servers over loopback and sets:
//   INTEROP_ISSUER       issuer of a server issuing opaque access tokens
//                        (no path: metadata at /.well-known/oauth-authorization-server)
//   INTEROP_JWT_ISSUER   issuer of a server issuing JWT access tokens, with a
//                        path (metadata at /.well-known/oauth-authorization-server/<path>)
//   INTEROP_AUDIENCE     the audience of those JWTs
//   INTEROP_C_ID, INTEROP_C_SECRET, INTEROP_C_REDIRECT   a confidential client
//   INTEROP_C2_ID, INTEROP_C2_SECRET                     a second one
import * as oauth from 'oauth4webapi';
import { assert, assertEqual, check, env, rejects, run } from './lib.mjs';

const insecure = { [oauth.allowInsecureRequests]: true }; // loopback speaks plain HTTP

const issuer = new URL(env('INTEROP_ISSUER'));
const jwtIssuer = new URL(env('INTEROP_JWT_ISSUER'));
const audience = env('INTEROP_AUDIENCE');
const C = { client: { client_id: env('INTEROP_C_ID') }, auth: oauth.ClientSecretBasic(env('INTEROP_C_SECRET')), redirect: env('INTEROP_C_REDIRECT') };
const C2 = { client: { client_id: env('INTEROP_C2_ID') }, auth: oauth.ClientSecretPost(env('INTEROP_C2_SECRET')) };

// discover fetches and checks the metadata of the server with issuer iss.
async function discover(iss) {
  const res = await oauth.discoveryRequest(iss, { algorithm: 'oauth2', ...insecure });
  return oauth.processDiscoveryResponse(iss, res);
}

let as; // the opaque-token server, as discovered
let jwtAS; // the JWT server, as discovered

check('discovery: metadata accepted by processDiscoveryResponse unchanged', async () => {
  as = await discover(issuer);
  assertEqual(as.issuer, issuer.href.replace(/\/$/, ''), 'issuer');
  for (const k of ['authorization_endpoint', 'token_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
    assert(typeof as[k] === 'string' && new URL(as[k]).origin === issuer.origin, `${k} ${as[k]} is not an absolute URL on the issuer's origin`);
  }
  assertEqual(as.authorization_response_iss_parameter_supported, true, 'authorization_response_iss_parameter_supported');
  assertEqual(JSON.stringify(as.code_challenge_methods_supported), '["S256"]', 'code_challenge_methods_supported');
  assertEqual(as.jwks_uri, undefined, 'jwks_uri of an opaque-token server');
  for (const [k, v] of Object.entries(as)) {
    assert(!Array.isArray(v) || v.length > 0, `${k} is an empty array`);
  }
});

check('discovery: issuer with a path, well-known URI inserted before it (RFC 8414 §3.1)', async () => {
  assert(jwtIssuer.pathname.length > 1, 'INTEROP_JWT_ISSUER has no path');
  jwtAS = await discover(jwtIssuer);
  assertEqual(jwtAS.issuer, jwtIssuer.href, 'issuer');
  assert(typeof jwtAS.jwks_uri === 'string', 'no jwks_uri with JWT access tokens');
});

check('discovery refuses metadata for another issuer', async () => {
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
  const err = await rejects(oauth.processDiscoveryResponse(new URL('/other', issuer), res), 'wrong issuer');
  assertEqual(err.code, 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', 'error code');
});

async function clientCredentials(server, scope = 'read write') {
  const res = await oauth.clientCredentialsGrantRequest(server, C.client, C.auth, { scope }, insecure);
  return oauth.processClientCredentialsResponse(server, C.client, res);
}

async function introspect(server, who, token, extra = {}) {
  const res = await oauth.introspectionRequest(server, who.client, who.auth, token, { ...insecure, additionalParameters: extra });
  return oauth.processIntrospectionResponse(server, who.client, res);
}

async function revoke(server, who, token, extra = {}) {
  const res = await oauth.revocationRequest(server, who.client, who.auth, token, { ...insecure, additionalParameters: extra });
  return oauth.processRevocationResponse(res);
}

// codeFlow runs code + PKCE at the discovered endpoints; the Go side
// approves every authorization request at once.
async function codeFlow(server, scope = 'read') {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(server.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: C.client.client_id, redirect_uri: C.redirect, scope, state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  })) url.searchParams.set(k, v);
  const res = await fetch(url, { redirect: 'manual' });
  assertEqual(res.status, 302, 'authorization response status');
  const params = oauth.validateAuthResponse(server, C.client, new URL(res.headers.get('location')), state);
  const tokenRes = await oauth.authorizationCodeGrantRequest(server, C.client, C.auth, params, C.redirect, verifier, insecure);
  return oauth.processAuthorizationCodeResponse(server, C.client, tokenRes);
}

check('introspection of an active opaque access token', async () => {
  const tokens = await clientCredentials(as);
  const info = await introspect(as, C, tokens.access_token);
  assertEqual(info.active, true, 'active');
  assertEqual(info.client_id, C.client.client_id, 'client_id');
  assertEqual(info.scope, 'read write', 'scope');
  assertEqual(info.token_type, 'Bearer', 'token_type');
  assertEqual(info.sub, C.client.client_id, 'sub of a client credentials token');
  assertEqual(info.iss, as.issuer, 'iss');
  assert(Number.isInteger(info.exp) && info.exp > Date.now() / 1000, `exp ${info.exp}`);
  assert(Number.isInteger(info.iat), `iat ${info.iat}`);
  assert(typeof info.jti === 'string' && info.jti.length > 0, 'jti');
});

check('introspection: another client sees {"active":false}; wrong credentials are refused', async () => {
  const tokens = await clientCredentials(as);
  const info = await introspect(as, C2, tokens.access_token);
  assertEqual(JSON.stringify(info), '{"active":false}', 'answer to another client');
  const bad = { client: C.client, auth: oauth.ClientSecretBasic('not-the-secret') };
  const err = await rejects(introspect(as, bad, tokens.access_token), 'wrong secret');
  assert(err instanceof oauth.WWWAuthenticateChallengeError || err instanceof oauth.ResponseBodyError,
    `wrong secret: got ${err.name}; want a 401 error`);
  assertEqual(err.status, 401, 'status');
});

check('revocation of a refresh token ends its grant', async () => {
  const tokens = await codeFlow(as, 'read profile');
  const rt = await introspect(as, C, tokens.refresh_token, { token_type_hint: 'refresh_token' });
  assertEqual(rt.active, true, 'refresh token active before');
  assertEqual(rt.token_type, 'refresh_token', 'token_type of a refresh token');
  assertEqual(rt.sub, 'alice', 'sub');
  await revoke(as, C, tokens.refresh_token, { token_type_hint: 'refresh_token' });
  assertEqual(JSON.stringify(await introspect(as, C, tokens.refresh_token)), '{"active":false}', 'refresh token after');
  assertEqual(JSON.stringify(await introspect(as, C, tokens.access_token)), '{"active":false}', 'its access token after');
  const res = await oauth.refreshTokenGrantRequest(as, C.client, C.auth, tokens.refresh_token, insecure);
  const err = await rejects(oauth.processRefreshTokenResponse(as, C.client, res), 'refresh with a revoked token');
  assertEqual(err.error, 'invalid_grant', 'error');
});

check('revocation of an access token, with a wrong hint; unknown tokens are fine', async () => {
  const tokens = await clientCredentials(as);
  await revoke(as, C, tokens.access_token, { token_type_hint: 'refresh_token' });
  assertEqual(JSON.stringify(await introspect(as, C, tokens.access_token)), '{"active":false}', 'after revocation');
  await revoke(as, C, tokens.access_token); // already revoked
  await revoke(as, C, 'not-a-token-at-all');
});

check('revocation by another client leaves the token alone', async () => {
  const tokens = await clientCredentials(as);
  await revoke(as, C2, tokens.access_token);
  assertEqual((await introspect(as, C, tokens.access_token)).active, true, 'still active');
});

check('JWT access tokens: validated with the discovered jwks_uri, introspected, revoked', async () => {
  const tokens = await clientCredentials(jwtAS, 'read');
  const req = new Request('https://api.example/', { headers: { authorization: `Bearer ${tokens.access_token}` } });
  const claims = await oauth.validateJwtAccessToken(jwtAS, req, audience, insecure);
  const info = await introspect(jwtAS, C, tokens.access_token);
  assertEqual(info.active, true, 'active');
  assertEqual(info.jti, claims.jti, 'jti');
  assertEqual(info.iss, jwtAS.issuer, 'iss');
  assertEqual(info.aud, audience, 'aud');
  assertEqual(info.exp, claims.exp, 'exp');
  await revoke(jwtAS, C, tokens.access_token);
  assertEqual(JSON.stringify(await introspect(jwtAS, C, tokens.access_token)), '{"active":false}', 'after revocation');
});

await run();
