import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openKeylog } from './keylog.ts';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('openKeylog', () => {
  it('appends whole lines to a file only its owner may read, from every opener', () => {
    const folder = mkdtempSync(join(tmpdir(), 'rtt-keylog-'));
    folders.push(folder);
    const path = join(folder, 'keys.log');
    const one = openKeylog(path);
    const two = openKeylog(path);
    one(Buffer.from('CLIENT_HANDSHAKE_TRAFFIC_SECRET aa bb\n'));
    two(Buffer.from('SERVER_TRAFFIC_SECRET_0 aa cc'));
    one(Buffer.from('EXPORTER_SECRET aa dd\n'));
    one.close();
    two.close();
    expect(readFileSync(path, 'utf8')).toBe(
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET aa bb\nSERVER_TRAFFIC_SECRET_0 aa cc\nEXPORTER_SECRET aa dd\n',
    );
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(() => openKeylog(join(folder, 'missing', 'keys.log'))).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });

  // A plain open of a FIFO for writing waits for a reader, and the program with it.
  it.runIf(process.platform !== 'win32')('fails at once on a FIFO nobody reads', () => {
    const folder = mkdtempSync(join(tmpdir(), 'rtt-keylog-'));
    folders.push(folder);
    const fifo = join(folder, 'keys.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => openKeylog(fifo)).toThrow(expect.objectContaining({ code: 'ENXIO' }));
  });
});
