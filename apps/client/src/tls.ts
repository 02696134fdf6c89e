import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { fileErrorReason } from '@rtt/cli-support';
import { type ConnectTlsOptions, certificateFingerprint, openKeylog } from '@rtt/protocol/node';
import type { ClientOptions } from './cli.ts';
import {
  CertificateChangedError,
  CertificateMismatchError,
  CertificateNameError,
  ClientFileError,
  UnreadableKnownServerError,
} from './errors.ts';
import { checkKnownServer, rememberServer, serverKey } from './known-servers.ts';

// The PEM labels OpenSSL reads a CA certificate from (`openssl x509 -trustout` writes TRUSTED).
const PEM_CERTIFICATE = /-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----/;

/** What the TLS checks need of a connected socket: its peer's certificate. */
export type PeerSocket = Pick<tls.TLSSocket, 'getPeerCertificate'>;

/**
 * The `sha256:...` fingerprint of the server's certificate on `socket`.
 *
 * @example
 * peerFingerprint(socket); // 'sha256:q5b0...'
 */
export function peerFingerprint(socket: PeerSocket): string {
  const { raw } = socket.getPeerCertificate();
  // An anonymous TLS server would have none; TLS 1.3 with Node's defaults always has one.
  if (raw === undefined || raw.length === 0) {
    throw new CertificateMismatchError('a certificate', 'none');
  }
  return certificateFingerprint(raw);
}

/**
 * The `verify` hook of trust on first use: a server not in `file` is added to it, with one
 * line on `notice`; a known one must show the same certificate, else
 * {@link CertificateChangedError}, thrown before anything of ours is sent; a line for it that
 * cannot be read is {@link UnreadableKnownServerError}, never a first use.
 *
 * @example
 * const verify = trustOnFirstUse({ host: '127.0.0.1', port: 7777, file, notice: (line) => process.stderr.write(`${line}\n`) });
 */
export function trustOnFirstUse(options: {
  host: string;
  port: number;
  file: string;
  /** Whether `file` came from `--known-servers`, so that a `--forget` command must name it. */
  customFile?: boolean;
  notice: (line: string) => void;
}): (socket: PeerSocket) => void {
  const { file, notice } = options;
  const key = serverKey(options.host, options.port);
  return (socket) => {
    const received = peerFingerprint(socket);
    const found = checkKnownServer(file, key, received);
    if (found.kind === 'match') return;
    if (found.kind === 'unreadable') {
      throw new UnreadableKnownServerError({
        key,
        file,
        line: found.line,
        text: found.text,
        customFile: options.customFile === true,
      });
    }
    if (found.kind === 'changed') {
      throw new CertificateChangedError({
        key,
        file,
        line: found.line,
        expected: found.expected,
        received,
      });
    }
    try {
      rememberServer(file, key, received);
      notice(`Trusting ${key} on first use: ${received} (saved in ${file})`);
    } catch (err) {
      // As SSH does when it cannot write known_hosts: go on, but say this trust is not kept.
      notice(`Trusting ${key} for this connection only: ${received} (${(err as Error).message})`);
    }
  };
}

/**
 * The `verify` hook of `--fingerprint`: only that certificate is accepted.
 *
 * @example
 * const verify = pinnedFingerprint('sha256:q5b0...');
 */
export function pinnedFingerprint(expected: string): (socket: PeerSocket) => void {
  return (socket) => {
    const received = peerFingerprint(socket);
    if (received !== expected) throw new CertificateMismatchError(expected, received);
  };
}

// One `DNS:name` or `IP Address:addr` of Node's `subjectaltname` text; a value with a comma
// in it comes quoted, as JSON.
const ALT_NAME = /(?:^|, )(DNS|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)/g;

/**
 * The names a certificate answers to, as Node's host check reads them: its subject
 * alternative names of kind DNS and IP address, and its subject's CN (or CNs).
 *
 * @example
 * certificateNames({ subjectaltname: 'DNS:example.org, IP Address:10.0.0.5', subject: { CN: 'x' } });
 * // { dns: ['example.org'], ip: ['10.0.0.5'], cn: ['x'] }
 */
