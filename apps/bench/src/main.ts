#!/usr/bin/env node
/**
 * The rtt bench: a redis-benchmark-style load generator. Wiring and output only; the load
 * runs in `run-load.ts` (worker threads) and `hold.ts` (many idle connections).
 */
import { readFileSync } from 'node:fs';
import { handleClosedOutput, programArgs } from '@rtt/cli-support';
import { type BenchOptions, parseBenchArgs } from './cli.ts';
import { runHandshakes } from './handshakes.ts';
import { holdConnections } from './hold.ts';
import { summarizeLatency } from './latency.ts';
import { type BenchReport, formatCsv, formatJson, formatText, ProgressLine } from './report.ts';
import { type LoadResult, runLoad } from './run-load.ts';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

const PROGRESS_EVERY_MS = 250;
const EXIT_INTERRUPTED = 130;

async function measure(
  options: BenchOptions,
  signal: AbortSignal,
  progress: ProgressLine | undefined,
): Promise<BenchReport> {
  const base = {
    command: options.command,
    wire: options.wire,
    pipeline: options.pipeline,
    threads: options.threads,
    ...(options.tls ? { tls: true } : {}),
  };
  if (options.handshakes) {
    const result = await runHandshakes({
      ip: options.ip,
      port: options.port,
      connections: options.connections,
      handshakes: options.requests,
      durationMs: options.durationMs,
      warmup: options.warmup,
      command: options.command,
      tls: options.tls,
      timeoutMs: options.timeoutMs,
      signal,
      onProgress: (completed, latencySumMs, elapsedMs) =>
        progress?.update({ completed, latencySumMs, elapsedMs }),
    });
    return {
      ...base,
      handshakes: true,
      connections: options.connections,
      ...loadFigures(result),
    };
  }
  if (options.hold !== undefined) {
    let shownAt = 0;
    const result = await holdConnections({
      ip: options.ip,
      port: options.port,
      count: options.hold,
      wire: options.wire,
      command: options.command,
      connectBatch: options.connectBatch,
      timeoutMs: options.timeoutMs,
      tls: options.tls,
      signal,
      onProgress: (opened, failed) => {
        const now = performance.now();
        if (progress === undefined || now - shownAt < PROGRESS_EVERY_MS) return;
        shownAt = now;
        progress.status(`${opened} of ${options.hold} open${failed ? `, ${failed} failed` : ''}`);
      },
      onHeld: (held) => progress?.status(`${held} open; one request on each`),
    });
    return {
      ...base,
      threads: 1,
      connections: result.held,
      requests: result.answered,
      seconds: result.seconds,
      rps: result.seconds > 0 ? result.answered / result.seconds : 0,
      errors: result.errors,
      latency: summarizeLatency(result.histogram),
      failures: result.failures,
      interrupted: result.interrupted,
      hold: {
        count: result.count,
        held: result.held,
        answered: result.answered,
        connectSeconds: result.connectSeconds,
      },
    };
  }
  progress?.status(`opening ${options.connections} connections`);
  let shownAt = 0;
  const result = await runLoad(options, {
    signal,
    onProgress: (p) => {
      if (progress === undefined || p.elapsedMs - shownAt < PROGRESS_EVERY_MS) return;
      shownAt = p.elapsedMs;
      progress.update(p);
    },
  });
  return {
    ...base,
    connections: options.connections,
    ...loadFigures(result),
  };
}

// The report's figures of a run of operations (requests, or handshake cycles).
function loadFigures(result: LoadResult) {
  return {
    requests: result.completed,
    seconds: result.seconds,
    rps: result.seconds > 0 ? result.completed / result.seconds : 0,
    errors: result.errors,
    latency: summarizeLatency(result.histogram),
    failures: result.failures,
    interrupted: result.interrupted,
  };
}

async function main(): Promise<number> {
  let options: BenchOptions | undefined;
  try {
    options = await parseBenchArgs(programArgs(process.argv), version);
  } catch (err) {
    process.stderr.write(`rtt-bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  // --help or --version was answered.
  if (options === undefined) return 0;

  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    // A second Ctrl+C does not wait for the report.
    if (interrupt.signal.aborted) process.exit(EXIT_INTERRUPTED);
    interrupt.abort();
  });
  process.on('SIGTERM', () => interrupt.abort());

  const progress = process.stdout.isTTY
    ? new ProgressLine(
        options.handshakes ? 'HANDSHAKES' : options.hold === undefined ? options.command : 'HOLD',
        process.stdout,
      )
    : undefined;
  let report: BenchReport;
  try {
    report = await measure(options, interrupt.signal, progress);
  } catch (err) {
    progress?.clear();
    process.stderr.write(`rtt-bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  progress?.clear();
  const format =
    options.output === 'json' ? formatJson : options.output === 'csv' ? formatCsv : formatText;
  process.stdout.write(options.output === 'json' ? `${format(report)}\n` : format(report));
  if (report.interrupted) return EXIT_INTERRUPTED;
  return report.errors > 0 ? 1 : 0;
}

handleClosedOutput('exit');
const code = await main();
// Let stdout drain, then leave even if a peer is slow to close its side.
process.stdout.write('', () => process.exit(code));
