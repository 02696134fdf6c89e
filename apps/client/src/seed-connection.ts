import type net from 'node:net';
import {
  caesarDecryptInPlace,
  caesarEncryptInPlace,
  caesarKeyFromSharedSecret,
  createSeedKeyPair,
  deriveSharedKey,
  SEED_GROUP,
} from '@rtt/cipher';
import {
  decodeSeedText,
  encodeSeedPublicKey,
  encodeSeedText,
  parseSeedPublicKey,
} from '@rtt/protocol';
import {
  ClientError,
  type Connection,
  ConnectionEnd,
  type Reply,
  serverGone,
} from './connection.ts';

/**
 * The seed wire from the client side, for the original Python server: our key in decimal,
 * its key back, then one Caesar-encrypted command per request and one answer per read, as
 * the original client assumes.
 */
export class SeedConnection implements Connection {
  readonly socket: net.Socket;
  /** The Caesar key agreed (0..255; 0 is possible on the seed wire and means clear text). */
  readonly key: number;
  #waiting: ((chunk: Buffer | Error) => void) | undefined;
  readonly #end = new ConnectionEnd();

  private constructor(socket: net.Socket, key: number) {
    this.socket = socket;
    this.key = key;
    socket.on('data', (chunk: Buffer) => this.#deliver(chunk));
    socket.on('error', (err) => this.#deliver(serverGone(`connection lost: ${err.message}`)));
    socket.on('close', () => this.#deliver(serverGone()));
  }

  #deliver(value: Buffer | Error): void {
    if (value instanceof Error) this.#end.fail(value);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(value);
  }

  /**
   * Exchanges decimal public keys on a connected socket, like the original client.
   *
   * @example
   * const connection = await SeedConnection.open(await openSocket('127.0.0.1', 7777));
   */
  static async open(socket: net.Socket): Promise<SeedConnection> {
    // Private keys from 0..1000 like the original client, but from a cryptographic source.
    const keys = createSeedKeyPair();
    const reply = new Promise<Buffer>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        cleanup();
        resolve(chunk);
      };
      const onGone = () => {
        cleanup();
        reject(serverGone('the server closed the connection during the key exchange'));
      };
      const cleanup = () => {
        socket.off('data', onData);
        socket.off('close', onGone);
        socket.off('error', onGone);
      };
      socket.on('data', onData);
      socket.once('close', onGone);
      socket.once('error', onGone);
    });
    socket.write(encodeSeedPublicKey(keys.publicKey));
    let peer: number;
    try {
      peer = parseSeedPublicKey(await reply);
    } catch (err) {
      socket.destroy();
      if (err instanceof ClientError) throw err;
      throw new ClientError(
        'RTT_ERR_BAD_SERVER_KEY',
        `the server sent a bad key: ${(err as Error).message}`,
      );
    }
    const shared = deriveSharedKey(keys.privateKey, peer, SEED_GROUP, { allowDegenerate: true });
    return new SeedConnection(socket, caesarKeyFromSharedSecret(shared));
  }

  request(command: 'TIME' | 'DATE' | 'TEMP'): Promise<Reply> {
    const failure = this.#end.failure;
    if (failure !== undefined) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const started = performance.now();
      this.#waiting = (value) => {
        if (value instanceof Error) {
          reject(value);
          return;
        }
        const text = decodeSeedText(caesarDecryptInPlace(value, this.key));
        resolve({ ok: !text.startsWith('ERROR'), text, rttMs: performance.now() - started });
      };
      this.socket.write(caesarEncryptInPlace(encodeSeedText(command), this.key));
    });
  }

  /** Settles when the server ends the connection: with the reason, never rejecting. */
  get lost(): Promise<Error> {
    return this.#end.lost;
  }

  close(): Promise<void> {
    return this.#end.close(this.socket);
  }
}
