/**
 * The PROXY protocol, v1 (text) and v2 (binary), as HAProxy's `send-proxy`/`send-proxy-v2`,
 * nginx, Envoy and the cloud load balancers send it, read as the spec asks of a receiver
 * (haproxy.org, doc/proxy-protocol.txt): the header comes first on the connection, is decided
 * as early as possible, and anything that does not match exactly is refused.
 *
 * Our own parser, not `proxy-protocol-js` (4.0.6), because that library, checked against its
 * source and by hand:
 * - cannot read incrementally: a v1 line cut short throws the same error as garbage, and v2
 *   ignores its length field, so a truncated v2 header "parses" with NaN ports, and TLVs come
 *   back mixed into the payload that follows;
 * - does not validate v1: no 107-byte limit, any text as an address (`999.2.3.4`, `hello`),
 *   ports up to 99999 and with leading zeros;
 * - throws plain objects, not `Error`s.
 * What it would save us is small next to what we would have to check around it.
 *
 * Decisions the spec leaves to the receiver:
 * - v2 AF_UNIX, DGRAM and UNSPEC headers (and LOCAL, and v1 UNKNOWN) carry no address we
 *   use: the result has no `source`, and the caller keeps the connection's own address. The
 *   spec asks exactly this fallback of a receiver that does not implement a family.
 * - TLVs are bounds-checked and skipped; a CRC32C TLV is not verified.
 * - Addresses come back canonical (RFC 5952 for IPv6, as node prints them), whatever form the
 *   sender wrote.
 */
import { BlockList, isIP, type Socket, SocketAddress } from 'node:net';
import { ServerAppError } from './errors.ts';

