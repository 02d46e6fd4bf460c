// The device authorization grant (RFC 8628, CONFORMANCE G) driven by
// oauth4webapi: device authorization for a confidential client
// (client_secret_basic) and a public one, polling through
// authorization_pending until the user's decision, tokens once and then
// invalid_grant, access_denied after a denial, slow_down for a poll sent at
// once, and invalid_grant for another client's device_code.
//
// Run by grants/device_interop_test.go, which serves the authorization
// server over loopback and plays the host's verification page: after the
// first poll of each device code is answered authorization_pending, it
// looks the user code up and approves the request through the Go API, from
// another goroutine — or denies it when it asks for the profile scope. It
// sets:
//   INTEROP_ISSUER            the server; its endpoints are
//                             $INTEROP_ISSUER/oauth/device_authorization and
//                             $INTEROP_ISSUER/oauth/token
//   INTEROP_VERIFICATION_URI  the verification_uri the server announces
//   INTEROP_D_ID, INTEROP_D_SECRET    a confidential device client
//   INTEROP_D2_ID, INTEROP_D2_SECRET  a second one
//   INTEROP_DP_ID                     a public device client
import * as oauth from 'oauth4webapi';
import { assert, assertEqual, check, env, rejects, run } from './lib.mjs';

const insecure = { [oauth.allowInsecureRequests]: true }; // loopback speaks plain HTTP

const issuer = env('INTEROP_ISSUER');
const as = {
  issuer,
  device_authorization_endpoint: `${issuer}/oauth/device_authorization`,
  token_endpoint: `${issuer}/oauth/token`,
};
const verificationURI = env('INTEROP_VERIFICATION_URI');
const D = { client: { client_id: env('INTEROP_D_ID') }, auth: oauth.ClientSecretBasic(env('INTEROP_D_SECRET')) };
const D2 = { client: { client_id: env('INTEROP_D2_ID') }, auth: oauth.ClientSecretBasic(env('INTEROP_D2_SECRET')) };
const DP = { client: { client_id: env('INTEROP_DP_ID') }, auth: oauth.None() };

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

// authorize runs a device authorization request and checks the response.
async function authorize(who, scope) {
  const res = await oauth.deviceAuthorizationRequest(as, who.client, who.auth, { scope }, insecure);
  assertEqual(res.headers.get('cache-control'), 'no-store', 'Cache-Control');
  const da = await oauth.processDeviceAuthorizationResponse(as, who.client, res);
  assert(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/.test(da.user_code), `user_code ${da.user_code} is not XXXX-XXXX`);
  assert(da.device_code.length >= 43 && !da.device_code.includes(da.user_code.replace('-', '')), 'device_code short or holding the user code');
  assertEqual(da.verification_uri, verificationURI, 'verification_uri');
  assertEqual(da.verification_uri_complete, `${verificationURI}?user_code=${da.user_code}`, 'verification_uri_complete');
  assert(Number.isInteger(da.interval) && da.interval >= 1, `interval ${da.interval}`);
  assert(Number.isInteger(da.expires_in) && da.expires_in > da.interval, `expires_in ${da.expires_in}`);
  return da;
}

// poll polls as RFC 8628 §3.5 says until the answer is neither
// authorization_pending nor slow_down, and returns the tokens or throws
// that answer. It reports how often each kind of answer came.
async function poll(who, da, seen = {}) {
  let interval = da.interval;
  const deadline = Date.now() + da.expires_in * 1000;
  for (;;) {
    await sleep(interval);
    assert(Date.now() < deadline, 'the device code expired while polling');
    const res = await oauth.deviceCodeGrantRequest(as, who.client, who.auth, da.device_code, insecure);
    try {
      const tokens = await oauth.processDeviceCodeResponse(as, who.client, res);
      seen.tokens = (seen.tokens ?? 0) + 1;
      return tokens;
    } catch (err) {
      if (!(err instanceof oauth.ResponseBodyError)) throw err;
      seen[err.error] = (seen[err.error] ?? 0) + 1;
      if (err.error === 'slow_down') interval += 5;
      else if (err.error !== 'authorization_pending') throw err;
    }
  }
}

// pollOnce sends one poll and returns the ResponseBodyError it is refused
// with.
async function pollOnce(who, deviceCode, what) {
  const res = await oauth.deviceCodeGrantRequest(as, who.client, who.auth, deviceCode, insecure);
  const err = await rejects(oauth.processDeviceCodeResponse(as, who.client, res), what);
  assert(err instanceof oauth.ResponseBodyError, `${what}: got ${err.name}: ${err.message}; want ResponseBodyError`);
  assertEqual(err.status, 400, `${what}: status`);
  return err;
}

check('confidential client, client_secret_basic: pending, approved by the host, tokens once, then invalid_grant', async () => {
  const da = await authorize(D, 'read write');
  const seen = {};
  const tokens = await poll(D, da, seen);
  assert(seen.authorization_pending >= 1, `answers ${JSON.stringify(seen)}: want authorization_pending before the approval`);
  assertEqual(tokens.token_type, 'bearer', 'token_type');
  assertEqual(tokens.scope, 'read write', 'scope');
  assertEqual(typeof tokens.refresh_token, 'string', 'refresh_token type');
  assert(tokens.access_token.length >= 43, 'access_token short');
  await sleep(da.interval);
  const err = await pollOnce(D, da.device_code, 'second redemption');
  assertEqual(err.error, 'invalid_grant', 'second redemption error');
  // The refresh token works.
  const res = await oauth.refreshTokenGrantRequest(as, D.client, D.auth, tokens.refresh_token, insecure);
  const refreshed = await oauth.processRefreshTokenResponse(as, D.client, res);
  assert(refreshed.refresh_token !== tokens.refresh_token, 'refresh token not rotated');
});

check('public client (none): tokens without a refresh token', async () => {
  const da = await authorize(DP, 'read');
  const tokens = await poll(DP, da);
  assertEqual(tokens.scope, 'read', 'scope');
  assertEqual(tokens.refresh_token, undefined, 'refresh_token');
});

check('denied by the host: access_denied', async () => {
  const da = await authorize(D, 'read profile');
  const err = await rejects(poll(D, da), 'denied request');
  assert(err instanceof oauth.ResponseBodyError, `got ${err.name}: ${err.message}; want ResponseBodyError`);
  assertEqual(err.error, 'access_denied', 'error');
  assertEqual(err.status, 400, 'status');
});

check('a poll sent at once after another: slow_down', async () => {
  const da = await authorize(DP, 'read');
  const first = await pollOnce(DP, da.device_code, 'first poll');
  assertEqual(first.error, 'authorization_pending', 'first poll error');
  const second = await pollOnce(DP, da.device_code, 'poll at once');
  assertEqual(second.error, 'slow_down', 'poll at once error');
});

check("another client's device_code: invalid_grant", async () => {
  const da = await authorize(D, 'read');
  const err = await pollOnce(D2, da.device_code, "another client's device_code");
  assertEqual(err.error, 'invalid_grant', 'error');
});

check('client not registered: the device authorization request is refused', async () => {
  const stranger = { client_id: 'no-such-client' };
  const res = await oauth.deviceAuthorizationRequest(as, stranger, oauth.None(), { scope: 'read' }, insecure);
  const err = await rejects(oauth.processDeviceAuthorizationResponse(as, stranger, res), 'unknown client');
  assertEqual(err.status, 401, 'status');
});

await run();
