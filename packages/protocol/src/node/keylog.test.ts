import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAppending, openKeylog } from './keylog.ts';

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
  it.runIf(process.platform === 'linux')(
    'refuses a FIFO nobody reads at once, and writes to one that is read',
    async () => {
      const folder = mkdtempSync(join(tmpdir(), 'rtt-keylog-'));
      folders.push(folder);
      const fifo = join(folder, 'keys.fifo');
      execFileSync('mkfifo', [fifo]);
      expect(() => openKeylog(fifo)).toThrow(expect.objectContaining({ code: 'ENXIO' }));

      const reader = spawn('cat', [fifo]);
      let read = '';
      reader.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        read += chunk;
      });
      // The reader opens the pipe once it runs: until then the open says ENXIO.
      let fd: number | undefined;
      while (fd === undefined) {
        try {
          fd = openAppending(fifo, 0o600);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
      writeSync(fd, 'CLIENT_RANDOM aa bb\n');
      closeSync(fd);
      await once(reader, 'close');
      expect(read).toBe('CLIENT_RANDOM aa bb\n');
    },
  );
});
