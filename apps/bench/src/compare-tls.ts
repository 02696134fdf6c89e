#!/usr/bin/env node
/**
 * The real server with `--tls` against the minimal TLS baseline, side by side in one run:
 * handshakes per second, PING throughput at 1 and 50 connections (rounds, servers swapped
 * every round, medians), and the resident memory per held TLS connection on fresh servers.
 * Both servers use one certificate: the real server makes it in a temporary state directory
 * (it is started first), and the baseline reads it from there.
 *
 *   pnpm --filter bench compare-tls
 *   pnpm --filter bench compare-tls -- --rounds 5 --duration 3 --hold 5000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { programArgs } from '@rtt/cli-support';
import {
  ENTRY,
  runBench,
  runTool,
  type ServerProcess,
  startServer,
  stopChildrenOnSignals,
} from './child-processes.ts';
import {
  type CompareTlsOptions,
  parseCompareTlsArgs,
  progressLine,
  renderTlsTables,
  type TlsCase,
  type TlsHold,
  type TlsRun,
  type TlsTarget,
  targetsInRound,
} from './compare-tls-report.ts';
import { holdConnections } from './hold.ts';
import type { LatencySummary } from './latency.ts';
import { cpuMicrosPerOp, cpuSeconds, residentBytes } from './process-stats.ts';

const HOST = '127.0.0.1';
const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Starts one of the two servers with TLS on a free port, its certificate in `stateDir`.
 *
 * @example
 * const server = await startTlsTarget('baseline', stateDir);
 */
export function startTlsTarget(target: TlsTarget, stateDir: string): Promise<ServerProcess> {
  const args = ['-ip', HOST, '-p', '0', '--tls', '--state-dir', stateDir];
  return target === 'server'
    ? startServer('server --tls', ENTRY.server, args)
    : startServer('baseline --tls', ENTRY.baseline, args);
}

async function measure(
  c: TlsCase,
  target: TlsTarget,
  server: ServerProcess,
  round: number,
  durationS: number,
): Promise<TlsRun> {
  const args = ['-ip', HOST, '-p', String(server.port), ...c.args, '--duration', String(durationS)];
  const warmupAt = c.args.indexOf('--warmup');
  const warmup = warmupAt === -1 ? 0 : Number(c.args[warmupAt + 1]);
  const cpuBefore = cpuSeconds(server.pid);
  const { report } = await runBench(args);
  const cpuAfter = cpuSeconds(server.pid);
  const served = Number(report.requests) + warmup;
  return {
    case: c.id,
    target,
    round,
    rate: Number(report.rps),
    errors: Number(report.errors),
    latency_ms: report.latency_ms as LatencySummary,
    server_cpu_us: cpuMicrosPerOp(cpuBefore, cpuAfter, served),
  };
}

async function measureHold(target: TlsTarget, stateDir: string, count: number): Promise<TlsHold> {
  const server = await startTlsTarget(target, stateDir);
  try {
    // Start-up garbage settles first, so that "before" is the idle server.
    await sleep(2_000);
    const before = residentBytes(server.pid) ?? null;
    let held: number | null = null;
    const result = await holdConnections({
      ip: HOST,
      port: server.port,
      count,
      wire: 'framed',
      command: 'PING',
      connectBatch: 100,
      timeoutMs: 30_000,
      tls: true,
      onAnswered: () => {
        held = residentBytes(server.pid) ?? null;
      },
    });
    return {
      target,
      count,
      held: result.held,
      answered: result.answered,
      rss_before_bytes: before,
      rss_held_bytes: held,
    };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<number> {
  let options: CompareTlsOptions | undefined;
  try {
    options = await parseCompareTlsArgs(programArgs(process.argv));
  } catch (err) {
    process.stderr.write(`compare-tls: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (options === undefined) return 0;
  stopChildrenOnSignals();
  const stateDir = mkdtempSync(join(tmpdir(), 'rtt-compare-tls-'));
  const runs: TlsRun[] = [];
  const hold: TlsHold[] = [];
  try {
    if (options.cases.length > 0) {
      // The real server first: it makes the certificate the baseline then presents too.
      const server = await startTlsTarget('server', stateDir);
      const servers = new Map<string, ServerProcess>([
        ['baseline', await startTlsTarget('baseline', stateDir)],
        ['server', server],
      ]);
      if (options.cases.some((c) => c.plain === true)) {
        servers.set(
          'plain baseline',
          await startServer('baseline', ENTRY.baseline, ['-ip', HOST, '-p', '0']),
        );
      }
      try {
        const total = options.rounds * options.cases.length * 2;
        for (let round = 1; round <= options.rounds; round++) {
          for (const c of options.cases) {
            for (const target of targetsInRound(round)) {
              const key = c.plain === true && target === 'baseline' ? 'plain baseline' : target;
              const server = servers.get(key);
              if (server === undefined) continue;
              const run = await measure(c, target, server, round, options.durationS);
              runs.push(run);
              log(progressLine(run, runs.length, total));
            }
          }
        }
      } finally {
        await Promise.all([...servers.values()].map((s) => s.stop()));
      }
    }
    if (options.hold > 0) {
      for (const target of ['server', 'baseline'] as const) {
        log(`compare-tls: holding ${options.hold} TLS connections on a fresh ${target}`);
        hold.push(await measureHold(target, stateDir, options.hold));
      }
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
  process.stdout.write(
    renderTlsTables({ runs, hold, rounds: options.rounds, durationS: options.durationS }),
  );
  return 0;
}

if (import.meta.main) await runTool('compare-tls', main);
