/// <reference types="node" />
import { closeSync, constants, openSync, statSync, writeSync } from 'node:fs';

/**
 * Opens a TLS key log (the NSS `SSLKEYLOGFILE` format Wireshark reads) for appending and gives
 * the function that writes one line of it: the `onKeylog` of `serveConnection`'s and
 * `connect`'s `tls` options.
 *
 * Each line is one `write(2)` to an `O_APPEND` descriptor: lines from many openers (a
 * server's pool threads each open the file) stay whole, and nothing is buffered to lose at
 * exit. A new file gets mode 0600: whoever reads it can decrypt every session it covers. A
 * write that fails (disk full) is dropped: the session it belongs to goes on.
 *
 * @throws the `fs` error (ENOENT, EACCES, EISDIR, ENXIO for a FIFO nobody reads...) when the
 *   file cannot be opened.
 * @example
 * const onKeylog = openKeylog(process.env.SSLKEYLOGFILE ?? 'keys.log');
 * const client = await connect({ port: 7777, tls: { rejectUnauthorized: false, onKeylog } });
 */
export function openKeylog(path: string): ((line: Buffer) => void) & { close(): void } {
  const fd = openAppending(path, 0o600);
  const newline = Buffer.from('\n');
  const write = (line: Buffer): void => {
    try {
      // Node gives each line with its newline; one without would run into the next.
      writeSync(fd, line.at(-1) === 0x0a ? line : Buffer.concat([line, newline]));
    } catch {
      // Dropped, as the comment above says.
    }
  };
  return Object.assign(write, { close: () => closeSync(fd) });
}

/**
 * Opens `path` for appending (`O_APPEND`), creating it with `mode`, and gives the descriptor:
 * what {@link openKeylog} opens its file with, and fit for any log a program appends to line
 * by line. A named pipe (FIFO) is opened only while a program reads it: a plain open for
 * writing would wait for a reader for ever, and the whole program with it. The check is a
 * non-blocking open, which fails at once (ENXIO) with no reader; it is held while the real,
 * blocking one is made, so that the reader does not see the end of the pipe in between.
 *
 * @throws the `fs` error (ENOENT, EACCES, EISDIR, ENXIO...) when it cannot be opened.
 * @example
 * const fd = openAppending('/var/log/rtt-server.log', 0o644);
 * writeSync(fd, 'one line\n');
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
