import { UsageError } from '@rtt/cli-support';
import { describe, expect, it } from 'vitest';
import {
  bytesPerConnection,
  medians,
  parseCompareTlsArgs,
  progressLine,
  renderTlsTables,
  roundRatios,
  type TlsHold,
  type TlsRun,
  targetsInRound,
} from './compare-tls-report.ts';

const latency = (p50: number, p99: number) => ({ avg: p50, min: 0, p50, p95: p99, p99, max: p99 });

const run = (
  caseId: string,
  target: TlsRun['target'],
  round: number,
  rate: number,
  p50 = 1,
): TlsRun => ({
  case: caseId,
  target,
  round,
  rate,
  errors: 0,
  latency_ms: latency(p50, p50 * 3),
  server_cpu_us: 10,
});

const hold = (target: TlsHold['target'], before: number | null, held: number | null): TlsHold => ({
  target,
  count: 1000,
  held: 1000,
  answered: 1000,
  rss_before_bytes: before,
  rss_held_bytes: held,
});

describe('parseCompareTlsArgs', () => {
  it('has short defaults and reads a subset of cases', async () => {
    const defaults = await parseCompareTlsArgs([]);
    expect(defaults).toMatchObject({ rounds: 3, durationS: 3, hold: 2000 });
    expect(defaults?.cases.map((c) => c.id)).toEqual(['hs', 'hs-tcp', 'c1', 'c50']);
    const some = await parseCompareTlsArgs([
      '--cases',
      'c50,hs',
      '--hold',
      '0',
      '--duration',
      '0.5',
    ]);
    expect(some?.cases.map((c) => c.id)).toEqual(['hs', 'c50']);
    expect(some).toMatchObject({ hold: 0, durationS: 0.5 });
  });

  it('refuses unknown cases and bad numbers', async () => {
    await expect(parseCompareTlsArgs(['--cases', 'c2'])).rejects.toThrow(UsageError);
    await expect(parseCompareTlsArgs(['--rounds', '0'])).rejects.toThrow(/invalid rounds/);
    await expect(parseCompareTlsArgs(['--hold', '1.5'])).rejects.toThrow(/invalid hold/);
  });
});

describe('the side-by-side figures', () => {
  it('swaps the order of the servers every round', () => {
    expect(targetsInRound(1)).toEqual(['server', 'baseline']);
    expect(targetsInRound(2)).toEqual(['baseline', 'server']);
  });

  it('takes medians per case and server', () => {
    const runs = [
      run('c50', 'server', 1, 10),
      run('c50', 'server', 2, 30),
      run('c50', 'server', 3, 20),
    ];
    expect(medians(runs, 'c50', 'server')).toMatchObject({
      rate: 20,
      p50: 1,
      p99: 3,
      cpu: 10,
      errors: 0,
    });
    expect(medians(runs, 'c50', 'baseline').rate).toBeNaN();
  });

  it('divides the memory grown by the connections held', () => {
    expect(bytesPerConnection(hold('server', 100_000_000, 120_480_000))).toBe(20_480);
    expect(bytesPerConnection(hold('server', null, 1))).toBeNull();
  });

  it('renders the ratios against the 0.9x target, and the memory', () => {
    const text = renderTlsTables({
      runs: [
        run('hs', 'server', 1, 950),
        run('hs', 'baseline', 1, 1000),
        run('c50', 'server', 1, 40_000, 1.25),
        run('c50', 'baseline', 1, 80_000, 0.5),
      ],
      hold: [hold('server', 100 * 2 ** 20, 120 * 2 ** 20)],
      rounds: 1,
      durationS: 3,
    });
    expect(text).toContain('Medians of 1 rounds of 3 s');
    expect(text).toContain(
      '| TLS handshakes, 8 connections cycling | handshakes/s | 950 | 1,000 | 0.95x | 0.95x | met | 1.000 / 3.000 | 1.000 / 3.000 | 10.0 | 10.0 | 0 |',
    );
    expect(text).toContain(
      '| 40,000 | 80,000 | 0.50x | 0.50x | missed | 1.250 / 3.750 | 0.500 / 1.500 |',
    );
    expect(text).toContain(
      '| server | 1,000 of 1,000 (1,000) | 100.0 MiB | 120.0 MiB | 20.5 KiB |',
    );
  });

  it("pairs each round's two runs, and judges the target on the median of their ratios", () => {
    // The machine is twice as fast in round 2 for both: the medians of each server mix rounds
    // (1,000 / 1,500 = 0.67x), the paired ratios do not (0.95x in every round).
    const runs = [
      run('hs', 'server', 1, 950),
      run('hs', 'baseline', 1, 1000),
      run('hs', 'server', 2, 1900),
      run('hs', 'baseline', 2, 2000),
      run('hs', 'baseline', 3, 1500),
      run('hs', 'server', 3, 1000),
    ];
    const ratios = roundRatios(runs, 'hs');
    expect(ratios).toHaveLength(3);
    expect(ratios[0]).toBeCloseTo(0.95);
    expect(ratios[2]).toBeCloseTo(2 / 3);
    expect(roundRatios(runs.slice(0, 5), 'hs')).toHaveLength(2);
    const text = renderTlsTables({ runs, hold: [], rounds: 3, durationS: 3 });
    expect(text).toContain('| 1,000 | 1,500 | 0.67x | 0.95x (0.67x to 0.95x) | met |');
    // A round without its baseline run is left out, and the table says so.
    const short = renderTlsTables({ runs: runs.slice(0, 5), hold: [], rounds: 3, durationS: 3 });
    expect(short).toContain('| 0.95x (0.95x to 0.95x, 2 of 3 rounds) | met |');
  });

  it('judges the target on the paired ratio as printed, an even number of rounds too', () => {
    // 0.895 unrounded: whichever way it rounds, the verdict follows the printed figure.
    for (const [server, verdict] of [
      [896, 'met'],
      [894, 'missed'],
    ] as const) {
      const runs = [
        run('hs', 'server', 1, 890),
        run('hs', 'baseline', 1, 1000),
        run('hs', 'server', 2, server + (server - 890)),
        run('hs', 'baseline', 2, 1000),
      ];
      const text = renderTlsTables({ runs, hold: [], rounds: 2, durationS: 3 });
      const paired = /\| (\d\.\d\d)x \(0\.89x to 0\.9\dx\) \| (met|missed) \|/.exec(text);
      expect(paired?.[2]).toBe(verdict);
      expect(Number(paired?.[1]) >= 0.9).toBe(verdict === 'met');
    }
  });

  it('prints one progress line per run', () => {
    expect(progressLine(run('c1', 'baseline', 2, 15_000.4), 3, 24)).toBe(
      'compare-tls: 3/24 round 2 c1 baseline: 15,000 req/s, p50 1.000 ms',
    );
  });
});
