#!/usr/bin/env node
/**
 * A long run against one server: good clients on both wires asking TIME every 10 ms the whole
 * time, and bad clients of every attack kind in turn (each kind attacks for three quarters of
 * a cycle, then leaves), with the server's RSS read every few seconds. Memory that ends flat
 * has a slope near 0 over the second half.
 *
 *   pnpm --filter bench soak -- --minutes 10
 *   pnpm --filter bench soak -- --minutes 0.5          # a quick try: every kind once, 5 s each
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseSoakArgs, SOAK_CONNECTIONS, type SoakCommandOptions } from './attack-options.ts';
import { addStats, mib, renderSoakSummary, rssSlope, type SoakSummary } from './attack-report.ts';
import { startAttack, watchTarget } from './attack-run.ts';
import { ATTACK_KINDS, type AttackKind, type AttackStats } from './attackers.ts';
import { runTool, summaryMain } from './child-processes.ts';

const log = (line: string) => process.stderr.write(`soak: ${line}\n`);

/**
 * Runs a soak and returns its summary.
 *
 * @example
 * const summary = await runSoak({ ...options, minutes: 0.5 });
 * summary.rss_slope_mib_per_min; // near 0 when memory ends flat
 */
export async function runSoak(options: SoakCommandOptions): Promise<SoakSummary> {
  const { target, rss, probes, stop } = await watchTarget(options, options.sampleS * 1000, {
    clients: options.good,
    handshakeEveryMs: 1_000,
  });
  const totals = new Map<AttackKind, AttackStats>();
  const totalMs = options.minutes * 60_000;
  try {
    await probes.start('soak');
    const started = performance.now();
    const left = () => totalMs - (performance.now() - started);
    // A cycle shorter than half a second would measure its own start-up, not an attack.
    for (let cycle = 0; left() > 500; cycle++) {
      const kind = ATTACK_KINDS[cycle % ATTACK_KINDS.length] as AttackKind;
      const connections = Math.max(1, Math.round(SOAK_CONNECTIONS[kind] * options.scale));
      const attackMs = Math.min(options.cycleS * 750, left());
      log(`cycle ${cycle + 1}: ${kind} x${connections} for ${(attackMs / 1000).toFixed(1)} s`);
      const attack = startAttack({ kind, host: target.host, port: target.port, connections });
      await sleep(attackMs);
      const stats = await attack.stop();
      const before = totals.get(kind);
      totals.set(kind, before === undefined ? stats : addStats(before, stats));
      const quietMs = Math.min(options.cycleS * 250, left());
      if (quietMs > 0) await sleep(quietMs);
    }
    rss?.sample();
    const samples = [...(rss?.samples ?? [])];
    const elapsedMs = performance.now() - started;
    // Memory that ends flat comes back once the attackers have gone: the good clients go on
    // alone for a while, and the last reading is taken then.
    let settled: number | null = null;
    if (options.settleS > 0) {
      log(`settling: good clients alone for ${options.settleS} s`);
      await sleep(options.settleS * 1000);
      rss?.sample();
      settled = mib(rss?.samples.at(-1)?.bytes);
    }
    const bytes = samples.map((s) => s.bytes);
    return {
      minutes: options.minutes,
      rss_mib: {
        start: mib(samples[0]?.bytes),
        end: mib(samples.at(-1)?.bytes),
        max: mib(bytes.length === 0 ? undefined : Math.max(...bytes)),
        settled,
      },
      settle_seconds: options.settleS,
      rss_slope_mib_per_min: rssSlope(samples, (samples.at(-1)?.atMs ?? 0) / 2),
      probes: probes.figures('soak'),
      attackers: [...totals.values()],
      log_lines: target.own
        ? { total: target.logLines(), per_second: target.logLines() / (elapsedMs / 1000) }
        : null,
    };
  } finally {
    await stop();
  }
}

if (import.meta.main) {
  await runTool(
    'soak',
    summaryMain('soak', {
      parse: parseSoakArgs,
      run: runSoak,
      render: renderSoakSummary,
    }),
  );
}
