import {
  appendFileSync,
  chmodSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { baseDir, fileErrorReason, makeDirectory } from '@rtt/cli-support';
import { ClientFileError } from './errors.ts';

/**
 * The known-servers file: trust on first use, as SSH's `known_hosts`. One line per server,
 * `host:port sha256:<base64>` (IPv6 in brackets, `[::1]:7777`); `#` starts a comment, and so
 * do words after the fingerprint.
 */

/** One line of the file that names a server, whether or not its fingerprint can be read. */
export interface KnownServer {
  /** `host:port`, as {@link serverKey} writes it. */
  key: string;
  /**
   * The fingerprint as the client compares it (`sha256:` in lower case, no padding), or
   * `undefined` when the line names the server but what follows is not a fingerprint.
   */
  fingerprint: string | undefined;
  /** What the line has where the fingerprint goes, as written (`''` for nothing). */
  text: string;
  /** 1-based line number in the file, for the warning and for editing by hand. */
  line: number;
}

/** What {@link checkKnownServer} found for a server's certificate. */
export type TrustCheck =
  | { kind: 'match' }
  | { kind: 'new' }
  | { kind: 'changed'; expected: string; line: number }
  | { kind: 'unreadable'; line: number; text: string };

// The prefix in any case, as OpenSSH prints it (`SHA256:`); base64 is case-sensitive, and a
// `=` of padding (base64 as most tools write it) names the same 32 bytes.
const FINGERPRINT_TEXT = /^sha256:([A-Za-z0-9+/]{43})=?$/i;

/**
 * Reads a certificate fingerprint as a person may write it (`sha256:`, `SHA256:`, with or
 * without the base64's `=`) in the one form that {@link certificateFingerprint} of
 * `@rtt/protocol/node` gives, so that the two compare as strings. `undefined` if it is not one.
 *
 * @example
 * readFingerprint('SHA256:q5b0...Yw'); // 'sha256:q5b0...Yw'
 * readFingerprint('md5:00ff'); // undefined
 */
export function readFingerprint(text: string): string | undefined {
  const match = FINGERPRINT_TEXT.exec(text);
  return match === null ? undefined : `sha256:${match[1]}`;
}

/**
 * The default file: `$XDG_CONFIG_HOME/rtt/known_servers`, else `~/.config/rtt/known_servers`.
 *
 * @example
 * defaultKnownServersFile({ XDG_CONFIG_HOME: '/cfg' }); // '/cfg/rtt/known_servers'
 */
export function defaultKnownServersFile(
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  return join(baseDir('config', env, home), 'rtt', 'known_servers');
}

/**
 * The file's key for a server: `host:port`, in one spelling per server, so that a line
 * written by hand another way still names it: names in lower case and without a final dot
 * (`Example.org.` is `example.org`), IPv6 literals compressed in brackets
 * (`0:0:0:0:0:0:0:1` is `[::1]`).
 *
 * @example
 * serverKey('127.0.0.1', 7777); // '127.0.0.1:7777'
 * serverKey('0:0:0:0:0:0:0:1', 7777); // '[::1]:7777'
 */
export function serverKey(host: string, port: number): string {
  const name = host.toLowerCase();
  if (!name.includes(':')) return `${name.endsWith('.') ? name.slice(0, -1) : name}:${port}`;
  if (isIP(name) !== 6) return `[${name}]:${port}`;
  // The URL parser writes an IPv6 address in its one compressed form (RFC 5952).
  return `${new URL(`http://[${name}]/`).hostname}:${port}`;
}

/**
 * Splits `HOST:PORT` (`[v6]:PORT`, or a bare host with `defaultPort`) for `--forget`.
 * Returns `undefined` for something that is not an address.
 *
 * @example
 * parseServerAddress('[::1]:7000', 7777); // { host: '::1', port: 7000 }
 * parseServerAddress('example.org', 7777); // { host: 'example.org', port: 7777 }
 */
export function parseServerAddress(
  text: string,
  defaultPort: number,
): { host: string; port: number } | undefined {
  const match =
    /^(?:\[([^\]]+)\]|([^:[\]\s]+)|([0-9a-fA-F:]+:[0-9a-fA-F:.]*))(?::(\d{1,5}))?$/.exec(text);
  // A bare IPv6 literal (group 3) cannot also carry a port: `::1:7777` would be ambiguous.
  if (match === null || (match[3] !== undefined && match[4] !== undefined)) return undefined;
  const host = match[1] ?? match[2] ?? match[3];
  const port = match[4] === undefined ? defaultPort : Number(match[4]);
  if (host === undefined || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/**
 * The server lines of a known-servers file's text: `host:port fingerprint`, then, as in
 * OpenSSH's `known_hosts`, any words (a comment). Blank lines and `#` comments are skipped. A
 * line whose fingerprint cannot be read is kept, with `fingerprint: undefined`: skipping it
 * would make its server look new, and trust on first use would then accept any certificate.
 *
 * @example
 * parseKnownServers('# mine\n127.0.0.1:7777 SHA256:AbC... office\n');
 * // [{ key: '127.0.0.1:7777', fingerprint: 'sha256:AbC...', text: 'SHA256:AbC...', line: 2 }]
 */
export function parseKnownServers(text: string): KnownServer[] {
  const servers: KnownServer[] = [];
  text.split('\n').forEach((raw, index) => {
    const content = raw.replace(/#.*$/, '').trim();
    if (content.length === 0) return;
    const [key = '', written = ''] = content.split(/\s+/);
    // `host:port` in the spelling serverKey gives; what does not parse (a host without its
    // port among it: port 0 is refused) stays as written, and names no server.
    const address = parseServerAddress(key, 0);
    servers.push({
      key: address === undefined ? key.toLowerCase() : serverKey(address.host, address.port),
      fingerprint: readFingerprint(written),
      text: written,
      line: index + 1,
    });
  });
  return servers;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    // No file yet (nor, for ENOTDIR, its folder): every server is new. A file that exists but
    // cannot be read is an error: treating it as empty would trust a changed certificate.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return '';
    throw new ClientFileError(
      'RTT_ERR_KNOWN_SERVERS',
      `cannot read the known-servers file ${file}: ${fileErrorReason(err, 'reading')}`,
      { cause: err },
    );
  }
}

/**
 * Compares a server's certificate fingerprint with the file. Any line for the server that
 * matches is a match (a server may have a second line during a certificate change); when
 * none does, `changed` cites the first. A line for the server that cannot be read is
 * `unreadable`, even beside a match: the client cannot tell what it meant (a newer
 * certificate, a revoked one), so it decides nothing until a person does.
 *
 * @example
 * checkKnownServer(file, '127.0.0.1:7777', 'sha256:...'); // { kind: 'new' } the first time
 */
export function checkKnownServer(file: string, key: string, fingerprint: string): TrustCheck {
  // Malformed lines of other servers are left alone, as OpenSSH leaves them: they cannot make
  // this server's certificate trusted, and a warning on every connection about a server not
  // being talked to would teach people to read past warnings. They fail when their server is.
  const known: { fingerprint: string; line: number }[] = [];
  for (const entry of parseKnownServers(readText(file))) {
    if (entry.key !== key) continue;
    if (entry.fingerprint === undefined) {
      return { kind: 'unreadable', line: entry.line, text: entry.text };
    }
    known.push({ fingerprint: entry.fingerprint, line: entry.line });
  }
  const first = known[0];
  if (first === undefined) return { kind: 'new' };
  if (known.some((entry) => entry.fingerprint === fingerprint)) return { kind: 'match' };
  return { kind: 'changed', expected: first.fingerprint, line: first.line };
}

const HEADER =
  '# rtt-client known servers: one "host:port sha256:<fingerprint>" a line; # starts a comment.\n';

/**
 * Appends a server's line, creating the directory (0700) and the file (0600) as needed: the
 * file says which servers this user talks to, which is nobody else's business.
 * @throws {ClientFileError} `RTT_ERR_KNOWN_SERVERS`: the folder cannot be made, or the file
 *   cannot be read or written (the reason in words)
 *
 * @example
 * rememberServer(file, '127.0.0.1:7777', 'sha256:...');
 */
export function rememberServer(file: string, key: string, fingerprint: string): void {
  const folder = dirname(file);
  try {
    makeDirectory(folder, 0o700);
  } catch (err) {
    throw new ClientFileError(
      'RTT_ERR_KNOWN_SERVERS',
      `cannot make the folder ${folder} of the known-servers file: ${fileErrorReason(err, 'creating')}`,
      { cause: err },
    );
  }
  try {
    // The header goes only into a file this call creates ('ax': appending, failing if it is
    // there): clients trusting servers for the first time at the same moment would each write
    // it otherwise, and appending never writes over a line another one added first.
    try {
      writeFileSync(file, HEADER, { flag: 'ax', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = readText(file);
    const head = text.length === 0 || text.endsWith('\n') ? '' : '\n';
    appendFileSync(file, `${head}${key} ${fingerprint}\n`, { mode: 0o600 });
  } catch (err) {
    if (err instanceof ClientFileError) throw err;
    throw new ClientFileError(
      'RTT_ERR_KNOWN_SERVERS',
      `cannot write the known-servers file ${file}: ${fileErrorReason(err, 'writing')}`,
      { cause: err },
    );
  }
}

/**
 * Removes every line of a server (`rtt-client --forget`), unreadable ones included, rewriting
 * the file through a temporary one so that a crash leaves either the old file or the new one.
 * Returns the line numbers removed (none: the server was not in the file).
 * @throws {ClientFileError} `RTT_ERR_KNOWN_SERVERS`: the file cannot be read or rewritten (the
 *   reason in words, naming the file, never the temporary one)
 *
 * @example
 * forgetServer(file, '127.0.0.1:7777'); // [3]
 */
export function forgetServer(file: string, key: string): number[] {
  const text = readText(file);
  const removed = parseKnownServers(text)
    .filter((entry) => entry.key === key)
    .map((entry) => entry.line);
  if (removed.length === 0) return removed;
  const kept = text.split('\n').filter((_, index) => !removed.includes(index + 1));
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, kept.join('\n'), { mode: 0o600 });
  } catch (err) {
    throw rewriteError(file, err);
  }
  try {
    chmodSync(temporary, 0o600);
    renameSync(temporary, file);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw rewriteError(file, err);
  }
  return removed;
}

// The temporary file is ours, not the user's: the message names their file, and says it is
// the folder that must be writable (a writable file in a read-only folder still fails).
function rewriteError(file: string, err: unknown): ClientFileError {
  const { code, message } = err as NodeJS.ErrnoException;
  const reason =
    code === 'EACCES' || code === 'EPERM'
      ? `this user may not write in its folder ${dirname(file)} (the file is replaced by a new copy made there)`
      : fileErrorReason(
          // Node's own message ends with the temporary file's path.
          Object.assign(new Error(message.replace(/, \w+ '[^']*'(?: -> '[^']*')?$/, '')), { code }),
          'writing',
        );
  return new ClientFileError(
    'RTT_ERR_KNOWN_SERVERS',
    `cannot rewrite the known-servers file ${file}: ${reason}`,
    { cause: err },
  );
}

/**
 * The SSH-style warning for a server whose certificate is not the one on file.
 *
 * @example
 * changedWarning({ key: '127.0.0.1:7777', file, line: 2, expected: 'sha256:A...', received: 'sha256:B...' });
 */
export function changedWarning(details: {
  key: string;
  file: string;
  line: number;
  expected: string;
  received: string;
  /** Whether `file` is not the default one, so the `--forget` command must name it. */
  customFile?: boolean;
}): string {
  const { key, file, line, expected, received } = details;
  const which = details.customFile === true ? ` --known-servers ${file}` : '';
  const bar = '@'.repeat(59);
  return [
    bar,
    `@${'    WARNING: SERVER CERTIFICATE HAS CHANGED!'.padEnd(57)}@`,
    bar,
    `Someone could be eavesdropping on you right now, or the certificate of ${key} was replaced.`,
    `Expected: ${expected}   (${file}, line ${line})`,
    `Received: ${received}`,
    `If the change is expected, forget the old certificate, then connect again:`,
    `  rtt-client --forget ${key}${which}   (or remove line ${line} of ${file})`,
    'Refused: nothing was sent to the server.',
  ].join('\n');
}
