// CONFORMANCE item 56: every JWT access token the library issues passes
// oauth4webapi's validateJwtAccessToken, for each signing algorithm, with
// the JWKS fetched over loopback from the library's real JWKS handler.
//
// Run by tokens/interop_test.go, which serves, for each algorithm ALG in
// INTEROP_ALGS:
//   GET $INTEROP_BASE_URL/ALG/jwks   the KeySet's JWKS handler
//   GET $INTEROP_BASE_URL/ALG/token  a fresh token signed with that key set
// and sets INTEROP_ISSUER and INTEROP_AUDIENCE.
import * as oauth from 'oauth4webapi';
import { assert, assertEqual, check, env, fetchText, rejects, run } from './lib.mjs';

const base = env('INTEROP_BASE_URL');
const issuer = env('INTEROP_ISSUER');
const audience = env('INTEROP_AUDIENCE');
const algs = env('INTEROP_ALGS').split(',');

function resourceRequest(token) {
  return new Request('http://127.0.0.1/resource', { headers: { authorization: `Bearer ${token}` } });
}

function validate(as, token, alg, aud = audience) {
  return oauth.validateJwtAccessToken(as, resourceRequest(token), aud, {
    [oauth.allowInsecureRequests]: true, // the loopback test server speaks plain HTTP
    signingAlgorithms: [alg],
  });
}

// Flip one character in the middle of the signature.
function tamper(token) {
  const i = token.lastIndexOf('.') + 10;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

for (const alg of algs) {
  // One authorization server object per algorithm: oauth4webapi caches the
  // JWKS per object.
  const as = { issuer, jwks_uri: `${base}/${alg}/jwks` };

  check(`${alg}: fresh tokens pass validateJwtAccessToken`, async () => {
    const jwks = JSON.parse(await fetchText(as.jwks_uri));
    assertEqual(jwks.keys.length, 1, `${alg} JWKS key count`);
    assertEqual(jwks.keys[0].alg, alg, `${alg} JWKS alg`);
    assertEqual(jwks.keys[0].use, 'sig', `${alg} JWKS use`);
    assert(jwks.keys[0].d === undefined, `${alg} JWKS exposes a private key`);
    const seen = new Set();
    for (let i = 0; i < 3; i++) {
      const token = await fetchText(`${base}/${alg}/token`);
      const claims = await validate(as, token, alg);
      assertEqual(claims.iss, issuer, 'iss');
      assertEqual(claims.sub, 'user-1', 'sub');
      assertEqual(claims.client_id, 'client-1', 'client_id');
      assertEqual(claims.scope, 'read write', 'scope');
      assertEqual(typeof claims.exp, 'number', 'exp type');
      assert(!seen.has(claims.jti), `jti ${claims.jti} seen twice`);
      seen.add(claims.jti);
    }
  });

  check(`${alg}: a tampered signature is refused`, async () => {
    const token = await fetchText(`${base}/${alg}/token`);
    const err = await rejects(validate(as, tamper(token), alg), 'tampered token');
    assert(/signature/i.test(err.message), `tampered token: got "${err.message}"; want a signature failure`);
  });

  check(`${alg}: another audience is refused`, async () => {
    const token = await fetchText(`${base}/${alg}/token`);
    const err = await rejects(validate(as, token, alg, 'https://other.example'), 'wrong audience');
    assert(/aud/i.test(err.message), `wrong audience: got "${err.message}"; want an aud failure`);
  });
}

await run();
