import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '@rtt/cli-support';
import { describe, expect, it } from 'vitest';
import { openFileLimit, parseBenchArgs } from './cli.ts';

async function parse(...args: string[]) {
  const options = await parseBenchArgs(args, '0.0.0', 20_000);
  if (options === undefined) throw new Error('help was printed');
  return options;
}

async function usageError(args: string[]): Promise<UsageError> {
  const error = await parseBenchArgs(args, '0.0.0', 20_000).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(UsageError);
  expect((error as UsageError).code).toBe('RTT_ERR_USAGE');
  return error as UsageError;
}

describe('parseBenchArgs: --tls and --handshakes', () => {
  it('is plain TCP and a request load by default', async () => {
    expect(await parse()).toMatchObject({ tls: false, handshakes: false });
  });

  it('reads --tls with every load shape of the framed wire', async () => {
    expect(await parse('--tls', '-c', '1', '-P', '4', '--duration', '2')).toMatchObject({
      tls: true,
      connections: 1,
      pipeline: 4,
      durationMs: 2000,
    });
    expect(await parse('--tls', '--hold', '100')).toMatchObject({ tls: true, hold: 100 });
  });

  it('reads --handshakes, with or without --tls', async () => {
    expect(await parse('--handshakes', '-c', '8', '-n', '500')).toMatchObject({
      handshakes: true,
      tls: false,
      connections: 8,
      requests: 500,
    });
    expect(await parse('--handshakes', '--tls')).toMatchObject({ handshakes: true, tls: true });
  });

  it('refuses what cannot go together', async () => {
    expect((await usageError(['--tls', '--wire', 'seed'])).message).toMatch(/never runs over TLS/);
    expect((await usageError(['--handshakes', '--hold', '10'])).message).toMatch(/--hold/);
    expect((await usageError(['--handshakes', '-P', '2'])).message).toMatch(/--pipeline must be 1/);
    expect((await usageError(['--handshakes', '--threads', '2'])).message).toMatch(/one thread/);
  });
});

describe('parseBenchArgs', () => {
  it('has redis-benchmark-like defaults', async () => {
    expect(await parse()).toMatchObject({
      ip: '127.0.0.1',
      port: 7777,
      connections: 50,
      requests: 100_000,
      durationMs: undefined,
      pipeline: 1,
      command: 'PING',
      wire: 'framed',
      threads: 1,
      warmup: 0,
      hold: undefined,
      output: 'text',
    });
  });

  it('reads -ip as one option, as the seed spells it, and --ip too', async () => {
    expect((await parse('-ip', '10.1.2.3', '-p', '8000')).ip).toBe('10.1.2.3');
    expect((await parse('--ip', '10.1.2.4')).ip).toBe('10.1.2.4');
    expect((await parse('-ip', '10.1.2.3', '-p', '8000')).port).toBe(8000);
  });

  it('reads the long and short forms of every load option', async () => {
    const options = await parse(
      '-c',
      '10',
      '-n',
      '500',
      '--pipeline',
      '16',
      '--threads',
      '2',
      '--command',
      'time',
      '--warmup',
      '100',
      '--duration',
      '1.5',
      '--json',
    );
    expect(options).toMatchObject({
      connections: 10,
      requests: 500,
      pipeline: 16,
      threads: 2,
      command: 'TIME',
      warmup: 100,
      durationMs: 1500,
      output: 'json',
    });
    expect((await parse('--connections', '3', '--requests', '9', '-P', '2')).pipeline).toBe(2);
  });

  it('defaults to TIME on the seed wire, which has no PING', async () => {
    expect((await parse('--wire', 'seed')).command).toBe('TIME');
    await usageError(['--wire', 'seed', '--command', 'PING']);
    await usageError(['--wire', 'seed', '--pipeline', '2']);
  });

  it('never starts more threads than connections', async () => {
    expect((await parse('-c', '2', '--threads', '8')).threads).toBe(2);
  });

  it('rejects bad values with one line each', async () => {
    for (const args of [
      ['-c', '0'],
      ['-n', '-1'],
      ['-p', 'x'],
      ['-p', '70000'],
      ['--pipeline', '0'],
      ['--command', 'WHAT'],
      ['--wire', 'udp'],
      ['--json', '--csv'],
      ['--duration', '0'],
      ['--hold', '0'],
      ['--bogus'],
      ['stray'],
    ]) {
      const error = await usageError(args);
      expect(error.message).not.toContain('\n');
    }
  });

  it('refuses more connections than open files allow', async () => {
    const error = await parseBenchArgs(['--hold', '10000'], '0.0.0', 1024).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('RTT_ERR_USAGE');
    expect((error as Error).message).toMatch(/ulimit -n/);
    expect((await parse('--hold', '10000')).hold).toBe(10_000);
  });
});

describe('openFileLimit', () => {
  it('reads the soft limit from a limits file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-limits-'));
    const file = join(dir, 'limits');
    writeFileSync(
      file,
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n',
    );
    expect(openFileLimit(file)).toBe(20_000);
    writeFileSync(
      file,
      'Max open files            unlimited            unlimited            files\n',
    );
    expect(openFileLimit(file)).toBe(Number.POSITIVE_INFINITY);
    expect(openFileLimit(join(dir, 'missing'))).toBeUndefined();
  });
});
