/** What the client was connecting with, for {@link explainConnectFailure}. */
export interface ConnectAttempt {
  tls: boolean;
  wire: 'framed' | 'seed';
}

/** What to report for a failed `connect`: the error and a hint. */
export interface ConnectFailure {
  error: unknown;
  /** Words to put after the error's message, `''` for none; they start with a space. */
  hint: string;
}

function codeOf(value: unknown): string | undefined {
  const code = typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : 0;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns what `connect` of `@rtt/protocol/node` rejected with into what the user is told: the
 * usual mistakes (a server without `--tls`, something else than an rtt server, the original
 * Python server without `--wire seed`) get a hint. A full server needs none: `connect` gives
 * `ServerBusyError` for it, with or without TLS.
 *
 * @example
 * const { error, hint } = explainConnectFailure(err, { tls: true, wire: 'framed' });
 * console.error(`${error.message}${hint}`); // '... wrong version number (something answers there, but not in TLS: is it an rtt server started with --tls?)'
 */
export function explainConnectFailure(err: unknown, attempt: ConnectAttempt): ConnectFailure {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  // OpenSSL's words for a first answer that is no TLS record at all (text, a plain
  // protocol's bytes): something listens there, but not a TLS server.
  if (code === 'RTT_ERR_TLS' && codeOf((err as Error).cause) === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return {
      error: err,
      hint: ' (something answers there, but not in TLS: is it an rtt server started with --tls?)',
    };
  }
  // A server without --tls hangs up on a TLS hello; one that never answers is most likely
  // the original Python server, waiting for the seed's bytes.
  const plainServer =
    code === 'RTT_ERR_TIMEOUT' ||
    (code === 'RTT_ERR_TLS' && /before secure TLS connection/.test(message));
  const hint =
    plainServer && attempt.wire === 'framed'
      ? attempt.tls
        ? ' (is the server started with --tls?)'
        : ' (the original Python server needs --wire seed)'
      : '';
  return { error: err, hint };
}
