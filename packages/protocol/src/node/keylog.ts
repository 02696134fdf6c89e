/// <reference types="node" />
import { closeSync, constants, openSync, writeSync } from 'node:fs';

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
  // Non-blocking, for a named pipe (FIFO): opened for writing with nobody reading it, a plain
  // open waits for a reader forever and the whole program with it; this one fails at once
  // (ENXIO), and once open a full pipe drops lines as a full disk does. Files and terminals
  // are not affected by the flag.
  const { O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK = 0 } = constants;
  const fd = openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0o600);
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
