import { X509Certificate } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScriptInChild } from '@rtt/cli-support/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CERT_FILE,
  defaultStateDir,
  KEY_FILE,
  readCertificate,
  stateCertificate,
} from './certificate.ts';
import { CertificateError } from './errors.ts';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});
function temporaryFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'rtt-server-cert-'));
  folders.push(folder);
  return folder;
}

// Key generation and signing take some milliseconds each, more on a loaded machine.
describe('the server certificate', { timeout: 20_000 }, () => {
  it('is made on the first start, mode 0600 in a 0700 folder, and kept on the next', async () => {
    const stateDir = join(temporaryFolder(), 'state', 'rtt-server');
    const now = new Date('2026-01-02T03:04:05Z');
    const first = await stateCertificate({ stateDir, names: ['rtt.example', '192.0.2.7'], now });
    expect(first.origin).toBe('made');
    expect(first.certPath).toBe(join(stateDir, CERT_FILE));
    expect(first.fingerprint).toMatch(/^sha256:[A-Za-z0-9+/]{43}$/);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    for (const file of [CERT_FILE, KEY_FILE]) {
      expect(statSync(join(stateDir, file)).mode & 0o777).toBe(0o600);
    }
    // No temporary file is left beside them.
    expect(readdirSync(stateDir).sort()).toEqual([CERT_FILE, KEY_FILE]);

    const parsed = new X509Certificate(first.cert);
    expect(parsed.subject).toBe('CN=rtt-server');
    expect(parsed.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:rtt.example, IP Address:192.0.2.7',
    );
    expect(parsed.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(parsed.verify(parsed.publicKey)).toBe(true);
    expect(new Date(parsed.validFrom)).toEqual(new Date('2026-01-02T03:04:05Z'));
    expect(new Date(parsed.validTo)).toEqual(new Date('2036-01-02T03:04:05Z'));

    const second = await stateCertificate({ stateDir });
    expect(second).toMatchObject({
      origin: 'kept',
      fingerprint: first.fingerprint,
      cert: first.cert,
      key: first.key,
    });
    expect(second.validFrom).toEqual(now);
  });

  it('makes a new one, with a new serial, for another folder', async () => {
    const a = await stateCertificate({ stateDir: temporaryFolder() });
    const b = await stateCertificate({ stateDir: temporaryFolder() });
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(new X509Certificate(a.cert).serialNumber).not.toBe(
      new X509Certificate(b.cert).serialNumber,
    );
  });

  it('makes a certificate for a key left alone (a start that stopped half-way)', async () => {
    const stateDir = temporaryFolder();
    writeFileSync(join(stateDir, KEY_FILE), 'left over');
    await expect(stateCertificate({ stateDir, pairWaitMs: 0 })).rejects.toThrow(
      expect.objectContaining({
        code: 'RTT_ERR_STATE_DIR',
        message: expect.stringMatching(
          /key\.pem is there without its certificate cert\.pem.*remove it/,
        ),
      }),
    );
    // A key a crash left (written whole, as this writes it) gets its certificate, and is kept.
    const pair = await stateCertificate({ stateDir: temporaryFolder() });
    const leftover = temporaryFolder();
    writeFileSync(join(leftover, KEY_FILE), pair.key);
    const starts = await Promise.all(
      Array.from({ length: 3 }, () => stateCertificate({ stateDir: leftover, pairWaitMs: 0 })),
    );
    expect(readFileSync(join(leftover, KEY_FILE), 'utf8')).toBe(pair.key);
    for (const start of starts) {
      expect(start.key).toBe(pair.key);
      expect(start.fingerprint).toBe(starts[0]?.fingerprint);
    }
    expect(readdirSync(leftover).sort()).toEqual([CERT_FILE, KEY_FILE]);
  });

  it('refuses a certificate left without its key rather than replace it', async () => {
    const stateDir = temporaryFolder();
    const certPath = join(stateDir, CERT_FILE);
    writeFileSync(certPath, 'mine');
    await expect(stateCertificate({ stateDir })).rejects.toThrow(
      expect.objectContaining({
        code: 'RTT_ERR_STATE_DIR',
        message: `${certPath} is there without its key key.pem: put the key back, or remove cert.pem to have a new certificate made`,
      }),
    );
    expect(readFileSync(certPath, 'utf8')).toBe('mine');
  });

  it('gives servers started together on one folder the one pair that is on disk', async () => {
    const stateDir = join(temporaryFolder(), 'state');
    const starts = await Promise.all(
      Array.from({ length: 6 }, () => stateCertificate({ stateDir })),
    );
    const onDisk = readCertificate(join(stateDir, CERT_FILE), join(stateDir, KEY_FILE), 'kept');
    for (const start of starts) expect(start.fingerprint).toBe(onDisk.fingerprint);
    expect(starts.filter((start) => start.origin === 'made')).toHaveLength(1);
    expect(readdirSync(stateDir).sort()).toEqual([CERT_FILE, KEY_FILE]);
  });

  it('warns of a kept key others can read, and of a folder others can write', async () => {
    const stateDir = temporaryFolder();
    expect((await stateCertificate({ stateDir })).warning).toBeUndefined();
    const keyPath = join(stateDir, KEY_FILE);
    chmodSync(keyPath, 0o644);
    expect((await stateCertificate({ stateDir })).warning).toBe(
      `${keyPath} can be read by other users (mode 0644): whoever reads it can pass for this server; chmod 600 it`,
    );
    chmodSync(stateDir, 0o777);
    expect((await stateCertificate({ stateDir })).warning).toMatch(
      /mode 0644.*chmod 600 it; .*can be written by other users \(mode 0777\).*chmod 700 it$/,
    );
    chmodSync(keyPath, 0o600);
    expect((await stateCertificate({ stateDir })).warning).toMatch(
      /^[^;]*can be written by other users \(mode 0777\).*chmod 700 it$/,
    );
  });

  it('uses --cert and --key as given, and checks they belong together', async () => {
    const one = await stateCertificate({ stateDir: temporaryFolder() });
    const other = await stateCertificate({ stateDir: temporaryFolder() });
    const folder = temporaryFolder();
    const cert = join(folder, 'server.crt');
    const key = join(folder, 'server.key');
    writeFileSync(cert, one.cert);
    writeFileSync(key, one.key);
    expect(readCertificate(cert, key, 'given')).toMatchObject({
      origin: 'given',
      certPath: cert,
      fingerprint: one.fingerprint,
    });

    writeFileSync(key, other.key);
    expect(() => readCertificate(cert, key, 'given')).toThrow(
      new CertificateError(`${key} is not the private key of ${cert}`),
    );
    expect(() => readCertificate(join(folder, 'missing.crt'), key, 'given')).toThrow(
      /cannot read the certificate .*missing\.crt: no such file/,
    );
    writeFileSync(cert, 'not a certificate');
    expect(() => readCertificate(cert, key, 'given')).toThrow(CertificateError);
  });

  it('refuses a chain with a damaged certificate after the first (OpenSSL would, on every connection)', async () => {
    const one = await stateCertificate({ stateDir: temporaryFolder() });
    const other = await stateCertificate({ stateDir: temporaryFolder() });
    const folder = temporaryFolder();
    const cert = join(folder, 'chain.pem');
    const key = join(folder, 'server.key');
    writeFileSync(key, one.key);
    const chain = `${one.cert}${other.cert}`;
    writeFileSync(cert, chain);
    expect(readCertificate(cert, key, 'given').fingerprint).toBe(one.fingerprint);
    // OpenSSL's other label for a certificate (`openssl x509 -trustout`), and CRLF lines.
    writeFileSync(
      cert,
      chain.replaceAll('CERTIFICATE-----', 'TRUSTED CERTIFICATE-----').replaceAll('\n', '\r\n'),
    );
    expect(readCertificate(cert, key, 'given').fingerprint).toBe(one.fingerprint);

    writeFileSync(cert, chain.slice(0, -100));
    expect(() => readCertificate(cert, key, 'given')).toThrow(
      new CertificateError(
        `${cert}: certificate 2 of its chain is cut short (no END CERTIFICATE line)`,
      ),
    );
    const middle = one.cert.length + 100;
    writeFileSync(cert, `${chain.slice(0, middle)}@@@@${chain.slice(middle + 4)}`);
    expect(() => readCertificate(cert, key, 'given')).toThrow(
      new CertificateError(`${cert}: certificate 2 of its chain of 2 is damaged`),
    );
  });

  it('refuses a state folder whose files are not a certificate', async () => {
    const stateDir = temporaryFolder();
    writeFileSync(join(stateDir, CERT_FILE), 'garbage');
    writeFileSync(join(stateDir, KEY_FILE), 'garbage');
    await expect(stateCertificate({ stateDir })).rejects.toMatchObject({
      code: 'RTT_ERR_CERTIFICATE',
    });
  });
});

describe('a state folder that cannot be made', () => {
  it('is refused with the reason: a file in the way', async () => {
    const file = join(temporaryFolder(), 'file');
    writeFileSync(file, '');
    await expect(stateCertificate({ stateDir: join(file, 'rtt') })).rejects.toThrow(
      expect.objectContaining({
        code: 'RTT_ERR_STATE_DIR',
        message: expect.stringMatching(
          /^cannot create the state directory .*: a file is in the way$/,
        ),
      }),
    );
  });

  // In a child with a time limit: Node's recursive mkdir spins for ever on this path (the
  // server hung) and would block this thread past any test timeout.
  it.runIf(existsSync('/proc/self'))('is refused at once under /proc', () => {
    const module = JSON.stringify(new URL('./certificate.ts', import.meta.url).href);
    const script = `import { stateCertificate } from ${module};
      await stateCertificate({ stateDir: '/proc/rtt-none/state' }).catch((err) => console.log(err.code));`;
    expect(runScriptInChild(script, 20_000)).toBe('RTT_ERR_STATE_DIR');
  });
});

describe('defaultStateDir', () => {
  it('follows XDG_STATE_HOME, else ~/.local/state', () => {
    expect(defaultStateDir({ XDG_STATE_HOME: '/srv/state' }, '/home/ann')).toBe(
      '/srv/state/rtt-server',
    );
    expect(defaultStateDir({}, '/home/ann')).toBe('/home/ann/.local/state/rtt-server');
    // A relative XDG_STATE_HOME is invalid by the specification, and ignored.
    expect(defaultStateDir({ XDG_STATE_HOME: 'state' }, '/home/ann')).toBe(
      '/home/ann/.local/state/rtt-server',
    );
  });
});
