// Check reporting shared by the Node scripts.
//
// Every check prints one line, `<library> <version>: <step> ... ok`, or
// `FAIL <library> <version>: <step>: <error>`. Steps of one flow depend on each
// other (no refresh without a login), so the first failure ends its flow; the other
// flows still run. The totals go to $INTEROP_RESULTS for the runner's summary.
import { appendFileSync, readFileSync } from 'node:fs';

class FlowStopped extends Error {}

/** The installed version of a package (read from node_modules, not assumed). */
export function installedVersion(pkg) {
  const file = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

/** One line for an error: its message plus what the libraries attach to it. */
export function describe(err) {
  if (!(err instanceof Error)) return String(err);
  const parts = [err.message];
  // openid-client 6 (oauth4webapi): ResponseBodyError / WWWAuthenticateChallengeError.
  if (err.error && !err.message.includes(err.error)) parts.push(`error=${err.error}`);
  if (err.error_description && !err.message.includes(err.error_description)) {
    parts.push(`error_description=${err.error_description}`);
  }
  if (err.status) parts.push(`HTTP ${err.status}`);
  if (err.code && !String(err.message).includes(err.code)) parts.push(`(${err.code})`);
  if (err.cause instanceof Error) parts.push(`cause: ${describe(err.cause)}`);
  else if (err.cause && typeof err.cause === 'object') parts.push(`cause: ${JSON.stringify(err.cause)}`);
  // One line, and not a page of it (playwright appends its whole call log).
  const line = parts.join(' ').replace(/\s+/g, ' ');
  return line.length > 600 ? `${line.slice(0, 600)}…` : line;
}

export function reporter(library, version) {
  const label = `${library} ${version}`;
  let passed = 0;
  let failed = 0;

  /** Runs one step; returns its value, or stops the flow on failure. */
  async function check(step, fn) {
    try {
      const value = await fn();
      passed += 1;
      console.log(`${label}: ${step} ... ok`);
      return value;
    } catch (err) {
      failed += 1;
      console.log(`FAIL ${label}: ${step}: ${describe(err)}`);
      throw new FlowStopped(step);
    }
  }

  /** Runs a group of dependent steps; a failure skips the rest of the group only. */
  async function flow(name, fn) {
    try {
      await fn();
    } catch (err) {
      if (err instanceof FlowStopped) {
        console.log(`${label}: ${name}: remaining steps skipped`);
      } else {
        failed += 1;
        console.log(`FAIL ${label}: ${name}: ${describe(err)}`);
      }
    }
  }

  function finish() {
    const result = failed === 0 && passed > 0 ? 'pass' : 'FAIL';
    console.log(`${label}: ${passed} passed, ${failed} failed`);
    if (process.env.INTEROP_RESULTS) {
      appendFileSync(process.env.INTEROP_RESULTS, `${library}\t${version}\t${result} (${passed} passed, ${failed} failed)\n`);
    }
    process.exitCode = result === 'pass' ? 0 : 1;
  }

  return { check, flow, finish, label };
}

/** Throws unless `cond`; `what` says what was expected. */
export function expect(cond, what) {
  if (!cond) throw new Error(`expected ${what}`);
}

/** The header and payload of a JWT, unverified (to look at what the library checked). */
export function jwtHeader(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'));
}
export function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** A required environment variable (the runner sets them all). */
export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set (run interop/run)`);
  return value;
}
