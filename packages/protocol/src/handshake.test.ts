import { type RandomSource, SEED_GROUP, subgroupElements } from '@rtt/cipher';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CipherId, HelloStatus, MAX_HELLO_ROUNDS } from './constants.ts';
import {
  BadPublicKeyError,
  HelloRejectedError,
  TooManyRekeysError,
  UnsupportedCipherError,
  UnsupportedVersionError,
} from './errors.ts';
import { ClientHandshake, type HandshakeOutcome, ServerHandshake } from './handshake.ts';
import { decodeClientHello, decodeServerHello, encodeClientHello } from './hello.ts';

/**
 * A deterministic random source (mulberry32) for a 32-bit seed drawn by fast-check: a failing
 * run prints the seeds, and the seeds (or fast-check's own seed and path) replay it exactly.
 * The platform's randomness could not be replayed.
 */
function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return (array: Uint32Array) => {
    for (let i = 0; i < array.length; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      array[i] = (t ^ (t >>> 14)) >>> 0;
    }
    return array;
  };
}

/** The two sides' seeds: independent, so that fast-check can pair any client with any server. */
const seeds = fc.record({
  client: fc.integer({ min: 0, max: 0xffffffff }),
  server: fc.integer({ min: 0, max: 0xffffffff }),
});

/** Runs hello rounds between a fresh client and server until both are ready. */
function handshake(
  cipher: number,
  { client: clientSeed, server: serverSeed }: { client: number; server: number },
) {
  const client = new ClientHandshake({ cipher, random: seededRandom(clientSeed) });
  const server = new ServerHandshake({ random: seededRandom(serverSeed) });
  const rounds: { client: HandshakeOutcome; server: HandshakeOutcome }[] = [];
  for (;;) {
    const result = server.onClientHello(decodeClientHello(client.hello()));
    if (result.error) throw result.error;
    const clientOutcome = client.onServerHello(decodeServerHello(result.reply));
    rounds.push({ client: clientOutcome, server: result.outcome });
    if (clientOutcome.type === 'ready')
      return { client: clientOutcome, server: result.outcome, rounds };
  }
}

