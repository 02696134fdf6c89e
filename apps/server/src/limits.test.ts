import { describe, expect, it } from 'vitest';
import {
  DESCRIPTOR_RESERVE,
  defaultMaxConnections,
  FALLBACK_MAX_CONNECTIONS,
  openFileLimit,
} from './limits.ts';

const limits = (soft: string, hard = soft) =>
  [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max processes             95413                95413                processes ',
    `Max open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     `,
  ].join('\n');

describe('openFileLimit', () => {
  it('reads the soft limit from /proc/self/limits', () => {
    expect(openFileLimit(() => limits('1024', '524288'))).toBe(1024);
  });

  it('has none where the file is missing or says unlimited', () => {
    expect(
      openFileLimit(() => {
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      }),
    ).toBeUndefined();
    expect(openFileLimit(() => limits('unlimited'))).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('reads this process on Linux', () => {
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});

describe('defaultMaxConnections', () => {
  it('keeps a reserve for the server’s own descriptors', () => {
    expect(defaultMaxConnections(1024)).toBe(1024 - DESCRIPTOR_RESERVE);
    expect(defaultMaxConnections(65536)).toBe(65536 - DESCRIPTOR_RESERVE);
    // A small limit keeps a quarter back.
    expect(defaultMaxConnections(64)).toBe(48);
    expect(defaultMaxConnections(1)).toBe(1);
  });

  it('falls back to 10,000 without a limit', () => {
    expect(defaultMaxConnections(undefined)).toBe(FALLBACK_MAX_CONNECTIONS);
    expect(FALLBACK_MAX_CONNECTIONS).toBe(10_000);
  });
});
