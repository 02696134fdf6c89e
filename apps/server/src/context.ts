import type { LogLevel } from './logger.ts';
import type { TemperatureSourceName } from './temperature.ts';

/**
 * What the main thread tells the session about each connection: the peer's address. Behind a
 * proxy (`--proxy-protocol`) the session replaces it with the client the proxy's header names,
 * and gives it back as the summary's `data`, for the closing log line.
 */
export interface ConnectionContext {
  /** The client's address as the seed prints it (IPv4-mapped IPv6 shown as IPv4). */
  address: string;
  port: number;
}

/** Settings every session thread gets once, as the pool's `data`. */
export interface SessionConfig {
  handshakeTimeout: number;
  /** Milliseconds of silence once the keys are agreed; 0: no limit. */
  idleTimeout: number;
  /** Unread answer bytes before a client is not read any more. */
  maxUnsentBytes: number;
  temperatureSource: TemperatureSourceName;
  /**
   * With `--tls`: the certificate and key as PEM text (each thread builds its own TLS context
   * from them: a context cannot cross threads), and the key log file, if any.
   */
  tls: { cert: string; key: string; keylog: string | undefined } | undefined;
  /** Serve NONE-cipher hellos over plain TCP (`--allow-plaintext`). */
  allowPlaintext: boolean;
  /** Count requests, refusals and latency for `--metrics-port`. */
  metrics: boolean;
  /** Read a PROXY protocol header first (`--proxy-protocol`); the client it names is logged. */
  proxyProtocol: boolean;
  log: {
    level: LogLevel;
    format: 'text' | 'json';
    colors: boolean;
    timestamps: boolean;
    file: string | undefined;
  };
}

/**
 * The client's address for logs: `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket)
 * is shown as `127.0.0.1`, as the seed shows it.
 *
 * @example
 * displayAddress('::ffff:10.0.2.5'); // '10.0.2.5'
 */
export function displayAddress(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
