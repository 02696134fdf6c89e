import { closeSync, constants, openSync, statSync } from 'node:fs';

/**
 * Opens `path` for appending (`O_APPEND`), creating it with `mode`, and gives the descriptor.
 * A named pipe (FIFO) is opened only while a program reads it: a plain open for writing
 * would wait for a reader for ever, and the whole program with it. The check is a
 * non-blocking open, which fails at once (ENXIO) with no reader; it is held while the real,
 * blocking one is made, so that the reader does not see the end of the pipe in between.
 * (`@rtt/protocol`'s key log does the same: a published package cannot depend on this one.)
 *
 * @throws the `fs` error (ENOENT, EACCES, EISDIR, ENXIO...); `fileErrorReason` words it.
 * @example
 * const fd = openAppending('/var/log/rtt-server.log', 0o644);
 */
export function openAppending(path: string, mode: number): number {
  let fifo = false;
  try {
    fifo = statSync(path).isFIFO();
  } catch {
    // Not there yet: made by the open below, or the open says why not.
  }
  if (!fifo) return openSync(path, 'a', mode);
  const probe = openSync(path, constants.O_WRONLY | (constants.O_NONBLOCK ?? 0));
  try {
    return openSync(path, 'a', mode);
  } finally {
    closeSync(probe);
  }
}