/** One end of the proxied connection. `family` is spelt as `socket.remoteFamily` spells it. */
export interface ProxyAddress {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

/** A complete, valid PROXY header. */
export interface ProxyHeader {
  readonly version: 1 | 2;
  /**
   * `'local'`: a v2 LOCAL header, the proxy's own connection (HAProxy health checks).
   * `'proxy'`: a relayed client; its address is `source` when the header gave one.
   */
  readonly command: 'proxy' | 'local';
  /** Bytes the header took on the wire, before the client's own bytes. */
  readonly headerLength: number;
  /**
   * The real client. Absent for LOCAL, v1 UNKNOWN and v2 UNSPEC/AF_UNIX/DGRAM headers: the
   * connection's own address stands then.
   */
  readonly source?: ProxyAddress;
  /** The address the client connected to (the proxy's listener). Present with `source`. */
  readonly destination?: ProxyAddress;
}

/**
 * What {@link parseProxyHeader} makes of the bytes so far. `rest` is what followed the header
 * in the given buffer (a view into it, not a copy).
 */
export type ProxyHeaderResult =
  | { readonly state: 'incomplete' }
  | { readonly state: 'invalid'; readonly reason: string }
  | ({ readonly state: 'complete'; readonly rest: Uint8Array } & ProxyHeader);

/** The longest v1 line the spec allows, CRLF included. */
export const PROXY_V1_MAX_BYTES = 107;

/** The longest v2 header there can be: 16 fixed bytes and a 16-bit length. */
export const PROXY_V2_MAX_BYTES = 16 + 0xffff;

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const V1_PREFIX = latin1('PROXY ');
const V2_SIGNATURE = latin1('\r\n\r\n\0\r\nQUIT\n');
const V2_FIXED = 16;
const CR = 0x0d;
const LF = 0x0a;

const INCOMPLETE = Object.freeze({ state: 'incomplete' } as const);

function invalid(reason: string): ProxyHeaderResult {
  return { state: 'invalid', reason };
}

/**
 * Reads a PROXY header (v1 or v2) from the start of `buffer`, which holds every byte the
 * connection has sent so far. Call it again with more bytes while it says `'incomplete'`; it
 * says `'invalid'` as soon as the bytes can no longer become a valid header (the first byte,
 * for anything that is not one), so a client that sends something else is refused at once.
 * Never throws on any input.
 *
 * `maxBytes` caps a v2 header (default {@link PROXY_V2_MAX_BYTES}, all the spec allows); a v1
 * line is at most 107 bytes whatever it says.
 *
 * @example
 * const result = parseProxyHeader(Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 51000 7000\r\nRTT'));
 * if (result.state === 'complete') {
 *   result.source; // { address: '203.0.113.7', port: 51000, family: 'IPv4' }
 *   result.rest; // the bytes 'RTT', the client's own
 * }
 */
export function parseProxyHeader(
  buffer: Uint8Array,
  options: { maxBytes?: number } = {},
): ProxyHeaderResult {
  if (buffer.length === 0) return INCOMPLETE;
  if (buffer[0] === V1_PREFIX[0]) {
    if (!startsWith(buffer, V1_PREFIX)) return notProxy(buffer);
    return parseV1(buffer);
  }
  if (buffer[0] === V2_SIGNATURE[0]) {
    if (!startsWith(buffer, V2_SIGNATURE)) return notProxy(buffer);
    return parseV2(buffer, options.maxBytes ?? PROXY_V2_MAX_BYTES);
  }
  return notProxy(buffer);
}

/** Whether `buffer` matches `prefix` as far as it goes. */
function startsWith(buffer: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(buffer.length, prefix.length);
  for (let i = 0; i < n; i++) if (buffer[i] !== prefix[i]) return false;
  return true;
}

// The first bytes, in hex only (they come from anyone), tell an operator what connected
// instead: 16 03 01 is TLS, 52 54 54 a direct rtt client, digits the seed's wire.
function notProxy(buffer: Uint8Array): ProxyHeaderResult {
  const shown = Array.from(buffer.subarray(0, 8), (b) => b.toString(16).padStart(2, '0'));
  return invalid(`no PROXY protocol header (starts with ${shown.join(' ')})`);
}

// ---- v1 ---------------------------------------------------------------------------------

type V1Protocol = 'TCP4' | 'TCP6' | 'UNKNOWN';
const V1_PROTOCOLS: readonly V1Protocol[] = ['TCP4', 'TCP6', 'UNKNOWN'];
const V1_FIELDS = ['source address', 'destination address', 'source port', 'destination port'];

function parseV1(buffer: Uint8Array): ProxyHeaderResult {
  const limit = Math.min(buffer.length, PROXY_V1_MAX_BYTES);
  let end = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const b = buffer[i] as number;
    if (b === CR) {
      end = i;
      break;
    }
    // Only printable ASCII is valid before the CRLF; anything else can be refused now.
    if (b < 0x20 || b > 0x7e) return invalid('PROXY v1 header has a byte that is not text');
  }
  if (end === -1) {
    if (buffer.length >= PROXY_V1_MAX_BYTES) {
      return invalid(`PROXY v1 header longer than ${PROXY_V1_MAX_BYTES} bytes`);
    }
    const partial = checkV1Line(ascii(buffer), false);
    return partial.state === 'ok' ? INCOMPLETE : partial;
  }
  if (end + 2 > PROXY_V1_MAX_BYTES) {
    return invalid(`PROXY v1 header longer than ${PROXY_V1_MAX_BYTES} bytes`);
  }
  // Judge the line before waiting for the LF, so that a bad line is refused at its CR.
  const checked = checkV1Line(ascii(buffer.subarray(0, end)), true);
  if (checked.state !== 'ok') return checked;
  if (end + 1 >= buffer.length) return INCOMPLETE;
  if (buffer[end + 1] !== LF) return invalid('PROXY v1 header has a CR without an LF');
  const { state: _ok, ...addresses } = checked;
  return {
    state: 'complete',
    version: 1,
    command: 'proxy',
    headerLength: end + 2,
    rest: buffer.subarray(end + 2),
    ...addresses,
  };
}

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

type V1Check =
  | { readonly state: 'incomplete' }
  | { readonly state: 'invalid'; readonly reason: string }
  | { readonly state: 'ok'; readonly source?: ProxyAddress; readonly destination?: ProxyAddress };

/**
 * Checks `line` (no CRLF), which is the whole line when `whole`, or the part received so far:
 * then every field but the last must already be right, and the last must be able to become
 * right, so that a bad line is refused at its first wrong byte.
 */
