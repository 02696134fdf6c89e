import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TSHARK } from './tshark.ts';

const run = promisify(execFile);

/** An error that Vitest shows as its message alone: no stack, no code frame. */
function failure(message: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}`;
  return error;
}

/**
 * Vitest's global setup for `pnpm test:capture`: tshark must be installed and allowed to
 * capture on the loopback interface, or the run fails here, once, before any test, with what
 * to do about it (never skipped: a skipped capture test would hide a broken key log).
 */
export default async function preflight(): Promise<void> {
  try {
    await run(TSHARK, ['--version']);
  } catch {
    throw failure(
      `pnpm test:capture needs tshark, and "${TSHARK}" cannot be run: install it ` +
        '(`apt-get install tshark` on Debian/Ubuntu; .ci/run does) or set TSHARK to its path.',
    );
  }
  try {
    // Listing the link-layer types opens the interface: it fails exactly when capturing would.
    await run(TSHARK, ['-i', 'lo', '-L']);
  } catch (error) {
    const said = String((error as { stderr?: unknown }).stderr ?? error)
      .split('\n')
      .filter((line) => line.startsWith('tshark: '))
      .at(-1);
    throw failure(
      'pnpm test:capture needs permission to capture on the loopback interface (lo) with ' +
        'tshark: run it as root, or answer "yes" to `dpkg-reconfigure wireshark-common` and ' +
        `join the wireshark group.${said ? ` ${said}` : ''}`,
    );
  }
}

// `pnpm test:capture` runs this file before Vitest, so that a missing tshark is one line on
// stderr rather than Vitest's report of a failed global setup.
if (import.meta.main) {
  preflight().catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
