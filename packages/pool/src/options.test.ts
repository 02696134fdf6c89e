import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolvePoolOptions } from './options.ts';

describe('resolvePoolOptions', () => {
  it("defaults to the seed's 32 threads, one active per core but one", () => {
    const options = resolvePoolOptions();
    expect(options.threads).toBe(32);
    expect(options.activeThreads).toBe(Math.max(1, availableParallelism() - 1));
    expect(options.connectionsPerThread).toBe(32_768);
  });

  it('never has more active threads than threads', () => {
    expect(resolvePoolOptions({ threads: 1, activeThreads: 8 }).activeThreads).toBe(1);
  });

  it('turns a URL into its href', () => {
    const url = new URL('file:///srv/session.js');
    expect(resolvePoolOptions({ session: url }).session).toBe(url.href);
  });

  it.each([-3, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects threads = %s with a RangeError',
    (threads) => {
      expect(() => resolvePoolOptions({ threads })).toThrow(RangeError);
    },
  );

  it('accepts threads = 0: sessions on the calling thread', () => {
    expect(resolvePoolOptions({ threads: 0 })).toMatchObject({ threads: 0, activeThreads: 0 });
  });

  it('rejects connectionsPerThread = 0', () => {
    expect(() => resolvePoolOptions({ connectionsPerThread: 0 })).toThrow(RangeError);
  });

  it('rejects a threads value that is not a number with a TypeError', () => {
    expect(() => resolvePoolOptions({ threads: '4' as unknown as number })).toThrow(TypeError);
  });

  it('rejects a negative closeTimeout and an empty module path', () => {
    expect(() => resolvePoolOptions({ closeTimeout: -1 })).toThrow(RangeError);
    expect(() => resolvePoolOptions({ session: '' })).toThrow(TypeError);
  });

  it('passes resourceLimits on, and rejects one that is not an object', () => {
    expect(resolvePoolOptions({ resourceLimits: { maxYoungGenerationSizeMb: 4 } })).toMatchObject({
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    expect(resolvePoolOptions().resourceLimits).toBeUndefined();
    expect(() => resolvePoolOptions({ resourceLimits: 4 as never })).toThrow(TypeError);
  });
});
