import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killAll, runClient } from '../e2e/harness.ts';
import { readFields, stopAllCaptures, tlsServerCaptured } from './tshark.ts';

// Issue 11: the server's `--keylog` file is what Wireshark needs to read a TLS session. A real
// server and client talk over TLS on loopback while tshark captures; tshark then decrypts the
// capture with the key log, and only with it.

const MAGIC = Buffer.from('RTT'); // 0x52 0x54 0x54: both hellos of the framed protocol start so
const NSS = /^[A-Z][A-Z0-9_]+ [0-9a-f]{64} [0-9a-f]+$/;
const SECRETS = [
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rtt-e2e-capture-'));
});
afterEach(async () => {
  await stopAllCaptures();
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Each direction's application data as tshark shows it, concatenated in capture order. */
async function payloads(capture: string, port: number, options: string[]) {
  // `-d tls.port==PORT,data`: show what is inside TLS as plain data (otherwise a heuristic
  // dissector may claim some records, e.g. as RDP).
  const rows = await readFields(
    capture,
    ['tcp.srcport', 'tls.app_data', 'data.data'],
    ['-d', `tls.port==${port},data`, ...options],
  );
  const stream = (fromServer: boolean, field: 1 | 2) =>
    Buffer.concat(
      rows
        .filter(([src]) => (Number(src?.[0]) === port) === fromServer)
        .flatMap((row) => (row[field] ?? []).map((hex) => Buffer.from(hex, 'hex'))),
    );
  return {
    encrypted: { client: stream(false, 1), server: stream(true, 1) },
    decrypted: { client: stream(false, 2), server: stream(true, 2) },
  };
}

describe('a TLS session captured with tshark', () => {
  it("is decrypted with the server's --keylog file, and not without it", async () => {
    const keylog = join(dir, 'server-keys.log');
    const clientKeylog = join(dir, 'client-keys.log');
    const capture = join(dir, 'capture.pcapng');
    const { server, port, tshark } = await tlsServerCaptured(dir, keylog, capture);

    const { proc: client, code } = await runClient(
      [
        '-p',
        String(port),
        '--tls',
        '--known-servers',
        join(dir, 'known_servers'),
        '--keylog',
        clientKeylog,
        'time',
        '--json',
      ],
      '',
    );
    expect(code, client.stderr).toBe(0);
    const reply = JSON.parse(client.lines[0] as string) as { status: string; answer: string };
    expect(reply).toMatchObject({
      status: 'OK',
      answer: expect.stringMatching(/^\d{2}:\d{2}:\d{2}\.\d{6}$/),
    });
    // The session is over, and in the capture file up to both sides' FIN, before it stops.
    await server.waitFor(/Connection closed with the client with 127\.0\.0\.1 on port \d+/);
    await tshark.recorded('tcp.flags.fin == 1', 2);
    await tshark.stop();

    // The key log: NSS key log lines, the four TLS 1.3 traffic secrets of this one session.
    const lines = readFileSync(keylog, 'utf8').trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(NSS);
    const labels = lines.map((line) => line.split(' ')[0]);
    for (const secret of SECRETS) expect(labels).toContain(secret);
    expect(new Set(lines.map((line) => line.split(' ')[1])).size).toBe(1); // one client random
    // The client's own key log (--keylog) has the same secrets for the same session.
    const clientLines = readFileSync(clientKeylog, 'utf8').trimEnd().split('\n');
    for (const secret of SECRETS) {
      const line = (all: string[]) => all.find((entry) => entry.startsWith(`${secret} `));
      expect(line(clientLines)).toBe(line(lines));
    }

    const answer = Buffer.from(reply.answer);
    const withKeys = await payloads(capture, port, ['-o', `tls.keylog_file:${keylog}`]);
    // Encrypted records both ways, and with the key log their plaintext: our framed protocol.
    expect(withKeys.encrypted.client.length).toBeGreaterThan(0);
    expect(withKeys.encrypted.server.length).toBeGreaterThan(0);
    expect(withKeys.decrypted.client.subarray(0, 3)).toEqual(MAGIC); // ClientHello
    expect(withKeys.decrypted.server.subarray(0, 3)).toEqual(MAGIC); // ServerHello
    expect(withKeys.decrypted.server.includes(answer)).toBe(true); // the TIME answer printed

    // The control: the same capture without the key log. TLS 1.3 encrypts the end of the
    // handshake too, so tshark shows more encrypted records then, and reads none of them.
    const without = await payloads(capture, port, []);
    expect(without.encrypted.client.length).toBeGreaterThan(withKeys.encrypted.client.length);
    expect(without.encrypted.server.length).toBeGreaterThan(withKeys.encrypted.server.length);
    expect(without.decrypted.client).toHaveLength(0);
    expect(without.decrypted.server).toHaveLength(0);
    expect(without.encrypted.client.subarray(0, 3)).not.toEqual(MAGIC);
    expect(without.encrypted.server.subarray(0, 3)).not.toEqual(MAGIC);
    expect(readFileSync(capture).includes(answer)).toBe(false); // not in clear in the file
  });
});
