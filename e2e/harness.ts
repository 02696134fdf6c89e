import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const SERVER_MAIN = fileURLToPath(new URL('../apps/server/src/main.ts', import.meta.url));
export const CLIENT_MAIN = fileURLToPath(new URL('../apps/client/src/main.ts', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const running = new Set<ChildProcess>();

/**
 * Has `killAll` kill `child` too (a process a test starts by other means, such as HAProxy),
 * unless it has exited by then.
 */
export function track(child: ChildProcess): void {
  running.add(child);
  const forget = () => running.delete(child);
  child.once('exit', forget);
  // Not started at all (no such file): 'error' and no 'exit'.
  child.once('error', forget);
}

/** Kills whatever a test left running; call from `afterEach`. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }),
  );
  running.clear();
}

/** A child process whose output is collected line by line. */
export class Proc {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #watchers: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];

  constructor(
    command: string,
    args: string[],
    options: { stdin?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        running.delete(this.child);
        resolve({ code, signal });
      });
    });
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      this.stdout += text;
      this.#check();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
    });
    if (options.stdin !== undefined) this.child.stdin?.end(options.stdin);
  }

  #check(): void {
    this.#watchers = this.#watchers.filter(({ pattern, resolve }) => {
      const match = this.stdout.match(pattern);
      if (match) resolve(match);
      return !match;
    });
  }

  /** Resolves when stdout matches; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    const match = this.stdout.match(pattern);
    if (match) return Promise.resolve(match);
    return new Promise((resolve, reject) => {
      this.#watchers.push({ pattern, resolve });
      void this.exited.then(() => {
        const late = this.stdout.match(pattern);
        if (late) resolve(late);
        else
          reject(new Error(`exited before printing ${pattern}:\n${this.stdout}\n${this.stderr}`));
      });
    });
  }

  /** stdout lines. */
  get lines(): string[] {
    return this.stdout.split('\n').filter((line) => line.length > 0);
  }
}

/** Starts the real server on 127.0.0.1 and an OS-chosen port; resolves once it listens. */
export async function startServer(args: string[] = []): Promise<{ proc: Proc; port: number }> {
  const proc = new Proc(process.execPath, [
    '--conditions=rtt-source',
    SERVER_MAIN,
    '-ip',
    '127.0.0.1',
    '-p',
    '0',
    ...args,
  ]);
  const match = await proc.waitFor(/Listening on 127\.0\.0\.1 port (\d+)\.\.\./);
  return { proc, port: Number(match[1]) };
}

/** Runs the real client with piped input; resolves when it exits. */
export async function runClient(
  args: string[],
  stdin: string,
): Promise<{ proc: Proc; code: number | null }> {
  const proc = new Proc(process.execPath, ['--conditions=rtt-source', CLIENT_MAIN, ...args], {
    stdin,
  });
  const { code } = await proc.exited;
  return { proc, code };
}