function checkV1Line(line: string, whole: boolean): V1Check {
  const afterPrefix = line.slice(V1_PREFIX.length);
  const space = afterPrefix.indexOf(' ');
  const protocolText = space === -1 ? afterPrefix : afterPrefix.slice(0, space);
  const protocolComplete = whole || space !== -1;
  const protocol = V1_PROTOCOLS.find((p) => p === protocolText);
  const possible = protocolComplete
    ? protocol !== undefined
    : V1_PROTOCOLS.some((p) => p.startsWith(protocolText));
  if (!possible) {
    return { state: 'invalid', reason: 'PROXY v1 header has an unknown protocol' };
  }
  if (!protocolComplete) return INCOMPLETE;
  // The spec: for UNKNOWN, the receiver must ignore anything presented before the CRLF.
  if (protocol === 'UNKNOWN') return whole ? { state: 'ok' } : INCOMPLETE;

  const fields = space === -1 ? [] : afterPrefix.slice(space + 1).split(' ');
  const family = protocol === 'TCP4' ? 'IPv4' : 'IPv6';
  for (let i = 0; i < Math.min(fields.length, V1_FIELDS.length); i++) {
    const text = fields[i] as string;
    const complete = whole || i < fields.length - 1;
    const ok = i < 2 ? v1Address(text, family, complete) : v1Port(text, complete);
    if (!ok) return { state: 'invalid', reason: `PROXY v1 header has a bad ${V1_FIELDS[i]}` };
  }
  if (fields.length > V1_FIELDS.length) {
    return { state: 'invalid', reason: 'PROXY v1 header has too many fields' };
  }
  if (whole && fields.length < V1_FIELDS.length) {
    return { state: 'invalid', reason: 'PROXY v1 header has too few fields' };
  }
  if (!whole) return INCOMPLETE;
  const [source, destination, sourcePort, destinationPort] = fields as [
    string,
    string,
    string,
    string,
  ];
  return {
    state: 'ok',
    source: { address: canonical(source, family), port: Number(sourcePort), family },
    destination: {
      address: canonical(destination, family),
      port: Number(destinationPort),
      family,
    },
  };
}

// The longest text forms: 255.255.255.255, and ffff:...:ffff with an IPv4 tail (45).
const V1_ADDRESS = {
  IPv4: { chars: /^[0-9.]*$/, max: 15, version: 4 },
  IPv6: { chars: /^[0-9A-Fa-f:.]*$/, max: 45, version: 6 },
} as const;

function v1Address(text: string, family: 'IPv4' | 'IPv6', complete: boolean): boolean {
  const rule = V1_ADDRESS[family];
  if (text.length > rule.max || !rule.chars.test(text)) return false;
  // node's isIP takes no leading zeros in IPv4 (the spec forbids them: octal confusion).
  return !complete || isIP(text) === rule.version;
}

function v1Port(text: string, complete: boolean): boolean {
  if (!/^[0-9]*$/.test(text) || text.length > 5) return false;
  // The spec forbids leading zeros; "0" itself is a port.
  if (text.length > 1 && text[0] === '0') return false;
  if (Number(text) > 0xffff) return false;
  return !complete || text.length > 0;
}

/** `address` in the form node prints it (IPv6 lowercase and compressed, RFC 5952). */
function canonical(address: string, family: 'IPv4' | 'IPv6'): string {
  try {
    return new SocketAddress({ address, family: family === 'IPv4' ? 'ipv4' : 'ipv6' }).address;
  } catch {
    // isIP has already accepted it; should inet_pton disagree, keep the text as sent.
    return address;
  }
}

// ---- v2 ---------------------------------------------------------------------------------

function parseV2(buffer: Uint8Array, maxBytes: number): ProxyHeaderResult {
  if (buffer.length <= V2_SIGNATURE.length) return INCOMPLETE;
  const versionCommand = buffer[12] as number;
  if (versionCommand >> 4 !== 2) {
    return invalid(`unsupported PROXY v2 version ${versionCommand >> 4}`);
  }
  const commandBits = versionCommand & 0x0f;
  if (commandBits > 1) return invalid(`unsupported PROXY v2 command ${commandBits}`);
  const command = commandBits === 0 ? 'local' : 'proxy';
  if (buffer.length < 14) return INCOMPLETE;
  const familyProtocol = buffer[13] as number;
  // The spec: a LOCAL header's address block, family included, is ignored.
  if (command === 'proxy') {
    if (familyProtocol >> 4 > 3) {
      return invalid(`unsupported PROXY v2 address family ${familyProtocol >> 4}`);
    }
    if ((familyProtocol & 0x0f) > 2) {
      return invalid(`unsupported PROXY v2 transport protocol ${familyProtocol & 0x0f}`);
    }
  }
  if (buffer.length < V2_FIXED) return INCOMPLETE;
  const length = ((buffer[14] as number) << 8) | (buffer[15] as number);
  const headerLength = V2_FIXED + length;
  if (headerLength > maxBytes) {
    return invalid(`PROXY v2 header of ${headerLength} bytes is over the ${maxBytes}-byte limit`);
  }
  // TCP over IPv4 and over IPv6 are the only kinds whose addresses we take; the spec lets a
  // receiver fall back to the connection's own address for the others.
  const addressLength =
    command !== 'proxy' ? 0 : familyProtocol === 0x11 ? 12 : familyProtocol === 0x21 ? 36 : 0;
  if (length < addressLength) {
    return invalid(`PROXY v2 length ${length} is too short for its ${addressLength}-byte address`);
  }
  if (buffer.length < headerLength) return INCOMPLETE;
  const rest = buffer.subarray(headerLength);
  if (addressLength === 0) {
    return { state: 'complete', version: 2, command, headerLength, rest };
  }
  const block = buffer.subarray(V2_FIXED, headerLength);
  const tlvError = checkTlvs(block.subarray(addressLength));
  if (tlvError !== undefined) return invalid(tlvError);
  const family = addressLength === 12 ? 'IPv4' : 'IPv6';
  const size = family === 'IPv4' ? 4 : 16;
  const ports = 2 * size;
  return {
    state: 'complete',
    version: 2,
    command,
    headerLength,
    rest,
    source: {
      address: binaryAddress(block.subarray(0, size)),
      port: ((block[ports] as number) << 8) | (block[ports + 1] as number),
      family,
    },
    destination: {
      address: binaryAddress(block.subarray(size, ports)),
      port: ((block[ports + 2] as number) << 8) | (block[ports + 3] as number),
      family,
    },
  };
}

