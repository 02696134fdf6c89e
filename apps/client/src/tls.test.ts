import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type tls from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CertificateChangedError,
  CertificateMismatchError,
  UnreadableKnownServerError,
} from './errors.ts';
import {
  certificateNames,
  checkServerName,
  clientTlsOptions,
  type PeerSocket,
  pinnedFingerprint,
  trustOnFirstUse,
} from './tls.ts';

const socketWith = (raw: Buffer): PeerSocket => ({
  getPeerCertificate: () => ({ raw }) as tls.DetailedPeerCertificate,
});
const fingerprintOf = (raw: Buffer) =>
  `sha256:${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
const OLD = Buffer.from('old certificate');
const NEW = Buffer.from('new certificate');

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rtt-tls-'));
  file = join(dir, 'known_servers');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('trust on first use', () => {
  it('saves a new server with one notice, then accepts it silently', () => {
    const notices: string[] = [];
    const verify = trustOnFirstUse({
      host: '::1',
      port: 7777,
      file,
      notice: (l) => notices.push(l),
    });
    verify(socketWith(OLD));
    expect(notices).toEqual([
      `Trusting [::1]:7777 on first use: ${fingerprintOf(OLD)} (saved in ${file})`,
    ]);
    expect(readFileSync(file, 'utf8')).toContain(`[::1]:7777 ${fingerprintOf(OLD)}\n`);
    verify(socketWith(OLD));
    expect(notices).toHaveLength(1);
  });

  it('refuses a changed certificate with both fingerprints and the line', () => {
    writeFileSync(file, `# mine\n127.0.0.1:7777 ${fingerprintOf(OLD)}\n`);
    const verify = trustOnFirstUse({ host: '127.0.0.1', port: 7777, file, notice: () => {} });
    expect(() => verify(socketWith(NEW))).toThrow(CertificateChangedError);
    try {
      verify(socketWith(NEW));
    } catch (err) {
      expect(err).toMatchObject({
        code: 'RTT_ERR_CERTIFICATE_CHANGED',
        key: '127.0.0.1:7777',
        file,
        line: 2,
        expected: fingerprintOf(OLD),
        received: fingerprintOf(NEW),
      });
    }
  });

  it('goes on, saying so in words, when the file cannot be written', () => {
    const notices: string[] = [];
    writeFileSync(join(dir, 'plain'), '');
    const verify = trustOnFirstUse({
      host: 'h',
      port: 1,
      file: join(dir, 'plain', 'known_servers'),
      notice: (l) => notices.push(l),
    });
    verify(socketWith(OLD));
    expect(notices).toEqual([
      `Trusting h:1 for this connection only: ${fingerprintOf(OLD)} (cannot make the folder ${join(dir, 'plain')} of the known-servers file: a file is in the way)`,
    ]);
  });

  it("knows a server from OpenSSH's SHA256: spelling and a comment after the fingerprint", () => {
    const text = `127.0.0.1:7777 ${fingerprintOf(OLD).replace('sha256', 'SHA256')} trusted-2026\n`;
    writeFileSync(file, text);
    const notices: string[] = [];
    const verify = trustOnFirstUse({
      host: '127.0.0.1',
      port: 7777,
      file,
      notice: (l) => notices.push(l),
    });
    verify(socketWith(OLD));
    expect(notices).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(() => verify(socketWith(NEW))).toThrow(CertificateChangedError);
  });

  it("refuses, never trusts on first use, when the server's line cannot be read", () => {
    const text = `# mine\n127.0.0.1:7777 sha256:AAAA\n`;
    writeFileSync(file, text);
    const notices: string[] = [];
    const options = { host: '127.0.0.1', port: 7777, file, notice: (l: string) => notices.push(l) };
    const verify = trustOnFirstUse(options);
    expect(() => verify(socketWith(OLD))).toThrow(
      expect.objectContaining({
        code: 'RTT_ERR_KNOWN_SERVER_UNREADABLE',
        key: '127.0.0.1:7777',
        file,
        line: 2,
        text: 'sha256:AAAA',
      }),
    );
    expect(notices).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(text);
    // The message says where, and the way out: the file named when it is not the default one.
    expect(() => verify(socketWith(OLD))).toThrow(
      /^line 2 of \S+ names 127\.0\.0\.1:7777 with "sha256:AAAA"/,
    );
    expect(() => verify(socketWith(OLD))).toThrow(/rtt-client --forget 127\.0\.0\.1:7777$/);
    expect(() => trustOnFirstUse({ ...options, customFile: true })(socketWith(OLD))).toThrow(
      `rtt-client --forget 127.0.0.1:7777 --known-servers ${file}`,
    );
    writeFileSync(file, '127.0.0.1:7777\n');
    expect(() => verify(socketWith(OLD))).toThrow(UnreadableKnownServerError);
    expect(() => verify(socketWith(OLD))).toThrow(
      /names 127\.0\.0\.1:7777 with no fingerprint after it/,
    );
  });
});

