/// <reference types="node" />
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { RandomSource } from '@rtt/cipher';
import { assertInteger, assertString } from '@rtt/cipher/assert';
import { nowMicros } from '../answers.ts';
import { CipherId, Command, type CommandName, Status } from '../constants.ts';
import {
  ConnectError,
  ConnectionClosedError,
  ConnectionLostError,
  ProtocolError,
  ServerBusyError,
  TimeoutError,
  TlsError,
  UnexpectedResponseError,
  UnsupportedCommandError,
} from '../errors.ts';
import { FramedClientSession } from '../framed-client-session.ts';
import { SeedClientSession } from '../seed-client-session.ts';
import type { Wire } from '../session.ts';
import { PendingRequests } from './pending-requests.ts';
import { StreamTransport } from './stream-transport.ts';
import { tlsReason } from './tls.ts';

/**
 * TLS for {@link connect}: Node's `tls.connect` options (`ca`, `rejectUnauthorized`,
 * `servername`, ...) less the address, which `connect` gives, plus two of ours. TLS 1.3 only
 * (`minVersion` is always TLSv1.3).
 */
export interface ConnectTlsOptions extends Omit<tls.ConnectionOptions, 'host' | 'port' | 'socket'> {
  /**
   * Called once the TLS handshake is done and before a byte of ours is sent: check the
   * server's certificate here (`socket.getPeerCertificate().raw`, see
   * `certificateFingerprint`), for trust on first use with `rejectUnauthorized: false`. A
   * throw or a rejection closes the connection, and `connect` rejects with that very error.
   * Its time is not counted in `timeoutMs`; the server's own handshake timeout (5 s by
   * default) still runs, though, so a slow check (a question to the user) may find the
   * connection closed.
   */
  readonly verify?: ((socket: tls.TLSSocket) => void | Promise<void>) | undefined;
  /**
   * Each TLS secret as a line of the NSS key log format, for Wireshark (Node's `'keylog'`
   * event): append the lines to the SSLKEYLOGFILE.
   */
  readonly onKeylog?: ((line: Buffer) => void) | undefined;
}

/** Options for {@link connect}. */
export interface ConnectOptions {
  /** Server address; default `127.0.0.1`. */
  readonly host?: string | undefined;
  /** Server port; default 7777. */
  readonly port?: number | undefined;
  /** `'framed'` (default): our protocol; `'seed'`: the original Python server's wire. */
  readonly wire?: Wire | undefined;
  /** Time allowed for connecting plus the key exchange, in milliseconds; default 10000. */
  readonly timeoutMs?: number | undefined;
  /** The cipher id to ask for on the framed wire; default Caesar, or NONE with `tls`. */
  readonly cipher?: number | undefined;
  /** Largest frame body accepted and sent on the framed wire; default 65536. */
  readonly maxFrameSize?: number | undefined;
  /** Replaces the platform's randomness for our key pairs, for tests. */
  readonly random?: RandomSource | undefined;
  /**
   * A stream that is already connected (a `tls.TLSSocket`, say) to use instead of opening a
   * TCP connection to `host`:`port`.
   */
  readonly stream?: Duplex | undefined;
  /**
   * Connect with TLS 1.3 and speak our framed protocol inside it, with cipher NONE unless
   * `cipher` says otherwise (the server serves TLS on its usual port: it tells a TLS client by
   * its first byte). Not with `wire: 'seed'` (the seed wire never runs over TLS) nor with
   * `stream`. With a self-signed server certificate, pass `rejectUnauthorized: false` and
   * check it in `verify`; with `ca`, Node checks the certificate and the host name.
   */
  readonly tls?: ConnectTlsOptions | undefined;
  /**
   * Makes one request before resolving, its answer dropped, so that the first request's
   * `rttMs` does not include either end's first-time work (see {@link RttClient.warmUp}).
   * Default false. Measured on a fresh server and client: the first RTT was 4 to 23 times
   * the median of the next nine without it.
   */
  readonly warmUp?: boolean | undefined;
}

/** One answer with its round-trip time. */
export interface Reply {
  /** The RESPONSE status (`Status.OK` = 0). On the seed wire: OK, or UNKNOWN_COMMAND for an `ERROR ...` answer. */
  readonly status: number;
  /** `status === Status.OK`. */
  readonly ok: boolean;
  /** The answer as UTF-8 text (for a PING, the echoed payload). */
  readonly text: string;
  /** Milliseconds from just before the request was written to just after the answer was read. */
  readonly rttMs: number;
}

