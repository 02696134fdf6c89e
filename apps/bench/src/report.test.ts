import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type BenchReport, formatCsv, formatJson, formatText, ProgressLine } from './report.ts';

const report: BenchReport = {
  command: 'PING',
  wire: 'framed',
  pipeline: 1,
  threads: 1,
  connections: 50,
  requests: 100_000,
  seconds: 1.25,
  rps: 80_000,
  errors: 0,
  latency: { avg: 0.6, min: 0.05, p50: 0.55, p95: 0.9, p99: 1.3, max: 4.4 },
  failures: {},
  interrupted: false,
};

describe('formatJson', () => {
  it('prints one line with the agreed fields first', () => {
    const line = formatJson(report);
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line);
    expect(Object.keys(parsed).slice(0, 6)).toEqual([
      'requests',
      'connections',
      'seconds',
      'rps',
      'errors',
      'latency_ms',
    ]);
    expect(parsed.latency_ms).toEqual(report.latency);
    expect(parsed.interrupted).toBeUndefined();
  });

  it('adds the hold figures, failures and interruption when there are some', () => {
    const parsed = JSON.parse(
      formatJson({
        ...report,
        errors: 2,
        failures: { ECONNRESET: 2 },
        interrupted: true,
        hold: { count: 10, held: 9, answered: 8, connectSeconds: 0.5 },
      }),
    );
    expect(parsed).toMatchObject({
      hold: 10,
      held: 9,
      answered: 8,
      connect_seconds: 0.5,
      failures: { ECONNRESET: 2 },
      interrupted: true,
    });
  });
});

describe('formatCsv', () => {
  it('prints redis-benchmark columns, then ours', () => {
    const [header, row, end] = formatCsv(report).split('\n');
    expect(header).toMatch(/^"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms"/);
    expect(row).toMatch(
      /^"PING","80000.00","0.600","0.050","0.550","0.900","1.300","4.400","100000","50","0"/,
    );
    expect(end).toBe('');
  });
});

describe('formatText', () => {
  it('lays out throughput and a latency table like redis-benchmark', () => {
    const text = formatText(report);
    expect(text).toContain('====== PING ======');
    expect(text).toContain('100000 requests completed in 1.25 seconds');
    expect(text).toContain('50 parallel clients');
    expect(text).toContain('throughput summary: 80000.00 requests per second');
    expect(text).toMatch(/avg\s+min\s+p50\s+p95\s+p99\s+max/);
    expect(text).toMatch(/0\.600\s+0\.050\s+0\.550\s+0\.900\s+1\.300\s+4\.400/);
    expect(text).not.toContain('errors');
  });

  it('says how many connections were held and answered', () => {
    const text = formatText({
      ...report,
      errors: 1,
      failures: { RTT_ERR_TIMEOUT: 1 },
      hold: { count: 10, held: 10, answered: 9, connectSeconds: 0.2 },
    });
    expect(text).toContain('HOLD 10');
    expect(text).toContain('10 of 10 connections held open at once');
    expect(text).toContain('9 of 10 answered');
    expect(text).toContain('errors: 1 (RTT_ERR_TIMEOUT 1)');
  });
});

describe('ProgressLine', () => {
  it('shows the rate since the last update and overall', () => {
    let written = '';
    const out = new Writable({
      write(chunk, _encoding, done) {
        written += String(chunk);
        done();
      },
    });
    const line = new ProgressLine('PING', out);
    expect(line.update({ completed: 1000, latencySumMs: 500, elapsedMs: 100 })).toBe(
      'PING: rps=10000.0 (overall: 10000.0) avg_msec=0.500 (overall: 0.500)',
    );
    expect(line.update({ completed: 1500, latencySumMs: 1000, elapsedMs: 200 })).toBe(
      'PING: rps=5000.0 (overall: 7500.0) avg_msec=1.000 (overall: 0.667)',
    );
    line.clear();
    expect(written.endsWith('\r\x1b[K')).toBe(true);
  });
});

describe('--tls and --handshakes in the report', () => {
  const handshakes: BenchReport = {
    ...report,
    tls: true,
    handshakes: true,
    requests: 3000,
    rps: 1000,
  };

  it('marks them in the JSON line, and leaves them out of a plain run', () => {
    expect(JSON.parse(formatJson(handshakes))).toMatchObject({
      tls: true,
      handshakes: true,
      rps: 1000,
    });
    const plain = JSON.parse(formatJson(report));
    expect(plain.tls).toBeUndefined();
    expect(plain.handshakes).toBeUndefined();
  });

  it('names the test in the CSV', () => {
    expect(formatCsv(handshakes).split('\n')[1]).toMatch(/^"HANDSHAKES TLS PING","1000.00"/);
    expect(formatCsv({ ...report, tls: true }).split('\n')[1]).toMatch(/^"TLS PING"/);
    expect(
      formatCsv({
        ...report,
        tls: true,
        hold: { count: 5, held: 5, answered: 5, connectSeconds: 0.1 },
      }).split('\n')[1],
    ).toMatch(/^"HOLD 5 TLS PING"/);
  });

  it('counts handshakes, not requests, in the text', () => {
    const text = formatText(handshakes);
    expect(text).toContain('====== HANDSHAKES (TLS) ======');
    expect(text).toContain('3000 handshakes completed in 1.25 seconds');
    expect(text).toContain(
      'framed protocol in TLS 1.3; each: connect, agree keys, one PING, close',
    );
    expect(text).toContain('throughput summary: 1000.00 handshakes per second');
    expect(text).toContain('connect to keys agreed');
    expect(formatText({ ...report, tls: true })).toContain(
      'framed protocol in TLS 1.3, pipeline 1',
    );
  });
});
