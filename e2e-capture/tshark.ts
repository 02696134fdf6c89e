import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * tshark for the capture tests: one capture on the loopback interface, and reading a capture
 * file back as fields. Debian's `tshark` package (what `.ci/run` installs) is the reference.
 */

const run = promisify(execFile);

/** The tshark to run: `tshark` on PATH, or the TSHARK environment variable. */
export const TSHARK = process.env.TSHARK ?? 'tshark';

const captures = new Set<Capture>();

/** A running `tshark -i lo -f FILTER -w FILE`. */
export class Capture {
  readonly child: ChildProcess;
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly file: string;

  constructor(filter: string, file: string) {
    this.file = file;
    // Its own process group, so that cleanup can reach dumpcap (tshark's capture child) too.
    // `-a duration:120`: a capture that outlives its test (a killed test runner) stops itself.
    this.child = spawn(TSHARK, ['-i', 'lo', '-f', filter, '-a', 'duration:120', '-w', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    captures.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        captures.delete(this);
        resolve({ code, signal });
      });
    });
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
    });
  }

  /**
   * Resolves once packets are being recorded; rejects (with tshark's stderr) if it exits first.
   * tshark prints `Capturing on 'Loopback: lo'` before it starts dumpcap, so that line alone
   * is too early: `Capture started.` comes once dumpcap has opened the interface, set the
   * filter and created the file.
   */
  async started(): Promise<void> {
    const ready = () => /^Capturing on /m.test(this.stderr) && /Capture started/.test(this.stderr);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (ready()) {
          this.child.stderr?.off('data', check);
          resolve();
        }
      };
      this.child.stderr?.on('data', check);
      check();
      void this.exited.then(({ code, signal }) =>
        reject(new Error(`tshark exited (${code ?? signal}) before capturing:\n${this.stderr}`)),
      );
    });
  }

  /**
   * Resolves once the file being written holds `count` packets that match a display filter.
   * Call it before `stop()` with the last packets a test needs: dumpcap hands packets over in
   * blocks, and those still in the kernel's current block when it is stopped are lost.
   */
  async recorded(displayFilter: string, count: number): Promise<void> {
    for (;;) {
      // dumpcap writes the file as it goes; tshark may find its last packet cut short.
      const rows = await run(TSHARK, [
        '-r',
        this.file,
        '-Y',
        displayFilter,
        '-T',
        'fields',
        '-e',
        'frame.number',
      ]).then(
        ({ stdout }) => stdout,
        (error: { stdout?: string }) => error.stdout ?? '',
      );
      if (rows.split('\n').filter((row) => row.length > 0).length >= count) return;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(
          `tshark exited before recording ${count} × ${displayFilter}:\n${this.stderr}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops the capture as Ctrl+C does and waits for tshark to exit: the file is then complete. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGINT');
    }
    const { code, signal } = await this.exited;
    if (code !== 0) throw new Error(`tshark ended with ${code ?? signal}:\n${this.stderr}`);
  }
}

/** Starts capturing on `lo` with a capture (BPF) filter; resolves once packets are recorded. */
export async function startCapture(filter: string, file: string): Promise<Capture> {
  const capture = new Capture(filter, file);
  await capture.started();
  return capture;
}

/** Stops every capture a test left running (tshark and dumpcap); call from `afterEach`. */
export async function stopAllCaptures(): Promise<void> {
  await Promise.all(
    [...captures].map(async (capture) => {
      const group = -(capture.child.pid as number);
      const kill = (signal: NodeJS.Signals) => {
        try {
          process.kill(group, signal);
        } catch {
          // Already gone.
        }
      };
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 5_000);
      await capture.exited;
      clearTimeout(timer);
      kill('SIGKILL'); // dumpcap, should it outlive tshark
    }),
  );
}

/**
 * `tshark -r FILE [options] -T fields -e FIELD...`: one row per packet, one array of values per
 * field (a field that occurs several times in a packet, as in several TLS records, gives
 * several values).
 */
export async function readFields(
  file: string,
  fields: string[],
  options: string[] = [],
): Promise<string[][][]> {
  const args = ['-r', file, ...options, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const field of fields) args.push('-e', field);
  const { stdout } = await run(TSHARK, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t').map((value) => (value === '' ? [] : value.split(','))));
}
