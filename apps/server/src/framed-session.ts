import type { Socket } from 'node:net';
import {
  type ClientHelloMessage,
  Command,
  commandName,
  ErrorCode,
  type ProtocolError,
  type RequestMessage,
  ServerHandshake,
  Status,
} from '@rtt/protocol';
import { FramedSocket } from '@rtt/protocol/node';
import { answer } from './answers.ts';
import { closeGently, type SessionDeps } from './session.ts';

/**
 * Serves one connection on our framed protocol: hello (re-keyed while the shared secret is
 * weak), then requests answered by id until the client closes.
 */
export function serveFramed(socket: Socket, firstBytes: Uint8Array, deps: SessionDeps): void {
  const { log, who, control, handshakeDone } = deps;
  const handshake = new ServerHandshake();

  const hangUp = (framed: FramedSocket<'server'>) => {
    framed.detach();
    closeGently(socket);
  };
  const refuse = (framed: FramedSocket<'server'>, code: number, message: string) => {
    framed.sendError(code, message);
    hangUp(framed);
  };

  const onHello = (hello: ClientHelloMessage, framed: FramedSocket<'server'>) => {
    const result = handshake.onClientHello(hello);
    if (result.error) {
      log.warning(`Closing ${who}: bad hello (${result.error.message})`);
      // A refusing ServerHello where the hello itself was wrong, else an ERROR frame.
      if (result.reply) {
        framed.send([result.reply]);
        hangUp(framed);
      } else {
        refuse(framed, result.error.wireCode, result.error.message);
      }
      return;
    }
    framed.send([result.reply]);
    if (result.outcome.type === 'rekey') {
      log.debug(`Weak shared secret with ${who}; waiting for a new hello`);
      framed.expectHello();
      return;
    }
    framed.setCipher(result.outcome.cipher);
    handshakeDone();
  };

  const onRequest = (request: RequestMessage, framed: FramedSocket<'server'>) => {
    control.countRequest();
    if (request.command === Command.PING) {
      framed.sendResponse(request.id, Status.OK, request.payload);
      return;
    }
    const name = commandName(request.command);
    if (name === undefined) {
      // As docs/PROTOCOL.md shows it: the code, in decimal.
      framed.sendResponse(request.id, Status.UNKNOWN_COMMAND, `unknown command ${request.command}`);
      return;
    }
    const result = answer(name, deps.temperature);
    framed.sendResponse(request.id, result.ok ? Status.OK : Status.UNKNOWN_COMMAND, result.text);
  };

  deps.onHandshakeTimeout = () =>
    refuse(framed, ErrorCode.HANDSHAKE_TIMEOUT, 'no key exchange in time');
  const framed = new FramedSocket(socket, {
    role: 'server',
    onMessage(message, framed) {
      if (message.type === 'client-hello') onHello(message, framed);
      else onRequest(message, framed);
    },
    onError(error: ProtocolError, framed) {
      log.warning(`Closing ${who}: ${error.message}`);
      refuse(framed, error.wireCode, error.message);
    },
  });
  control.signal.addEventListener(
    'abort',
    () => {
      if (socket.writable) refuse(framed, ErrorCode.SHUTTING_DOWN, 'server closing');
    },
    { once: true },
  );
  framed.push(firstBytes);
}
