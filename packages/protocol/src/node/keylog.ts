/// <reference types="node" />
import { closeSync, openSync, writeSync } from 'node:fs';

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
 * @throws the `fs` error (ENOENT, EACCES, EISDIR...) when the file cannot be opened.
 * @example
 * const onKeylog = openKeylog(process.env.SSLKEYLOGFILE ?? 'keys.log');
 * const client = await connect({ port: 7777, tls: { rejectUnauthorized: false, onKeylog } });
 */
export function openKeylog(path: string): ((line: Buffer) => void) & { close(): void } {
  const fd = openSync(path, 'a', 0o600);
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