/**
 * The callback of {@link RttClient.send}: an error, or the raw answer. `payload` is a view
 * valid only during the call.
 */
export type ReplyCallback = (
  error: ProtocolError | null,
  status: number,
  payload: Uint8Array,
  rttMs: number,
) => void;

/** What {@link RttClient.clock} resolves with. */
export interface ClockReading {
  /** The server's clock: microseconds since the Unix epoch. */
  readonly serverMicros: number;
  /** The server's clock minus ours, in milliseconds (positive: the server is ahead). */
  readonly offsetMs: number;
  /** The round trip of the CLOCK request; the offset is good to within half of it. */
  readonly rttMs: number;
}

/** A command by name (`'TIME'`, ...) or, on the framed wire, by code. */
export type CommandInput = CommandName | number;

interface Pending {
  readonly started: number;
  readonly callback: ReplyCallback;
}

interface SeedQueued {
  readonly command: 'TIME' | 'DATE' | 'TEMP';
  readonly callback: ReplyCallback;
}

const EMPTY = new Uint8Array(0);
// Rounds of warmUp(). Measured with the client app on a fresh server, a fresh client and
// 0.2 s between requests (apps/bench first-rtt): with none, the first RTT was within 2x of
// the next nine's median in 5 of 10 trials (median ratio 3.3x, worst 8.4x) on the framed
// wire, 6 of 10 on the seed wire (worst 12.4x); with three, in 18 of 18 (worst 1.7x) and 19
// of 20 (worst 2.8x). Ten did no better.
const WARM_UP_REQUESTS = 3;
const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();
const CONNECT_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is the server running?)',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'no such host',
};

/**
 * Connects to an rtt server and agrees keys (our framed protocol, or the seed wire with
 * `wire: 'seed'`), then resolves with a client ready for requests.
 * @throws {ConnectError} the TCP connection failed (`RTT_ERR_CONNECT`, with a readable reason)
 * @throws {TlsError} with `tls`: the TLS handshake failed (`RTT_ERR_TLS`: an untrusted
 *   certificate, a server without TLS 1.3, ...); or whatever `tls.verify` threw
 * @throws {TimeoutError} no agreed keys within `timeoutMs`
 * @throws {ServerBusyError} the server is full (`RTT_ERR_SERVER_BUSY`), on either wire and
 *   with `tls`
 * @throws {ProtocolError} the server refused the hello or sent bad data
 * @example
 * import { connect } from '@rtt/protocol/node';
 *
 * const client = await connect({ host: '127.0.0.1', port: 7777 });
 * const { text, rttMs } = await client.request('TIME');
 * console.log(`${text} in ${rttMs.toFixed(3)} ms`);
 * await client.close();
 *
 * @example
 * // TLS, trusting the server's certificate on first use.
 * const client = await connect({
 *   port: 7777,
 *   tls: {
 *     rejectUnauthorized: false,
 *     verify: (socket) => {
 *       const seen = certificateFingerprint(socket.getPeerCertificate().raw);
 *       if (known !== undefined && seen !== known) throw new Error(`certificate changed: ${seen}`);
 *     },
 *   },
 * });
 */