/** Walks the TLVs after the addresses; says what is wrong, if anything. */
function checkTlvs(tlvs: Uint8Array): string | undefined {
  let at = 0;
  while (at < tlvs.length) {
    if (tlvs.length - at < 3) return 'PROXY v2 header ends inside a TLV';
    const length = ((tlvs[at + 1] as number) << 8) | (tlvs[at + 2] as number);
    at += 3 + length;
    if (at > tlvs.length) return 'PROXY v2 TLV runs past the end of the header';
  }
  return undefined;
}

function binaryAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  }
  return canonical(groups.join(':'), 'IPv6');
}

// ---- reading from a socket ------------------------------------------------------------

/**
 * Why {@link readProxyHeader} found no header. `'invalid'`: the bytes are not a PROXY header;
 * `'timeout'`: none complete in time; `'closed'`: the client closed first; `'error'`: the
 * socket failed; `'aborted'`: the signal fired.
 */
export type ProxyReadFailure = 'invalid' | 'timeout' | 'closed' | 'error' | 'aborted';

/** What {@link readProxyHeader} found. */
export type ProxyReadResult =
  | {
      readonly ok: true;
      readonly header: ProxyHeader;
      /** The client's bytes that came after the header: `socket.unshift()` them. A copy. */
      readonly rest: Uint8Array;
    }
  | {
      readonly ok: false;
      readonly failure: ProxyReadFailure;
      /** One short sentence for the log line. */
      readonly reason: string;
      /** Bytes received before giving up. */
      readonly received: number;
    };

/** Options of {@link readProxyHeader}. */
export interface ReadProxyHeaderOptions {
  /**
   * Milliseconds for the whole header, from the call. The spec suggests a few seconds, at
   * least 3 (a TCP retransmit).
   */
  timeoutMs: number;
  /** Largest v2 header taken (default {@link PROXY_V2_MAX_BYTES}; v1 is at most 107). */
  maxBytes?: number;
  /** Gives up (failure `'aborted'`) when it fires, e.g. as the server shuts down. */
  signal?: AbortSignal;
}

/**
 * Reads the PROXY header that starts `socket` (an accepted connection, paused or not, with no
 * encoding set): resumes it, collects bytes until the header is complete or cannot be one,
 * then pauses it again and takes its listeners off. Resolves, never rejects: on success with
 * the header and the bytes that followed it (which the caller `unshift()`s, or hands on); on
 * failure with a reason for the log line, the socket left open (unless the client closed it)
 * for the caller to destroy.
 *
 * The socket has no 'error' listener of ours once this settles: the caller adds its own
 * before the next turn of the event loop (an `await` continuation runs before any I/O).
 *
 * Call it on the thread that serves the connection: node refuses to move a socket that has
 * read anything to a worker (ERR_WORKER_HANDLE_NOT_TRANSFERABLE once `bytesRead > 0`).
 *
 * @example
 * const read = await readProxyHeader(socket, { timeoutMs: 5_000 });
 * if (!read.ok) {
 *   log.warn(`Closing the connection from ${socket.remoteAddress}: ${read.reason}`);
 *   socket.destroy();
 * } else {
 *   const client = read.header.source ?? { address: socket.remoteAddress, port: socket.remotePort };
 *   if (read.rest.length > 0) socket.unshift(read.rest);
 * }
 */
