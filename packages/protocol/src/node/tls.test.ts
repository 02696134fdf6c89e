/// <reference types="node" />
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllSockets, listen, track } from '../../test/fixtures/sockets.ts';
import { CipherId, Status } from '../constants.ts';
import { ProtocolError, TlsError, TlsNotEnabledError, UnknownWireError } from '../errors.ts';
import type { ServerSessionEvent } from '../session.ts';
import { connect } from './client.ts';
import { type ServeConnectionOptions, serveConnection } from './serve.ts';
import { certificateFingerprint, tlsReason } from './tls.ts';

afterEach(closeAllSockets);

// A test-only key and self-signed certificate for CN=localhost, with the subject alternative
// names DNS:localhost and IP:127.0.0.1 (made once with openssl req -x509, EC P-256).
const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url));
const KEY = fixture('tls-key.pem');
const CERT = fixture('tls-cert.pem');
const secureContext = tls.createSecureContext({ key: KEY, cert: CERT, minVersion: 'TLSv1.3' });
const ANSWERS = { TIME: '12:00:00.000001', DATE: '2026-11-25', TEMP: '21°C' } as const;
const NSS_LINE = /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+\n$/;

/** A server on 127.0.0.1 serving every wire, with the events of each connection. */
async function server(options: Partial<ServeConnectionOptions> = {}) {
  const events: ServerSessionEvent[] = [];
  const closed: Promise<void>[] = [];
  const { port } = await listen(
    (socket) => {
      socket.on('error', () => {});
      closed.push(once(socket, 'close').then(() => {}));
      serveConnection(socket, {
        answer: (command) => ANSWERS[command],
        onEvent: (event) => events.push(event),
        ...options,
      });
    },
    { pauseOnConnect: true },
  );
  return { port, events, closed };
}

// Not events.once: it rejects on the 'error' that a refused TLS client may see first.
const closedSocket = (socket: Socket) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });

