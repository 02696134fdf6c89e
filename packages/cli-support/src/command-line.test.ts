import { describe, expect, it } from 'vitest';
import { answeredHelpOrVersion, commandLine } from './command-line.ts';
import { UsageError } from './errors.ts';

const parse = async (args: string[]) =>
  commandLine(args, { name: 'demo', usage: '$0 [options]', version: '1.2.3' })
    .option('ip', { type: 'string', default: '0.0.0.0' })
    .option('port', { alias: 'p', type: 'number', default: 7777 })
    .parse();

describe('commandLine', () => {
  it("reads the seed's -ip as one option, not -i -p", async () => {
    expect(await parse(['-ip', '127.0.0.1', '-p', '8000'])).toMatchObject({
      ip: '127.0.0.1',
      port: 8000,
    });
  });

  it('turns an unknown option into a one-line UsageError', async () => {
    await expect(parse(['--bogus'])).rejects.toBeInstanceOf(UsageError);
    await expect(parse(['--bogus'])).rejects.toMatchObject({ code: 'RTT_ERR_USAGE' });
    await expect(parse(['--bogus'])).rejects.toThrow(/^[^\n]+$/);
  });

  it('answers --help and --version without exiting, and says so', async () => {
    const writes: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void writes.push(args.join(' '));
    try {
      expect(answeredHelpOrVersion(await parse(['--version']))).toBe(true);
      expect(answeredHelpOrVersion(await parse(['--help']))).toBe(true);
      expect(answeredHelpOrVersion(await parse(['-p', '1']))).toBe(false);
    } finally {
      console.log = log;
    }
    expect(writes.join('\n')).toContain('1.2.3');
  });
});
