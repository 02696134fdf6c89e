/**
 * What `attack` and `soak` share: the server under test (one they start, or one already
 * running) and the attacker's worker thread.
 */
import { Worker } from 'node:worker_threads';
import type { ServerChoice } from './attack-options.ts';
import type { FromAttackWorker, ToAttackWorker } from './attack-worker.ts';
import type { AttackOptions, AttackStats } from './attackers.ts';
import { ENTRY, startServer } from './child-processes.ts';
import { type ProbeOptions, Probes, RssSampler } from './probes.ts';

const ATTACK_WORKER = new URL(`./attack-worker${import.meta.url.slice(-3)}`, import.meta.url);

/** The server under attack. */
export interface Target {
  readonly host: string;
  readonly port: number;
  /** Its process id, for RSS; `undefined` when it is not known (a server given by `-p` alone). */
  readonly pid: number | undefined;
  /** Whether we started it (then its log lines are counted and it is stopped at the end). */
  readonly own: boolean;
  /** Log lines it has written so far (stdout); 0 for a server we did not start. */
  logLines(): number;
  /** Its last log lines (at most 200), for a look at what it said. */
  lastLines(): string[];
  /** Stops it if we started it. */
  stop(): Promise<void>;
}

/** Which server to attack: `port` for one already running, else one we start. */
export interface TargetOptions {
  host: string;
  port?: number | undefined;
  pid?: number | undefined;
  /** Extra arguments for the server we start (e.g. `--idle-timeout 1`). */
  serverArgs?: readonly string[] | undefined;
  /** The server program to start; default this workspace's. */
  serverEntry?: string | undefined;
}

/**
 * The server to attack: the one on `options.port`, or a fresh default server from this
 * workspace on a free port of `options.host` whose log lines are counted.
 *
 * @example
 * const target = await openTarget({ host: '127.0.0.1', serverArgs: ['--idle-timeout', '1'] });
 * await target.stop();
 */
export async function openTarget(options: TargetOptions): Promise<Target> {
  if (options.port !== undefined) {
    return {
      host: options.host,
      port: options.port,
      pid: options.pid,
      own: false,
      logLines: () => 0,
      lastLines: () => [],
      stop: async () => {},
    };
  }
  const server = await startServer('server', options.serverEntry ?? ENTRY.server, [
    '-ip',
    options.host,
    '-p',
    '0',
    ...(options.serverArgs ?? []),
  ]);
  let lines = 0;
  let tail = '';
  // Read at full speed, as a log collector would: a pipe nobody reads is another attack.
  server.child.stdout?.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    tail = (tail + chunk.toString()).slice(-32_768);
  });
  return {
    host: options.host,
    port: server.port,
    pid: server.pid,
    own: true,
    logLines: () => lines,
    lastLines: () => tail.split('\n').filter(Boolean).slice(-200),
    stop: () => server.stop(),
  };
}

/** The server under test and what watches it: probe clients, and its RSS when its pid is known. */
export interface WatchedTarget {
  target: Target;
  rss: RssSampler | undefined;
  probes: Probes;
  /** Stops the sampler and the probes, then the server if we started it. */
  stop(): Promise<void>;
}

/**
 * Opens the server `choice` names ({@link openTarget}) with an RSS sampler every `rssEveryMs`
 * and probe clients (not started yet: `probes.start(phase)`), as `attack` and `soak` both use.
 *
 * @example
 * const { target, probes, stop } = await watchTarget(options, 250, { intervalMs: 10 });
 * await probes.start('before');
 * await stop();
 */
export async function watchTarget(
  choice: Pick<ServerChoice, 'ip' | 'port' | 'pid' | 'serverArgs' | 'serverEntry'>,
  rssEveryMs: number,
  probeOptions: Omit<ProbeOptions, 'host' | 'port'>,
): Promise<WatchedTarget> {
  const target = await openTarget({
    host: choice.ip,
    port: choice.port,
    pid: choice.pid,
    serverArgs: choice.serverArgs,
    serverEntry: choice.serverEntry,
  });
  const rss = target.pid === undefined ? undefined : new RssSampler(target.pid, rssEveryMs);
  const probes = new Probes({ host: target.host, port: target.port, ...probeOptions });
  return {
    target,
    rss,
    probes,
    stop: async () => {
      rss?.stop();
      await probes.stop();
      await target.stop();
    },
  };
}

/** An attack running in its own thread. */
export interface RunningAttack {
  /** Its figures so far. */
  stats(): Promise<AttackStats>;
  /** Ends it (every attacking connection closed) and resolves with its figures. */
  stop(): Promise<AttackStats>;
}

/**
 * Starts an attack in a worker thread, so that its loops do not delay the probes' answers
 * on this thread's event loop (the two still share the machine's cores, as the issue's
 * attacker did).
 *
 * @example
 * const attack = startAttack({ kind: 'idle', host: '127.0.0.1', port, connections: 900 });
 * await sleep(10_000);
 * const stats = await attack.stop();
 */
export function startAttack(options: AttackOptions): RunningAttack {
  const worker = new Worker(ATTACK_WORKER, { workerData: options });
  let failure: Error | undefined;
  worker.on('error', (err) => {
    failure = err;
  });
  const ask = (message: ToAttackWorker, final: boolean) =>
    new Promise<AttackStats>((resolve, reject) => {
      if (failure !== undefined) return reject(failure);
      const onMessage = (reply: FromAttackWorker) => {
        if (reply.final !== final) return;
        worker.off('message', onMessage);
        resolve(reply.stats);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.postMessage(message);
    });
  return {
    stats: () => ask({ type: 'stats' }, false),
    stop: async () => {
      const stats = await ask({ type: 'stop' }, true);
      await worker.terminate();
      return stats;
    },
  };
}
