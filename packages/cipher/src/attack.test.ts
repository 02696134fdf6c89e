import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceModPow, scriptedRandom } from '../test/fixtures/random-source.ts';
import { discreteLog, recoverCaesarKeys, recoverSharedKey, subgroupElements } from './attack.ts';
import { caesarDecrypt, caesarEncrypt } from './caesar.ts';
import { createKeyPair, deriveSharedKey, publicKeyFor } from './diffie-hellman.ts';
import { InvalidPublicKeyError } from './errors.ts';
import { SEED_GROUP } from './group.ts';
import { caesarKeyFromSharedSecret, createSeedKeyPair } from './seed.ts';

const FULL_GROUP = { name: 'fermat-65537', prime: 65_537, generator: 3 };
const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const COMMANDS = ['TIME', 'DATE', 'TEMP'];
// 32-bit words the seed key draw accepts on the first try (2 ** 32 mod 1001 = 620 are not).
const seedWord = fc.nat({ max: 2 ** 32 - (2 ** 32 % 1001) - 1 });

describe('subgroupElements', () => {
  it('lists the 64 powers of 11 modulo 257, indexed by exponent', () => {
    const elements = subgroupElements();
    expect(elements).toHaveLength(64);
    expect(new Set(elements).size).toBe(64);
    expect(elements.slice(0, 4)).toEqual([1, 11, 121, 46]);
    for (const [k, element] of elements.entries()) {
      expect(element).toBe(referenceModPow(11, k, 257));
    }
  });

  it('holds every public key and every shared secret that can occur', () => {
    const elements = new Set(subgroupElements());
    const publicKeys = new Set<number>();
    const sharedKeys = new Set<number>();
    for (let a = 1; a <= 255; a++) {
      publicKeys.add(publicKeyFor(a));
      for (let b = 1; b <= 255; b++) {
        sharedKeys.add(deriveSharedKey(a, publicKeyFor(b), SEED_GROUP, { allowDegenerate: true }));
      }
    }
    expect(publicKeys).toEqual(elements);
    expect(sharedKeys).toEqual(elements);
  });
});

describe('discreteLog', () => {
  it('finds the private key modulo the generator’s order', () => {
    expect(discreteLog(1)).toBe(0);
    expect(discreteLog(11)).toBe(1);
    expect(discreteLog(publicKeyFor(1000))).toBe(40);
    fc.assert(
      fc.property(fc.maxSafeNat(), (privateKey) => {
        expect(discreteLog(publicKeyFor(privateKey))).toBe(privateKey % 64);
      }),
    );
  });

  it('rejects keys that are no power of the generator', () => {
    for (const value of [0, 3, 257]) {
      expect(() => discreteLog(value)).toThrow(InvalidPublicKeyError);
      expect(() => discreteLog(value)).toThrow(
        expect.objectContaining({ code: 'RTT_ERR_INVALID_PUBLIC_KEY' }),
      );
    }
  });
});

describe('recoverSharedKey', () => {
  it('equals the real shared secret for any exchange, degenerate keys included', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (a, b) => {
        const publicA = publicKeyFor(a);
        const publicB = publicKeyFor(b);
        const real = deriveSharedKey(a, publicB, SEED_GROUP, { allowDegenerate: true });
        expect(recoverSharedKey(publicA, publicB)).toBe(real);
        expect(recoverSharedKey(publicB, publicA)).toBe(real);
      }),
    );
  });

  it('works in a group of full order too, only slower', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 65_535 }),
        fc.integer({ min: 1, max: 65_535 }),
        (a, b) => {
          const publicA = publicKeyFor(a, FULL_GROUP);
          const publicB = publicKeyFor(b, FULL_GROUP);
          expect(recoverSharedKey(publicA, publicB, FULL_GROUP)).toBe(
            referenceModPow(3, a * b, FULL_GROUP.prime),
          );
        },
      ),
      { numRuns: 20 },
    );
  });

  it('rejects keys that are no power of the generator', () => {
    expect(() => recoverSharedKey(3, 11)).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_INVALID_PUBLIC_KEY' }),
    );
    expect(() => recoverSharedKey(11, 3)).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_INVALID_PUBLIC_KEY' }),
    );
  });
});

describe('recoverCaesarKeys', () => {
  it('finds the one key under which a cipher text reads as a command', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...COMMANDS),
        fc.integer({ min: 0, max: 255 }),
        (command, key) => {
          const cipherText = caesarEncrypt(encode(command), key);
          const keys = recoverCaesarKeys(cipherText, (bytes) => COMMANDS.includes(decode(bytes)));
          expect(keys).toEqual([key]);
        },
      ),
    );
  });

  it('returns every key the test accepts, and checks its arguments', () => {
    expect(recoverCaesarKeys(Uint8Array.of(1), () => true)).toHaveLength(256);
    expect(recoverCaesarKeys(Uint8Array.of(1), (_, key) => key % 2 === 0)).toHaveLength(128);
    expect(() => recoverCaesarKeys([1] as never, () => true)).toThrow(TypeError);
    expect(() => recoverCaesarKeys(Uint8Array.of(1), 'TIME' as never)).toThrow(TypeError);
  });
});

describe('an eavesdropper on a seed session', () => {
  it('reads every message from the two public keys alone', () => {
    fc.assert(
      fc.property(seedWord, seedWord, (wordA, wordB) => {
        const client = createSeedKeyPair(scriptedRandom(wordA));
        const server = createSeedKeyPair(scriptedRandom(wordB));
        const options = { allowDegenerate: true };
        const key = caesarKeyFromSharedSecret(
          deriveSharedKey(client.privateKey, server.publicKey, SEED_GROUP, options),
        );
        const wire = COMMANDS.map((command) => caesarEncrypt(encode(command), key));

        const stolenKey = caesarKeyFromSharedSecret(
          recoverSharedKey(client.publicKey, server.publicKey),
        );
        expect(wire.map((bytes) => decode(caesarDecrypt(bytes, stolenKey)))).toEqual(COMMANDS);
      }),
    );
  });

  it('needs no more than 64 candidates even for our own key pairs', () => {
    const a = createKeyPair();
    const b = createKeyPair();
    expect(subgroupElements()).toContain(deriveSharedKey(a.privateKey, b.publicKey));
  });
});
