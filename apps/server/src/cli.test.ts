import { UsageError } from '@rtt/cli-support';
import { describe, expect, it } from 'vitest';
import { parseServerArgs } from './cli.ts';
import { displayAddress } from './context.ts';
import { defaultMaxConnections, openFileLimit } from './limits.ts';

describe('parseServerArgs', () => {
  it("has the seed's defaults", async () => {
    expect(await parseServerArgs([])).toMatchObject({ ip: '0.0.0.0', port: 7777, threads: 32 });
  });

  it('reads -ip as one option, and the long forms', async () => {
    expect(await parseServerArgs(['-ip', '127.0.0.1', '-p', '8000', '-t', '4'])).toMatchObject({
      ip: '127.0.0.1',
      port: 8000,
      threads: 4,
    });
    expect(await parseServerArgs(['--host', '::1', '--port', '0', '--threads', '0'])).toMatchObject(
      {
        ip: '::1',
        port: 0,
        threads: 0,
      },
    );
  });

  it('reads the options for running behind a proxy, with metrics', async () => {
    expect(await parseServerArgs([])).toMatchObject({
      proxyProtocol: false,
      proxyFrom: undefined,
      metrics: undefined,
    });
    expect(
      await parseServerArgs([
        '--proxy-protocol',
        '--proxy-from',
        '10.0.0.0/8, 2001:db8::/32',
        '--metrics-port',
        '9464',
      ]),
    ).toMatchObject({
      proxyProtocol: true,
      proxyFrom: ['10.0.0.0/8', '2001:db8::/32'],
      metrics: { host: '127.0.0.1', port: 9464 },
    });
    expect(await parseServerArgs(['--metrics-port', '0', '--metrics-host', '::'])).toMatchObject({
      metrics: { host: '::', port: 0 },
    });
  });

  it.each([
    [['--proxy-from', '10.0.0.0/8'], '--proxy-from needs --proxy-protocol'],
    [
      ['--proxy-protocol', '--proxy-from', '10.0.0.0/33'],
      "invalid --proxy-from entry '10.0.0.0/33'",
    ],
    [['--proxy-protocol', '--proxy-from', ''], 'invalid --proxy-from'],
    [['--metrics-host', '127.0.0.1'], '--metrics-host needs --metrics-port'],
    [['--metrics-port', '9464', '--metrics-host', 'localhost'], 'invalid --metrics-host localhost'],
    [['--metrics-port', '70000'], 'metrics port'],
    [['--metrics-port'], '--metrics-port needs a port number'],
  ])('refuses %j in one line', async (args, message) => {
    const parsing = parseServerArgs(args);
    await expect(parsing).rejects.toThrow(UsageError);
    await expect(parsing).rejects.toThrow(message);
  });

  it('turns seconds into milliseconds', async () => {
    expect(await parseServerArgs(['--handshake-timeout', '0.5'])).toMatchObject({
      handshakeTimeout: 500,
    });
  });

  it('logs to stdout without timestamps unless told otherwise', async () => {
    expect(await parseServerArgs([])).toMatchObject({ logTimestamps: false, logFile: undefined });
    expect(await parseServerArgs(['--log-file', 'server.log', '--log-timestamps'])).toMatchObject({
      logTimestamps: true,
      logFile: 'server.log',
    });
  });

  it('limits idle time, unread output and connections, with defaults', async () => {
    expect(await parseServerArgs([])).toMatchObject({
      idleTimeout: 300_000,
      maxUnsentBytes: 262_144,
      maxConnections: defaultMaxConnections(openFileLimit()),
    });
    expect(
      await parseServerArgs([
        '--idle-timeout',
        '0',
        '--max-output',
        '64',
        '--max-connections',
        '500',
      ]),
    ).toMatchObject({ idleTimeout: 0, maxUnsentBytes: 65_536, maxConnections: 500 });
    expect(await parseServerArgs(['--idle-timeout', '1.5'])).toMatchObject({ idleTimeout: 1_500 });
  });

  it('serves TLS only when asked, with the state directory and key log defaults', async () => {
    const env = { XDG_STATE_HOME: '/srv/state', SSLKEYLOGFILE: '/tmp/keys.log' };
    expect(await parseServerArgs([], '0.1.0', env)).toMatchObject({
      tls: false,
      certificate: undefined,
      stateDir: '/srv/state/rtt-server',
      allowPlaintext: false,
      // SSLKEYLOGFILE is for TLS: without --tls there is nothing to write.
      keylog: undefined,
    });
    expect(await parseServerArgs(['--tls'], '0.1.0', env)).toMatchObject({
      tls: true,
      keylog: '/tmp/keys.log',
    });
    expect(
      await parseServerArgs(
        [
          '--tls',
          '--cert',
          'c.pem',
          '--key',
          'k.pem',
          '--state-dir',
          'state',
          '--keylog',
          'mine.log',
          '--allow-plaintext',
        ],
        '0.1.0',
        env,
      ),
    ).toMatchObject({
      tls: true,
      certificate: { cert: 'c.pem', key: 'k.pem' },
      stateDir: 'state',
      keylog: 'mine.log',
      allowPlaintext: true,
    });
    expect(await parseServerArgs(['--tls'], '0.1.0', {})).toMatchObject({ keylog: undefined });
  });

  it('names a folder option a folder', async () => {
    await expect(parseServerArgs(['--tls', '--state-dir', ''], '0.1.0', {})).rejects.toThrow(
      'invalid state directory: expected one folder name (--state-dir DIR)',
    );
  });

  it.each([
    [['--tls', '--cert', 'c.pem']],
    [['--tls', '--key', 'k.pem']],
    [['--cert', 'c.pem', '--key', 'k.pem']],
    [['--keylog', 'keys.log']],
    [['--tls', '--keylog']],
    [['--state-dir']],
    [['--state-dir', 'state']],
    [['--idle-timeout', '-1']],
    [['--idle-timeout', 'soon']],
    [['--max-output', '0']],
    [['--max-output', '1.5']],
    [['--max-connections', '0']],
    [['--max-connections', 'many']],
    [['--log-file']],
    [['--log-file', 'a.log', '--log-file', 'b.log']],
    [['-p', '70000']],
    [['-p', 'seven']],
    [['-t', '-3']],
    [['-t', '1.5']],
    [['-ip', '300.1.1.1']],
    [['--handshake-timeout', '0']],
    [['--log-level', 'loud']],
    [['stray']],
  ])('refuses %j with a UsageError', async (args) => {
    await expect(parseServerArgs(args)).rejects.toBeInstanceOf(UsageError);
    await expect(parseServerArgs(args)).rejects.toMatchObject({ code: 'RTT_ERR_USAGE' });
  });
});

describe('displayAddress', () => {
  it('shows an IPv4 client on a dual-stack socket as the seed does', () => {
    expect(displayAddress('::ffff:10.0.2.5')).toBe('10.0.2.5');
    expect(displayAddress('::1')).toBe('::1');
    expect(displayAddress(undefined)).toBe('unknown');
  });
});
