import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceModPow } from '../test/fixtures/random-source.ts';
import { InvalidGroupError } from './errors.ts';
import { generatorOrder, MAX_GROUP_PRIME, SEED_GROUP, validateGroup } from './group.ts';
import { isPrime } from './modular-arithmetic.ts';

const group = (prime: number, generator: number) => ({ name: 'test', prime, generator });

describe('SEED_GROUP', () => {
  it('is the seed’s prime 257 and generator 11, frozen', () => {
    expect(SEED_GROUP).toEqual({ name: 'seed-257', prime: 257, generator: 11 });
    expect(Object.isFrozen(SEED_GROUP)).toBe(true);
    expect(() => validateGroup(SEED_GROUP)).not.toThrow();
  });
});

describe('generatorOrder', () => {
  it('proves 11 has order 64 modulo 257: 11^64 = 1 and no smaller power is', () => {
    expect(generatorOrder()).toBe(64);
    expect(referenceModPow(11, 64, 257)).toBe(1);
    for (let k = 1; k < 64; k++) expect(referenceModPow(11, k, 257)).not.toBe(1);
  });

  it('finds full order for a primitive root, and small orders elsewhere', () => {
    expect(generatorOrder(group(257, 3))).toBe(256);
    expect(generatorOrder(group(23, 2))).toBe(11);
    expect(generatorOrder(group(65537, 3))).toBe(65536);
  });

  it('agrees with the definition for random groups', () => {
    const primes = [5, 7, 11, 13, 101, 257, 1009, 7919];
    fc.assert(
      fc.property(fc.constantFrom(...primes), fc.nat(), (prime, seed) => {
        const generator = 2 + (seed % (prime - 3));
        const order = generatorOrder(group(prime, generator));
        expect((prime - 1) % order).toBe(0);
        expect(referenceModPow(generator, order, prime)).toBe(1);
        for (let k = 1; k < order; k++) expect(referenceModPow(generator, k, prime)).not.toBe(1);
      }),
      { numRuns: 50 },
    );
  });
});

describe('validateGroup', () => {
  it('accepts the largest prime in range', () => {
    const largest = 67_108_859; // the largest prime below 2 ** 26
    expect(largest < MAX_GROUP_PRIME && isPrime(largest)).toBe(true);
    expect(() => validateGroup(group(largest, 2))).not.toThrow();
  });

  it('rejects a modulus that is not a prime in 5..2**26 with InvalidGroupError', () => {
    // 67_108_879 is the first prime above 2 ** 26.
    for (const prime of [-7, 0, 1, 2, 3, 4, 255, 256, 65_535, 67_108_879]) {
      expect(() => validateGroup(group(prime, 2))).toThrow(
        expect.objectContaining({ code: 'RTT_ERR_INVALID_GROUP' }),
      );
    }
  });

  it('rejects a generator outside 2..prime-2 with InvalidGroupError', () => {
    for (const generator of [-11, 0, 1, 256, 257, 300]) {
      try {
        validateGroup(group(257, generator));
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidGroupError);
        expect((err as InvalidGroupError).code).toBe('RTT_ERR_INVALID_GROUP');
      }
    }
  });

  it('rejects wrong types with TypeError and non-integers with RangeError', () => {
    expect(() => validateGroup(null as never)).toThrow(TypeError);
    expect(() => validateGroup('seed-257' as never)).toThrow(TypeError);
    expect(() => validateGroup(group('257' as never, 11))).toThrow(TypeError);
    expect(() => validateGroup(group(257, 11n as never))).toThrow(TypeError);
    expect(() => validateGroup(group(257.5, 11))).toThrow(RangeError);
    expect(() => validateGroup(group(257, Number.NaN))).toThrow(RangeError);
  });
});
