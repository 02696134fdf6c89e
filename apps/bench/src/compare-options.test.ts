import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@rtt/cli-support';
import { describe, expect, it } from 'vitest';
import { CASES } from './compare-cases.ts';
import { parseCompareArgs } from './compare-options.ts';

async function parse(...args: string[]) {
  const options = await parseCompareArgs(args);
  if (options === undefined) throw new Error('help was printed');
  return options;
}

async function usageError(args: string[]): Promise<UsageError> {
  const error = await parseCompareArgs(args).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(UsageError);
  expect((error as UsageError).code).toBe('RTT_ERR_USAGE');
  return error as UsageError;
}

describe('parseCompareArgs', () => {
  it('runs the whole report by default, into the committed results file', async () => {
    const options = await parse();
    expect(options).toMatchObject({
      runs: 3,
      durationS: 2,
      warmup: 20_000,
      hold: 10_000,
      idleS: 10,
    });
    expect(options.cases).toBe(CASES);
    expect(options.out).toBe(fileURLToPath(new URL('../results/latest.json', import.meta.url)));
  });

  it('reads every option', async () => {
    const options = await parse(
      '--runs',
      '7',
      '--duration',
      '0.5',
      '--warmup',
      '0',
      '--hold',
      '0',
      '--idle',
      '0',
      '--out',
      'results/x.json',
    );
    expect(options).toMatchObject({ runs: 7, durationS: 0.5, warmup: 0, hold: 0, idleS: 0 });
    expect(options.out).toBe(resolve('results/x.json'));
  });

  it('takes a subset of the cases, in the report order', async () => {
    expect((await parse('--cases', 'seed50, c1')).cases.map((c) => c.id)).toEqual(['c1', 'seed50']);
  });

  it('names the known cases when one is unknown', async () => {
    const error = await usageError(['--cases', 'c1,c2']);
    expect(error.message).toBe(
      'unknown case in c1,c2: expected some of c1,c10,c50,c200,c1000,p16,time50,seed50,metrics50',
    );
  });

  it('rejects bad values with one line each', async () => {
    for (const args of [
      ['--runs', '0'],
      ['--runs', 'x'],
      ['--duration', '0.05'],
      ['--warmup', '-1'],
      ['--hold', '-1'],
      ['--idle', '-1'],
      ['--cases', ''],
      ['--bogus'],
      ['stray'],
    ]) {
      const error = await usageError(args);
      expect(error.message).not.toContain('\n');
    }
    expect((await usageError(['--runs', '0'])).message).toBe('invalid runs: 0');
  });
});
