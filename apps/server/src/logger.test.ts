import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
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

describe('createLog under load', () => {
  /** A stream that takes lines until told it is full, as a pipe nobody reads. */
  function sink() {
    const lines: string[] = [];
    let full = false;
    const pending: (() => void)[] = [];
    const stream = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString().trimEnd());
        if (full) pending.push(callback);
        else callback();
      },
    });
    return {
      stream,
      lines,
      stall: () => {
        full = true;
      },
      drain: () => {
        full = false;
        for (const callback of pending.splice(0)) callback();
      },
    };
  }

  function clock() {
    let now = 0;
    const timers: { at: number; callback: () => void }[] = [];
    return {
      now: () => now,
      setTimeout: (callback: () => void, ms: number) => timers.push({ at: now + ms, callback }),
      clearTimeout: () => {},
      advance(ms: number) {
        now += ms;
        for (const timer of timers.splice(0)) {
          if (timer.at <= now) timer.callback();
          else timers.push(timer);
        }
      },
    };
  }

  it('writes per-connection lines up to the budget, then one summary a second at their level', () => {
    const out = sink();
    const time = clock();
    const log = createLog({ stream: out.stream, perSecond: 2, clock: time });
    for (let i = 0; i < 5; i += 1) log.event('info', 'connections opened', () => `open ${i}`);
    for (let i = 0; i < 3; i += 1) log.event('warning', 'connections closed', () => `closed ${i}`);
    time.advance(1_000);
    expect(out.lines).toEqual([
      '💡 open 0',
      '💡 open 1',
      '⚠️  closed 0',
      '⚠️  closed 1',
      '⚠️  3 more connections opened, 1 more connections closed in the last second',
    ]);
  });

  it('builds no line for a level it does not log, and counts none', () => {
    const out = sink();
    const time = clock();
    const log = createLog({ stream: out.stream, level: 'warning', perSecond: 1, clock: time });
    let built = 0;
    for (let i = 0; i < 10; i += 1) {
      log.event('info', 'connections opened', () => {
        built += 1;
        return 'open';
      });
    }
    time.advance(1_000);
    expect(built).toBe(0);
    expect(out.lines).toEqual([]);
  });

  it('drops lines while the output does not drain, and says how many once it does', async () => {
    const out = sink();
    const log = createLog({ stream: out.stream, maxBuffered: 100 });
    out.stall();
    for (let i = 0; i < 50; i += 1) log.warning(`line ${i} ${'x'.repeat(20)}`);
    // Only what fits in the bound waits; the rest are dropped, not buffered.
    expect(out.stream.writableLength).toBeLessThan(200);
    out.drain();
    await new Promise((resolve) => setImmediate(resolve));
    const written = out.lines.length - 1;
    expect(written).toBeLessThan(10);
    expect(out.lines.at(-1)).toBe(
      `⚠️  ${50 - written} log lines dropped: the log output was not being read`,
    );
  });
});
