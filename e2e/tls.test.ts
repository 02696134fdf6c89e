import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_MAIN, killAll, Proc, runClient, startServer } from './harness.ts';

// Every client here is given its known-servers file (or XDG_CONFIG_HOME): a test must never
// write to the real ~/.config of whoever runs it.

const FINGERPRINT = /fingerprint (sha256:[A-Za-z0-9+/]{43})/;
const TIME = /^TIME \d{2}:\d{2}:\d{2}\.\d{6} rtt=\d+\.\d{3} ms offset=[+-]\d+\.\d{3} ms$/;

let dirs: string[] = [];
const tempDir = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `rtt-e2e-tls-${name}-`));
  dirs.push(dir);
  return dir;
};
beforeEach(() => {
  dirs = [];
});
afterEach(async () => {
  await killAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A server with `--tls` and its own state directory; its certificate's fingerprint and file. */
async function tlsServer(stateDir = tempDir('state')) {
  const { proc, port } = await startServer(['--tls', '--state-dir', stateDir]);
  const fingerprint = (await proc.waitFor(FINGERPRINT))[1] as string;
  return { proc, port, stateDir, fingerprint, certFile: join(stateDir, 'cert.pem') };
}

/** The client with an environment of its own (SSLKEYLOGFILE, XDG_CONFIG_HOME). */
async function runClientWith(args: string[], env: NodeJS.ProcessEnv) {
  const proc = new Proc(process.execPath, ['--conditions=rtt-source', CLIENT_MAIN, ...args], {
    stdin: '',
    env,
  });
  const { code } = await proc.exited;
  return { proc, code };
}

describe('the client over TLS, trust on first use', () => {
  it('saves the fingerprint on first use with one line, then connects silently', async () => {
    const server = await tlsServer();
    const known = join(tempDir('client'), 'sub', 'known_servers');
    const args = ['-p', String(server.port), '--tls', '--known-servers', known, 'time'];

    const first = await runClient(args, '');
    expect(first.code).toBe(0);
    expect(first.proc.lines).toEqual([expect.stringMatching(TIME)]);
    expect(first.proc.stderr).toBe(
      `Trusting 127.0.0.1:${server.port} on first use: ${server.fingerprint} (saved in ${known})\n`,
    );
    expect(readFileSync(known, 'utf8')).toContain(
      `127.0.0.1:${server.port} ${server.fingerprint}\n`,
    );
    expect(statSync(known).mode & 0o777).toBe(0o600);

    const second = await runClient(args, '');
    expect(second.code).toBe(0);
    expect(second.proc.lines).toEqual([expect.stringMatching(TIME)]);
    expect(second.proc.stderr).toBe('');
  });

  it('uses $XDG_CONFIG_HOME/rtt/known_servers by default, and the menu works over TLS', async () => {
    const server = await tlsServer();
    const config = tempDir('config');
    const proc = new Proc(
      process.execPath,
      ['--conditions=rtt-source', CLIENT_MAIN, '-p', String(server.port), '--tls'],
      { stdin: '1\n4\n', env: { XDG_CONFIG_HOME: config } },
    );
    expect((await proc.exited).code).toBe(0);
    expect(proc.lines[0]).toMatch(/connected to the server with 127\.0\.0\.1 address/);
    expect(proc.lines.some((line) => line.startsWith('💡 Response: '))).toBe(true);
    expect(readFileSync(join(config, 'rtt', 'known_servers'), 'utf8')).toContain(
      `127.0.0.1:${server.port} ${server.fingerprint}`,
    );
  });

  it('refuses a server whose certificate changed, with the warning, exit 1, nothing sent', async () => {
    const old = await tlsServer();
    old.proc.child.kill('SIGTERM');
    // A new certificate (another state directory) where the old server was: the port differs
    // per run, so the file is given the old certificate for the new server's address.
    const server = await tlsServer();
    expect(server.fingerprint).not.toBe(old.fingerprint);
    const known = join(tempDir('client'), 'known_servers');
    writeFileSync(known, `# kept\n127.0.0.1:${server.port} ${old.fingerprint}\n`);

    const { proc, code } = await runClient(
      ['-p', String(server.port), '--tls', '--known-servers', known, 'time'],
      '',
    );
    expect(code).toBe(1);
    expect(proc.stdout).toBe('');
    expect(proc.stderr).toContain('WARNING: SERVER CERTIFICATE HAS CHANGED!');
    expect(proc.stderr).toContain(`Expected: ${old.fingerprint}   (${known}, line 2)`);
    expect(proc.stderr).toContain(`Received: ${server.fingerprint}`);
    expect(proc.stderr).toContain(
      `rtt-client --forget 127.0.0.1:${server.port} --known-servers ${known}`,
    );
    // The file is left as it was: trusting the new certificate is the user's decision.
    expect(readFileSync(known, 'utf8')).toBe(
      `# kept\n127.0.0.1:${server.port} ${old.fingerprint}\n`,
    );
    expect(server.proc.stdout).not.toMatch(/bad hello|Closing 127\.0\.0\.1/);

    // --json: the same warning for the person, the error object for the script.
    const json = await runClient(
      ['-p', String(server.port), '--tls', '--known-servers', known, 'time', '--json'],
      '',
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.proc.lines[0] as string)).toEqual({
      error: { code: 'RTT_ERR_CERTIFICATE_CHANGED', message: expect.stringContaining(known) },
    });
    expect(json.proc.stderr).toContain('WARNING: SERVER CERTIFICATE HAS CHANGED!');

    // --forget, as the warning says; then the new certificate is trusted on first use.
    const forget = await runClient(
      ['--forget', `127.0.0.1:${server.port}`, '--known-servers', known],
      '',
    );
    expect(forget.code).toBe(0);
    expect(readFileSync(known, 'utf8')).toBe('# kept\n');
    const again = await runClient(
      ['-p', String(server.port), '--tls', '--known-servers', known, 'time'],
      '',
    );
    expect(again.code).toBe(0);
    expect(again.proc.stderr).toMatch(/^Trusting 127\.0\.0\.1:\d+ on first use/);
  });

  it('sends nothing at all after a TLS handshake with a changed certificate', async () => {
    // A bare TLS server with the real server's certificate records every byte it gets.
    const stateDir = tempDir('state');
    const made = await tlsServer(stateDir);
    made.proc.child.kill('SIGTERM');
    const received: Buffer[] = [];
    let serverDone!: () => void;
    // The server side of the connection ends: closed after its handshake, or failed during it
    // (the client may hang up before the server has read its last handshake message).
    const ended = new Promise<void>((resolve) => {
      serverDone = resolve;
    });
    const listener = tls.createServer(
      {
        cert: readFileSync(join(stateDir, 'cert.pem')),
        key: readFileSync(join(stateDir, 'key.pem')),
      },
      (socket) => {
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        socket.on('error', () => {});
        socket.on('close', () => serverDone());
      },
    );
    listener.on('tlsClientError', () => serverDone());
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    try {
      const { port } = listener.address() as AddressInfo;
      const known = join(tempDir('client'), 'known_servers');
      writeFileSync(known, `127.0.0.1:${port} sha256:${'A'.repeat(43)}\n`);
      const { code, proc } = await runClient(
        ['-p', String(port), '--tls', '--known-servers', known, 'time'],
        '',
      );
      expect(code).toBe(1);
      // The warning shows the certificate: the TLS handshake did happen.
      expect(proc.stderr).toContain(`Received: ${made.fingerprint}`);
      await ended;
      expect(Buffer.concat(received)).toHaveLength(0);
    } finally {
      listener.close();
    }
  });
});

describe('the client over TLS, other checks', () => {
  it('--fingerprint: the right one is answered, a wrong one refused with exit 1', async () => {
    const server = await tlsServer();
    const known = join(tempDir('client'), 'known_servers');
    const config = { XDG_CONFIG_HOME: tempDir('config') };
    const right = await runClientWith(
      ['-p', String(server.port), '--tls', '--fingerprint', server.fingerprint, 'time'],
      config,
    );
    expect(right.code).toBe(0);
    expect(right.proc.lines).toEqual([expect.stringMatching(TIME)]);
    expect(right.proc.stderr).toBe('');

    const wrong = await runClientWith(
      ['-p', String(server.port), '--tls', '--fingerprint', `sha256:${'A'.repeat(43)}`, 'time'],
      config,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.proc.stdout).toBe('');
    expect(wrong.proc.stderr).toContain(`received ${server.fingerprint}`);
    // Pinning writes no known-servers file.
    expect(() => statSync(known)).toThrow();
    expect(() => statSync(join(config.XDG_CONFIG_HOME, 'rtt'))).toThrow();
  });

  it("--ca with the server's own self-signed certificate: Node's verification passes", async () => {
    const server = await tlsServer();
    const config = { XDG_CONFIG_HOME: tempDir('config') };
    // The certificate names 127.0.0.1 and localhost: both pass the hostname check.
    for (const host of ['127.0.0.1', 'localhost']) {
      const { code, proc } = await runClientWith(
        [host, '-p', String(server.port), '--tls', '--ca', server.certFile, 'date', '--json'],
        config,
      );
      expect(code).toBe(0);
      expect(JSON.parse(proc.lines[0] as string)).toMatchObject({ command: 'DATE', status: 'OK' });
    }
    // Another server's certificate as CA: refused by Node's verification, exit 1.
    const other = await tlsServer();
    const refused = await runClientWith(
      ['-p', String(server.port), '--tls', '--ca', other.certFile, 'time'],
      config,
    );
    expect(refused.code).toBe(1);
    expect(refused.proc.stdout).toBe('');
    // An unreadable CA file: one line, exit 1.
    const missing = await runClientWith(
      ['-p', String(server.port), '--tls', '--ca', join(server.stateDir, 'none.pem'), 'time'],
      config,
    );
    expect(missing.code).toBe(1);
    expect(missing.proc.stderr).toMatch(/^🛑 cannot read the CA file .*none\.pem: .*\n$/);
  });

  it('--keylog and SSLKEYLOGFILE: the TLS secrets in NSS key log format', async () => {
    const server = await tlsServer();
    const dir = tempDir('keylog');
    const env = { XDG_CONFIG_HOME: tempDir('config'), SSLKEYLOGFILE: join(dir, 'env.log') };
    const nss = /^[A-Z][A-Z0-9_]+ [0-9a-f]{64} [0-9a-f]+$/;
    const keylog = join(dir, 'keys.log');
    const flag = await runClientWith(
      ['-p', String(server.port), '--tls', '--keylog', keylog, 'ping'],
      env,
    );
    expect(flag.code).toBe(0);
    const lines = readFileSync(keylog, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(line).toMatch(nss);
    expect(lines.some((line) => line.startsWith('CLIENT_TRAFFIC_SECRET_0 '))).toBe(true);
    // --keylog wins over SSLKEYLOGFILE; without it, SSLKEYLOGFILE is honoured.
    expect(() => statSync(env.SSLKEYLOGFILE)).toThrow();
    const fromEnv = await runClientWith(['-p', String(server.port), '--tls', 'ping'], env);
    expect(fromEnv.code).toBe(0);
    expect(readFileSync(env.SSLKEYLOGFILE, 'utf8')).toMatch(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET /m);
  });

  it('refuses command-line mistakes with one line and exit 2', async () => {
    for (const args of [
      ['--tls', '--wire', 'seed', 'time'],
      ['--fingerprint', `sha256:${'A'.repeat(43)}`, 'time'],
      ['--tls', '--fingerprint', 'sha256:nope', 'time'],
      ['--tls', '--ca', 'ca.pem', '--fingerprint', `sha256:${'A'.repeat(43)}`],
    ]) {
      const { code, proc } = await runClient(args, '');
      expect(code).toBe(2);
      expect(proc.stdout).toBe('');
      expect(proc.stderr.split('\n')[0]).toMatch(/^rtt-client: /);
    }
  });
});
