import type { ProtocolError } from './errors.ts';

/**
 * What the connection sessions of this package (framed and seed wire, server and client
 * side) need from the world: somewhere to write and a way to close. A session never touches a
 * socket; the Node adapter in `@rtt/protocol/node` provides one over any duplex stream, and a
 * test provides one over an array.
 * @example
 * const out: Uint8Array[] = [];
 * const transport: SessionTransport = { write: (parts) => { out.push(...parts) }, end: () => {} };
 */
export interface SessionTransport {
  /**
   * Queues the parts of one message (or of several: the seed server session writes all its
   * answers to one pushed segment at once), in order. The session gives up ownership of the
   * parts (they may be written later). The adapter sends the writes made while it delivers
   * one received slice in one write.
   */
  write(parts: readonly Uint8Array[]): void;
  /** Ends the connection once what was written has gone out (the session is done with it). */
  end(): void;
  /**
   * Closes the connection at once, dropping anything unsent: for peers that are owed no
   * answer (garbage, silence) and for a bug on this side (`error`, e.g. a listener that
   * threw). Optional: a transport without it is ended instead.
   */
  abort?(error?: unknown): void;
  /**
   * Stops reading, for a server that is closing: what was read already is still given to the
   * session, then `callback` runs, once (not at all if the connection ends first). Optional:
   * without it, a closing server says goodbye at once.
   */
  stopReading?(callback: () => void): void;
  /**
   * When (`performance.now()`) the bytes being handled arrived, for request latency; NaN or
   * absent when the transport does not note it.
   */
  readonly receivedAt?: number;
}

/** An opaque timer handle from a {@link Clock}. */
export type TimerHandle = unknown;

/**
 * Time as a session sees it: injected so that tests can run every timer by hand, with no
 * sleeps. {@link systemClock} is the real one.
 * @example
 * const clock: Clock = { now: () => t, setTimeout: (fn, ms) => timers.add(fn, t + ms), clearTimeout: (h) => timers.delete(h) };
 */
export interface Clock {
  /** Milliseconds on a monotonic clock (only differences matter). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds, unless cleared first. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; clearing one that already ran, or `undefined`, does nothing. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The platform's clock: `performance.now()` and the global timers. Node's timers are
 * `unref()`ed so that a pending session timer never keeps a process alive by itself.
 * @example
 * new SeedServerSession(transport, { clock: systemClock, answer });
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms) as unknown as { unref?: () => void };
    handle.unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
  },
};

/** Which protocol a connection speaks: our framed protocol or the seed's bare wire. */
export type Wire = 'framed' | 'seed';

/** The commands a server answers itself (the seed's three); the app supplies their text. */
export type AnsweredCommand = 'TIME' | 'DATE' | 'TEMP';

/**
 * What a request asked for, as a `request` event names it: an answered command, the framed
 * wire's own PING and CLOCK, or `unknown` for a command this server does not know.
 */
export type RequestCommand = AnsweredCommand | 'PING' | 'CLOCK' | 'unknown';

/** Every {@link RequestCommand}, in the order counters list them. */
export const REQUEST_COMMANDS: readonly RequestCommand[] = [
  'TIME',
  'DATE',
  'TEMP',
  'PING',
  'CLOCK',
  'unknown',
];

type RequestEvent = Extract<ServerSessionEvent, { type: 'request' }>;

// Every request event there can be, made once and frozen: a session reports each request
// without allocating (a busy connection answers hundreds of thousands a second).
const REQUEST_EVENTS = Object.fromEntries(
  (['framed', 'seed'] as const).map((wire) => [
    wire,
    Object.fromEntries(
      REQUEST_COMMANDS.map((command) => {
        const event = (ok: boolean): RequestEvent =>
          Object.freeze({ type: 'request', wire, command, ok });
        return [command, [event(false), event(true)] as const];
      }),
    ),
  ]),
) as unknown as Record<Wire, Record<RequestCommand, readonly [RequestEvent, RequestEvent]>>;

/**
 * The `request` event for a request on `wire` (shared, frozen objects).
 *
 * @example
 * requestEvent('seed', 'TIME', true); // { type: 'request', wire: 'seed', command: 'TIME', ok: true }
 */
export function requestEvent(wire: Wire, command: RequestCommand, ok: boolean): RequestEvent {
  return REQUEST_EVENTS[wire][command][ok ? 1 : 0];
}

/**
 * The app's side of a server session: the answer text for each command. A throw is caught
 * and answered as an internal error (the connection goes on).
 * @example
 * const answer: Answerer = (command) => command === 'DATE' ? '2026-11-25' : '...';
 */
export type Answerer = (command: AnsweredCommand) => string;

/** What happened in a server session, for the app's logs and counters. */
export type ServerSessionEvent =
  /**
   * The key exchange finished: requests may follow. `key` is the Caesar shift (0..255; 0 for
   * the NONE cipher). `tls` is `true` when the session runs inside TLS (`ServerConnection`'s
   * TLS hand-off), and absent otherwise: an optional field rather than a third wire, so that
   * code that switches on `wire` or matches ready events goes on working.
   */
  | {
      readonly type: 'ready';
      readonly wire: Wire;
      readonly key: number;
      readonly rounds: number;
      readonly tls?: boolean | undefined;
    }
  /** A framed hello gave a weak shared secret (key 0); another round is awaited. */
  | { readonly type: 'rekey'; readonly round: number }
  /** The seed wire agreed key 0 (shared secret 256): it cannot re-key, so it runs in clear. */
  | { readonly type: 'clear-text' }
  /**
   * A request was answered (`ok` false: an unknown command, named `unknown`, or a failed
   * answer). The objects are shared: keep the fields, not the event.
   */
  | {
      readonly type: 'request';
      readonly wire: Wire;
      readonly command: RequestCommand;
      readonly ok: boolean;
    }
  /**
   * The session refused the peer and is closing the connection: `error.code` says why
   * (`RTT_ERR_BAD_HELLO`, `RTT_ERR_HANDSHAKE_TIMEOUT`, `RTT_ERR_UNKNOWN_WIRE`,
   * `RTT_ERR_IDLE_TIMEOUT` for a client that sent nothing for too long, ...). `wire` is
   * undefined when the peer was refused before its wire was known.
   */
  | {
      readonly type: 'refused';
      readonly error: ProtocolError;
      readonly wire: Wire | undefined;
    };

/**
 * Receives {@link ServerSessionEvent}s. It should not throw: `ServerConnection` aborts the
 * connection with the exception if it does; the sessions used alone let it propagate.
 */
export type ServerSessionListener = (event: ServerSessionEvent) => void;

/**
 * Returns `clock`, {@link systemClock} when it is `undefined`, or throws `TypeError` when it
 * lacks the timer methods.
 * @example
 * this.#clock = assertClock(options.clock, 'options.clock');
 */
export function assertClock(clock: Clock | undefined, name: string): Clock {
  if (clock === undefined) return systemClock;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw new TypeError(`${name} must have now(), setTimeout() and clearTimeout()`);
  }
  return clock;
}
