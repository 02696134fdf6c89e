#!/usr/bin/env node
/**
 * Runs the benchmark report's measurements: starts the real server (with several -t) and
 * the baseline as child processes on free ports, runs the bench against them side by side
 * (interleaved, repeated), measures idle CPU and the memory of 10,000 held connections,
 * prints Markdown tables of medians and ratios and writes a results file for `plot`.
 *
 *   pnpm --filter bench compare
 *   pnpm --filter bench compare -- --runs 5 --duration 3
 *
 * This file only runs the steps in order: the cases are in compare-cases.ts, the options in
 * compare-options.ts, the measuring in compare-measure.ts, the tables in compare-render.ts.
 */
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileErrorReason, makeDirectory, programArgs } from '@rtt/cli-support';
import { killChildren, runTool, type ServerProcess } from './child-processes.ts';
import {
  DEFAULT_SERVER,
  HOLD_TARGETS,
  TARGETS,
  type TargetKey,
  targetsInRound,
} from './compare-cases.ts';
import {
  collectResults,
  measureCase,
  measureHold,
  measureIdle,
  startTarget,
} from './compare-measure.ts';
import { type CompareOptions, parseCompareArgs } from './compare-options.ts';
import { progressLine, renderTables } from './compare-render.ts';
import { formatResultsFile, type HoldRecord, type IdleRecord, type RunRecord } from './results.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  let options: CompareOptions | undefined;
  try {
    options = await parseCompareArgs(programArgs(process.argv));
  } catch (err) {
    process.stderr.write(`compare: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (options === undefined) return 0;
  // Before the minutes of measuring, not after: a folder that cannot be made would lose them.
  try {
    makeDirectory(dirname(options.out));
  } catch (err) {
    process.stderr.write(
      `compare: cannot create the folder of --out ${options.out}: ${fileErrorReason(err, 'creating')}\n`,
    );
    return 1;
  }
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('compare: interrupted, stopping the servers...');
    void killChildren().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const keys: TargetKey[] = [...new Set(options.cases.flatMap((c) => c.targets))];
  if (options.idleS > 0 && !keys.includes(DEFAULT_SERVER)) keys.unshift(DEFAULT_SERVER);
  const servers = new Map<TargetKey, ServerProcess>();
  const runs: RunRecord[] = [];
  let idle: IdleRecord[] = [];
  const hold: HoldRecord[] = [];
  try {
    log(`compare: starting ${keys.length} servers: ${keys.join(', ')}`);
    for (const key of keys) servers.set(key, await startTarget(key));
    if (options.idleS > 0) {
      await sleep(2_000);
      log(`compare: idle CPU over ${options.idleS} s`);
      idle = await measureIdle(servers, options.idleS);
    }
    const total = options.runs * options.cases.reduce((n, c) => n + c.targets.length, 0);
    for (let round = 1; round <= options.runs; round++) {
      for (const c of options.cases) {
        for (const key of targetsInRound(c, round)) {
          if (interrupted) return 130;
          const server = servers.get(key);
          if (server === undefined) continue;
          const record = await measureCase(c, key, server, round, options);
          runs.push(record);
          log(progressLine(record, runs.length, total));
        }
      }
    }
    await Promise.all([...servers.values()].map((s) => s.stop()));
    servers.clear();
    if (options.hold > 0) {
      for (const key of HOLD_TARGETS) {
        if (interrupted) return 130;
        log(`compare: holding ${options.hold} connections on a fresh ${TARGETS[key].label}`);
        hold.push(await measureHold(key, options.hold));
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }

  const results = collectResults(options, { idle, runs, hold });
  writeFileSync(options.out, formatResultsFile(results));
  process.stdout.write(renderTables(results));
  log(
    `compare: results written to ${options.out}; run \`pnpm --filter bench plot\` for the charts`,
  );
  return 0;
}

if (import.meta.main) await runTool('compare', main);
