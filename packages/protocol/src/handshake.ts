import {
  type ByteCipher,
  caesarKeyFromSharedSecret,
  createCaesarCipher,
  createKeyPair,
  type DhGroup,
  deriveSharedKey,
  isWeakSharedSecret,
  type RandomSource,
  validatePublicKey,
} from '@rtt/cipher';
import {
  CipherId,
  GROUPS,
  GroupId,
  HelloStatus,
  MAX_HELLO_ROUNDS,
  PROTOCOL_VERSION,
} from './constants.ts';
import { BadPublicKeyError, ProtocolError, TooManyRekeysError } from './errors.ts';
import {
  assertClientHello,
  assertServerHello,
  encodeClientHello,
  encodeServerHello,
} from './hello.ts';
import type { ClientHello, ServerHello } from './messages.ts';

/** Where a hello round leaves the connection. */
export type HandshakeOutcome =
  /** Keys agreed: frames from now on use `cipher` (`null` for the NONE cipher). */
  | { readonly type: 'ready'; readonly cipher: ByteCipher | null; readonly key: number }
  /** The shared secret was weak (Caesar key 0): another hello round follows. */
  | { readonly type: 'rekey' };

// The group behind GroupId.SEED, the only one the wire defines so far (and so the only one
// assertClientHello lets through).
const GROUP: DhGroup = GROUPS[GroupId.SEED];

/**
 * The one check of the peer's public key on the handshake path: in range, in the generator's
 * subgroup, not degenerate. The hello asserts leave the key alone and the derivation below
 * trusts this check, so a bad key is refused exactly once, as a BadPublicKeyError (the
 * ServerHello status BAD_PUBLIC_KEY) with the cipher's reason as `cause`.
 */
function checkPublicKey(publicKey: number): void {
  try {
    validatePublicKey(publicKey, GROUP);
  } catch (err) {
    throw new BadPublicKeyError(publicKey, { cause: err });
  }
}

// One cipher per key, shared by every session that agrees it: a Caesar cipher is frozen and
// keeps no state, and one made per session (an object and two closures) cost a server about
// 200 B per held connection. The group gives at most 256 keys.
const caesarCiphers: (ByteCipher | undefined)[] = [];

function caesarCipher(key: number): ByteCipher {
  let cipher = caesarCiphers[key];
  if (cipher === undefined) {
    cipher = createCaesarCipher(key);
    caesarCiphers[key] = cipher;
  }
  return cipher;
}

/** Agrees on the cipher; `peerPublicKey` must have passed {@link checkPublicKey}. */
function agree(privateKey: number, peerPublicKey: number, cipher: number): HandshakeOutcome {
  if (cipher === CipherId.NONE) return { type: 'ready', cipher: null, key: 0 };
  const shared = deriveSharedKey(privateKey, peerPublicKey, GROUP, { prevalidated: true });
  // Key 0 would send everything in clear. Both sides see it, so both start another round.
  if (isWeakSharedSecret(shared)) return { type: 'rekey' };
  const key = caesarKeyFromSharedSecret(shared);
  return { type: 'ready', cipher: caesarCipher(key), key };
}

// What a server accepts unless told otherwise: one array for every handshake.
const DEFAULT_SERVER_CIPHERS: readonly number[] = Object.freeze([CipherId.CAESAR, CipherId.NONE]);

/**
 * The client's side of the hello: makes each ClientHello (a fresh key pair every round) and
 * turns the server's answer into a cipher, or into another round when the key came out weak.
 *
 * @example
 * const handshake = new ClientHandshake();
 * framed.send([handshake.hello()]);
 * // on the ServerHello:
 * const outcome = handshake.onServerHello(serverHello);
 * if (outcome.type === 'rekey') { framed.expectHello(); framed.send([handshake.hello()]); }
 * else framed.setCipher(outcome.cipher);
 */
export class ClientHandshake {
  /** The cipher id this client asks for. */
  readonly cipher: number;
  readonly #random: RandomSource | undefined;
  #privateKey = -1;
  #rounds = 0;

  /** `random` replaces the platform's randomness, for tests. */
  constructor(options: { cipher?: number | undefined; random?: RandomSource | undefined } = {}) {
    this.cipher = options.cipher ?? CipherId.CAESAR;
    this.#random = options.random;
  }

  /** Hello rounds so far. */
  get rounds(): number {
    return this.#rounds;
  }

