/**
 * The figures of `attack` and `soak`, and their text: apart from the running so that they can
 * be tested without a server.
 */
import type { AttackKind, AttackStats } from './attackers.ts';
import type { CountedLatency, PhaseFigures, RssSample } from './probes.ts';

/** The issue's targets for the well-behaved clients while an attack goes on. */
export const TARGET_P50_MS = 5;
export const TARGET_P99_MS = 50;

/** What one `attack` run measured. */
export interface AttackSummary {
  kind: AttackKind;
  connections: number;
  seconds: number;
  /** Seconds waited after the attacker left before the last RSS reading. */
  after_seconds: number;
  /** The probes before the attack, during it, and once it left. */
  probes: { before: PhaseFigures; during: PhaseFigures; after: PhaseFigures };
  /** Server RSS in MiB: before the attack, the most during it, `after_seconds` after it left. */
  rss_mib: { before: number | null; max: number | null; after: number | null };
  /** Log lines the server wrote (servers the tool started only). */
  log_lines: { during: number; per_second: number } | null;
  attacker: AttackStats;
  /** Whether both probes met the issue's targets during the attack. */
  met: boolean;
}

/** What one `soak` run measured. */
export interface SoakSummary {
  minutes: number;
  /**
   * Server RSS in MiB: the first reading, the last one of the attacks, the largest, and the
   * last after `settle_seconds` with the good clients alone (null without a settle).
   */
  rss_mib: {
    start: number | null;
    end: number | null;
    max: number | null;
    settled: number | null;
  };
  /** Seconds the good clients ran on alone after the last attack. */
  settle_seconds: number;
  /** Least-squares slope of RSS over the second half of the attacks, MiB per minute. */
  rss_slope_mib_per_min: number | null;
  probes: PhaseFigures;
  /** Per attack kind, its cycles' figures added up. */
  attackers: AttackStats[];
  log_lines: { total: number; per_second: number } | null;
}

/**
 * Bytes as MiB with one decimal; `null` for no reading.
 *
 * @example
 * mib(128 * 1024 * 1024 + 52429); // 128
 */
export function mib(bytes: number | undefined): number | null {
  return bytes === undefined ? null : Math.round((bytes / 1024 / 1024) * 10) / 10;
}

/**
 * The least-squares slope of the samples at or after `fromMs`, in MiB per minute: flat
 * memory gives about 0. `null` with fewer than two samples there.
 *
 * @example
 * rssSlope([{ atMs: 0, bytes: 0 }, { atMs: 60_000, bytes: 1024 * 1024 }], 0); // 1
 */
export function rssSlope(samples: readonly RssSample[], fromMs: number): number | null {
  const points = samples.filter((s) => s.atMs >= fromMs);
  if (points.length < 2) return null;
  const n = points.length;
  const meanX = points.reduce((sum, p) => sum + p.atMs, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.bytes, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.atMs - meanX) * (p.bytes - meanY);
    den += (p.atMs - meanX) ** 2;
  }
  if (den === 0) return null;
  const bytesPerMs = num / den;
  return Math.round(((bytesPerMs * 60_000) / 1024 / 1024) * 100) / 100;
}

/**
 * Adds up attack figures of the same kind (a soak runs each kind several times).
 *
 * @example
 * addStats(first, second).opened; // first.opened + second.opened
 */
export function addStats(a: AttackStats, b: AttackStats): AttackStats {
  const endings = { ...a.endings };
  for (const [name, count] of Object.entries(b.endings))
    endings[name] = (endings[name] ?? 0) + count;
  return {
    kind: a.kind,
    opened: a.opened + b.opened,
    failedToOpen: a.failedToOpen + b.failedToOpen,
    cut: a.cut + b.cut,
    bytesSent: a.bytesSent + b.bytesSent,
    bytesReceived: a.bytesReceived + b.bytesReceived,
    endings,
  };
}

/**
 * Whether a phase's probes met the targets (median under 5 ms, p99 under 50 ms, on both
 * wires, with some answers and no failed request).
 *
 * @example
 * metTargets(summary.probes.during); // true
 */