describe('the TLS options', () => {
  it('pins with --fingerprint', () => {
    expect(() => pinnedFingerprint(fingerprintOf(OLD))(socketWith(OLD))).not.toThrow();
    expect(() => pinnedFingerprint(fingerprintOf(OLD))(socketWith(NEW))).toThrow(
      CertificateMismatchError,
    );
  });

  const base = {
    ip: '127.0.0.1',
    port: 7777,
    knownServersGiven: false,
    fingerprint: undefined,
    ca: undefined,
    keylog: undefined,
  };

  it('keeps Node verification with --ca, checks in verify otherwise', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(join(dir, 'ca.pem'), pem);
    const withCa = clientTlsOptions(
      { ...base, knownServers: file, ca: join(dir, 'ca.pem') },
      { notice: () => {} },
    );
    expect(withCa.tls).toEqual({ ca: Buffer.from(pem), checkServerIdentity: checkServerName });
    const tofu = clientTlsOptions({ ...base, knownServers: file }, { notice: () => {} });
    expect(tofu.tls).toMatchObject({ rejectUnauthorized: false, verify: expect.any(Function) });
    expect(() =>
      clientTlsOptions(
        { ...base, knownServers: file, ca: join(dir, 'none.pem') },
        { notice: () => {} },
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'RTT_ERR_CA',
        message: `cannot read the CA file ${join(dir, 'none.pem')}: no such file`,
      }),
    );
    expect(() =>
      clientTlsOptions({ ...base, knownServers: file, ca: dir }, { notice: () => {} }),
    ).toThrow(`cannot read the CA file ${dir}: it is a folder`);
    // Not PEM (a DER file, or the wrong file): said now, not as an untrusted server later.
    writeFileSync(join(dir, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    expect(() =>
      clientTlsOptions(
        { ...base, knownServers: file, ca: join(dir, 'passwd') },
        { notice: () => {} },
      ),
    ).toThrow(/holds no PEM certificate/);
    // OpenSSL's trusted form is a certificate too.
    writeFileSync(join(dir, 'trusted.pem'), pem.replaceAll('CERTIFICATE', 'TRUSTED CERTIFICATE'));
    expect(
      clientTlsOptions(
        { ...base, knownServers: file, ca: join(dir, 'trusted.pem') },
        { notice: () => {} },
      ).tls,
    ).toHaveProperty('ca');
  });

  it('appends key log lines to a 0600 file', () => {
    const keylog = join(dir, 'keys.log');
    const { tls: options, close } = clientTlsOptions(
      { ...base, knownServers: file, keylog },
      { notice: () => {} },
    );
    options.onKeylog?.(Buffer.from('CLIENT_HANDSHAKE_TRAFFIC_SECRET a b\n'));
    options.onKeylog?.(Buffer.from('SERVER_HANDSHAKE_TRAFFIC_SECRET a c\n'));
    close();
    expect(readFileSync(keylog, 'utf8')).toBe(
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET a b\nSERVER_HANDSHAKE_TRAFFIC_SECRET a c\n',
    );
    expect(statSync(keylog).mode & 0o777).toBe(0o600);
    expect(() =>
      clientTlsOptions(
        { ...base, knownServers: file, keylog: join(dir, 'no', 'k') },
        { notice: () => {} },
      ),
    ).toThrow(expect.objectContaining({ code: 'RTT_ERR_KEYLOG' }));
  });
});

describe("--ca's host name check", () => {
  const cert = (subjectaltname: string | undefined, CN?: string) =>
    ({ subjectaltname, subject: CN === undefined ? {} : { CN } }) as tls.PeerCertificate;

  it('reads the names Node checks: DNS and IP alternative names, and the CN', () => {
    expect(
      certificateNames(
        cert('DNS:example.org, URI:https://x, IP Address:10.0.0.5, DNS:"a, b"', 'cn.example'),
      ),
    ).toEqual({ dns: ['example.org', 'a, b'], ip: ['10.0.0.5'], cn: ['cn.example'] });
    expect(certificateNames(cert(undefined))).toEqual({ dns: [], ip: [], cn: [] });
    const twoCns = {
      subject: { CN: ['a.example', 'b.example'] },
    } as unknown as tls.PeerCertificate;
    expect(certificateNames(twoCns).cn).toEqual(['a.example', 'b.example']);
  });

  it('passes what Node passes', () => {
    expect(
      checkServerName('127.0.0.1', cert('DNS:localhost, IP Address:127.0.0.1')),
    ).toBeUndefined();
    expect(checkServerName('www.example.org', cert('DNS:*.example.org'))).toBeUndefined();
    expect(checkServerName('cn.example', cert(undefined, 'cn.example'))).toBeUndefined();
  });

  it.each([
    [
      '127.0.0.1',
      cert('DNS:example.org, DNS:www.example.org'),
      'it names example.org, www.example.org, and no IP address',
    ],
    ['127.0.0.1', cert('DNS:example.org, IP Address:10.0.0.5'), 'it names example.org, 10.0.0.5'],
    ['localhost', cert('DNS:example.org', 'localhost'), 'it names example.org'],
    ['127.0.0.1', cert(undefined, 'cn.example'), 'it names cn.example (its CN), and no IP address'],
    ['localhost', cert(undefined, 'cn.example'), 'it names cn.example (its CN)'],
    // Node reads the CN when there is no DNS name, IP names or not.
    [
      'h.example',
      cert('IP Address:10.0.0.5', 'cn.example'),
      'it names 10.0.0.5, cn.example (its CN)',
    ],
    ['localhost', cert(undefined), 'it names no host and no IP address'],
  ])(
    'says which names a certificate carries when %s is not one of them (%#)',
    (host, peer, names) => {
      const err = checkServerName(host, peer);
      expect(err).toMatchObject({
        code: 'RTT_ERR_CERTIFICATE_NAME',
        message: `the certificate is not for ${host}: ${names}`,
        cause: expect.objectContaining({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }),
      });
    },
  );
});
