/// <reference types="node" />
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { caesar, modPow } from '../../test/fixtures/caesar.ts';
import { CipherId, Command, ErrorCode, Status } from '../constants.ts';
import { concatFrame, encodeRequest } from '../encoder.ts';
import { MalformedFrameError, type ProtocolError } from '../errors.ts';
import { encodeClientHello } from '../hello.ts';
import type { ClientInboundMessage, ServerInboundMessage } from '../messages.ts';
import { detectWire } from '../seed-wire.ts';
import { FramedSocket } from './index.ts';

const open = new Set<Socket | Server>();

afterEach(async () => {
  // Sockets first: a server's close() waits for its connections.
  for (const thing of open) if (!('listening' in thing)) thing.destroy();
  for (const thing of open) {
    if ('listening' in thing && thing.listening) {
      await new Promise((resolve) => thing.close(resolve));
    }
  }
  open.clear();
});

/** A listening server on 127.0.0.1 with a connected client and the accepted socket. */
async function pair(): Promise<{ client: Socket; accepted: Socket }> {
  const server = createServer({ pauseOnConnect: true });
  open.add(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const acceptedP = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(address.port, '127.0.0.1');
  open.add(client);
  await once(client, 'connect');
  const [accepted] = await acceptedP;
  open.add(accepted);
  return { client, accepted };
}

const SERVER_PRIVATE = 9;
const CLIENT_PRIVATE = 7;

/** A server that does the handshake and answers PING with its payload and TIME with a text. */
function serveFramed(socket: Socket, onError = vi.fn()) {
  const received: ServerInboundMessage[] = [];
  const framed = new FramedSocket(socket, {
    role: 'server',
    onMessage(msg, f) {
      received.push('payload' in msg ? { ...msg, payload: msg.payload.slice() } : msg);
      if (msg.type === 'client-hello') {
        f.sendServerHello({ cipher: CipherId.CAESAR, publicKey: modPow(11, SERVER_PRIVATE, 257) });
        f.setCipher(caesar(modPow(msg.publicKey, SERVER_PRIVATE, 257) % 256));
      } else if (msg.command === Command.PING) {
        f.sendResponse(msg.id, Status.OK, msg.payload);
      } else {
        f.sendResponse(msg.id, Status.OK, '12:00:00.000000');
      }
    },
    onError,
  });
  return { framed, received, onError };
}

/** A client that sends its hello, then the given requests once keyed; collects answers. */
function clientFramed(socket: Socket, requests: Array<[number, number, string?]>) {
  const messages: ClientInboundMessage[] = [];
  let resolveAnswered: (messages: ClientInboundMessage[]) => void = () => {};
  const answered = new Promise<ClientInboundMessage[]>((resolve) => {
    resolveAnswered = resolve;
  });
  const framed = new FramedSocket(socket, {
    role: 'client',
    onMessage(msg, f) {
      messages.push('payload' in msg ? { ...msg, payload: msg.payload.slice() } : msg);
      if (msg.type === 'server-hello') {
        f.setCipher(caesar(modPow(msg.publicKey, CLIENT_PRIVATE, 257) % 256));
        for (const [id, command, payload] of requests) f.sendRequest(id, command, payload);
      }
      if (messages.length === requests.length + 1) resolveAnswered(messages);
    },
    onError: (err) => {
      throw err;
    },
  });
  framed.sendClientHello({ cipher: CipherId.CAESAR, publicKey: modPow(11, CLIENT_PRIVATE, 257) });
  return { framed, messages, answered };
}

const text = (s: string) => new TextEncoder().encode(s);

describe('FramedSocket over real sockets', () => {
  it('runs a keyed handshake and several requests in flight, encrypted on the wire', async () => {
    const { client, accepted } = await pair();
    const raw: Uint8Array[] = [];
    accepted.on('data', (chunk: Buffer) => raw.push(Uint8Array.from(chunk))); // before the decoder mutates it
    const { received } = serveFramed(accepted);
    accepted.resume();
    const { answered } = clientFramed(client, [
      [1, Command.TIME],
      [2, Command.PING, 'secret ping'],
      [3, Command.PING, 'x'.repeat(10_000)],
    ]);
    const answers = await answered;
    expect(answers[0]).toMatchObject({
      type: 'server-hello',
      status: 0,
      publicKey: modPow(11, 9, 257),
    });
    expect(answers.slice(1)).toEqual([
      { type: 'response', id: 1, status: Status.OK, payload: text('12:00:00.000000') },
      { type: 'response', id: 2, status: Status.OK, payload: text('secret ping') },
      { type: 'response', id: 3, status: Status.OK, payload: text('x'.repeat(10_000)) },
    ]);
    expect(received.map((m) => m.type)).toEqual(['client-hello', 'request', 'request', 'request']);
    const wire = Buffer.concat(raw);
    expect(wire.includes('secret ping')).toBe(false);
    expect(wire.includes(Buffer.from(text('secret ping').map((b) => (b + 187) & 0xff)))).toBe(true);
  });

  it('takes first bytes read by the server itself, then resumes the socket', async () => {
    const { client, accepted } = await pair();
    client.write(
      Buffer.concat([
        encodeClientHello({ cipher: CipherId.NONE, publicKey: 146 }),
        concatFrame(encodeRequest(1, Command.PING, 'early')),
      ]),
    );
    accepted.resume();
    const [first] = (await once(accepted, 'data')) as [Buffer];
    accepted.pause();
    expect(detectWire(first)).toBe('framed');
    const received: ServerInboundMessage[] = [];
    const framed = new FramedSocket(accepted, {
      role: 'server',
      onMessage: (msg) =>
        received.push('payload' in msg ? { ...msg, payload: msg.payload.slice() } : msg),
      onError: vi.fn(),
    });
    framed.push(first);
    accepted.resume();
    client.write(concatFrame(encodeRequest(2, Command.PING, 'late')));
    await vi.waitFor(() => expect(received).toHaveLength(3));
    expect(received.slice(1)).toEqual([
      { type: 'request', id: 1, command: Command.PING, payload: text('early') },
      { type: 'request', id: 2, command: Command.PING, payload: text('late') },
    ]);
  });

  it('reports bad input once through onError; the caller sends ERROR and closes', async () => {
    const { client, accepted } = await pair();
    const onError = vi.fn((err: ProtocolError, f: FramedSocket) => {
      f.sendError(err.wireCode, 'bad frame');
      f.socket.end();
    });
    const { framed } = serveFramed(accepted, onError);
    accepted.resume();
    const { messages, answered } = clientFramed(client, []);
    await answered;
    // A zero length is malformed whatever the cipher; the bytes after it must be ignored.
    client.write(Uint8Array.of(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff));
    await once(client, 'end');
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(MalformedFrameError);
    expect(framed.failed).toBe(true);
    expect(messages.at(-1)).toEqual({
      type: 'error',
      code: ErrorCode.MALFORMED_FRAME,
      message: 'bad frame',
    });
  });

  it('an exception in onMessage destroys the socket with that error', async () => {
    const { client, accepted } = await pair();
    const boom = new Error('handler bug');
    new FramedSocket(accepted, {
      role: 'server',
      onMessage() {
        throw boom;
      },
      onError: vi.fn(),
    });
    accepted.resume();
    client.write(encodeClientHello({ cipher: CipherId.NONE, publicKey: 146 }));
    const [err] = await once(accepted, 'error');
    expect(err).toBe(boom);
    expect(accepted.destroyed).toBe(true);
  });

  it('detach() stops decoding', async () => {
    const { client, accepted } = await pair();
    const onMessage = vi.fn();
    const framed = new FramedSocket(accepted, { role: 'server', onMessage, onError: vi.fn() });
    framed.detach();
    accepted.on('data', () => {});
    accepted.resume();
    client.write(encodeClientHello({ cipher: CipherId.NONE, publicKey: 146 }));
    await once(accepted, 'data');
    expect(onMessage).not.toHaveBeenCalled();
  });
});

describe('FramedSocket writing', () => {
  it('writes every part inside one cork()/uncork() and encrypts with the current cipher', async () => {
    const { accepted } = await pair();
    const framed = new FramedSocket(accepted, { role: 'server', onMessage() {}, onError: vi.fn() });
    const calls: string[] = [];
    const parts: Uint8Array[] = [];
    vi.spyOn(accepted, 'cork').mockImplementation(() => void calls.push('cork'));
    vi.spyOn(accepted, 'uncork').mockImplementation(() => void calls.push('uncork'));
    vi.spyOn(accepted, 'write').mockImplementation(((chunk: Uint8Array) => {
      calls.push('write');
      parts.push(chunk);
      return true;
    }) as never);
    framed.setCipher(caesar(1));
    expect(framed.sendResponse(7, Status.OK, 'ab')).toBe(true);
    expect(calls).toEqual(['cork', 'write', 'write', 'uncork']);
    expect(Buffer.concat(parts).toString('hex')).toBe('000000080301010108016263');
    calls.length = 0;
    framed.sendError(ErrorCode.INTERNAL);
    expect(calls).toEqual(['cork', 'write', 'uncork']); // the empty message part is skipped
    expect(framed.cipher?.name).toBe('caesar(1)');
  });

  it('answers to every frame of one received chunk leave in one corked batch', async () => {
    const { accepted } = await pair();
    const framed = new FramedSocket(accepted, {
      role: 'server',
      onMessage(msg, f) {
        if (msg.type === 'request') f.sendResponse(msg.id, Status.OK, 'x');
      },
      onError: vi.fn(),
    });
    framed.push(encodeClientHello({ cipher: CipherId.NONE, publicKey: 190 }));
    framed.setCipher(null);
    const calls: string[] = [];
    vi.spyOn(accepted, 'cork').mockImplementation(() => void calls.push('cork'));
    vi.spyOn(accepted, 'uncork').mockImplementation(() => void calls.push('uncork'));
    vi.spyOn(accepted, 'write').mockImplementation((() => {
      calls.push('write');
      return true;
    }) as never);
    const chunk = Buffer.concat(
      [1, 2, 3].map((id) => concatFrame(encodeRequest(id, Command.PING))),
    );
    accepted.emit('data', chunk);
    // Six writes (header and payload per answer), and the socket never uncorks fully between
    // them: the kernel gets them in one batch.
    expect(calls.filter((c) => c === 'write')).toHaveLength(6);
    let depth = 0;
    const depthAfter = calls.map((c) => {
      depth += c === 'cork' ? 1 : c === 'uncork' ? -1 : 0;
      return depth;
    });
    expect(depthAfter.slice(0, -1).every((d) => d > 0)).toBe(true);
    expect(depthAfter.at(-1)).toBe(0);
  });

  it('send() on a destroyed socket returns false instead of throwing', async () => {
    const { accepted } = await pair();
    const framed = new FramedSocket(accepted, { role: 'server', onMessage() {}, onError: vi.fn() });
    accepted.destroy();
    expect(framed.sendRequest(1, Command.TIME)).toBe(false);
  });

  it('validates its arguments', async () => {
    const { accepted } = await pair();
    const onMessage = () => {};
    expect(
      () => new FramedSocket(null as never, { role: 'server', onMessage, onError: vi.fn() }),
    ).toThrow(TypeError);
    expect(() => new FramedSocket(accepted, { role: 'server', onMessage } as never)).toThrow(
      TypeError,
    );
    expect(
      () =>
        new FramedSocket(accepted, {
          role: 'server',
          onMessage,
          onError: vi.fn(),
          maxFrameSize: 1,
        }),
    ).toThrow(RangeError);
    accepted.setEncoding('utf8');
    expect(
      () => new FramedSocket(accepted, { role: 'server', onMessage, onError: vi.fn() }),
    ).toThrow(TypeError);
  });
});
