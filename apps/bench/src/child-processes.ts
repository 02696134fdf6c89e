import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { programArgs } from '@rtt/cli-support';

/** The workspace's own entry points, run from source. */
export const ENTRY = {
  server: fileURLToPath(new URL('../../server/src/main.ts', import.meta.url)),
  baseline: fileURLToPath(new URL('./baseline-server.ts', import.meta.url)),
  bench: fileURLToPath(new URL('./main.ts', import.meta.url)),
} as const;

/** The Node.js flags the server's command line (`#!` line, `start` script) gives it. */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--expose-gc'];

/**
 * Runs a workspace entry point with the Node that runs us (the workspace's Node 26 under
 * pnpm) and the source condition, without pnpm's start-up cost.
 *
 * @example
 * const child = spawnEntry(ENTRY.server, ['-ip', '127.0.0.1', '-p', '0']);
 */
export function spawnEntry(entry: string, args: readonly string[]): ChildProcess {
  // The server is started as its command starts it (see the first line of its main.ts).
  const flags = entry === ENTRY.server ? SERVER_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...flags, '--conditions=rtt-source', entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

const running = new Set<ChildProcess>();

/**
 * Kills every child still running (on Ctrl+C or an error): servers get SIGINT and a moment
 * to close, then SIGKILL. Resolves once all have exited.
 *
 * @example
 * process.once('SIGINT', () => void killChildren().then(() => process.exit(130)));
 */
export async function killChildren(graceMs = 3_000): Promise<void> {
  const waits = [...running].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT');
        setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
      }),
  );
  await Promise.all(waits);
}

// Whatever happens to this process, no server it started outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A server started for a benchmark. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly child: ChildProcess;
  /** Stops it (SIGINT, then SIGKILL if it lingers) and resolves once it has exited. */
  stop(): Promise<void>;
}

const LISTENING = /Listening on \S+ port (\d+)/;

/**
 * Starts a server on port 0 and resolves with the port it prints (`Listening on ... port N`).
 * Its output keeps being read, so a chatty server never blocks on a full pipe.
 *
 * @example
 * const server = await startServer('real -t 4', ENTRY.server, ['-ip', '127.0.0.1', '-p', '0', '-t', '4']);
 * await server.stop();
 */
export function startServer(
  name: string,
  entry: string,
  args: readonly string[],
  timeoutMs = 20_000,
): Promise<ServerProcess> {
  const child = spawnEntry(entry, args);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let seen = '';
    let errors = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} did not start listening within ${timeoutMs / 1000} s: ${errors}`));
    }, timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (errors.length < 4096) errors += chunk.toString();
    });
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = LISTENING.exec(seen);
      if (match === null) {
        if (seen.length > 65_536) seen = seen.slice(-1024);
        return;
      }
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      // From here on its log lines are only drained.
      child.stdout?.resume();
      resolve({ name, pid: child.pid ?? 0, port: Number(match[1]), child, stop });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before listening: ${errors.trim()}`));
    });
  });
}

/**
 * Runs the bench with `--json` and resolves with its parsed line and exit code. A run with
 * failed requests exits 1 but still reports; no JSON line at all is an error.
 *
 * @example
 * const { report } = await runBench(['-p', String(port), '-c', '50', '--duration', '2']);
 */
export function runBench(
  args: readonly string[],
): Promise<{ report: Record<string, unknown>; code: number | null }> {
  const child = spawnEntry(ENTRY.bench, [...args, '--json']);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve({ report: JSON.parse(line) as Record<string, unknown>, code });
      } catch {
        reject(new Error(`bench ${args.join(' ')} failed (exit ${code}): ${err.trim() || out}`));
      }
    });
  });
}

/**
 * Runs a bench tool's `main` as the process: exits with the code it returns; an error it
 * throws is one line on stderr (`name: message`), exit 1; either way every child it started
 * is stopped first.
 *
 * @example
 * if (import.meta.main) await runTool('soak', main);
 */
export async function runTool(name: string, main: () => Promise<number>): Promise<never> {
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    await killChildren();
  }
  process.exit(code);
}

/**
 * On Ctrl+C or SIGTERM, stops every child started and exits with 130.
 *
 * @example
 * stopChildrenOnSignals();
 */
export function stopChildrenOnSignals(): void {
  const onSignal = () => void killChildren().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/**
 * A bench tool that parses its command line, runs, and prints one summary: as text, or as one
 * JSON line with `--json`.
 */
export interface SummaryTool<Options extends { json: boolean }, Summary> {
  /** Resolves `undefined` when `--help` was answered; throws for a command-line mistake. */
  parse(args: readonly string[]): Promise<Options | undefined>;
  run(options: Options): Promise<Summary>;
  /** The summary as text, for a reader. */
  render(summary: Summary): string;
}

/**
 * The `main` of a summary tool: a command-line mistake is one line and exit 2; otherwise it
 * runs (every child stopped on Ctrl+C or SIGTERM) and prints the summary. Pass it to
 * {@link runTool}.
 *
 * @example
 * if (import.meta.main) await runTool('soak', summaryMain('soak', { parse, run, render }));
 */
export function summaryMain<Options extends { json: boolean }, Summary>(
  name: string,
  tool: SummaryTool<Options, Summary>,
): () => Promise<number> {
  return async () => {
    let options: Options | undefined;
    try {
      options = await tool.parse(programArgs(process.argv));
    } catch (err) {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
    if (options === undefined) return 0;
    stopChildrenOnSignals();
    const summary = await tool.run(options);
    process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : tool.render(summary));
    return 0;
  };
}