export function readProxyHeader(
  socket: Socket,
  options: ReadProxyHeaderOptions,
): Promise<ProxyReadResult> {
  const { timeoutMs, signal } = options;
  const parseOptions = options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes };
  return new Promise<ProxyReadResult>((resolve) => {
    // Bytes are kept in one buffer that doubles as needed: a sender that trickles a long v2
    // header a byte at a time costs linear copying, not quadratic.
    let buffered = new Uint8Array(0);
    let received = 0;
    let settled = false;

    const finish = (result: ProxyReadResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (!socket.destroyed) socket.pause();
      resolve(result);
    };
    const fail = (failure: ProxyReadFailure, reason: string) =>
      finish({ ok: false, failure, reason, received });

    const onData = (chunk: Buffer) => {
      if (settled) return;
      let bytes: Uint8Array;
      if (received === 0) {
        // The usual case: the whole header in the first chunk, parsed where it lies.
        bytes = chunk;
      } else {
        if (received + chunk.length > buffered.length) {
          const grown = new Uint8Array(Math.max(received + chunk.length, 2 * buffered.length));
          grown.set(buffered.subarray(0, received));
          buffered = grown;
        }
        buffered.set(chunk, received);
        bytes = buffered.subarray(0, received + chunk.length);
      }
      received += chunk.length;
      const result = parseProxyHeader(bytes, parseOptions);
      if (result.state === 'incomplete') {
        if (bytes === chunk) buffered = Uint8Array.from(chunk);
        return;
      }
      if (result.state === 'invalid') {
        fail('invalid', result.reason);
        return;
      }
      const { state: _complete, rest, ...header } = result;
      // A copy with a buffer of its own: a view would keep the whole chunk alive, and sent to
      // a thread it would clone all of it (a pooled Buffer: other connections' bytes too).
      finish({ ok: true, header, rest: new Uint8Array(rest) });
    };
    const onEnd = () =>
      fail('closed', `connection closed before a complete PROXY header (${received} bytes)`);
    const onError = (err: Error) =>
      fail('error', `socket error before a complete PROXY header: ${err.message}`);
    const onAbort = () => fail('aborted', 'stopped before a complete PROXY header');

    const timer = setTimeout(
      () => fail('timeout', `no complete PROXY header within ${timeoutMs} ms`),
      timeoutMs,
    );
    if (signal?.aborted) {
      onAbort();
      return;
    }
    if (socket.destroyed || socket.readableEnded) {
      onEnd();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.resume();
  });
}

// ---- --proxy-from -----------------------------------------------------------------------

/**
 * Turns a `--proxy-from` list (`"10.0.0.0/8,2001:db8::/32,192.0.2.7"`, or several such
 * strings) into a check of a connection's remote address: CIDR blocks and plain addresses
 * (taken as /32 or /128), IPv4 and IPv6. An IPv4 client on a dual-stack socket
 * (`::ffff:10.0.0.1`) matches its IPv4 block. Empty entries are skipped.
 *
 * Throws a `ServerAppError` naming the first entry that is not an address or a block, or when
 * the list is empty.
 *
 * @example
 * const allowed = proxyAllowed('10.0.0.0/8, 2001:db8::/32');
 * allowed('::ffff:10.1.2.3'); // true
 * allowed('192.0.2.1'); // false
 */
export function proxyAllowed(
  list: string | readonly string[],
): (address: string | undefined) => boolean {
  const entries = (typeof list === 'string' ? [list] : list)
    .flatMap((item) => item.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) {
    throw new ServerAppError('--proxy-from needs at least one address or CIDR block');
  }
  const blockList = new BlockList();
  for (const entry of entries) addEntry(blockList, entry);
  return (address) => {
    if (address === undefined) return false;
    const version = isIP(address);
    if (version === 0) return false;
    try {
      return blockList.check(address, version === 4 ? 'ipv4' : 'ipv6');
    } catch {
      return false;
    }
  };
}

function addEntry(blockList: BlockList, entry: string): void {
  const bad = () =>
    new ServerAppError(
      `invalid --proxy-from entry '${entry}': expected an IPv4 or IPv6 address or CIDR block (like 10.0.0.0/8 or 2001:db8::/32)`,
    );
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  // A zone (fe80::1%eth0) names an interface on one host: not something to allow by.
  if (version === 0 || address.includes('%')) throw bad();
  const type = version === 4 ? 'ipv4' : 'ipv6';
  try {
    if (slash === -1) {
      blockList.addAddress(address, type);
      return;
    }
    const prefixText = entry.slice(slash + 1);
    const prefix = Number(prefixText);
    if (!/^[0-9]{1,3}$/.test(prefixText) || prefix > (version === 4 ? 32 : 128)) throw bad();
    blockList.addSubnet(address, prefix, type);
  } catch (err) {
    if (err instanceof ServerAppError) throw err;
    throw bad();
  }
}
