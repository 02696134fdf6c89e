import type { Socket } from 'node:net';
import {
  caesarDecryptInPlace,
  caesarEncryptInPlace,
  caesarKeyFromSharedSecret,
  createKeyPair,
  deriveSharedKey,
  SEED_GROUP,
  validatePublicKey,
} from '@rtt/cipher';
import {
  decodeSeedText,
  encodeSeedPublicKey,
  encodeSeedText,
  parseSeedCommands,
  SEED_COMMANDS,
  SeedKeyReader,
} from '@rtt/protocol';
import { answer } from './answers.ts';
import { closeGently, type SessionDeps } from './session.ts';

/**
 * How long the server waits for more key digits once some have arrived. The seed client
 * sends its key and then waits for ours, so a pause means the key is complete; a key that
 * cannot take another digit (e.g. `183`, since 1830 > 256) is taken at once.
 */
export const SEED_KEY_QUIET_MS = 30;

const COMMAND_PREFIXES = new Set(
  SEED_COMMANDS.flatMap((command) => [1, 2, 3].map((length) => command.slice(0, length))),
);

/**
 * Whether seed-wire text stops inside a command: known commands, then the first 1 to 3
 * letters of one (`TI`, `TIMEDA`), whitespace and case aside as the server reads them.
 *
 * @example
 * endsMidCommand('TI'); // true
 * endsMidCommand('TIME'); // false
 * endsMidCommand('XY'); // false: no command starts so
 */
export function endsMidCommand(text: string): boolean {
  const compact = text.replace(/\s+/g, '').toUpperCase();
  const whole = compact.length - (compact.length % 4);
  if (whole === compact.length) return false;
  for (let i = 0; i < whole; i += 4) {
    if (!(SEED_COMMANDS as readonly string[]).includes(compact.slice(i, i + 4))) return false;
  }
  return COMMAND_PREFIXES.has(compact.slice(whole));
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Serves one connection on the seed wire (the original Python client): decimal public keys,
 * then each Caesar-encrypted command answered with a Caesar-encrypted text.
 */
export function serveSeed(socket: Socket, firstBytes: Uint8Array, deps: SessionDeps): void {
  const { log, who, control, handshakeDone } = deps;
  const reader = new SeedKeyReader({ maxValue: SEED_GROUP.prime - 1 });
  let key: number | undefined;
  let quiet: NodeJS.Timeout | undefined;

  const reject = (why: string) => {
    log.warning(`Closing ${who}: ${why}`);
    socket.off('data', onData);
    closeGently(socket);
  };

  const finishKeyExchange = () => {
    clearTimeout(quiet);
    const peer = reader.value();
    try {
      // The original client's private keys run from 0, so 1 and 256 do occur: accept them.
      validatePublicKey(peer, SEED_GROUP, { allowDegenerate: true });
    } catch {
      reject(`seed public key ${peer} is not in the group`);
      return;
    }
    const keys = createKeyPair(SEED_GROUP);
    const shared = deriveSharedKey(keys.privateKey, peer, SEED_GROUP, { allowDegenerate: true });
    key = caesarKeyFromSharedSecret(shared);
    socket.write(encodeSeedPublicKey(keys.publicKey));
    if (key === 0) {
      // The seed wire has no way to re-key: serve it, and say so.
      log.warning(`Session with ${who} has shared key 256 = 0 mod 256: it travels in clear`);
    }
    handshakeDone();
  };

  const answerAll = (plain: Uint8Array, shift: number) => {
    for (const command of parseSeedCommands(plain)) {
      control.countRequest();
      const result = answer(command, deps.temperature);
      const text = result.ok ? result.text : `ERROR ${result.text}`;
      socket.write(caesarEncryptInPlace(encodeSeedText(text), shift));
    }
  };

  // Decrypted bytes that end in the middle of a command, waiting for the rest.
  let held: Uint8Array | undefined;
  let holdTimer: NodeJS.Timeout | undefined;
  const onCommands = (chunk: Uint8Array, shift: number) => {
    // The chunk is ours (a fresh Buffer from the socket): decrypt it where it lies.
    const plain = caesarDecryptInPlace(chunk, shift);
    const bytes = held === undefined ? plain : concatBytes(held, plain);
    held = undefined;
    clearTimeout(holdTimer);
    if (endsMidCommand(decodeSeedText(bytes))) {
      // The original client sends each command in one piece; should TCP split one anyway,
      // wait briefly for the rest rather than answer two halves as unknown commands.
      held = bytes;
      holdTimer = setTimeout(() => {
        held = undefined;
        answerAll(bytes, shift);
      }, SEED_KEY_QUIET_MS);
      return;
    }
    answerAll(bytes, shift);
  };

  const onData = (chunk: Uint8Array) => {
    if (key !== undefined) {
      onCommands(chunk, key);
      return;
    }
    try {
      reader.push(chunk);
    } catch (err) {
      reject(err instanceof Error ? err.message : String(err));
      return;
    }
    clearTimeout(quiet);
    if (reader.mayContinue) quiet = setTimeout(finishKeyExchange, SEED_KEY_QUIET_MS);
    else finishKeyExchange();
  };

  socket.on('data', onData);
  socket.once('close', () => {
    clearTimeout(quiet);
    clearTimeout(holdTimer);
  });
  control.signal.addEventListener('abort', () => closeGently(socket), { once: true });
  onData(firstBytes);
}
