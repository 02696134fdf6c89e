/**
 * The client's own failures, each with a `code` for `--json` as the protocol's errors have.
 */

/**
 * The server's certificate is not the one in the known-servers file: someone may be in the
 * middle, or the server got a new certificate. Thrown from the TLS `verify` hook, so nothing
 * of ours was sent.
 *
 * @example
 * throw new CertificateChangedError({ key: '127.0.0.1:7777', file, line: 2, expected, received });
 */
export class CertificateChangedError extends Error {
  readonly code = 'RTT_ERR_CERTIFICATE_CHANGED' as const;
  readonly key: string;
  readonly file: string;
  readonly line: number;
  readonly expected: string;
  readonly received: string;

  constructor(details: {
    key: string;
    file: string;
    line: number;
    expected: string;
    received: string;
  }) {
    super(
      `the certificate of ${details.key} has changed: expected ${details.expected} (${details.file}, line ${details.line}), received ${details.received}`,
    );
    this.name = 'CertificateChangedError';
    this.key = details.key;
    this.file = details.file;
    this.line = details.line;
    this.expected = details.expected;
    this.received = details.received;
  }
}

/**
 * The server's certificate is not the one pinned with `--fingerprint`.
 *
 * @example
 * throw new CertificateMismatchError('sha256:A...', 'sha256:B...');
 */
export class CertificateMismatchError extends Error {
  readonly code = 'RTT_ERR_CERTIFICATE_MISMATCH' as const;

  constructor(expected: string, received: string) {
    super(
      `the server's certificate is not the pinned one: expected ${expected}, received ${received}`,
    );
    this.name = 'CertificateMismatchError';
  }
}

/**
 * A file the client was told to use (`--ca`, `--keylog`, the known-servers file) cannot be
 * read or written, or holds nothing usable.
 *
 * @example
 * throw new ClientFileError('RTT_ERR_CA', 'cannot read the CA file ca.pem: no such file');
 */
export class ClientFileError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClientFileError';
    this.code = code;
  }
}
