import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { constantRandom, referenceModPow, scriptedRandom } from '../test/fixtures/random-source.ts';
import {
  createKeyPair,
  deriveSharedKey,
  isInSubgroup,
  publicKeyFor,
  validatePublicKey,
} from './diffie-hellman.ts';
import { InvalidPublicKeyError, RandomSourceError, WeakPublicKeyError } from './errors.ts';
import { SEED_GROUP } from './group.ts';

const subgroup = new Set(Array.from({ length: 64 }, (_, k) => referenceModPow(11, k, 257)));
const LARGE_GROUP = { name: 'large', prime: 67_108_859, generator: 2 };

// Words for a random source fast-check controls, so that key generation itself is explored.
const randomWords = fc.array(fc.nat({ max: 0xffff_ffff }), { minLength: 300, maxLength: 300 });

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('createKeyPair', () => {
  it('draws the private key from crypto.getRandomValues', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation((array) => {
      (array as Uint32Array).fill(4);
      return array;
    });
    // 4 is accepted and maps to 1 + 4 % 255 = 5.
    expect(createKeyPair()).toEqual({ privateKey: 5, publicKey: referenceModPow(11, 5, 257) });
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('rejects draws that would bias the result instead of reducing them modulo the range', () => {
    // 2 ** 32 mod 255 = 1, so only 0xffffffff is outside the unbiased range.
    const random = scriptedRandom(0xffff_ffff, 4);
    expect(createKeyPair(SEED_GROUP, random).privateKey).toBe(5);
    expect(random.calls).toBe(2);
  });

  it('draws again when the public key would be degenerate', () => {
    // 63 gives private 64 (public 1), 31 gives private 32 (public 256).
    const random = scriptedRandom(63, 31, 4);
    expect(createKeyPair(SEED_GROUP, random)).toEqual({
      privateKey: 5,
      publicKey: referenceModPow(11, 5, 257),
    });
    expect(random.calls).toBe(3);
  });

  it('gives up with RandomSourceError on a broken source rather than hang', () => {
    expect(() => createKeyPair(SEED_GROUP, constantRandom(0xffff_ffff))).toThrow(RandomSourceError);
    expect(() => createKeyPair(SEED_GROUP, constantRandom(63))).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_RANDOM_SOURCE' }),
    );
  });

  it('throws RandomSourceError when the platform has no crypto', () => {
    vi.stubGlobal('crypto', undefined);
    expect(() => createKeyPair()).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_RANDOM_SOURCE' }),
    );
  });

  it('always yields a strictly valid key pair with private key in 1..prime-2', () => {
    fc.assert(
      fc.property(randomWords, (words) => {
        const { privateKey, publicKey } = createKeyPair(SEED_GROUP, scriptedRandom(...words));
        expect(privateKey).toBeGreaterThanOrEqual(1);
        expect(privateKey).toBeLessThanOrEqual(255);
        expect(publicKey).toBe(referenceModPow(11, privateKey, 257));
        expect(validatePublicKey(publicKey)).toBe(publicKey);
      }),
    );
  });
});

describe('deriveSharedKey', () => {
  it('gives both sides the same secret, for any two key pairs', () => {
    fc.assert(
      fc.property(randomWords, randomWords, (wordsA, wordsB) => {
        const a = createKeyPair(SEED_GROUP, scriptedRandom(...wordsA));
        const b = createKeyPair(SEED_GROUP, scriptedRandom(...wordsB));
        const shared = deriveSharedKey(a.privateKey, b.publicKey);
        expect(deriveSharedKey(b.privateKey, a.publicKey)).toBe(shared);
        expect(shared).toBe(referenceModPow(11, a.privateKey * b.privateKey, 257));
      }),
    );
  });

  it('stays exact in the largest supported group (checked against BigInt)', () => {
    fc.assert(
      fc.property(randomWords, randomWords, (wordsA, wordsB) => {
        const a = createKeyPair(LARGE_GROUP, scriptedRandom(...wordsA));
        const b = createKeyPair(LARGE_GROUP, scriptedRandom(...wordsB));
        expect(a.publicKey).toBe(referenceModPow(2, a.privateKey, LARGE_GROUP.prime));
        const shared = deriveSharedKey(a.privateKey, b.publicKey, LARGE_GROUP);
        expect(deriveSharedKey(b.privateKey, a.publicKey, LARGE_GROUP)).toBe(shared);
        expect(shared).toBe(referenceModPow(b.publicKey, a.privateKey, LARGE_GROUP.prime));
      }),
      { numRuns: 50 },
    );
  });

  it('validates the peer key before using it', () => {
    expect(() => deriveSharedKey(5, 3)).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_INVALID_PUBLIC_KEY' }),
    );
    expect(() => deriveSharedKey(5, 256)).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_WEAK_PUBLIC_KEY' }),
    );
    expect(deriveSharedKey(5, 256, SEED_GROUP, { allowDegenerate: true })).toBe(256);
  });

  it('skips the check only for a key the caller says it validated', () => {
    // The caller's own validatePublicKey(…, { allowDegenerate: true }) let 256 through.
    expect(deriveSharedKey(5, 256, SEED_GROUP, { prevalidated: true })).toBe(256);
    expect(deriveSharedKey(5, 184, SEED_GROUP, { prevalidated: true })).toBe(
      deriveSharedKey(5, 184),
    );
    expect(() => deriveSharedKey(5, 256, SEED_GROUP, { prevalidated: false })).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_WEAK_PUBLIC_KEY' }),
    );
    // The private key is the caller's own and is always checked.
    expect(() => deriveSharedKey(-1, 184, SEED_GROUP, { prevalidated: true })).toThrow(RangeError);
  });

  it('accepts any non-negative safe private key, as the seed’s 0..1000 need', () => {
    expect(deriveSharedKey(0, 11)).toBe(1);
    expect(deriveSharedKey(1000, 11)).toBe(referenceModPow(11, 1000, 257));
    expect(deriveSharedKey(Number.MAX_SAFE_INTEGER, 11)).toBe(
      referenceModPow(11, Number.MAX_SAFE_INTEGER, 257),
    );
    expect(() => deriveSharedKey(-1, 11)).toThrow(RangeError);
    expect(() => deriveSharedKey(2 ** 60, 11)).toThrow(RangeError);
    expect(() => deriveSharedKey(1.5, 11)).toThrow(RangeError);
    expect(() => deriveSharedKey('5' as never, 11)).toThrow(TypeError);
  });
});

