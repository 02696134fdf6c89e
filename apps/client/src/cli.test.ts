import { describe, expect, it } from 'vitest';
import { parseClientArgs } from './cli.ts';

const parse = (...args: string[]) => parseClientArgs(args);

describe('the client command line', () => {
  it('with no command, opens the menu on 127.0.0.1:7777 over the framed wire', async () => {
    expect(await parse()).toEqual({
      ip: '127.0.0.1',
      port: 7777,
      wire: 'framed',
      command: undefined,
      count: 1,
      interval: 1,
      json: false,
      timeoutMs: 5_000,
    });
  });

  it('takes -ip as one option, the host as a word, and a command after it', async () => {
    expect(await parse('-ip', '10.0.0.5', '-p', '8000')).toMatchObject({
      ip: '10.0.0.5',
      port: 8000,
    });
    expect(await parse('10.0.0.5', 'TIME')).toMatchObject({ ip: '10.0.0.5', command: 'time' });
    expect(await parse('temp', '-p', '7000')).toMatchObject({
      ip: '127.0.0.1',
      command: 'temp',
      port: 7000,
    });
    expect(
      await parse('--ip', 'h', 'ping', '--count', '0', '--interval', '0.2', '--json'),
    ).toMatchObject({
      ip: 'h',
      command: 'ping',
      count: 0,
      interval: 0.2,
      json: true,
    });
    expect(await parse('date', '--timeout', '0.5')).toMatchObject({ timeoutMs: 500 });
  });

  it.each([
    [['--count', '3'], /--count goes with a command/],
    [['--json'], /--json goes with a command/],
    [['ping', '--wire', 'seed'], /seed wire has no ping/],
    [['h', 'frob'], /unknown command "frob"/],
    [['time', '--count', '-1'], /count/],
    [['time', '--interval', 'x'], /interval/],
    [['time', '--timeout', '0'], /timeout/],
    [['a', '-ip', 'b'], /two server addresses/],
    [['-p', '70000'], /port/],
  ])('refuses %j with one line and code RTT_ERR_USAGE', async (args, message) => {
    await expect(parse(...args)).rejects.toMatchObject({
      code: 'RTT_ERR_USAGE',
      message: expect.stringMatching(message),
    });
  });
});
