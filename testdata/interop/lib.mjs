// Shared helpers of the interop scripts. A script is run by a Go test (see
// README.md): it reads what the Go side serves from environment variables,
// runs named checks against it with a real Node client, prints one line per
// check and a summary, and exits non-zero if any check failed.

/** env returns the environment variable name, or throws if it is unset. */
export function env(name) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    throw new Error(`environment variable ${name} is not set (run this script through its Go test)`);
  }
  return v;
}

/** assert throws with message unless cond holds. */
export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** assertEqual throws unless got === want, saying "got …; want …". */
export function assertEqual(got, want, what) {
  if (got !== want) {
    throw new Error(`${what}: got ${JSON.stringify(got)}; want ${JSON.stringify(want)}`);
  }
}

/**
 * rejects awaits promise and returns the error it rejected with; it throws
 * if the promise resolved, so a check can prove the client refuses
 * something.
 */
export async function rejects(promise, what) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error(`${what}: got success; want a rejection`);
}

/** fetchText GETs url and returns the body, throwing unless the status is 200. */
export async function fetchText(url) {
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: status ${res.status}: ${body}`);
  return body;
}

const checks = [];

/** check registers a named async check; run() runs them in order. */
export function check(name, fn) {
  checks.push({ name, fn });
}

/**
 * run runs every registered check, prints "ok - name" or "not ok - name"
 * with the error, then "interop: N passed, N failed", and sets the exit
 * code: 0 only if every check passed and there was at least one.
 */
export async function run() {
  let passed = 0;
  let failed = 0;
  for (const { name, fn } of checks) {
    try {
      await fn();
      passed++;
      console.log(`ok - ${name}`);
    } catch (err) {
      failed++;
      console.log(`not ok - ${name}`);
      console.log(`  ${String(err?.stack ?? err).replaceAll('\n', '\n  ')}`);
      if (err?.cause !== undefined) {
        console.log(`  cause: ${JSON.stringify(err.cause, null, 1)?.replaceAll('\n', '\n  ')}`);
      }
    }
  }
  console.log(`interop: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}
