#!/usr/bin/env node
/**
 * Runs the benchmark report's measurements: starts the real server (with several -t) and
 * the baseline as child processes on free ports, runs the bench against them side by side
 * (interleaved, repeated), measures idle CPU and the memory of 10,000 held connections,
 * prints Markdown tables of medians and ratios and writes a results file for `plot`.
 *
 *   pnpm --filter bench compare
 *   pnpm --filter bench compare -- --runs 5 --duration 3
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answeredHelpOrVersion, commandLine, programArgs, UsageError } from '@rtt/cli-support';
import {
  ENTRY,
  killChildren,
  runBench,
  type ServerProcess,
  startServer,
} from './child-processes.ts';
import { holdConnections } from './hold.ts';
import { type LatencySummary, summarizeLatency } from './latency.ts';
import { cpuSeconds, residentBytes, threadCount } from './process-stats.ts';
import {
  findSummary,
  formatResultsFile,
  type HoldRecord,
  type IdleRecord,
  markdownTable,
  type ResultsFile,
  type RunRecord,
  summarize,
} from './results.ts';
import { ratio } from './statistics.ts';

const HOST = '127.0.0.1';

/** The servers compared, by key. */
export const TARGETS: Record<string, { label: string; entry: string; args: string[] }> = {
  t32: { label: 'server, default -t 32', entry: ENTRY.server, args: [] },
  t1: { label: 'server -t 1', entry: ENTRY.server, args: ['-t', '1'] },
  t2: { label: 'server -t 2', entry: ENTRY.server, args: ['-t', '2'] },
  t4: { label: 'server -t 4', entry: ENTRY.server, args: ['-t', '4'] },
  t0: { label: 'server -t 0 (no pool)', entry: ENTRY.server, args: ['-t', '0'] },
  baseline: { label: 'baseline', entry: ENTRY.baseline, args: [] },
};

interface Case {
  id: string;
  targets: string[];
  connections: number;
  pipeline: number;
  wire: 'framed' | 'seed';
  command: 'PING' | 'TIME';
}

const framed = (id: string, connections: number, targets: string[], pipeline = 1): Case => ({
  id,
  targets,
  connections,
  pipeline,
  wire: 'framed',
  command: 'PING',
});

/** Every case of the report. The connection sweep doubles as the 1- and 50-connection cases. */
export const CASES: Case[] = [
  framed('c1', 1, ['t32', 'baseline']),
  framed('c10', 10, ['t32', 'baseline']),
  framed('c50', 50, ['t32', 't1', 't2', 't4', 't0', 'baseline']),
  framed('c200', 200, ['t32', 'baseline']),
  framed('c1000', 1000, ['t32', 'baseline']),
  framed('p16', 50, ['t32', 'baseline'], 16),
  {
    id: 'time50',
    targets: ['t32', 'baseline'],
    connections: 50,
    pipeline: 1,
    wire: 'framed',
    command: 'TIME',
  },
  { id: 'seed50', targets: ['t32'], connections: 50, pipeline: 1, wire: 'seed', command: 'TIME' },
];

interface CompareOptions {
  runs: number;
  durationS: number;
  warmup: number;
  hold: number;
  idleS: number;
  cases: Case[];
  out: string;
}

