import type { SessionControl } from '@rtt/pool';
import {
  BadHelloError,
  BadPublicKeyError,
  CipherId,
  HandshakeTimeoutError,
  type ProtocolError,
  TlsError,
  TlsNotEnabledError,
  UnknownWireError,
  UnsupportedCipherError,
} from '@rtt/protocol';
import { describe, expect, it } from 'vitest';
import type { Log } from './logger.ts';
import { sessionEvents } from './session.ts';

function recorder() {
  const lines: string[] = [];
  const reasons: string[] = [];
  let requests = 0;
  const at = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  const log = {
    error: at('error'),
    warning: at('warning'),
    success: at('success'),
    info: at('info'),
    debug: at('debug'),
    event: (level: string, _kind: string, message: () => string) =>
      void lines.push(`${level} ${message()}`),
    enabled: () => true,
  } as unknown as Log;
  const control = {
    countRequest: () => {
      requests += 1;
    },
    closeReason: (reason: string) => void reasons.push(reason),
  } as unknown as SessionControl;
  const onEvent = sessionEvents(log, control, () => '127.0.0.1 port 43570');
  return { onEvent, lines, reasons, requests: () => requests };
}

const refused = (error: ProtocolError, wire: 'framed' | 'seed' | undefined) =>
  ({ type: 'refused', error, wire }) as const;

describe('sessionEvents: what a session reports, as the log and the pool see it', () => {
  it('counts each answered request, whatever its status', () => {
    const { onEvent, requests, lines } = recorder();
    onEvent({ type: 'request', wire: 'framed', command: 'TIME', ok: true });
    onEvent({ type: 'request', wire: 'seed', command: 'unknown', ok: false });
    expect(requests()).toBe(2);
    expect(lines).toEqual([]);
  });

  it.each([
    [
      refused(new BadPublicKeyError(183), 'framed'),
      'warning Closing 127.0.0.1 port 43570: bad hello (bad public key 183)',
      'bad-public-key',
    ],
    [
      refused(new BadPublicKeyError(183), 'seed'),
      'warning Closing 127.0.0.1 port 43570: seed bad public key 183, not in the group',
      'bad-public-key',
    ],
    [
      refused(new BadHelloError('bad magic, expected "RTT"'), 'framed'),
      'warning Closing 127.0.0.1 port 43570: bad magic, expected "RTT"',
      'bad-hello',
    ],
    [
      refused(new HandshakeTimeoutError(300), undefined),
      'warning Closing 127.0.0.1 port 43570: no key exchange within 0.3 s',
      'handshake-timeout',
    ],
    [
      refused(new UnknownWireError(0xff), undefined),
      'warning Closing 127.0.0.1 port 43570: neither our protocol nor the seed wire (first byte 0xff)',
      'unknown-wire',
    ],
    [
      refused(new TlsNotEnabledError(), undefined),
      'warning Closing 127.0.0.1 port 43570: the client speaks TLS, and this server was started without --tls',
      'tls-not-enabled',
    ],
    [
      refused(new TlsError('TLS handshake failed: unsupported protocol'), 'framed'),
      'warning Closing 127.0.0.1 port 43570: TLS handshake failed: unsupported protocol',
      'tls',
    ],
    [
      refused(new UnsupportedCipherError(CipherId.NONE), 'framed'),
      'warning Closing 127.0.0.1 port 43570: bad hello (cipher NONE, in clear over plain TCP: refused without --allow-plaintext)',
      'unsupported-cipher',
    ],
    [
      refused(new UnsupportedCipherError(7), 'framed'),
      'warning Closing 127.0.0.1 port 43570: bad hello (unsupported cipher 7)',
      'unsupported-cipher',
    ],
  ])('logs a refusal as one warning and gives the pool its reason (%#)', (event, line, reason) => {
    const { onEvent, lines, reasons } = recorder();
    onEvent(event);
    expect(lines).toEqual([line]);
    expect(reasons).toEqual([reason]);
  });

  it('warns of a seed session in clear, and notes a re-key at debug level', () => {
    const { onEvent, lines } = recorder();
    onEvent({ type: 'clear-text' });
    onEvent({ type: 'rekey', round: 1 });
    onEvent({ type: 'ready', wire: 'framed', key: 187, rounds: 2 });
    onEvent({ type: 'ready', wire: 'framed', key: 0, rounds: 1, tls: true });
    expect(lines).toEqual([
      'warning Session with 127.0.0.1 port 43570 has shared key 256 = 0 mod 256: it travels in clear',
      'debug Weak shared secret with 127.0.0.1 port 43570; waiting for a new hello',
      'debug TLS 1.3 session with 127.0.0.1 port 43570',
    ]);
  });
});