export function certificateNames(cert: Pick<tls.PeerCertificate, 'subjectaltname' | 'subject'>): {
  dns: string[];
  ip: string[];
  cn: string[];
} {
  const dns: string[] = [];
  const ip: string[] = [];
  for (const [, kind, value = ''] of (cert.subjectaltname ?? '').matchAll(ALT_NAME)) {
    const name = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    (kind === 'DNS' ? dns : ip).push(name);
  }
  // A subject with several CNs comes as an array.
  const cn: unknown = cert.subject?.CN;
  const cns = (Array.isArray(cn) ? cn : [cn]).filter(
    (name): name is string => typeof name === 'string' && name.length > 0,
  );
  return { dns, ip, cn: cns };
}

/**
 * The `checkServerIdentity` of `--ca`: Node's own check, with a message that says which names
 * the certificate does carry. Node's says only what it missed, and for an address and a
 * certificate without IP names, ends in an empty list (`...is not in the cert's list: `).
 *
 * @example
 * checkServerName('127.0.0.1', cert)?.message;
 * // 'the certificate is not for 127.0.0.1: it names example.org, and no IP address'
 */
export function checkServerName(host: string, cert: tls.PeerCertificate): Error | undefined {
  const err = tls.checkServerIdentity(host, cert);
  if (err === undefined) return undefined;
  const { dns, ip, cn } = certificateNames(cert);
  // Node reads the CN only when there is no DNS name: listed otherwise, it would mislead.
  const names = [...dns, ...ip, ...(dns.length === 0 ? cn.map((name) => `${name} (its CN)`) : [])];
  const what =
    names.length === 0
      ? 'it names no host and no IP address'
      : `it names ${names.join(', ')}${isIP(host) !== 0 && ip.length === 0 ? ', and no IP address' : ''}`;
  return new CertificateNameError(`the certificate is not for ${host}: ${what}`, { cause: err });
}

/** Options of {@link clientTlsOptions}. */
export interface ClientTlsIo {
  /** Where the one-line notices go (stderr, so that `--json` output stays clean). */
  notice: (line: string) => void;
}

/**
 * The `tls` option of `connect` for the command line's choices: `--ca` keeps Node's own
 * verification (chain and hostname); `--fingerprint` and trust on first use accept a
 * self-signed certificate and check it in `verify` instead. With a key log file, the file is
 * opened here (0600: it holds secrets) and `close` closes it.
 * @throws {ClientFileError} the CA file cannot be read or holds no PEM certificate
 *   (`RTT_ERR_CA`), or the key log file cannot be opened (`RTT_ERR_KEYLOG`)
 *
 * @example
 * const { tls, close } = clientTlsOptions(options, { notice });
 * const client = await connect({ host, port, tls });
 */
export function clientTlsOptions(
  options: Pick<
    ClientOptions,
    'ip' | 'port' | 'knownServers' | 'knownServersGiven' | 'fingerprint' | 'ca' | 'keylog'
  >,
  io: ClientTlsIo,
): { tls: ConnectTlsOptions; close: () => void } {
  let tlsOptions: ConnectTlsOptions;
  if (options.ca !== undefined) {
    let ca: Buffer;
    try {
      ca = readFileSync(options.ca);
    } catch (err) {
      throw new ClientFileError(
        'RTT_ERR_CA',
        `cannot read the CA file ${options.ca}: ${fileErrorReason(err, 'reading')}`,
        { cause: err },
      );
    }
    // Node takes CA certificates in PEM only and passes over anything else in silence: a wrong
    // file would then fail later as an untrusted certificate, with no word of the file.
    if (!PEM_CERTIFICATE.test(ca.toString('latin1'))) {
      throw new ClientFileError(
        'RTT_ERR_CA',
        `the CA file ${options.ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      );
    }
    tlsOptions = { ca, checkServerIdentity: checkServerName };
  } else if (options.fingerprint !== undefined) {
    tlsOptions = { rejectUnauthorized: false, verify: pinnedFingerprint(options.fingerprint) };
  } else {
    const verify = trustOnFirstUse({
      host: options.ip,
      port: options.port,
      file: options.knownServers,
      customFile: options.knownServersGiven,
      notice: io.notice,
    });
    tlsOptions = { rejectUnauthorized: false, verify };
  }
  if (options.keylog === undefined) return { tls: tlsOptions, close: () => {} };
  let onKeylog: ReturnType<typeof openKeylog>;
  try {
    onKeylog = openKeylog(options.keylog);
  } catch (err) {
    throw new ClientFileError(
      'RTT_ERR_KEYLOG',
      `cannot open the key log file ${options.keylog}: ${fileErrorReason(err, 'writing')}`,
      { cause: err },
    );
  }
  return { tls: { ...tlsOptions, onKeylog }, close: () => onKeylog.close() };
}
