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
 * A line of the known-servers file names the server but its fingerprint cannot be read (a
 * typo, a truncated copy, another hash). Refused, as a changed certificate is: taking the
 * server for a new one would trust whatever certificate it shows. Thrown from the TLS
 * `verify` hook, so nothing of ours was sent.
 *
 * @example
 * throw new UnreadableKnownServerError({ key: '127.0.0.1:7777', file, line: 2, text: 'sha256:AAAA' });
 */
export class UnreadableKnownServerError extends Error {
  readonly code = 'RTT_ERR_KNOWN_SERVER_UNREADABLE' as const;
  readonly key: string;
  readonly file: string;
  readonly line: number;
  /** What the line has where the fingerprint goes (`''` for nothing). */
  readonly text: string;

  constructor(details: {
    key: string;
    file: string;
    line: number;
    text: string;
    /** Whether `file` is not the default one, so the `--forget` command must name it. */
    customFile?: boolean;
  }) {
    const { key, file, line, text } = details;
    const what =
      text.length === 0
        ? 'no fingerprint after it'
        : `"${text}" where its fingerprint goes (expected sha256: and 43 base64 characters)`;
    const which = details.customFile === true ? ` --known-servers ${file}` : '';
    super(
      `line ${line} of ${file} names ${key} with ${what}; refused, nothing was sent. Correct the line, or remove it: rtt-client --forget ${key}${which}`,
    );
    this.name = 'UnreadableKnownServerError';
    this.key = key;
    this.file = file;
    this.line = line;
    this.text = text;
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
 * With `--ca`: the server's certificate is trusted but names another host than the one the
 * client was given (`cause` has Node's own error, and its `cert`).
 *
 * @example
 * throw new CertificateNameError('the certificate is not for 127.0.0.1: it names example.org', { cause });
 */
export class CertificateNameError extends Error {
  readonly code = 'RTT_ERR_CERTIFICATE_NAME' as const;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CertificateNameError';
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
