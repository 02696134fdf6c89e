import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HAPROXY } from './haproxy.ts';

const run = promisify(execFile);

// `http-check send` (the health check's request) came with HAProxy 2.2.
const MIN_VERSION = [2, 2] as const;

/** An error that Vitest shows as its message alone: no stack, no code frame. */
function failure(message: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}`;
  return error;
}

/**
 * Vitest's global setup for `pnpm test:haproxy`: HAProxy 2.2 or later must be installed, or
 * the run fails here, once, before any test, with what to do about it (never skipped: a
 * skipped test would hide a broken deployment).
 */
export default async function preflight(): Promise<void> {
  let said: string;
  try {
    said = (await run(HAPROXY, ['-v'])).stdout;
  } catch {
    throw failure(
      `pnpm test:haproxy needs HAProxy, and "${HAPROXY}" cannot be run: install it ` +
        '(`apt-get install haproxy` on Debian/Ubuntu; .ci/run does) or set HAPROXY to its path.',
    );
  }
  const [, major, minor] = said.match(/version (\d+)\.(\d+)/) ?? [];
  const version = [Number(major), Number(minor)];
  if (
    major === undefined ||
    (version[0] as number) < MIN_VERSION[0] ||
    (version[0] === MIN_VERSION[0] && (version[1] as number) < MIN_VERSION[1])
  ) {
    throw failure(
      `pnpm test:haproxy needs HAProxy ${MIN_VERSION.join('.')} or later; "${HAPROXY}" says: ${said.split('\n')[0]}`,
    );
  }
}

// `pnpm test:haproxy` runs this file before Vitest, so that a missing HAProxy is one line on
// stderr rather than Vitest's report of a failed global setup.
if (import.meta.main) {
  preflight().catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