  /**
   * The next ClientHello, with a new key pair.
   * @throws {TooManyRekeysError} after `MAX_HELLO_ROUNDS` rounds
   */
  hello(): Uint8Array {
    if (this.#rounds >= MAX_HELLO_ROUNDS) throw new TooManyRekeysError(MAX_HELLO_ROUNDS);
    this.#rounds += 1;
    const keys = createKeyPair(GROUP, this.#random);
    this.#privateKey = keys.privateKey;
    return encodeClientHello({
      version: PROTOCOL_VERSION,
      cipher: this.cipher,
      group: GroupId.SEED,
      publicKey: keys.publicKey,
    });
  }

  /**
   * Reads the server's answer to the last hello.
   * @throws {HelloRejectedError} the server refused, or answered with a key outside the group
   */
  onServerHello(hello: ServerHello): HandshakeOutcome {
    if (this.#privateKey < 0) throw new ProtocolError('a ServerHello came before any ClientHello');
    assertServerHello(hello, { cipher: this.cipher, group: GroupId.SEED });
    // Checked whatever the cipher, as the server checks ours: a server that sends a bad key
    // is broken even when the key goes unused.
    checkPublicKey(hello.publicKey);
    return agree(this.#privateKey, hello.publicKey, this.cipher);
  }
}

/** What the server does with one ClientHello. */
export type ServerHelloResult =
  /** Send `reply` (a ServerHello), then go on as `outcome` says. */
  | { readonly reply: Uint8Array; readonly outcome: HandshakeOutcome; readonly error?: undefined }
  /**
   * Refuse: send `reply` (a ServerHello with the refusal's status) when there is one, else an
   * ERROR frame with `error.wireCode`; then close.
   */
  | {
      readonly reply: Uint8Array | null;
      readonly outcome?: undefined;
      readonly error: ProtocolError;
    };

/**
 * The server's side of the hello: checks each ClientHello (version, group, cipher, a public
 * key in the generator's subgroup and not degenerate), answers with a fresh key pair, and
 * allows at most `MAX_HELLO_ROUNDS` rounds: if the last one is weak too, it answers with
 * TOO_MANY_REKEYS instead of a ServerHello.
 *
 * @example
 * const handshake = new ServerHandshake();
 * // on a ClientHello:
 * const result = handshake.onClientHello(clientHello);
 * if (result.error) { ... refuse and close ... }
 * else { framed.send([result.reply]); if (result.outcome.type === 'rekey') framed.expectHello(); else framed.setCipher(result.outcome.cipher); }
 */
export class ServerHandshake {
  readonly #ciphers: readonly number[];
  readonly #random: RandomSource | undefined;
  #rounds = 0;

  /** `random` replaces the platform's randomness, for tests. */
  constructor(
    options: { ciphers?: readonly number[] | undefined; random?: RandomSource | undefined } = {},
  ) {
    this.#ciphers = options.ciphers ?? DEFAULT_SERVER_CIPHERS;
    this.#random = options.random;
  }

  /** Hello rounds so far. */
  get rounds(): number {
    return this.#rounds;
  }

  /** Checks one ClientHello and says what to answer; never throws for bad input. */
  onClientHello(hello: ClientHello): ServerHelloResult {
    this.#rounds += 1;
    if (this.#rounds > MAX_HELLO_ROUNDS) {
      return { reply: null, error: new TooManyRekeysError(MAX_HELLO_ROUNDS) };
    }
    try {
      assertClientHello(hello, { ciphers: this.#ciphers });
      checkPublicKey(hello.publicKey);
    } catch (err) {
      const error = err as ProtocolError & { helloStatus?: number };
      const status = error.helloStatus ?? HelloStatus.BAD_PUBLIC_KEY;
      return { reply: encodeServerHello({ status, cipher: CipherId.NONE, publicKey: 0 }), error };
    }
    const keys = createKeyPair(GROUP, this.#random);
    const outcome = agree(keys.privateKey, hello.publicKey, hello.cipher);
    if (outcome.type === 'rekey' && this.#rounds >= MAX_HELLO_ROUNDS) {
      // The last round allowed is weak too: an ERROR in place of the ServerHello, and close.
      return { reply: null, error: new TooManyRekeysError(MAX_HELLO_ROUNDS) };
    }
    const reply = encodeServerHello({
      status: HelloStatus.OK,
      cipher: hello.cipher,
      publicKey: keys.publicKey,
    });
    return { reply, outcome };
  }
}