export async function connect(options: ConnectOptions = {}): Promise<RttClient> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 7777;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const wire = options.wire ?? 'framed';
  if (wire !== 'framed' && wire !== 'seed') {
    throw new TypeError(`options.wire must be 'framed' or 'seed', got ${String(wire)}`);
  }
  assertString(host, 'options.host');
  assertInteger(port, 'options.port', 1, 65_535);
  // Node's timers hold at most 2^31 - 1 ms; past that they would fire at once.
  assertInteger(timeoutMs, 'options.timeoutMs', 1, 2 ** 31 - 1);
  const tlsOptions = options.tls;
  if (tlsOptions !== undefined) {
    if (typeof tlsOptions !== 'object' || tlsOptions === null) {
      throw new TypeError('options.tls must be an object');
    }
    if (wire === 'seed') {
      throw new TypeError('options.tls needs the framed wire: the seed wire never runs over TLS');
    }
    if (options.stream !== undefined) {
      throw new TypeError('options.tls and options.stream exclude each other');
    }
  }
  let deadline = performance.now() + timeoutMs;
  let stream: Duplex;
  if (options.stream !== undefined) stream = options.stream;
  else if (tlsOptions === undefined) stream = await openSocket(host, port, timeoutMs);
  else {
    const socket = await openTlsSocket(host, port, timeoutMs, tlsOptions);
    const started = performance.now();
    await verifyServer(socket, tlsOptions);
    // The user may have been asked: that time is not the server's.
    deadline += performance.now() - started;
    stream = socket;
  }
  let client: RttClient;
  try {
    client = new RttClient(
      stream,
      wire,
      tlsOptions !== undefined && options.cipher === undefined
        ? { ...options, cipher: CipherId.NONE }
        : options,
    );
  } catch (err) {
    // Bad options (a maxFrameSize out of range, say): the socket just opened is not leaked.
    if (options.stream === undefined) stream.destroy();
    throw err;
  }
  const timer = setTimeout(
    () => client.fail(new TimeoutError('the key exchange', timeoutMs)),
    Math.max(0, deadline - performance.now()),
  );
  try {
    await client.ready;
    if (options.warmUp === true) await client.warmUp();
  } finally {
    clearTimeout(timer);
  }
  return client;
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const fail = (err: NodeJS.ErrnoException) => {
      socket.destroy();
      const why = CONNECT_ERRORS[err.code ?? ''] ?? err.message;
      reject(new ConnectError(host, port, why, { cause: err }));
    };
    socket.setTimeout(timeoutMs, () =>
      fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

function openTlsSocket(
  host: string,
  port: number,
  timeoutMs: number,
  options: ConnectTlsOptions,
): Promise<tls.TLSSocket> {
  const { verify: _verify, onKeylog, ...rest } = options;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      // SNI takes host names only (RFC 6066).
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      ...rest,
      // Last, so that it holds whatever else was given: TLS 1.3 only.
      minVersion: 'TLSv1.3',
    });
    socket.setNoDelay(true);
    if (onKeylog !== undefined) socket.on('keylog', onKeylog);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
    });
    const fail = (err: NodeJS.ErrnoException) => {
      socket.destroy();
      if (!connected) {
        const why = CONNECT_ERRORS[err.code ?? ''] ?? err.message;
        reject(new ConnectError(host, port, why, { cause: err }));
        return;
      }
      // A full server turns a TLS client away with this alert (see refuse.ts), as it tells a
      // framed one with an ERROR frame: the same error for both.
      if (err.code === 'ERR_SSL_TLSV1_ALERT_USER_CANCELLED') {
        reject(new ServerBusyError('', { cause: err }));
        return;
      }
      const why = err.code === 'ETIMEDOUT' ? 'timed out' : tlsReason(err);
      reject(new TlsError(`TLS with ${host} port ${port} failed: ${why}`, { cause: err }));
    };
    socket.setTimeout(timeoutMs, () =>
      fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

// The caller's check of the server, before a byte of ours goes out; its error is passed on
// as it is, so that the caller recognises its own.
async function verifyServer(socket: tls.TLSSocket, options: ConnectTlsOptions): Promise<void> {
  const verify = options.verify;
  if (verify === undefined) return;
  // The server may close or reset meanwhile; the client made afterwards sees it closed.
  const ignore = () => {};
  socket.on('error', ignore);
  try {
    await verify(socket);
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    socket.off('error', ignore);
  }
}

/**
 * A connection to an rtt server with its keys agreed; made by {@link connect}. Any number
 * of requests may be in flight on the framed wire (matched by id); the seed wire has no ids,
 * so its requests are sent one after another, each after the previous answer.
 *
 * @example
 * const client = await connect({ port: 7777, wire: 'seed' });
 * const [time, date] = await Promise.all([client.request('TIME'), client.request('DATE')]);
 * await client.close();
 */
export class RttClient {
  /** The stream to the server (a `net.Socket` unless `options.stream` said otherwise). */
  readonly stream: Duplex;
  /** The wire spoken. */
  readonly wire: Wire;
  /** Settles when the keys are agreed, or rejects with why they were not. */
  readonly ready: Promise<void>;
  /**
   * Settles when the connection ends without `close()` having been called: with the reason,
   * never rejecting.
   */
  readonly lost: Promise<ProtocolError>;
  readonly #transport: StreamTransport;
  readonly #framed: FramedClientSession | undefined;
  readonly #seed: SeedClientSession | undefined;
  readonly #pending = new PendingRequests<ReplyCallback>();
  readonly #seedQueue: SeedQueued[] = [];
  #seedInFlight: Pending | undefined;
  #nextId = 1;
  #key = -1;
  #failure: ProtocolError | undefined;
  #closing = false;
  #settleReady: { resolve: () => void; reject: (error: ProtocolError) => void } | undefined;
  #reportLost: (error: ProtocolError) => void = () => {};

  /** @internal Use {@link connect}. */
  constructor(stream: Duplex, wire: Wire, options: ConnectOptions) {
    this.stream = stream;
    this.wire = wire;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = { resolve, reject };
    });
    // A caller that awaits only requests must not see an unhandled rejection from here.
    this.ready.catch(() => {});
    this.lost = new Promise<ProtocolError>((resolve) => {
      this.#reportLost = resolve;
    });
    // Answers are always read, however far our requests have backed up: see
    // StreamTransportOptions.pauseOnBackpressure.
    // Nor is there anyone to be fair to: a client reads its answers as fast as they come.
    this.#transport = new StreamTransport(stream, {
      pauseOnBackpressure: false,
      maxBytesPerTurn: 0,
    });
    stream.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(
        new ConnectionLostError(`connection lost: ${err.code ?? err.message}`, { cause: err }),
      ),
    );
    const onReady = (key: number) => {
      this.#key = key;
      this.#settleReady?.resolve();
      this.#settleReady = undefined;
    };
    const onFailure = (error: ProtocolError) => this.fail(error);
    if (wire === 'framed') {
      this.#framed = new FramedClientSession(this.#transport, {
        cipher: options.cipher,
        maxFrameSize: options.maxFrameSize,
        random: options.random,
        onReady,
        onResponse: (id, status, payload) => this.#onResponse(id, status, payload),
        onFailure,
      });
    } else {
      this.#seed = new SeedClientSession(this.#transport, {
        random: options.random,
        onReady,
        onAnswer: (text) => this.#onSeedAnswer(text),
        onFailure,
      });
    }
    const session = this.#framed ?? (this.#seed as SeedClientSession);
    this.#transport.attach({
      push: (chunk) => session.push(chunk),
      close: () => {
        session.close();
        this.fail(new ConnectionLostError('the server closed the connection'));
      },
    });
    session.start();
  }

  /**
   * The Caesar key agreed (0..255). On the seed wire 0 can happen and means clear text.
   * @example
   * client.key; // 187
   */
  get key(): number {
    return this.#key;
  }

  /**
   * Requests sent and not yet answered (queued ones included on the seed wire).
   * @example
   * client.inFlight; // 0
   */
  get inFlight(): number {
    return this.#pending.size + this.#seedQueue.length + (this.#seedInFlight ? 1 : 0);
  }

  /**
   * Sends one command and resolves with its answer and round-trip time. Rejects when the
   * connection fails first (every request in flight is rejected with the same error).
   * @example
   * const { ok, text, rttMs } = await client.request('TEMP');
   * await client.request('PING', 'hello'); // text: 'hello'
   */
  request(command: CommandInput, payload?: Uint8Array | string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.send(command, payload, (error, status, bytes, rttMs) => {
        if (error) reject(error);
        else resolve({ status, ok: status === Status.OK, text: utf8.decode(bytes), rttMs });
      });
    });
  }

  /**
   * The same as {@link request} with a callback and no promise or text decoding: for load
   * generators, where a promise per request costs throughput the server should get.
   * @example
   * client.send('PING', undefined, (error, status, payload, rttMs) => record(rttMs));
   */
  send(
    command: CommandInput,
    payload: Uint8Array | string | undefined,
    callback: ReplyCallback,
  ): void {
    if (this.#failure !== undefined) {
      callback(this.#failure, Status.OK, EMPTY, 0);
      return;
    }
    if (this.#seed !== undefined) {
      if (command !== 'TIME' && command !== 'DATE' && command !== 'TEMP') {
        callback(new UnsupportedCommandError(String(command), 'seed'), Status.OK, EMPTY, 0);
        return;
      }
      this.#seedQueue.push({ command, callback });
      if (this.#seedInFlight === undefined) this.#sendNextSeed();
      return;
    }
    const code = typeof command === 'number' ? command : Command[command];
    if (code === undefined) {
      callback(new UnsupportedCommandError(String(command), 'framed'), Status.OK, EMPTY, 0);
      return;
    }
    const id = this.#pending.nextId(this.#nextId);
    this.#nextId = id + 1;
    this.#pending.add(id, performance.now(), callback);
    try {
      (this.#framed as FramedClientSession).request(id, code, payload);
    } catch (err) {
      this.#pending.take(id);
      throw err;
    }
  }

  /**
   * The server's clock (CLOCK, framed wire only) and its offset from ours, estimated as NTP
   * does with one server timestamp: `T - (t0 + t1) / 2`, with `t0` and `t1` our clock just
   * before the request and just after its answer; good to within half the round trip.
   * @throws {UnsupportedCommandError} on the seed wire
   * @throws {ProtocolError} when the answer is no clock reading
   * @example
   * const { offsetMs, rttMs } = await client.clock();
   * console.log(`server clock ${offsetMs >= 0 ? '+' : ''}${offsetMs.toFixed(3)} ms from ours`);
   */
  clock(): Promise<ClockReading> {
    return new Promise((resolve, reject) => {
      const sentAt = nowMicros();
      this.send('CLOCK', undefined, (error, status, payload) => {
        const receivedAt = nowMicros();
        if (error) return reject(error);
        const text = utf8.decode(payload);
        const serverMicros = Number(text);
        if (
          status !== Status.OK ||
          !/^\d{1,16}$/.test(text) ||
          !Number.isSafeInteger(serverMicros)
        ) {
          return reject(
            new ProtocolError(
              `the server's CLOCK answer is no clock reading: ${JSON.stringify(text.slice(0, 40))}`,
            ),
          );
        }
        // The round trip reported is the window the offset was taken in (not the request's
        // own, slightly shorter, RTT): the server read its clock inside it, so the estimate
        // is within half of it of the truth.
        resolve({
          serverMicros,
          offsetMs: (serverMicros - (sentAt + receivedAt) / 2) / 1000,
          rttMs: (receivedAt - sentAt) / 1000,
        });
      });
    });
  }

  /**
   * Runs the request paths a few times, outside any measurement, on both ends: TIME (and
   * CLOCK on the framed wire), which any server answers to anyone, the seed's too, so they
   * harm nothing. `connect({ warmUp: true })` calls it.
   * @example
   * await client.warmUp();
   * const { rttMs } = await client.request('TIME'); // no first-time costs in it
   */
  async warmUp(): Promise<void> {
    for (let i = 0; i < WARM_UP_REQUESTS; i++) {
      if (this.#framed === undefined) await this.request('TIME');
      else await Promise.all([this.request('TIME'), this.clock()]);
    }
  }

  /**
   * Closes the connection on purpose: nothing is reported as lost, requests in flight are
   * rejected with `RTT_ERR_CLOSED`, later requests too. Resolves once the stream is closed.
   * @example
   * await client.close();
   */
  close(): Promise<void> {
    this.#closing = true;
    this.fail(new ConnectionClosedError());
    const stream = this.stream;
    return new Promise((resolve) => {
      if (stream.destroyed) resolve();
      else stream.once('close', () => resolve());
    });
  }

  /**
   * Ends the connection with `error`: the first failure wins, every pending request is
   * rejected with it, `lost` reports it unless `close()` was called.
   * @internal
   */
  fail(error: ProtocolError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#settleReady?.reject(error);
    this.#settleReady = undefined;
    const pending = this.#pending.clear();
    const inFlight = this.#seedInFlight;
    this.#seedInFlight = undefined;
    const queued = this.#seedQueue.splice(0);
    for (const callback of pending) callback(error, Status.OK, EMPTY, 0);
    inFlight?.callback(error, Status.OK, EMPTY, 0);
    for (const request of queued) request.callback(error, Status.OK, EMPTY, 0);
    if (!this.#closing) this.#reportLost(error);
    if (this.#closing) this.#transport.end();
    else this.#transport.abort();
  }

  #onResponse(id: number, status: number, payload: Uint8Array): void {
    const pending = this.#pending.take(id);
    if (pending === undefined) {
      // An answer to nothing we asked: the server and this client no longer agree.
      this.fail(new UnexpectedResponseError(id));
      return;
    }
    pending.value(null, status, payload, performance.now() - pending.started);
  }

  #sendNextSeed(): void {
    const next = this.#seedQueue.shift();
    if (next === undefined) return;
    this.#seedInFlight = { started: performance.now(), callback: next.callback };
    (this.#seed as SeedClientSession).request(next.command);
  }

  #onSeedAnswer(text: string): void {
    const pending = this.#seedInFlight;
    if (pending === undefined) return;
    this.#seedInFlight = undefined;
    const rttMs = performance.now() - pending.started;
    const status = text.startsWith('ERROR') ? Status.UNKNOWN_COMMAND : Status.OK;
    pending.callback(null, status, utf8Encoder.encode(text), rttMs);
    // The callback may have sent the next request itself (send() finds nothing in flight).
    if (this.#failure === undefined && this.#seedInFlight === undefined) this.#sendNextSeed();
  }
}
