/**
 * The attacks of the hardening issue, as clients that misbehave on purpose: each kind opens
 * its connections, does what the issue describes, and comes back when the server cuts it, as
 * a real attacker would. Used by `attack` and `soak` (in a worker thread, so that the probe
 * clients on the main thread are not starved by it) and by the end-to-end tests.
 */
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { caesarEncrypt, createCaesarCipher } from '@rtt/cipher';
import { Command, concatFrame, encodeRequest, errorCodeName, ProtocolError } from '@rtt/protocol';
import { connect, type RttClient } from '@rtt/protocol/node';

/** The attacks, by the names the command line takes. */
export const ATTACK_KINDS = [
  'seed-spaces',
  'pipeline-noread',
  'seed-pipeline-noread',
  'slow-frame',
  'idle',
  'log-flood',
] as const;

/** One of {@link ATTACK_KINDS}. */
export type AttackKind = (typeof ATTACK_KINDS)[number];

/**
 * Connections each attack opens unless told otherwise: the figures scaled to what a
 * short run on a shared 2-core machine can open (its `slow-frame` run used 5,000).
 */
export const DEFAULT_CONNECTIONS: Readonly<Record<AttackKind, number>> = {
  'seed-spaces': 4,
  'pipeline-noread': 100,
  'seed-pipeline-noread': 50,
  'slow-frame': 2_000,
  idle: 900,
  'log-flood': 50,
};

/** What an attack did, for the summary. */
export interface AttackStats {
  kind: AttackKind;
  /** Connections that completed their key exchange (log-flood: connections opened). */
  opened: number;
  /** Key exchanges (or, for log-flood, connects) that failed. */
  failedToOpen: number;
  /** Connections the server ended while the attack was still going. */
  cut: number;
  bytesSent: number;
  bytesReceived: number;
  /** How the server ended them: ERROR frame names (framed), `ERROR answer` (seed), `closed`. */
  endings: Record<string, number>;
}

/** Where and how hard to attack. */
export interface AttackOptions {
  kind: AttackKind;
  host: string;
  port: number;
  connections: number;
  /** Connections opened at the same time, so the server's accept queue never overflows. */
  connectBatch?: number | undefined;
}

const CHUNK_BYTES = 64 * 1024;
const RECONNECT_PAUSE_MS = 100;
const CONNECT_TIMEOUT_MS = 10_000;
// slow-frame: the announced size, the bytes sent at once, then the trickle.
const ANNOUNCED_FRAME_BYTES = 64 * 1024;
const SLOW_FIRST_BYTES = 1024;
const SLOW_TRICKLE_BYTES = 16;
const SLOW_TRICKLE_MS = 1_000;

/**
 * A framed request frame for `PING` ... `CLOCK`, already encrypted with `key`, repeated
 * until it fills about `bytes`: what a pipelining client writes without waiting.
 *
 * @example
 * socket.write(pipelinedRequests(client.key, 64 * 1024));
 */
export function pipelinedRequests(key: number, bytes: number, command = Command.PING): Uint8Array {
  const cipher = createCaesarCipher(key);
  const one = concatFrame(encodeRequest(1, command, undefined, cipher)).length;
  const count = Math.max(1, Math.floor(bytes / one));
  const frames: Uint8Array[] = [];
  // Distinct ids: a server may not answer in order, and a reader of the answers can tell them apart.
  for (let id = 1; id <= count; id++)
    frames.push(concatFrame(encodeRequest(id, command, undefined, cipher)));
  return concatFrame(frames);
}

/**
 * Seed-wire bytes (`text` repeated to about `bytes`), encrypted with the session's key.
 *
 * @example
 * socket.write(seedBytes(client.key, ' ', 1 << 20)); // 1 MiB of encrypted spaces
 */
export function seedBytes(key: number, text: string, bytes: number): Uint8Array {
  const plain = Buffer.from(text.repeat(Math.max(1, Math.floor(bytes / text.length))), 'latin1');
  return caesarEncrypt(plain, key);
}

/**
 * Decrypts what a seed server sent (its answers are unframed, one after another).
 *
 * @example
 * seedText(received, client.key).includes('ERROR');
 */
