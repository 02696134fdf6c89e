import net from 'node:net';
import { ConnectError, ServerBusyError, TimeoutError } from '@rtt/protocol';
import { connect } from '@rtt/protocol/node';
import { afterEach, describe, expect, it } from 'vitest';
import { explainConnectFailure } from './connect-failure.ts';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

// A listener that answers the client's first bytes (a TLS ClientHello) with `answer`, then ends.
async function answering(answer: Buffer): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(answer));
  });
  servers.push(server);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return (server.address() as net.AddressInfo).port;
}

async function tlsFailure(answer: Buffer): Promise<unknown> {
  const port = await answering(answer);
  return connect({ port, timeoutMs: 2_000, tls: { rejectUnauthorized: false } }).then(
    () => expect.fail('connected'),
    (err: unknown) => err,
  );
}

const TLS = { tls: true, wire: 'framed' } as const;

describe('what a failed connection is reported as', () => {
  it("says a TLS client's user_canceled alert in the plain client's words for a full server", async () => {
    // The alert record our server sends a TLS client it has no room for: fatal, user_canceled.
    const err = await tlsFailure(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x5a]));
    const { error, hint } = explainConnectFailure(err, TLS);
    expect(error).toBeInstanceOf(ServerBusyError);
    expect(error).toMatchObject({
      code: 'RTT_ERR_SERVER_BUSY',
      message: new ServerBusyError().message,
    });
    expect(hint).toBe('');
  });

  it('hints that a server answering in something else than TLS is not started with --tls', async () => {
    for (const answer of ['HTTP/1.0 400 Bad Request\r\n\r\n', 'SSH-2.0-x\r\n', '\0\0\0\x05hello']) {
      const err = await tlsFailure(Buffer.from(answer, 'latin1'));
      expect(err).toMatchObject({ code: 'RTT_ERR_TLS', message: /wrong version number/ });
      expect(explainConnectFailure(err, TLS)).toEqual({
        error: err,
        hint: ' (something answers there, but not in TLS: is it an rtt server started with --tls?)',
      });
    }
  });

  it('hints as before at a server that hangs up on TLS, or never answers', async () => {
    const err = await tlsFailure(Buffer.alloc(0));
    expect(explainConnectFailure(err, TLS).hint).toBe(' (is the server started with --tls?)');
    const timeout = new TimeoutError('the key exchange', 5_000);
    expect(explainConnectFailure(timeout, { tls: false, wire: 'framed' }).hint).toBe(
      ' (the original Python server needs --wire seed)',
    );
    expect(explainConnectFailure(timeout, { tls: false, wire: 'seed' }).hint).toBe('');
    const refused = new ConnectError('127.0.0.1', 1, 'connection refused (is the server running?)');
    expect(explainConnectFailure(refused, TLS)).toEqual({ error: refused, hint: '' });
  });
});