export function metTargets(figures: PhaseFigures): boolean {
  const ok = (l: CountedLatency) => l.count > 0 && l.p50 < TARGET_P50_MS && l.p99 < TARGET_P99_MS;
  return ok(figures.rtt.framed) && ok(figures.rtt.seed) && Object.keys(figures.errors).length === 0;
}

const ms = (value: number) => value.toFixed(3);
const latencyLine = (label: string, l: CountedLatency) =>
  l.count === 0
    ? `  ${label.padEnd(22)} no answers`
    : `  ${label.padEnd(22)} p50 ${ms(l.p50)}  p99 ${ms(l.p99)}  max ${ms(l.max)} ms  (${l.count})`;
const shownMib = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(1)} MiB`);
const errorsLine = (errors: Record<string, number>) => {
  const entries = Object.entries(errors);
  return entries.length === 0
    ? '  errors                 none'
    : `  errors                 ${entries.map(([code, n]) => `${code} x${n}`).join(', ')}`;
};

function phaseLines(name: string, figures: PhaseFigures): string[] {
  return [
    `${name}:`,
    latencyLine('framed TIME', figures.rtt.framed),
    latencyLine('seed TIME', figures.rtt.seed),
    latencyLine('new framed handshake', figures.handshake.framed),
    latencyLine('new seed handshake', figures.handshake.seed),
    errorsLine(figures.errors),
  ];
}

function attackerLines(stats: AttackStats): string[] {
  const endings = Object.entries(stats.endings)
    .map(([name, n]) => `${name} x${n}`)
    .join(', ');
  return [
    `  ${stats.kind}: ${stats.opened} opened, ${stats.failedToOpen} failed to open, ${stats.cut} ended by the server${endings ? ` (${endings})` : ''}`,
    `    sent ${mib(stats.bytesSent)?.toFixed(1)} MiB, received ${mib(stats.bytesReceived)?.toFixed(1)} MiB`,
  ];
}

/**
 * The text summary of an attack run.
 *
 * @example
 * process.stdout.write(renderAttackSummary(summary));
 */
export function renderAttackSummary(s: AttackSummary): string {
  const lines = [
    `====== attack ${s.kind}: ${s.connections} connections for ${s.seconds} s ======`,
    ...phaseLines('probes before', s.probes.before),
    ...phaseLines('probes during the attack', s.probes.during),
    ...phaseLines(`probes after it left`, s.probes.after),
    'attacker:',
    ...attackerLines(s.attacker),
    `server RSS: before ${shownMib(s.rss_mib.before)}, max during ${shownMib(s.rss_mib.max)}, ${s.after_seconds} s after ${shownMib(s.rss_mib.after)}`,
  ];
  if (s.log_lines !== null)
    lines.push(
      `server log: ${s.log_lines.during} lines during the attack (${s.log_lines.per_second.toFixed(1)}/s)`,
    );
  lines.push(
    `targets (p50 < ${TARGET_P50_MS} ms, p99 < ${TARGET_P99_MS} ms on both wires, no errors): ${s.met ? 'met' : 'NOT met'}`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * The text summary of a soak run.
 *
 * @example
 * process.stdout.write(renderSoakSummary(summary));
 */
export function renderSoakSummary(s: SoakSummary): string {
  const slope = s.rss_slope_mib_per_min;
  const lines = [
    `====== soak: ${s.minutes} minutes ======`,
    ...phaseLines('good clients', s.probes),
    'bad clients:',
    ...s.attackers.flatMap(attackerLines),
    `server RSS: start ${shownMib(s.rss_mib.start)}, end of the attacks ${shownMib(s.rss_mib.end)}, max ${shownMib(s.rss_mib.max)}${s.settle_seconds > 0 ? `, ${s.settle_seconds} s later ${shownMib(s.rss_mib.settled)}` : ''}`,
    `RSS slope over the second half: ${slope === null ? 'n/a' : `${slope >= 0 ? '+' : ''}${slope.toFixed(2)} MiB/min`}`,
  ];
  if (s.log_lines !== null)
    lines.push(`server log: ${s.log_lines.total} lines (${s.log_lines.per_second.toFixed(1)}/s)`);
  return `${lines.join('\n')}\n`;
}