const refusals = (events: ServerSessionEvent[]) =>
  events.flatMap((event) => (event.type === 'refused' ? [event.error] : []));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('certificateFingerprint', () => {
  it('is sha256: and the unpadded base64 of the digest of the DER bytes', () => {
    expect(certificateFingerprint(new Uint8Array(0))).toBe(
      'sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
    );
    const der = new X509Certificate(CERT).raw;
    const digest = createHash('sha256').update(der).digest('base64').replace(/=+$/, '');
    expect(certificateFingerprint(der)).toBe(`sha256:${digest}`);
  });

  it('refuses what is not bytes', () => {
    expect(() => certificateFingerprint('abc' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('tlsReason', () => {
  it("keeps OpenSSL's reason, and Node's message without its system CA advice", () => {
    const openssl = new Error(
      'C0B7E1F3:error:0A000102:SSL routines:ssl_choose_client_version:unsupported protocol:../deps/openssl/ssl/statem/statem_lib.c:1987:',
    );
    expect(tlsReason(openssl)).toBe('unsupported protocol');
    const selfSigned = new Error(
      'self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca',
    );
    expect(tlsReason(selfSigned)).toBe('self-signed certificate');
    expect(tlsReason(Object.assign(new Error(''), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(tlsReason(new Error(''))).toBe('unknown error');
  });
});

describe('TLS on the same port', () => {
  it('serves the framed wire inside TLS 1.3 with cipher NONE, and logs keys', async () => {
    const serverKeys: string[] = [];
    const { port, events, closed } = await server({
      tls: { secureContext, onKeylog: (line) => serverKeys.push(line.toString()) },
    });
    const clientKeys: string[] = [];
    // `ca`: Node's own checks, the IP address in the certificate's names included.
    const client = await connect({
      port,
      tls: { ca: CERT, onKeylog: (line) => clientKeys.push(line.toString()) },
    });
    expect(client.stream).toBeInstanceOf(tls.TLSSocket);
    expect((client.stream as tls.TLSSocket).getProtocol()).toBe('TLSv1.3');
    expect(client.key).toBe(0);
    for (const command of ['TIME', 'DATE', 'TEMP'] as const) {
      expect(await client.request(command)).toMatchObject({ ok: true, text: ANSWERS[command] });
    }
    expect((await client.request('PING', 'hello')).text).toBe('hello');
    await client.close();
    await Promise.all(closed);
    expect(events[0]).toEqual({ type: 'ready', wire: 'framed', key: 0, rounds: 1, tls: true });
    expect(events.filter((e) => e.type === 'request')).toHaveLength(4);
    expect(refusals(events)).toEqual([]);
    for (const keys of [clientKeys, serverKeys]) {
      expect(keys.some((line) => line.startsWith('CLIENT_HANDSHAKE_TRAFFIC_SECRET '))).toBe(true);
      expect(keys.some((line) => line.startsWith('CLIENT_TRAFFIC_SECRET_0 '))).toBe(true);
      for (const line of keys) expect(line).toMatch(NSS_LINE);
    }
  });

  it('accepts Caesar inside TLS too, and a ClientHello cut into small slices', async () => {
    const { port, events } = await server({ tls: { secureContext }, maxBytesPerTurn: 16 });
    const client = await connect({ port, tls: { ca: CERT }, cipher: CipherId.CAESAR });
    expect((await client.request('TIME')).text).toBe(ANSWERS.TIME);
    await client.close();
    // About one Caesar key exchange in 21 agrees on a weak secret and re-keys first.
    expect(events.filter((e) => e.type !== 'rekey')[0]).toMatchObject({
      type: 'ready',
      wire: 'framed',
      tls: true,
    });
  });

  it('trust on first use: verify sees the certificate before anything of ours is sent', async () => {
    const { port } = await server({ tls: { secureContext } });
    let seen: string | undefined;
    const client = await connect({
      port,
      tls: {
        rejectUnauthorized: false,
        verify: async (socket) => {
          seen = certificateFingerprint(socket.getPeerCertificate().raw);
        },
      },
    });
    expect(seen).toBe(certificateFingerprint(new X509Certificate(CERT).raw));
    expect((await client.request('DATE')).text).toBe(ANSWERS.DATE);
    await client.close();
  });

  it('a verify that throws: connect rejects with that error, and no hello was sent', async () => {
    const { port, events, closed } = await server({ tls: { secureContext } });
    const mismatch = new Error('the certificate changed');
    await expect(
      connect({
        port,
        tls: {
          rejectUnauthorized: false,
          verify: () => {
            throw mismatch;
          },
        },
      }),
    ).rejects.toBe(mismatch);
    await until(() => closed.length === 1);
    await Promise.all(closed);
    // No ready, no refusal of a hello: the server never heard a byte of ours.
    expect(events).toEqual([]);
  });

  it('an untrusted certificate fails the TLS handshake with RTT_ERR_TLS', async () => {
    const { port } = await server({ tls: { secureContext } });
    const error = await connect({ port, tls: {} }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TlsError);
    expect(error).toMatchObject({ code: 'RTT_ERR_TLS' });
    expect((error as Error).message).toMatch(/^TLS with 127\.0\.0\.1 port \d+ failed: /);
  });

  it('a server without tls refuses a TLS client with TlsNotEnabledError', async () => {
    const { port, events } = await server();
    const error = await connect({ port, tls: { ca: CERT } }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ProtocolError);
    await until(() => refusals(events).length === 1);
    const [refusal] = refusals(events);
    expect(refusal).toBeInstanceOf(TlsNotEnabledError);
    expect(refusal).toMatchObject({
      code: 'RTT_ERR_TLS_NOT_ENABLED',
      message: 'the client speaks TLS, and this server was started without --tls',
    });
  });

  it('refuses a client that offers only TLS 1.2', async () => {
    const { port, events } = await server({ tls: { secureContext } });
    const socket = track(
      tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2' }),
    ) as unknown as tls.TLSSocket;
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toMatch(/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|ECONNRESET/);
    await until(() => refusals(events).length === 1);
    expect(refusals(events)[0]).toBeInstanceOf(TlsError);
  });

  it('refuses TLS 1.2 even when the context would allow it', async () => {
    const lenient = tls.createSecureContext({ key: KEY, cert: CERT, minVersion: 'TLSv1.2' });
    const { port, events } = await server({ tls: { secureContext: lenient } });
    const socket = track(
      tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2' }),
    ) as unknown as tls.TLSSocket;
    socket.on('error', () => {});
    await closedSocket(socket);
    await until(() => refusals(events).length === 1);
    expect(refusals(events)[0]?.message).toBe('TLS handshake failed: TLSv1.2 is not TLS 1.3');
  });

  it('the seed wire is never served inside TLS', async () => {
    const { port, events } = await server({ tls: { secureContext } });
    const socket = track(
      tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }),
    ) as unknown as tls.TLSSocket;
    socket.on('error', () => {});
    await once(socket, 'secureConnect');
    socket.write('146');
    await closedSocket(socket);
    await until(() => refusals(events).length === 1);
    const [refusal] = refusals(events);
    expect(refusal).toBeInstanceOf(UnknownWireError);
    expect(refusal?.message).toBe('not our framed protocol inside TLS (first byte 0x31)');
  });

  it('the handshake timeout covers a stalled TLS handshake', async () => {
    const { port, events, closed } = await server({
      tls: { secureContext },
      handshakeTimeoutMs: 100,
    });
    const socket = track(netConnect(port, '127.0.0.1')) as Socket;
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40])); // a record header, no more
    await until(() => refusals(events).length === 1);
    expect(refusals(events)[0]).toMatchObject({ code: 'RTT_ERR_HANDSHAKE_TIMEOUT' });
    await Promise.all(closed);
  });

  it('the seed wire and the plain framed wire still work on the TLS port', async () => {
    const { port, events } = await server({ tls: { secureContext } });
    for (const wire of ['seed', 'framed'] as const) {
      const client = await connect({ port, wire });
      expect((await client.request('TEMP')).text).toBe(ANSWERS.TEMP);
      await client.close();
    }
    expect(events.filter((e) => e.type === 'ready').map((e) => 'tls' in e)).toEqual([false, false]);
  });
});

describe('cipher NONE over plain TCP', () => {
  it('is refused by default: UNSUPPORTED_CIPHER, and a refused event', async () => {
    const { port, events } = await server();
    await expect(connect({ port, cipher: CipherId.NONE })).rejects.toMatchObject({
      code: 'RTT_ERR_UNSUPPORTED_CIPHER',
    });
    await until(() => refusals(events).length === 1);
    expect(refusals(events)[0]).toMatchObject({ code: 'RTT_ERR_UNSUPPORTED_CIPHER' });
  });

  it('is refused even when listed in ciphers, unless allowPlaintext', async () => {
    const listed = await server({ ciphers: [CipherId.CAESAR, CipherId.NONE] });
    await expect(connect({ port: listed.port, cipher: CipherId.NONE })).rejects.toMatchObject({
      code: 'RTT_ERR_UNSUPPORTED_CIPHER',
    });
    const { port, events } = await server({ allowPlaintext: true });
    const client = await connect({ port, cipher: CipherId.NONE });
    expect(await client.request('TIME')).toMatchObject({ status: Status.OK, text: ANSWERS.TIME });
    await client.close();
    expect(events[0]).toEqual({ type: 'ready', wire: 'framed', key: 0, rounds: 1 });
  });
});

describe('connect() with tls: failures before TLS', () => {
  it('a closed port is a ConnectError, as without TLS', async () => {
    const { port, server: closing } = await listen(() => {});
    await new Promise((resolve) => closing.close(resolve));
    await expect(connect({ port, tls: { ca: CERT } })).rejects.toMatchObject({
      code: 'RTT_ERR_CONNECT',
    });
  });
});

describe('connect() with tls: usage errors', () => {
  it('refuses the seed wire and a stream of its own', async () => {
    await expect(connect({ wire: 'seed', tls: {} })).rejects.toThrow(
      /the seed wire never runs over TLS/,
    );
    await expect(
      connect({ tls: {}, stream: new (await import('node:stream')).PassThrough() }),
    ).rejects.toThrow(TypeError);
  });
});