describe('ClientHandshake and ServerHandshake', () => {
  // Every draw below comes from fast-check's seeds: the platform's source must stay unused.
  const platform = vi.spyOn(globalThis.crypto, 'getRandomValues');
  afterEach(() => {
    expect(platform).not.toHaveBeenCalled();
    platform.mockClear();
  });
  afterAll(() => platform.mockRestore());

  it('agree on the same Caesar key, and it works both ways', () => {
    fc.assert(
      fc.property(seeds, fc.uint8Array({ minLength: 1, maxLength: 64 }), (keys, bytes) => {
        const { client, server } = handshake(CipherId.CAESAR, keys);
        expect(client.type).toBe('ready');
        expect(server).toEqual(
          expect.objectContaining({ type: 'ready', key: (client as { key: number }).key }),
        );
        const copy = bytes.slice();
        if (client.type !== 'ready' || server.type !== 'ready') throw new Error('not ready');
        client.cipher?.encrypt(copy);
        server.cipher?.decrypt(copy);
        expect(copy).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('never settles on key 0, and both sides always agree that a round was weak', () => {
    let rekeys = 0;
    fc.assert(
      fc.property(seeds, (keys) => {
        const { client, rounds } = handshake(CipherId.CAESAR, keys);
        for (const round of rounds) expect(round.client.type).toBe(round.server.type);
        rekeys += rounds.length - 1;
        expect((client as { key: number }).key).not.toBe(0);
      }),
      { numRuns: 3000 },
    );
    // About 1 round in 30 is weak: thousands of handshakes must have met some.
    expect(rekeys).toBeGreaterThan(0);
  });

  it('replays: the same seeds give the same rounds and the same key', () => {
    fc.assert(
      fc.property(seeds, (keys) => {
        const first = handshake(CipherId.CAESAR, keys);
        const again = handshake(CipherId.CAESAR, keys);
        expect(again.rounds.map((round) => round.client.type)).toEqual(
          first.rounds.map((round) => round.client.type),
        );
        expect((again.client as { key: number }).key).toBe((first.client as { key: number }).key);
      }),
    );
  });

  it('with the NONE cipher, is ready at once with no cipher', () => {
    const { client, server, rounds } = handshake(CipherId.NONE, { client: 1, server: 2 });
    expect(rounds).toHaveLength(1);
    expect(client).toEqual({ type: 'ready', cipher: null, key: 0 });
    expect(server).toEqual({ type: 'ready', cipher: null, key: 0 });
  });
});

/** A decoded ClientHello: Caesar, public key 190, unless overridden. */
const hello = (
  overrides: Partial<{ version: number; cipher: number; group: number; publicKey: number }>,
) =>
  decodeClientHello(encodeClientHello({ cipher: CipherId.CAESAR, publicKey: 190, ...overrides }));

describe('ServerHandshake refusals', () => {
  it.each([
    ['an unknown version', { version: 2 }, HelloStatus.UNSUPPORTED_VERSION],
    ['an unknown cipher', { cipher: 9 }, HelloStatus.UNSUPPORTED_CIPHER],
    ['an unknown group', { group: 9 }, HelloStatus.UNSUPPORTED_GROUP],
    ['a key outside the subgroup', { publicKey: 183 }, HelloStatus.BAD_PUBLIC_KEY],
    ['a degenerate key', { publicKey: 1 }, HelloStatus.BAD_PUBLIC_KEY],
    ['the other degenerate key', { publicKey: 256 }, HelloStatus.BAD_PUBLIC_KEY],
    ['a key out of range', { publicKey: 300 }, HelloStatus.BAD_PUBLIC_KEY],
  ])('answers %s with its status', (_name, overrides, status) => {
    const result = new ServerHandshake().onClientHello(hello(overrides));
    expect(result.error).toBeInstanceOf(HelloRejectedError);
    expect(result.reply && decodeServerHello(result.reply)).toMatchObject({ status, publicKey: 0 });
  });

  it('accepts exactly the non-degenerate keys of the subgroup', () => {
    const good = new Set(subgroupElements(SEED_GROUP).filter((k) => k !== 1 && k !== 256));
    for (let key = 0; key <= 300; key += 1) {
      const result = new ServerHandshake().onClientHello(hello({ publicKey: key }));
      expect(result.error === undefined).toBe(good.has(key));
    }
  });

  it('refuses a cipher it was told not to accept', () => {
    const result = new ServerHandshake({ ciphers: [CipherId.CAESAR] }).onClientHello(
      hello({ cipher: CipherId.NONE }),
    );
    expect(result.error).toBeInstanceOf(UnsupportedCipherError);
  });

  it(`refuses a ${MAX_HELLO_ROUNDS + 1}th hello with an ERROR, not a hello`, () => {
    // Private key 1 for the server (the random word 0): shared = the client's key, never weak.
    const server = new ServerHandshake({ random: (word) => word.fill(0) });
    for (let i = 0; i < MAX_HELLO_ROUNDS; i += 1)
      expect(server.onClientHello(hello({})).error).toBeUndefined();
    const last = server.onClientHello(hello({}));
    expect(last.error).toBeInstanceOf(TooManyRekeysError);
    expect(last.reply).toBeNull();
  });
});

describe('the round limit', () => {
  it(`answers TOO_MANY_REKEYS in place of the ${MAX_HELLO_ROUNDS}th ServerHello when every key is weak`, () => {
    // Server private key 2 (random word 1) and a client key of 11^16: shared 11^32 = 256 = key 0.
    const server = new ServerHandshake({ random: (word) => word.fill(1) });
    const weakClientKey = Number(11n ** 16n % 257n);
    for (let round = 1; round < MAX_HELLO_ROUNDS; round += 1) {
      const result = server.onClientHello(hello({ publicKey: weakClientKey }));
      expect(result.outcome).toEqual({ type: 'rekey' });
    }
    const last = server.onClientHello(hello({ publicKey: weakClientKey }));
    expect(last.error).toBeInstanceOf(TooManyRekeysError);
    expect(last.reply).toBeNull();
  });
});

describe('ClientHandshake checks the server', () => {
  it('turns a refusal into the typed error', () => {
    const client = new ClientHandshake();
    client.hello();
    const refused = decodeServerHello(
      Uint8Array.of(0x52, 0x54, 0x54, 1, HelloStatus.UNSUPPORTED_VERSION, 0, 0, 0),
    );
    expect(() => client.onServerHello(refused)).toThrow(UnsupportedVersionError);
  });

  it('rejects a server key outside the subgroup', () => {
    const client = new ClientHandshake();
    client.hello();
    const bad = decodeServerHello(
      Uint8Array.of(0x52, 0x54, 0x54, 1, HelloStatus.OK, CipherId.CAESAR, 0, 183),
    );
    expect(() => client.onServerHello(bad)).toThrow(BadPublicKeyError);
  });

  it(`refuses to start a round after ${MAX_HELLO_ROUNDS}`, () => {
    const client = new ClientHandshake();
    for (let i = 0; i < MAX_HELLO_ROUNDS; i += 1) client.hello();
    expect(() => client.hello()).toThrow(TooManyRekeysError);
  });
});
