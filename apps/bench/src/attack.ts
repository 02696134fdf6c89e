#!/usr/bin/env node
/**
 * One of the hardening issue's attacks against a server, measured: two probe clients (one per
 * wire) ask TIME every 10 ms and new clients agree keys twice a second, before, during and
 * after the attack; the server's RSS is read meanwhile. The attacker runs in a worker thread.
 *
 *   pnpm --filter bench attack -- --kind seed-spaces --seconds 10
 *   pnpm --filter bench attack -- --kind idle -p 7777 --pid 12345 --json
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type AttackCommandOptions, parseAttackArgs } from './attack-options.ts';
import { type AttackSummary, metTargets, mib, renderAttackSummary } from './attack-report.ts';
import { startAttack, watchTarget } from './attack-run.ts';
import { runTool, summaryMain } from './child-processes.ts';

const RSS_EVERY_MS = 250;
const log = (line: string) => process.stderr.write(`attack: ${line}\n`);

/**
 * Runs one attack with its probes and returns the summary.
 *
 * @example
 * const summary = await runAttack({ ...options, kind: 'slow-frame', connections: 500 });
 * summary.rss_mib.max;
 */
export async function runAttack(options: AttackCommandOptions): Promise<AttackSummary> {
  const { target, rss, probes, stop } = await watchTarget(options, RSS_EVERY_MS, {
    intervalMs: options.intervalMs,
  });
  try {
    await probes.start('before');
    await sleep(options.beforeS * 1000);
    const before = rss?.sample();
    const linesBefore = target.logLines();
    const attackStarted = rss?.now() ?? 0;
    log(`${options.kind} with ${options.connections} connections for ${options.seconds} s`);
    probes.phase('during');
    const attack = startAttack({
      kind: options.kind,
      host: target.host,
      port: target.port,
      connections: options.connections,
    });
    await sleep(options.seconds * 1000);
    const linesDuring = target.logLines() - linesBefore;
    probes.phase('after');
    const attacker = await attack.stop();
    const attackEnded = rss?.now() ?? 0;
    log(`attacker gone; measuring ${options.afterS} s more`);
    await sleep(options.afterS * 1000);
    const after = rss?.sample();
    const during = probes.figures('during');
    return {
      kind: options.kind,
      connections: options.connections,
      seconds: options.seconds,
      after_seconds: options.afterS,
      probes: { before: probes.figures('before'), during, after: probes.figures('after') },
      rss_mib: {
        before: mib(before),
        max: mib(rss?.maxBetween(attackStarted, attackEnded)),
        after: mib(after),
      },
      log_lines: target.own
        ? { during: linesDuring, per_second: linesDuring / options.seconds }
        : null,
      attacker,
      met: metTargets(during),
    };
  } finally {
    await stop();
  }
}

if (import.meta.main) {
  await runTool(
    'attack',
    summaryMain('attack', {
      parse: parseAttackArgs,
      run: runAttack,
      render: renderAttackSummary,
    }),
  );
}
