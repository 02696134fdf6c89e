import { describe, expect, it, vi } from 'vitest';
import { parseClientArgs } from './cli.ts';

const ENV = { XDG_CONFIG_HOME: '/cfg' };
const parse = (...args: string[]) => parseClientArgs(args, '0.1.0', ENV);
const PIN = `sha256:${'q5b0+/'.repeat(7)}x`;

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
      tls: false,
      knownServers: '/cfg/rtt/known_servers',
      knownServersGiven: false,
      fingerprint: undefined,
      ca: undefined,
      keylog: undefined,
      forget: undefined,
    });
  });

  it('takes --tls with trust on first use, --fingerprint, --ca and --keylog', async () => {
    expect(await parse('time', '--tls')).toMatchObject({
      tls: true,
      knownServers: '/cfg/rtt/known_servers',
      keylog: undefined,
    });
    expect(await parse('--tls', '--known-servers', 'k', '--keylog', 'l')).toMatchObject({
      knownServers: 'k',
      knownServersGiven: true,
      keylog: 'l',
    });
    expect(await parse('--tls', '--fingerprint', PIN)).toMatchObject({ fingerprint: PIN });
    expect(await parse('--tls', '--ca', 'ca.pem', 'temp', '--json')).toMatchObject({
      ca: 'ca.pem',
    });
  });

  it("takes --fingerprint in OpenSSH's SHA256: spelling too, as the server prints it", async () => {
    expect(await parse('--tls', '--fingerprint', PIN.replace('sha256', 'SHA256'))).toMatchObject({
      fingerprint: PIN,
    });
  });

  it('prints help that reads at 80 columns, each example on one line', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await parse('--help')).toBeUndefined();
      const lines = log.mock.calls
        .map((call) => String(call[0]))
        .join('\n')
        .split('\n');
      expect(lines.filter((line) => line.length > 80)).toEqual([]);
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^ {2}rtt-client time --tls +TLS 1\.3, the server trusted on first use$/,
        ),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(/^ {2}rtt-client --forget 10\.0\.0\.5:7777 +forget a server's/),
      );
    } finally {
      log.mockRestore();
    }
  });

  it('honours SSLKEYLOGFILE with --tls only, --keylog first', async () => {
    const env = { ...ENV, SSLKEYLOGFILE: 'env.log' };
    expect(await parseClientArgs(['--tls'], '0.1.0', env)).toMatchObject({ keylog: 'env.log' });
    expect(await parseClientArgs(['--tls', '--keylog', 'l'], '0.1.0', env)).toMatchObject({
      keylog: 'l',
    });
    expect(await parseClientArgs([], '0.1.0', env)).toMatchObject({ keylog: undefined });
  });

  it('takes --forget HOST:PORT, the port from -p when left out', async () => {
    expect(await parse('--forget', '127.0.0.1:7000')).toMatchObject({ forget: '127.0.0.1:7000' });
    expect(await parse('--forget', '::1', '-p', '8000')).toMatchObject({ forget: '[::1]:8000' });
    expect(await parse('--forget', 'h', '--known-servers', 'k')).toMatchObject({
      forget: 'h:7777',
      knownServers: 'k',
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
    [['--fingerprint', PIN], /--fingerprint goes with --tls/],
    [['--ca', 'c'], /--ca goes with --tls/],
    [['--keylog', 'l'], /--keylog goes with --tls/],
    [['--known-servers', 'k'], /--known-servers goes with --tls/],
    [['--tls', '--wire', 'seed'], /not --wire seed/],
    [['--tls', '--ca', 'c', '--fingerprint', PIN], /give one/],
    [['--tls', '--ca', 'c', '--known-servers', 'k'], /not used with --ca/],
    [['--tls', '--fingerprint', 'sha256:abc'], /invalid --fingerprint/],
    [['--tls', '--fingerprint', PIN.replace('sha256', 'md5')], /invalid --fingerprint/],
    [['--tls', '--ca', ''], /--ca needs a file name/],
    [['--tls', '--ca', 'a', '--ca', 'b'], /--ca needs a file name, once/],
    [['--forget', 'h:1', 'time'], /--forget runs alone/],
    [['--forget', 'h:1', '--tls'], /--forget runs alone/],
    [['--forget', 'h:x'], /invalid --forget/],
  ])('refuses %j with one line and code RTT_ERR_USAGE', async (args, message) => {
    await expect(parse(...args)).rejects.toMatchObject({
      code: 'RTT_ERR_USAGE',
      message: expect.stringMatching(message),
    });
  });
});
