import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * Creates a directory and whichever of its parents are missing, as `mkdir -p` does, each new
 * one with `mode` (less the umask). A directory already there is no error; a file in the way
 * is (EEXIST, or ENOTDIR for a parent).
 *
 * Written by hand rather than with `mkdirSync(path, { recursive: true })`: Node's walk never
 * ends on a file system that answers ENOENT for a new child of a directory that exists, as
 * procfs does (`/proc/x/y`): it makes the parent (EEXIST), tries the child again (ENOENT), and
 * so on at full CPU. A mistyped `--state-dir` or `--known-servers` would hang the program
 * instead of failing with a reason.
 *
 * @example
 * makeDirectory('/home/ann/.local/state/rtt', 0o700);
 */
export function makeDirectory(path: string, mode = 0o777): void {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      statSync(current);
      break;
    } catch (err) {
      if (codeOf(err) !== 'ENOENT') throw err;
      missing.push(current);
      const parent = dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  if (missing.length === 0) {
    // The path is there: mkdir says EEXIST if it is not a directory.
    if (!statSync(current).isDirectory()) mkdirSync(current, { mode });
    return;
  }
  for (const directory of missing.reverse()) {
    try {
      mkdirSync(directory, { mode });
    } catch (err) {
      // Made meanwhile by another process (two servers starting at once, say).
      if (codeOf(err) === 'EEXIST' && statSync(directory).isDirectory()) continue;
      throw err;
    }
  }
}
