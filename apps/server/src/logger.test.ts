import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLog, openLogFile } from './logger.ts';

describe('createLog with a file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtt-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends seed-style lines, each written before log() returns', () => {
    const file = join(dir, 'server.log');
    createLog({ file }).success('Listening on 0.0.0.0 port 7777...');
    // A second logger on the same file, as a pool thread has: appended, not overwritten.
    createLog({ file }).warning('Server closing...');
    expect(readFileSync(file, 'utf8')).toBe(
      '✅ Listening on 0.0.0.0 port 7777...\n⚠️  Server closing...\n',
    );
  });

  it('starts text lines with an ISO 8601 time when asked', () => {
    const file = join(dir, 'server.log');
    createLog({ file, timestamps: true }).info('Connection open');
    expect(readFileSync(file, 'utf8')).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z 💡 Connection open\n$/,
    );
  });

  it('writes JSON lines with a timestamp', () => {
    const file = join(dir, 'server.log');
    createLog({ file, format: 'json', level: 'debug' }).debug('Session', { requests: 3 });
    const line = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'debug', message: 'Session', requests: 3 });
    expect(new Date(String(line.timestamp)).getTime()).not.toBeNaN();
  });

  it('throws the fs error for a file it cannot open', () => {
    expect(() => openLogFile(join(dir, 'missing', 'server.log'))).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });
});