export function seedText(bytes: Uint8Array, key: number): string {
  return Buffer.from(caesarEncrypt(bytes, 256 - (key % 256))).toString('utf8');
}

/**
 * Writes `chunk` again and again, waiting for `drain` each time the socket says its buffer is
 * full, until the socket closes or `stopped()` says so.
 *
 * @example
 * await pump(socket, seedBytes(key, ' ', 65536), () => stopped);
 */
export async function pump(
  socket: net.Socket,
  chunk: Uint8Array,
  stopped: () => boolean,
  onWritten: (bytes: number) => void = () => {},
): Promise<void> {
  while (!stopped() && !socket.destroyed && socket.writable) {
    onWritten(chunk.length);
    if (!socket.write(chunk)) await drainOrClose(socket);
  }
}

async function drainOrClose(socket: net.Socket): Promise<void> {
  if (socket.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/**
 * How the server ended a connection, from the client's error: the ERROR frame's name when it
 * sent one (a client reports some, IDLE_TIMEOUT say, as a lost connection caused by the frame),
 * else `closed`.
 */
function endingOf(error: ProtocolError): string {
  const frame =
    error.code === 'RTT_ERR_SERVER_GONE' && error.cause instanceof ProtocolError
      ? error.cause
      : error;
  if (frame.code === 'RTT_ERR_SERVER_ERROR' || frame.code === 'RTT_ERR_SERVER_BUSY')
    return `ERROR ${errorCodeName(frame.wireCode) ?? frame.wireCode}`;
  if (frame.code === 'RTT_ERR_TIMEOUT') return 'key exchange timed out';
  return 'closed';
}

/** Resolves when the socket has closed, whoever closed it. */
function closed(socket: net.Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : once(socket, 'close').then(() => {});
}

/** A counter of connections being opened, so that at most `limit` open at once. */
class Gate {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.#free = limit;
  }
  async enter(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  leave(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

/**
 * One attack: `options.connections` misbehaving connections, each reopened after the server
 * cuts it, until {@link Attacker.stop}. `run()` resolves once every connection has ended.
 *
 * @example
 * const attacker = new Attacker({ kind: 'seed-spaces', host: '127.0.0.1', port, connections: 4 });
 * const running = attacker.run();
 * await sleep(10_000);
 * attacker.stop();
 * await running;
 * console.log(attacker.stats);
 */
export class Attacker {
  readonly options: AttackOptions;
  readonly stats: AttackStats;
  readonly #sockets = new Set<net.Socket>();
  readonly #gate: Gate;
  readonly #abort = new AbortController();

  constructor(options: AttackOptions) {
    this.options = options;
    this.#gate = new Gate(options.connectBatch ?? 100);
    this.stats = {
      kind: options.kind,
      opened: 0,
      failedToOpen: 0,
      cut: 0,
      bytesSent: 0,
      bytesReceived: 0,
      endings: {},
    };
  }

  /** Whether {@link stop} was called. */
  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Runs every connection of the attack; resolves after {@link stop}, once all have ended. */
  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.connections }, (_, i) => this.#loop(i)));
  }

  /** Ends the attack: every connection is destroyed at once. */
  stop(): void {
    this.#abort.abort();
    for (const socket of this.#sockets) socket.destroy();
  }

  async #loop(index: number): Promise<void> {
    while (!this.stopped) {
      const ended = await this.#once(index).catch((err: unknown) => {
        const why = err instanceof ProtocolError ? endingOf(err) : 'closed';
        // Counted apart from the cuts: this connection never got to attack.
        this.stats.endings[`refused: ${why}`] = (this.stats.endings[`refused: ${why}`] ?? 0) + 1;
        return 'failed' as const;
      });
      if (this.stopped) return;
      if (ended === 'failed') this.stats.failedToOpen++;
      else {
        this.stats.cut++;
        this.stats.endings[ended] = (this.stats.endings[ended] ?? 0) + 1;
      }
      // log-flood is meant to come back at once; the others pause, as a refused client would.
      if (this.options.kind !== 'log-flood' || ended === 'failed')
        await sleep(RECONNECT_PAUSE_MS, undefined, { signal: this.#abort.signal }).catch(() => {});
    }
  }

  /** One connection from open to end; resolves with how the server ended it. */
  async #once(index: number): Promise<string> {
    const { kind } = this.options;
    if (kind === 'log-flood') return this.#flood();
    const wire =
      kind.startsWith('seed-') || (kind === 'idle' && index % 2 === 1) ? 'seed' : 'framed';
    await this.#gate.enter();
    let client: RttClient;
    try {
      client = await connect({
        host: this.options.host,
        port: this.options.port,
        wire,
        timeoutMs: CONNECT_TIMEOUT_MS,
      });
    } finally {
      this.#gate.leave();
    }
    const socket = client.stream as net.Socket;
    this.stats.opened++;
    this.#sockets.add(socket);
    let seedError = false;
    socket.on('data', (chunk: Buffer) => {
      this.stats.bytesReceived += chunk.length;
      if (wire === 'seed' && !seedError && seedText(chunk, client.key).includes('ERROR'))
        seedError = true;
    });
    let ending = 'closed';
    void client.lost.then((error) => {
      ending = endingOf(error);
    });
    if (this.stopped) socket.destroy();
    const sent = (bytes: number) => {
      this.stats.bytesSent += bytes;
    };
    const stopped = () => this.stopped;
    try {
      switch (kind) {
        case 'seed-spaces':
          socket.write(seedBytes(client.key, 'T', 1));
          await pump(socket, seedBytes(client.key, ' ', CHUNK_BYTES), stopped, sent);
          break;
        case 'pipeline-noread':
          // Never reading makes the server's answers back up: in its memory, unless it stops
          // reading us.
          socket.pause();
          await pump(socket, pipelinedRequests(client.key, CHUNK_BYTES), stopped, sent);
          break;
        case 'seed-pipeline-noread':
          socket.pause();
          await pump(socket, seedBytes(client.key, 'TIME', CHUNK_BYTES), stopped, sent);
          break;
        case 'slow-frame':
          await this.#slowFrame(socket, client.key);
          break;
        case 'idle':
          break;
      }
      await closed(socket);
    } finally {
      this.#sockets.delete(socket);
    }
    // A client's own `lost` settles after the socket's close; its reason decides the name.
    await Promise.race([client.lost, sleep(0)]);
    return seedError && ending === 'closed' ? 'ERROR answer' : ending;
  }

  async #slowFrame(socket: net.Socket, key: number): Promise<void> {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(ANNOUNCED_FRAME_BYTES);
    // The body's bytes never finish a frame in the run's time, so their content is moot.
    const first = caesarEncrypt(Buffer.alloc(SLOW_FIRST_BYTES, 0x01), key);
    socket.write(Buffer.concat([header, first]));
    this.stats.bytesSent += header.length + first.length;
    const trickle = Buffer.alloc(SLOW_TRICKLE_BYTES, 0x01);
    let sent = SLOW_FIRST_BYTES;
    // One wait for the close, raced on every round: a new one per round would add a 'close'
    // and an 'error' listener each time, kept until the socket closes.
    const gone = closed(socket).catch(() => {});
    while (!this.stopped && !socket.destroyed && sent + trickle.length < ANNOUNCED_FRAME_BYTES) {
      await Promise.race([
        sleep(SLOW_TRICKLE_MS, undefined, { signal: this.#abort.signal }).catch(() => {}),
        gone,
      ]);
      if (this.stopped || socket.destroyed) break;
      socket.write(trickle);
      sent += trickle.length;
      this.stats.bytesSent += trickle.length;
    }
  }

  /** log-flood: a connection that starts with neither protocol, which every server logs. */
  async #flood(): Promise<string> {
    await this.#gate.enter();
    const socket = net.connect({ host: this.options.host, port: this.options.port });
    this.#sockets.add(socket);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.stats.bytesReceived += chunk.length;
    });
    try {
      await Promise.race([
        once(socket, 'connect'),
        closed(socket).then(() => {
          throw new Error('not connected');
        }),
      ]);
    } finally {
      this.#gate.leave();
    }
    this.stats.opened++;
    socket.end(Buffer.of(0xff));
    this.stats.bytesSent++;
    const timer = setTimeout(() => socket.destroy(), CONNECT_TIMEOUT_MS);
    await closed(socket);
    clearTimeout(timer);
    this.#sockets.delete(socket);
    return 'closed';
  }
}
