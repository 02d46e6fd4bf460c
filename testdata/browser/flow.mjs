// Headless Chromium walks the example server's pages as a person would:
// sign-in → consent → redirect with a code (which it then exchanges), and
// the device page → sign-in state kept → approval. It saves a screenshot of
// every page. Run by examples/server's TestBrowser against the real binary;
// by hand:
//
//   BASE_URL=http://127.0.0.1:8080 AUTH_URL='http://127.0.0.1:8080/oauth/authorize?…' \
//   USER_CODE=BCDF-GHJK ARTIFACTS=../artifacts/browser node flow.mjs
//
// Environment:
//   BASE_URL   the server (required)
//   AUTH_URL   an authorization request of demo-web, redirecting to BASE_URL/demo/callback (required)
//   STATE      the state in AUTH_URL (required)
//   USER_CODE  a pending device user code (optional: the device part is skipped without it)
//   USERNAME, PASSWORD    the account to sign in with (default demo / demo-password)
//   CLIENT_ID, CLIENT_SECRET  demo-web's credentials for the code exchange
//   ARTIFACTS  directory for the screenshots (default ../artifacts/browser)
//   CHROMIUM   the browser (default /usr/bin/chromium, Debian's package)

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name, def) => {
  const v = process.env[name] ?? def;
  if (v === undefined || v === '') throw new Error(`${name} is required`);
  return v;
};

const base = env('BASE_URL').replace(/\/$/, '');
const authURL = env('AUTH_URL');
const state = env('STATE');
const userCode = process.env.USER_CODE ?? '';
const username = env('USERNAME', 'demo');
const password = env('PASSWORD', 'demo-password');
const clientID = env('CLIENT_ID', 'demo-web');
const clientSecret = env('CLIENT_SECRET', 'demo-secret');
const artifacts = resolve(env('ARTIFACTS', new URL('../artifacts/browser', import.meta.url).pathname));
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  // Running as root (CI) needs --no-sandbox.
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});

let shots = 0;
async function shot(page, name) {
  shots++;
  const file = `${artifacts}/${String(shots).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot ${file}`);
}

// Every page of the server must refuse to be framed.
function checkFraming(resp, what) {
  const h = resp.headers();
  assert.equal(h['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  assert.match(h['content-security-policy'] ?? '', /frame-ancestors 'none'/, `${what}: CSP frame-ancestors`);
}

try {
  // A phone-sized window: the pages must be readable there.
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, javaScriptEnabled: false });
  const page = await context.newPage();

  let resp = await page.goto(`${base}/`);
  assert.equal(resp.status(), 200, 'home page status');
  checkFraming(resp, 'home page');
  await shot(page, 'home');

  // Authorization request → sign-in page.
  resp = await page.goto(authURL);
  assert.equal(resp.status(), 200, 'sign-in page status');
  checkFraming(resp, 'sign-in page');
  assert.equal(await page.textContent('h1'), 'Sign in');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await shot(page, 'sign-in');

  // → consent page.
  [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit].primary')]);
  assert.equal(resp.status(), 200, 'consent page status');
  checkFraming(resp, 'consent page');
  assert.equal(await page.textContent('h1'), 'Allow access?');
  assert.match(await page.textContent('main'), /Demo Web App/);
  await shot(page, 'consent');

  // → Allow → redirect to the client with a code.
  [resp] = await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
  const back = new URL(page.url());
  assert.equal(back.origin + back.pathname, `${base}/demo/callback`, 'redirected to the client');
  const code = back.searchParams.get('code');
  assert.ok(code, 'redirect carries a code');
  assert.equal(back.searchParams.get('state'), state, 'state echoed');
  assert.equal(back.searchParams.get('iss'), base, 'iss is the issuer (RFC 9207)');
  assert.equal(await page.textContent('#code'), code, 'callback page shows the code');
  await shot(page, 'callback-with-code');

  // The code works, once.
  const exchange = () => fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(clientID)}:${encodeURIComponent(clientSecret)}`).toString('base64'),
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${base}/demo/callback` }),
  });
  let tr = await exchange();
  const tok = await tr.json();
  assert.equal(tr.status, 200, `code exchange: ${JSON.stringify(tok)}`);
  assert.ok(tok.access_token && tok.refresh_token, 'tokens issued');
  tr = await exchange();
  assert.equal(tr.status, 400, 'second exchange of the code is refused');
  console.log('code flow: signed in, consented, code exchanged');

  if (userCode) {
    // Device page: enter the code (lower case, as a person might type it).
    resp = await page.goto(`${base}/device`);
    assert.equal(resp.status(), 200, 'device page status');
    checkFraming(resp, 'device page');
    await page.fill('#user_code', userCode.toLowerCase());
    await shot(page, 'device-code-entry');
    [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit].primary')]);
    assert.equal(resp.status(), 200, 'device confirmation status');
    checkFraming(resp, 'device confirmation');
    assert.equal(await page.textContent('h1'), 'Connect a device?');
    assert.equal((await page.textContent('.code.big')).trim(), userCode.toUpperCase());
    await shot(page, 'device-confirm');
    [resp] = await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
    assert.equal(resp.status(), 200, 'device approval status');
    assert.equal(await page.textContent('h1'), 'Device connected');
    await shot(page, 'device-approved');
    console.log('device flow: code entered and approved');
  }

  await context.close();
  console.log(`${shots} screenshots saved in ${artifacts}`);
} finally {
  await browser.close();
}
