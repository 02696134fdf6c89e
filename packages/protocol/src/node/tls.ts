/// <reference types="node" />
import { createHash } from 'node:crypto';

/**
 * The fingerprint of a certificate, as the server logs it and a client remembers it:
 * `sha256:` and the SHA-256 digest of the DER bytes in base64 without padding, the form of
 * OpenSSH's `SHA256:...` fingerprints. Both apps use this one function, so that they agree.
 * @throws {TypeError} when `der` is not bytes
 * @example
 * import { certificateFingerprint } from '@rtt/protocol/node';
 *
 * certificateFingerprint(new Uint8Array(0)); // 'sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU'
 * certificateFingerprint(tlsSocket.getPeerCertificate().raw); // the server's certificate
 */
export function certificateFingerprint(der: Uint8Array): string {
  if (!(der instanceof Uint8Array)) {
    throw new TypeError('der must be a Uint8Array (the DER bytes of a certificate)');
  }
  return `sha256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

/**
 * What a log line wants from a TLS error: OpenSSL's message is
 * `<hex>:error:0A000102:SSL routines:<function>:<reason>:<file>:<line>`, Node's own are
 * readable as they are.
 * @internal
 */
export function tlsReason(err: Error & { code?: string | undefined }): string {
  const match = /:SSL routines:[^:]*:([^:]+):/.exec(err.message);
  // Node adds advice on its own system CA store to certificate errors; a user of our apps
  // trusts with --ca, --fingerprint or on first use, and that advice would mislead.
  return match?.[1] ?? (err.message.replace(SYSTEM_CA_ADVICE, '') || err.code) ?? 'unknown error';
}

const SYSTEM_CA_ADVICE =
  /; if the root CA is installed locally, try running Node\.js with --use-system-ca$/;
