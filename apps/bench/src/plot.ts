#!/usr/bin/env node
/**
 * Draws the benchmark report's charts from a results file written by `compare`:
 * throughput and latency percentiles against the number of connections, and throughput
 * by pool size. Writes SVG files into docs/.
 *
 *   pnpm --filter bench plot
 *   pnpm --filter bench plot -- --in results/latest.json --out-dir ../../docs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  answeredHelpOrVersion,
  commandLine,
  fileErrorReason,
  makeDirectory,
  programArgs,
} from '@rtt/cli-support';
import { BASELINE, CONNECTION_SWEEP, DEFAULT_SERVER, POOL_SIZES_CASE } from './compare-cases.ts';
import { findSummary, type ResultsFile } from './results.ts';
import { barChart, lineChart } from './svg-chart.ts';

const COLORS = {
  server: '#1f77b4',
  baseline: '#ff7f0e',
  p50: '#2ca02c',
  p95: '#9467bd',
  p99: '#d62728',
};

/**
 * The charts of a results file, by file name.
 *
 * @example
 * const charts = renderCharts(JSON.parse(readFileSync('results/latest.json', 'utf8')));
 * Object.keys(charts); // ['bench-throughput.svg', 'bench-latency.svg', 'bench-threads.svg']
 */
export function renderCharts(results: ResultsFile): Record<string, string> {
  const { summary } = results;
  const sweep = (
    target: string,
    pick: (s: NonNullable<ReturnType<typeof findSummary>>) => number,
  ) =>
    CONNECTION_SWEEP.map((c) => {
      const s = findSummary(summary, c.id, target);
      return s === undefined ? Number.NaN : pick(s);
    });
  const xLabels = CONNECTION_SWEEP.map((c) => String(c.connections));
  const runs = `median of ${results.settings.runs} runs`;
  const charts: Record<string, string> = {};

  charts['bench-throughput.svg'] = lineChart({
    title: `Throughput against connections (PING, pipeline 1, ${runs})`,
    xLabel: 'connections',
    yLabel: 'requests per second',
    xLabels,
    series: [
      { name: 'server (-t 32)', values: sweep(DEFAULT_SERVER, (s) => s.rps), color: COLORS.server },
      {
        name: 'baseline',
        values: sweep(BASELINE, (s) => s.rps),
        color: COLORS.baseline,
        dashed: true,
      },
    ],
  });

  const percentiles = (['p50', 'p95', 'p99'] as const).flatMap((p) => [
    {
      name: `server ${p}`,
      values: sweep(DEFAULT_SERVER, (s) => s.latency_ms[p]),
      color: COLORS[p],
    },
    {
      name: `baseline ${p}`,
      values: sweep(BASELINE, (s) => s.latency_ms[p]),
      color: COLORS[p],
      dashed: true,
    },
  ]);
  charts['bench-latency.svg'] = lineChart({
    title: `Latency percentiles against connections (PING, ${runs})`,
    xLabel: 'connections',
    yLabel: 'round-trip time, ms (log scale)',
    xLabels,
    series: percentiles,
    logY: true,
  });

  const threads = summary.filter((s) => s.case === POOL_SIZES_CASE.id);
  if (threads.length > 0) {
    charts['bench-threads.svg'] = barChart({
      title: `Throughput by pool size at 50 connections (PING, ${runs})`,
      yLabel: 'requests per second',
      bars: threads.map((s) => ({
        label: results.targets[s.target]?.replace(/^server,? /, '') ?? s.target,
        value: s.rps,
        color: s.target === BASELINE ? COLORS.baseline : COLORS.server,
      })),
    });
  }
  return charts;
}

async function main(): Promise<number> {
  let input: string;
  let outDir: string;
  try {
    const parsed = await commandLine(programArgs(process.argv), {
      name: 'plot',
      usage: '$0 [options]\n\nSVG charts from a results file written by compare.',
      version: false,
    })
      .option('in', {
        type: 'string',
        default: fileURLToPath(new URL('../results/latest.json', import.meta.url)),
        describe: 'results file',
      })
      .option('out-dir', {
        type: 'string',
        default: fileURLToPath(new URL('../../../docs', import.meta.url)),
        describe: 'where the SVG files go',
      })
      .parse();
    if (answeredHelpOrVersion(parsed)) return 0;
    input = resolve(parsed.in);
    outDir = resolve(parsed['out-dir']);
  } catch (err) {
    process.stderr.write(`plot: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  let results: ResultsFile;
  try {
    results = JSON.parse(readFileSync(input, 'utf8')) as ResultsFile;
  } catch (err) {
    process.stderr.write(
      `plot: cannot read ${input}: ${(err as Error).message} (run compare first)\n`,
    );
    return 1;
  }
  try {
    makeDirectory(outDir);
  } catch (err) {
    process.stderr.write(`plot: cannot create ${outDir}: ${fileErrorReason(err, 'creating')}\n`);
    return 1;
  }
  for (const [name, svg] of Object.entries(renderCharts(results))) {
    writeFileSync(join(outDir, name), svg);
    process.stdout.write(`${join(outDir, name)}\n`);
  }
  return 0;
}

if (import.meta.main) process.exit(await main());
