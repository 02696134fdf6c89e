/// <reference types="node" />
import { once } from 'node:events';
import { type Socket, connect as tcp } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllSockets, listen, track } from '../../test/fixtures/sockets.ts';
import { CipherId, ErrorCode } from '../constants.ts';
import { FrameDecoder } from '../decoder.ts';
import { ServerBusyError } from '../errors.ts';
import { encodeClientHello } from '../hello.ts';
import type { ClientInboundMessage } from '../messages.ts';
import { connect } from './client.ts';
import { type RefuseConnectionOptions, refuseConnection } from './refuse.ts';

afterEach(closeAllSockets);

/** A server that refuses every connection; `accepted` settles with the server's socket. */
async function fullServer(options?: RefuseConnectionOptions) {
  let accept: (socket: Socket) => void = () => {};
  const accepted = new Promise<Socket>((resolve) => {
    accept = resolve;
  });
  const { port } = await listen(
    (socket) => {
      refuseConnection(socket, options);
      accept(socket);
    },
    { pauseOnConnect: true },
  );
  return { port, accepted };
}

async function rawClient(port: number, options: { allowHalfOpen?: boolean } = {}) {
  const socket = track(tcp({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen }));
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

// Not events.once: it would reject on the 'error' (a reset) that comes before the close.
const closed = (socket: Socket) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });

describe('refuseConnection', () => {
  it('tells a framed client SERVER_BUSY in clear; connect() rejects with ServerBusyError', async () => {
    const { port, accepted } = await fullServer();
    const error = await connect({ port }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ServerBusyError);
    expect(error).toMatchObject({
      code: 'RTT_ERR_SERVER_BUSY',
      wireCode: ErrorCode.SERVER_BUSY,
      message: 'the server is full (too many connections); try again later',
    });
    await closed(await accepted);
  });

  it('sends exactly one ERROR frame, readable before any key exists', async () => {
    const { port } = await fullServer();
    const client = await rawClient(port);
    const messages: ClientInboundMessage[] = [];
    const decoder = new FrameDecoder({ role: 'client', onMessage: (m) => messages.push(m) });
    client.on('data', (chunk: Buffer) => decoder.push(chunk));
    client.write(encodeClientHello({ cipher: CipherId.CAESAR, publicKey: 146 }));
    await closed(client);
    expect(messages).toEqual([
      {
        type: 'error',
        code: ErrorCode.SERVER_BUSY,
        message: 'server busy: too many connections, try again later',
      },
    ]);
  });

  it('turns a TLS client away with a user_canceled alert: connect() rejects with ServerBusyError', async () => {
    const { port, accepted } = await fullServer({ tls: true });
    const error = await connect({ port, tls: { rejectUnauthorized: false } }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ServerBusyError);
    expect(error).toMatchObject({ code: 'RTT_ERR_SERVER_BUSY' });
    await closed(await accepted);

    // A server without TLS closes a TLS client at once, full or not.
    const plain = await fullServer();
    await expect(
      connect({ port: plain.port, tls: { rejectUnauthorized: false } }),
    ).rejects.toMatchObject({
      code: 'RTT_ERR_TLS',
    });
    await closed(await plain.accepted);
  });

  it('closes a seed client at once (its wire cannot say why): connect() says the server is gone', async () => {
    const { port, accepted } = await fullServer();
    await expect(connect({ port, wire: 'seed' })).rejects.toMatchObject({
      code: 'RTT_ERR_SERVER_GONE',
    });
    await closed(await accepted);
  });

  it('closes garbage at once, and silence after waitMs', async () => {
    const garbage = await fullServer();
    const client = await rawClient(garbage.port);
    client.write(Uint8Array.of(0x00, 0x03, 0x01));
    await closed(await garbage.accepted);
    await closed(client);

    const silent = await fullServer({ waitMs: 30 });
    const quiet = await rawClient(silent.port);
    await closed(await silent.accepted);
    await closed(quiet);
  });

  it('destroys a framed client that ignores the FIN after lingerMs', async () => {
    const { port, accepted } = await fullServer({ lingerMs: 30 });
    const client = await rawClient(port, { allowHalfOpen: true });
    client.resume();
    const ended = once(client, 'end');
    client.write(encodeClientHello({ cipher: CipherId.CAESAR, publicKey: 146 }));
    await ended;
    // The client keeps its side open; the server does not wait for it past the linger.
    await closed(await accepted);
  });

  it('never throws: not for a client that is gone, nor for a destroyed socket', async () => {
    const { port, accepted } = await fullServer();
    const client = await rawClient(port);
    client.resetAndDestroy();
    await closed(await accepted);

    const { port: other } = await listen((socket) => {
      socket.destroy();
      expect(() => refuseConnection(socket)).not.toThrow();
    });
    const gone = track(tcp(other, '127.0.0.1'));
    gone.on('error', () => {});
    await closed(gone);
  });

  it('checks its options, destroying the socket first', async () => {
    let accept: (socket: Socket) => void = () => {};
    const accepted = new Promise<Socket>((resolve) => {
      accept = resolve;
    });
    const { port } = await listen((socket) => accept(socket));
    await rawClient(port);
    const socket = await accepted;
    expect(() => refuseConnection(socket, { waitMs: -1 })).toThrow(RangeError);
    expect(socket.destroyed).toBe(true);
  });
});