describe('validatePublicKey', () => {
  it('accepts exactly the 62 non-degenerate powers of 11 among 1..256', () => {
    const accepted = [];
    for (let value = 1; value <= 256; value++) {
      try {
        accepted.push(validatePublicKey(value));
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidPublicKeyError);
        expect((err as InvalidPublicKeyError).code).toMatch(/^RTT_ERR_(INVALID|WEAK)_PUBLIC_KEY$/);
      }
    }
    expect(accepted).toHaveLength(62);
    expect(accepted.every((value) => subgroup.has(value))).toBe(true);
  });

  it('rejects powers of other elements with InvalidPublicKeyError', () => {
    for (let value = 1; value <= 256; value++) {
      if (subgroup.has(value)) continue;
      expect(() => validatePublicKey(value)).toThrow(
        expect.objectContaining({ code: 'RTT_ERR_INVALID_PUBLIC_KEY' }),
      );
    }
  });

  it('rejects values outside 1..prime-1 with InvalidPublicKeyError', () => {
    for (const value of [0, -1, -256, 257, 258, 1000, 2 ** 40]) {
      expect(() => validatePublicKey(value)).toThrow(
        expect.objectContaining({ code: 'RTT_ERR_INVALID_PUBLIC_KEY' }),
      );
    }
  });

  it('rejects the degenerate keys 1 and 256 with WeakPublicKeyError unless allowed', () => {
    for (const value of [1, 256]) {
      expect(() => validatePublicKey(value)).toThrow(WeakPublicKeyError);
      expect(() => validatePublicKey(value)).toThrow(InvalidPublicKeyError);
      expect(() => validatePublicKey(value)).toThrow(
        expect.objectContaining({ code: 'RTT_ERR_WEAK_PUBLIC_KEY' }),
      );
      expect(validatePublicKey(value, SEED_GROUP, { allowDegenerate: true })).toBe(value);
    }
    // allowDegenerate never lets a key outside the subgroup through.
    expect(() => validatePublicKey(3, SEED_GROUP, { allowDegenerate: true })).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_INVALID_PUBLIC_KEY' }),
    );
  });

  it('calls prime-1 invalid, not weak, where it is no power of the generator', () => {
    // 2 has order 11 modulo 23: odd, so 22 = -1 is not in its subgroup.
    const small = { name: 'small', prime: 23, generator: 2 };
    expect(() => validatePublicKey(22, small, { allowDegenerate: true })).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_INVALID_PUBLIC_KEY' }),
    );
    expect(validatePublicKey(2, small)).toBe(2);
  });

  it('rejects wrong types with TypeError and non-integers with RangeError', () => {
    expect(() => validatePublicKey('183' as never)).toThrow(TypeError);
    expect(() => validatePublicKey(183n as never)).toThrow(TypeError);
    expect(() => validatePublicKey(183.5)).toThrow(RangeError);
    expect(() => validatePublicKey(Number.NaN)).toThrow(RangeError);
    expect(() => validatePublicKey(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('isInSubgroup / publicKeyFor', () => {
  it('agree with the subgroup listed by hand', () => {
    for (let value = 0; value <= 300; value++)
      expect(isInSubgroup(value)).toBe(subgroup.has(value));
    expect(publicKeyFor(0)).toBe(1);
    expect(publicKeyFor(1)).toBe(11);
    expect(publicKeyFor(32)).toBe(256);
    expect(() => publicKeyFor(-1)).toThrow(RangeError);
  });
});
