import { UsageError } from '@rtt/cli-support';
import { describe, expect, it } from 'vitest';
import { parseAttackArgs, parseSoakArgs } from './attack-options.ts';
import { DEFAULT_CONNECTIONS } from './attackers.ts';

describe('attack options', () => {
  it('takes the kind and its default connections, and starts a server unless given -p', async () => {
    const options = await parseAttackArgs(['--kind', 'idle']);
    expect(options).toMatchObject({
      kind: 'idle',
      connections: DEFAULT_CONNECTIONS.idle,
      seconds: 10,
      port: undefined,
      serverArgs: [],
      json: false,
    });
  });

  it('reads a running server, its pid and the server arguments', async () => {
    expect(
      await parseAttackArgs(['--kind', 'log-flood', '-p', '7777', '--pid', '42', '-c', '5']),
    ).toMatchObject({ port: 7777, pid: 42, connections: 5 });
    expect(
      await parseAttackArgs(['--kind', 'idle', '--server-args=--idle-timeout 1  -t 0']),
    ).toMatchObject({ serverArgs: ['--idle-timeout', '1', '-t', '0'] });
  });

  it('refuses what cannot work, with a UsageError', async () => {
    await expect(parseAttackArgs([])).rejects.toBeInstanceOf(UsageError);
    await expect(parseAttackArgs(['--kind', 'nuke'])).rejects.toBeInstanceOf(UsageError);
    await expect(parseAttackArgs(['--kind', 'idle', '-c', '0'])).rejects.toThrow(/connections/);
    await expect(
      parseAttackArgs(['--kind', 'idle', '-p', '7777', '--server-args=-t 0']),
    ).rejects.toThrow(/leave out -p/);
  });
});

describe('soak options', () => {
  it('takes fractions of minutes and fits every kind in a short run', async () => {
    expect(await parseSoakArgs(['--minutes', '0.5'])).toMatchObject({ minutes: 0.5, cycleS: 5 });
    expect(await parseSoakArgs([])).toMatchObject({
      minutes: 10,
      cycleS: 20,
      good: 2,
      settleS: 60,
    });
    expect(await parseSoakArgs(['--settle', '0'])).toMatchObject({ settleS: 0 });
    expect(await parseSoakArgs(['--minutes', '0.1'])).toMatchObject({ cycleS: 2 });
  });

  it('refuses a run of no length', async () => {
    await expect(parseSoakArgs(['--minutes', '0'])).rejects.toBeInstanceOf(UsageError);
  });
});
