import type { Socket } from 'node:net';
import {
  caesarKeyFromSharedSecret,
  createCaesarCipher,
  createKeyPair,
  deriveSharedKey,
  isWeakSharedSecret,
  SEED_GROUP,
  validatePublicKey,
} from '@rtt/cipher';
import {
  CipherId,
  type ClientHelloMessage,
  Command,
  commandName,
  ErrorCode,
  GroupId,
  HelloStatus,
  MAX_HELLO_ROUNDS,
  PROTOCOL_VERSION,
  type ProtocolError,
  type RequestMessage,
  Status,
} from '@rtt/protocol';
import { FramedSocket } from '@rtt/protocol/node';
import { answer } from './answers.ts';
import { closeGently, type SessionDeps } from './session.ts';

type HelloVerdict = { ok: true } | { ok: false; status: number; why: string };

function judgeHello(hello: ClientHelloMessage): HelloVerdict {
  if (hello.version !== PROTOCOL_VERSION) {
    return {
      ok: false,
      status: HelloStatus.UNSUPPORTED_VERSION,
      why: `protocol version ${hello.version}`,
    };
  }
  if (hello.cipher !== CipherId.CAESAR && hello.cipher !== CipherId.NONE) {
    return { ok: false, status: HelloStatus.UNSUPPORTED_CIPHER, why: `cipher ${hello.cipher}` };
  }
  if (hello.group !== GroupId.SEED) {
    return { ok: false, status: HelloStatus.UNSUPPORTED_GROUP, why: `group ${hello.group}` };
  }
  try {
    validatePublicKey(hello.publicKey, SEED_GROUP);
  } catch {
    return { ok: false, status: HelloStatus.BAD_PUBLIC_KEY, why: `public key ${hello.publicKey}` };
  }
  return { ok: true };
}

/**
 * Serves one connection on our framed protocol: hello (re-keyed while the shared secret is
 * weak), then requests answered by id until the client closes.
 */
export function serveFramed(socket: Socket, firstBytes: Uint8Array, deps: SessionDeps): void {
  const { log, who, control, handshakeDone } = deps;
  let rounds = 0;

  const refuse = (framed: FramedSocket<'server'>, code: number, message: string) => {
    framed.sendError(code, message);
    framed.detach();
    closeGently(socket);
  };

  const onHello = (hello: ClientHelloMessage, framed: FramedSocket<'server'>) => {
    rounds += 1;
    if (rounds > MAX_HELLO_ROUNDS) {
      log.warning(`Closing ${who}: ${MAX_HELLO_ROUNDS} key exchanges and every key was weak`);
      refuse(framed, ErrorCode.TOO_MANY_REKEYS, 'too many key exchanges');
      return;
    }
    const verdict = judgeHello(hello);
    if (!verdict.ok) {
      log.warning(`Closing ${who}: bad hello (${verdict.why})`);
      framed.sendServerHello({ status: verdict.status, cipher: CipherId.NONE, publicKey: 0 });
      framed.detach();
      closeGently(socket);
      return;
    }
    const keys = createKeyPair(SEED_GROUP);
    const shared = deriveSharedKey(keys.privateKey, hello.publicKey, SEED_GROUP);
    framed.sendServerHello({
      status: HelloStatus.OK,
      cipher: hello.cipher,
      publicKey: keys.publicKey,
    });
    if (hello.cipher === CipherId.NONE) {
      framed.setCipher(null);
    } else if (isWeakSharedSecret(shared)) {
      // Key 0 would send everything in clear: both sides know it, the client says hello again.
      log.debug(`Weak shared secret with ${who}; waiting for a new hello`);
      framed.expectHello();
      return;
    } else {
      framed.setCipher(createCaesarCipher(caesarKeyFromSharedSecret(shared)));
    }
    handshakeDone();
  };

  const onRequest = (request: RequestMessage, framed: FramedSocket<'server'>) => {
    control.countRequest();
    if (request.command === Command.PING) {
      framed.sendResponse(request.id, Status.OK, request.payload);
      return;
    }
    const name =
      commandName(request.command) ?? `command 0x${request.command.toString(16).padStart(2, '0')}`;
    const result = answer(name, deps.temperature);
    framed.sendResponse(request.id, result.ok ? Status.OK : Status.UNKNOWN_COMMAND, result.text);
  };

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