async function parseCompareArgs(args: readonly string[]): Promise<CompareOptions | undefined> {
  const parsed = await commandLine(args, {
    name: 'compare',
    usage:
      '$0 [options]\n\nThe real server against the baseline, side by side; see docs/BENCHMARKS.md.',
    version: false,
  })
    .option('runs', { type: 'number', default: 3, describe: 'rounds; every figure is a median' })
    .option('duration', { type: 'number', default: 2, describe: 'seconds per bench run' })
    .option('warmup', { type: 'number', default: 20_000, describe: 'requests before each run' })
    .option('hold', { type: 'number', default: 10_000, describe: 'connections held (0 skips)' })
    .option('idle', {
      type: 'number',
      default: 10,
      describe: 'seconds of idle CPU sampling (0 skips)',
    })
    .option('cases', {
      type: 'string',
      describe: `comma-separated subset of ${CASES.map((c) => c.id).join(',')}`,
    })
    .option('out', {
      type: 'string',
      default: fileURLToPath(new URL('../results/latest.json', import.meta.url)),
      describe: 'results file for plot',
    })
    .parse();
  if (answeredHelpOrVersion(parsed)) return undefined;
  const positive = (name: string, value: number, min = 1) => {
    if (!Number.isFinite(value) || value < min) throw new UsageError(`invalid ${name}: ${value}`);
    return value;
  };
  const wanted = parsed.cases?.split(',').map((s) => s.trim());
  const cases = wanted === undefined ? CASES : CASES.filter((c) => wanted.includes(c.id));
  if (wanted !== undefined && cases.length !== wanted.length) {
    throw new UsageError(
      `unknown case in ${parsed.cases}: expected some of ${CASES.map((c) => c.id).join(',')}`,
    );
  }
  return {
    runs: positive('runs', parsed.runs),
    durationS: positive('duration', parsed.duration, 0.1),
    warmup: positive('warmup', parsed.warmup, 0),
    hold: positive('hold', parsed.hold, 0),
    idleS: positive('idle', parsed.idle, 0),
    cases,
    out: resolve(parsed.out),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);
const mib = (bytes: number | null | undefined) =>
  bytes === null || bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const ms = (value: number) => value.toFixed(3);
const x = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a');

function serverArgs(key: string): string[] {
  const target = TARGETS[key];
  if (target === undefined) throw new Error(`unknown target ${key}`);
  return ['-ip', HOST, '-p', '0', ...target.args];
}

async function start(key: string): Promise<ServerProcess> {
  const target = TARGETS[key];
  if (target === undefined) throw new Error(`unknown target ${key}`);
  return startServer(target.label, target.entry, serverArgs(key));
}

async function measureIdle(
  servers: Map<string, ServerProcess>,
  seconds: number,
): Promise<IdleRecord[]> {
  const before = new Map([...servers].map(([key, s]) => [key, cpuSeconds(s.pid)]));
  await sleep(seconds * 1000);
  return [...servers].map(([key, s]) => {
    const start = before.get(key);
    const end = cpuSeconds(s.pid);
    return {
      target: key,
      seconds,
      cpu_percent:
        start === undefined || end === undefined
          ? null
          : Math.round(((end - start) / seconds) * 1000) / 10,
      rss_bytes: residentBytes(s.pid) ?? null,
      threads: threadCount(s.pid) ?? null,
    };
  });
}

async function runCase(
  c: Case,
  key: string,
  server: ServerProcess,
  round: number,
  options: CompareOptions,
): Promise<RunRecord> {
  const args = [
    '-ip',
    HOST,
    '-p',
    String(server.port),
    '-c',
    String(c.connections),
    '--pipeline',
    String(c.pipeline),
    '--wire',
    c.wire,
    '--command',
    c.command,
    '--duration',
    String(options.durationS),
    '--warmup',
    String(options.warmup),
  ];
  const cpuBefore = cpuSeconds(server.pid);
  const { report } = await runBench(args);
  const cpuAfter = cpuSeconds(server.pid);
  const requests = Number(report.requests);
  const served = requests + options.warmup;
  return {
    case: c.id,
    target: key,
    round,
    connections: c.connections,
    pipeline: c.pipeline,
    wire: c.wire,
    command: c.command,
    requests,
    seconds: Number(report.seconds),
    rps: Number(report.rps),
    errors: Number(report.errors),
    latency_ms: report.latency_ms as LatencySummary,
    server_cpu_us_per_request:
      cpuBefore === undefined || cpuAfter === undefined || served === 0
        ? null
        : Math.round(((cpuAfter - cpuBefore) * 1e6 * 10) / served) / 10,
  };
}

async function measureHold(key: string, count: number): Promise<HoldRecord> {
  const server = await start(key);
  try {
    // Let start-up garbage settle so that "before" is the idle server.
    await sleep(2_000);
    const rssBefore = residentBytes(server.pid) ?? null;
    let rssHeld: number | null = null;
    let threadsHeld: number | null = null;
    const result = await holdConnections({
      ip: HOST,
      port: server.port,
      count,
      wire: 'framed',
      command: 'PING',
      connectBatch: 200,
      timeoutMs: 30_000,
      onAnswered: () => {
        rssHeld = residentBytes(server.pid) ?? null;
        threadsHeld = threadCount(server.pid) ?? null;
      },
    });
    await sleep(3_000);
    const rssAfter = residentBytes(server.pid) ?? null;
    return {
      target: key,
      count,
      held: result.held,
      answered: result.answered,
      errors: result.errors,
      connect_seconds: Math.round(result.connectSeconds * 1000) / 1000,
      answer_seconds: Math.round(result.seconds * 1000) / 1000,
      latency_ms: summarizeLatency(result.histogram),
      failures: result.failures,
      rss_before_bytes: rssBefore,
      rss_held_bytes: rssHeld,
      rss_after_bytes: rssAfter,
      bytes_per_connection:
        rssBefore !== null && rssHeld !== null && result.held > 0
          ? Math.round((rssHeld - rssBefore) / result.held)
          : null,
      threads_held: threadsHeld,
    };
  } finally {
    await server.stop();
  }
}

/** The Markdown report of a results file: what compare prints and BENCHMARKS.md quotes. */
export function renderTables(results: ResultsFile): string {
  const { summary, targets } = results;
  const name = (key: string) => targets[key] ?? key;
  const out: string[] = [];
  const get = (c: string, t: string) => findSummary(summary, c, t);

  const c50 = summary.filter((s) => s.case === 'c50');
  if (c50.length > 0) {
    const best = Math.max(...c50.map((s) => s.rps));
    out.push('### Pool threads at 50 busy connections (PING)\n');
    out.push(
      markdownTable(
        ['server', 'req/s (median)', 'vs best', 'p50 ms', 'p99 ms', 'server CPU µs/req'],
        c50.map((s) => [
          name(s.target),
          s.rps,
          x(ratio(s.rps, best)),
          ms(s.latency_ms.p50),
          ms(s.latency_ms.p99),
          s.server_cpu_us_per_request ?? 'n/a',
        ]),
      ),
    );
  }

  const pairs: [string, string][] = [
    ['c1', '1 connection'],
    ['c10', '10 connections'],
    ['c50', '50 connections'],
    ['c200', '200 connections'],
    ['c1000', '1000 connections'],
    ['p16', '50 connections, pipeline 16'],
    ['time50', '50 connections, TIME'],
  ];
  const rows = pairs.flatMap(([id, label]) => {
    const real = get(id, 't32');
    const base = get(id, 'baseline');
    if (real === undefined || base === undefined) return [];
    return [
      [
        label,
        real.rps,
        base.rps,
        x(ratio(real.rps, base.rps)),
        `${ms(real.latency_ms.p50)} / ${ms(base.latency_ms.p50)}`,
        x(ratio(real.latency_ms.p50, base.latency_ms.p50)),
        `${ms(real.latency_ms.p99)} / ${ms(base.latency_ms.p99)}`,
        `${real.server_cpu_us_per_request ?? 'n/a'} / ${base.server_cpu_us_per_request ?? 'n/a'}`,
      ],
    ];
  });
  if (rows.length > 0) {
    out.push('\n### Real server (default -t 32) against the baseline\n');
    out.push(
      markdownTable(
        [
          'load',
          'server req/s',
          'baseline req/s',
          'throughput ratio',
          'p50 ms (server / baseline)',
          'p50 ratio',
          'p99 ms (server / baseline)',
          'server CPU µs/req (server / baseline)',
        ],
        rows,
      ),
    );
  }

  const seed = get('seed50', 't32');
  const time = get('time50', 't32');
  if (seed !== undefined && time !== undefined) {
    out.push('\n### Seed wire against the framed protocol (server, 50 connections, TIME)\n');
    out.push(
      markdownTable(
        ['wire', 'req/s', 'p50 ms', 'p99 ms'],
        [
          ['framed', time.rps, ms(time.latency_ms.p50), ms(time.latency_ms.p99)],
          ['seed', seed.rps, ms(seed.latency_ms.p50), ms(seed.latency_ms.p99)],
        ],
      ),
    );
  }

  if (results.idle.length > 0) {
    out.push(`\n### Idle servers (${results.idle[0]?.seconds ?? 0} s, no clients)\n`);
    out.push(
      markdownTable(
        ['server', 'CPU % of one core', 'RSS', 'threads'],
        results.idle.map((i) => [
          name(i.target),
          i.cpu_percent ?? 'n/a',
          mib(i.rss_bytes),
          i.threads ?? 'n/a',
        ]),
      ),
    );
  }

  if (results.hold.length > 0) {
    out.push('\n### Connections held open at once, then one request each\n');
    out.push(
      markdownTable(
        [
          'server',
          'held',
          'answered',
          'opened in s',
          'answers p50 / p99 / max ms',
          'RSS idle',
          'RSS holding',
          'per connection',
          'RSS 3 s after close',
          'threads holding',
        ],
        results.hold.map((h) => [
          name(h.target),
          `${h.held} of ${h.count}`,
          h.answered,
          h.connect_seconds,
          `${ms(h.latency_ms.p50)} / ${ms(h.latency_ms.p99)} / ${ms(h.latency_ms.max)}`,
          mib(h.rss_before_bytes),
          mib(h.rss_held_bytes),
          h.bytes_per_connection === null
            ? 'n/a'
            : `${(h.bytes_per_connection / 1024).toFixed(1)} KiB`,
          mib(h.rss_after_bytes),
          h.threads_held ?? 'n/a',
        ]),
      ),
    );
  }
  out.push(`\n### Targets\n`);
  out.push(markdownTable(['target', 'figure', 'result'], verdicts(results)));
  return out.join('\n');
}

/**
 * The report's targets, each with the figure measured and whether it is met.
 *
 * @example
 * verdicts(results); // [['idle CPU < 1% of a core', '0.2%', 'met'], ...]
 */
export function verdicts(results: ResultsFile): string[][] {
  const { summary } = results;
  const rows: string[][] = [];
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
  const idle = results.idle.find((i) => i.target === 't32');
  if (idle?.cpu_percent !== null && idle?.cpu_percent !== undefined) {
    rows.push([
      'idle default server < 1% of a core',
      `${idle.cpu_percent}%`,
      verdict(idle.cpu_percent < 1),
    ]);
  }
  const c50 = summary.filter((s) => s.case === 'c50' && s.target !== 'baseline');
  const t32 = findSummary(summary, 'c50', 't32');
  if (t32 !== undefined && c50.length > 1) {
    const best = c50.reduce((a, b) => (b.rps > a.rps ? b : a));
    const r = ratio(t32.rps, best.rps);
    rows.push([
      `-t 32 within 10% of the best -t (${results.targets[best.target] ?? best.target})`,
      x(r),
      verdict(r >= 0.9),
    ]);
  }
  const base50 = findSummary(summary, 'c50', 'baseline');
  if (t32 !== undefined && base50 !== undefined) {
    const r = ratio(t32.rps, base50.rps);
    rows.push(['throughput at 50 connections >= 0.9x baseline', x(r), verdict(r >= 0.9)]);
  }
  const real1 = findSummary(summary, 'c1', 't32');
  const base1 = findSummary(summary, 'c1', 'baseline');
  if (real1 !== undefined && base1 !== undefined) {
    const r = ratio(real1.latency_ms.p50, base1.latency_ms.p50);
    rows.push([
      'median RTT at 1 connection <= 1.1x baseline',
      `${x(r)} (${ms(real1.latency_ms.p50)} vs ${ms(base1.latency_ms.p50)} ms)`,
      verdict(r <= 1.1),
    ]);
  }
  const hold = results.hold.find((h) => h.target === 't32');
  if (hold !== undefined) {
    rows.push([
      `${hold.count} clients at once, all answered`,
      `${hold.answered} of ${hold.count}`,
      verdict(hold.answered === hold.count),
    ]);
  }
  return rows;
}

async function main(): Promise<number> {
  let options: CompareOptions | undefined;
  try {
    options = await parseCompareArgs(programArgs(process.argv));
  } catch (err) {
    process.stderr.write(`compare: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (options === undefined) return 0;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('compare: interrupted, stopping the servers...');
    void killChildren().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const keys = [...new Set(options.cases.flatMap((c) => c.targets))];
  if (options.idleS > 0 && !keys.includes('t32')) keys.unshift('t32');
  const servers = new Map<string, ServerProcess>();
  const runs: RunRecord[] = [];
  let idle: IdleRecord[] = [];
  const hold: HoldRecord[] = [];
  try {
    log(`compare: starting ${keys.length} servers: ${keys.join(', ')}`);
    for (const key of keys) servers.set(key, await start(key));
    if (options.idleS > 0) {
      await sleep(2_000);
      log(`compare: idle CPU over ${options.idleS} s`);
      idle = await measureIdle(servers, options.idleS);
    }
    const total = options.runs * options.cases.reduce((n, c) => n + c.targets.length, 0);
    for (let round = 1; round <= options.runs; round++) {
      for (const c of options.cases) {
        // Rotate the order every round so that no server always runs first (or right after
        // the noisiest one).
        const order = c.targets.map(
          (_, i) => c.targets[(i + round - 1) % c.targets.length] as string,
        );
        for (const key of order) {
          if (interrupted) return 130;
          const server = servers.get(key);
          if (server === undefined) continue;
          const record = await runCase(c, key, server, round, options);
          runs.push(record);
          log(
            `compare: [${runs.length}/${total}] round ${round} ${c.id} ${key}: ${Math.round(record.rps)} req/s, p50 ${ms(record.latency_ms.p50)} ms, p99 ${ms(record.latency_ms.p99)} ms${record.errors ? `, ${record.errors} errors` : ''}`,
          );
        }
      }
    }
    await Promise.all([...servers.values()].map((s) => s.stop()));
    servers.clear();
    if (options.hold > 0) {
      for (const key of ['t32', 't0', 'baseline']) {
        if (interrupted) return 130;
        log(`compare: holding ${options.hold} connections on a fresh ${TARGETS[key]?.label}`);
        hold.push(await measureHold(key, options.hold));
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }

  const results: ResultsFile = {
    generated: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model.trim() ?? 'unknown',
      node: process.version,
      platform: platform(),
    },
    settings: {
      runs: options.runs,
      duration_s: options.durationS,
      warmup: options.warmup,
      load_threads: 1,
    },
    targets: Object.fromEntries(Object.entries(TARGETS).map(([key, t]) => [key, t.label])),
    idle,
    runs,
    summary: summarize(runs),
    hold,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, formatResultsFile(results));
  process.stdout.write(renderTables(results));
  log(
    `compare: results written to ${options.out}; run \`pnpm --filter bench plot\` for the charts`,
  );
  return 0;
}

if (import.meta.main) {
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    process.stderr.write(`compare: ${err instanceof Error ? err.message : String(err)}\n`);
    await killChildren();
  }
  process.exit(code);
}
