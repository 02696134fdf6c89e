import { describe, expect, it } from 'vitest';
import { scriptedRandom } from '../../cipher/test/fixtures/random-source.ts';
import { linkedTransports, memoryTransport } from '../test/fixtures/memory-transport.ts';
import { clientStream, rounds, serverStream } from '../test/fixtures/session.ts';
import { CipherId, Command, ErrorCode, Status } from './constants.ts';
import { concatFrame, encodeError, encodeResponse } from './encoder.ts';
import type { ProtocolError } from './errors.ts';
import { FramedClientSession, type FramedClientSessionOptions } from './framed-client-session.ts';
import { FramedServerSession } from './framed-server-session.ts';
import { encodeServerHello } from './hello.ts';

const utf8 = new TextDecoder();

/** A client whose callbacks record what they are told. */
function recordingClient(
  transport = memoryTransport(),
  extra: Partial<FramedClientSessionOptions> = {},
) {
  const log = {
    ready: [] as { key: number; rounds: number }[],
    responses: [] as { id: number; status: number; text: string }[],
    failures: [] as ProtocolError[],
  };
  const session = new FramedClientSession(transport, {
    onReady: (key, rounds) => log.ready.push({ key, rounds }),
    onResponse: (id, status, payload) =>
      log.responses.push({ id, status, text: utf8.decode(payload) }),
    onFailure: (error) => log.failures.push(error),
    ...extra,
  });
  return { session, transport, log };
}

describe('FramedClientSession', () => {
  it('plays the scripted session: its bytes are the client stream, the answers decode', () => {
    // Private keys 4 then 7 (words 3 and 6): the first round is weak, the second gives key 187.
    const transport = memoryTransport();
    const { session, log } = recordingClient(transport, {
      random: scriptedRandom(...rounds.map((r) => r.clientPrivate - 1)),
    });
    const server = serverStream();
    session.start();
    // The first ServerHello: weak, so a second hello goes out before anything else.
    session.push(server.subarray(0, 8));
    expect(log.ready).toEqual([]);
    session.push(server.subarray(8, 16));
    expect(log.ready).toEqual([{ key: 187, rounds: 2 }]);
    session.request(1, Command.TIME);
    session.request(2, Command.DATE);
    session.request(3, Command.TEMP);
    session.request(4, Command.PING, 'ping');
    session.request(5, 0x09);
    expect(transport.bytes()).toEqual(clientStream());
    session.push(server.subarray(16));
    expect(log.responses).toEqual([
      { id: 1, status: Status.OK, text: '14:03:07.123456' },
      { id: 2, status: Status.OK, text: '2025-11-25' },
      { id: 3, status: Status.OK, text: '21°C' },
      { id: 4, status: Status.OK, text: 'ping' },
      { id: 5, status: Status.UNKNOWN_COMMAND, text: 'unknown command 9' },
    ]);
    expect(log.failures.map((e) => [e.code, e.wireCode, e.message])).toEqual([
      [
        'RTT_ERR_SERVER_ERROR',
        ErrorCode.SHUTTING_DOWN,
        'the server ended the session: server closing',
      ],
    ]);
  });

  it('talks to FramedServerSession with no socket: many requests in flight, answered by id', () => {
    const link = linkedTransports();
    const client = recordingClient(link.a as ReturnType<typeof memoryTransport>);
    const server = new FramedServerSession(link.b, { answer: (command) => `${command}!` });
    link.connect(
      (chunk) => server.push(chunk),
      (chunk) => client.session.push(chunk),
    );
    client.session.start();
    link.pump();
    expect(client.session.ready).toBe(true);
    expect(client.session.key).toBeGreaterThan(0);
    for (let id = 1; id <= 50; id++)
      client.session.request(id, [Command.TIME, Command.DATE, Command.TEMP][id % 3] as number);
    link.pump();
    expect(client.log.responses).toHaveLength(50);
    expect(client.log.responses[0]).toEqual({ id: 1, status: Status.OK, text: 'DATE!' });
    expect(client.log.failures).toEqual([]);
  });

  it('refuses to send a request before the keys are agreed', () => {
    const { session } = recordingClient();
    session.start();
    expect(() => session.request(1, Command.TIME)).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_NOT_READY' }),
    );
  });

  it('reports a refused hello once, with its typed error', () => {
    const { session, log } = recordingClient();
    session.start();
    session.push(encodeServerHello({ status: 4, cipher: CipherId.NONE, publicKey: 0 }));
    session.push(encodeServerHello({ status: 4, cipher: CipherId.NONE, publicKey: 0 }));
    expect(log.failures.map((e) => e.code)).toEqual(['RTT_ERR_BAD_PUBLIC_KEY']);
  });

  it('reports an ERROR frame in place of the ServerHello as the server ending the session', () => {
    const { session, log } = recordingClient();
    session.start();
    session.push(concatFrame(encodeError(ErrorCode.HANDSHAKE_TIMEOUT, 'no key exchange in time')));
    expect(log.failures.map((e) => [e.code, e.wireCode])).toEqual([
      ['RTT_ERR_SERVER_ERROR', ErrorCode.HANDSHAKE_TIMEOUT],
    ]);
  });

  it('reports bad bytes from the server as a protocol error, never a throw', () => {
    const { session, log } = recordingClient();
    session.start();
    expect(() => session.push(Uint8Array.of(0x52, 0x00, 0x00, 1, 0, 1, 0, 1))).not.toThrow();
    expect(log.failures.map((e) => e.code)).toEqual(['RTT_ERR_BAD_HELLO']);
    // Dead from then on: nothing more is decoded.
    session.push(concatFrame(encodeResponse(1, Status.OK, 'late')));
    expect(log.responses).toEqual([]);
  });

  it('checks its options', () => {
    expect(() => new FramedClientSession(memoryTransport(), {} as never)).toThrow(TypeError);
  });
});
