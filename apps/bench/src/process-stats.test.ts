import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clockTicks,
  cpuMicrosPerOp,
  cpuSeconds,
  residentBytes,
  threadCount,
} from './process-stats.ts';

describe('process stats from /proc', () => {
  const proc = mkdtempSync(join(tmpdir(), 'bench-proc-'));
  mkdirSync(join(proc, '42'));
  writeFileSync(join(proc, '42', 'status'), 'Name:\tnode\nVmRSS:\t  45680 kB\nThreads:\t11\n');
  // A command name with a space and a parenthesis must not shift the fields.
  const fields = ['S', ...Array.from({ length: 10 }, () => '0'), '250', '50', '0', '0'];
  writeFileSync(join(proc, '42', 'stat'), `42 (node (x) y) ${fields.join(' ')}\n`);

  it('reads resident memory and threads', () => {
    expect(residentBytes(42, proc)).toBe(45_680 * 1024);
    expect(threadCount(42, proc)).toBe(11);
    expect(residentBytes(43, proc)).toBeUndefined();
  });

  it('reads user plus system CPU time', () => {
    expect(cpuSeconds(42, proc)).toBeCloseTo(300 / clockTicks());
    expect(cpuSeconds(43, proc)).toBeUndefined();
  });

  it('reads this very process on Linux', () => {
    if (process.platform !== 'linux') return;
    expect(residentBytes(process.pid)).toBeGreaterThan(1_000_000);
    expect(cpuSeconds(process.pid)).toBeGreaterThanOrEqual(0);
  });
});

describe('cpuMicrosPerOp', () => {
  it('gives microseconds per operation to 0.1, or null without both readings or operations', () => {
    expect(cpuMicrosPerOp(1.5, 1.75, 10_000)).toBe(25);
    expect(cpuMicrosPerOp(0, 0.00001234, 1)).toBe(12.3);
    expect(cpuMicrosPerOp(undefined, 2, 10)).toBeNull();
    expect(cpuMicrosPerOp(1, undefined, 10)).toBeNull();
    expect(cpuMicrosPerOp(1, 2, 0)).toBeNull();
  });
});
