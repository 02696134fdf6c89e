import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAppending } from './append.ts';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});
function temporaryFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'rtt-append-'));
  folders.push(folder);
  return folder;
}

describe('openAppending', () => {
  it('appends to a file it creates with the mode asked', () => {
    const path = join(temporaryFolder(), 'log');
    for (const line of ['one\n', 'two\n']) {
      const fd = openAppending(path, 0o600);
      writeSync(fd, line);
      closeSync(fd);
    }
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  // A plain open of a FIFO for writing waits for a reader, and the program with it.
  it.runIf(process.platform === 'linux')(
    'refuses a FIFO nobody reads at once, and writes to one that is read',
    async () => {
      const fifo = join(temporaryFolder(), 'pipe');
      execFileSync('mkfifo', [fifo]);
      expect(() => openAppending(fifo, 0o600)).toThrow(expect.objectContaining({ code: 'ENXIO' }));

      const reader = spawn('cat', [fifo]);
      let read = '';
      reader.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        read += chunk;
      });
      // The reader opens the pipe when it runs: until then a non-blocking open says ENXIO.
      let fd: number | undefined;
      while (fd === undefined) {
        try {
          fd = openAppending(fifo, 0o600);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
      writeSync(fd, 'line\n');
      closeSync(fd);
      await once(reader, 'close');
      expect(read).toBe('line\n');
    },
  );
});
