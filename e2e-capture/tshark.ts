import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startServer } from '../e2e/harness.ts';

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

/** The rtt dissector, [`wireshark/rtt.lua`](../wireshark/rtt.lua). */
export const RTT_LUA = fileURLToPath(new URL('../wireshark/rtt.lua', import.meta.url));

/** One rtt message as the dissector shows it: a hello, a frame, a seed key, command or answer. */
export interface RttPdu {
  /** The capture's packet number. */
  frame: number;
  /** tshark's TCP stream index: one per connection. */
  stream: number;
  /** The TCP source port of the packet that completed the message. */
  srcport: number;
  /** Every `rtt.*` field of the message, each with its values in order. */
  fields: Record<string, string[]>;
  /** The expert infos of the message (their text). */
  experts: string[];
}

interface JsonPacket {
  _source: { layers: Record<string, unknown> };
}

// tshark's JSON has one object per protocol item; a field seen twice (--no-duplicate-keys)
// becomes an array. Subtrees (`..._tree`) are walked into, so nothing is missed.
function collect(node: unknown, fields: Record<string, string[]>, experts: string[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, fields, experts);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === '_ws.expert.message') {
      experts.push(...(Array.isArray(value) ? value : [value]).map(String));
    } else if (key === '_ws.expert' || key.endsWith('_tree')) {
      collect(value, fields, experts);
    } else if (key.startsWith('rtt.')) {
      const values = (Array.isArray(value) ? value : [value]).filter(
        (item) => typeof item !== 'object',
      );
      fields[key] = [...(fields[key] ?? []), ...values.map(String)];
    }
  }
}

/**
 * Reads a capture through the rtt dissector (`tshark -X lua_script:wireshark/rtt.lua`): every
 * rtt message in capture order, its fields and expert infos. `options` go to tshark as they
 * are (e.g. `-o tls.keylog_file:FILE`).
 */
export async function dissect(file: string, options: string[] = []): Promise<RttPdu[]> {
  const args = ['-r', file, '-X', `lua_script:${RTT_LUA}`, ...options, '-Y', 'rtt'];
  args.push('-T', 'json', '--no-duplicate-keys', '-J', 'frame tcp rtt');
  const { stdout, stderr } = await run(TSHARK, args, { maxBuffer: 256 * 1024 * 1024 });
  // A Lua error does not stop tshark: the script's load errors go to stderr, a dissection's
  // error into the packet's tree ("Lua Error: rtt.lua:123: ..."). Either fails the read.
  const error = /Lua: .*|Lua Error: [^"]*|\.lua" doesn't exist.*/.exec(`${stderr}\n${stdout}`);
  if (error) throw new Error(`rtt.lua failed on ${file}: ${error[0]}`);
  const packets = JSON.parse(stdout || '[]') as JsonPacket[];
  const pdus: RttPdu[] = [];
  for (const { _source: source } of packets) {
    const layers = source.layers as Record<string, Record<string, unknown>>;
    const frame = Number(layers.frame?.['frame.number']);
    const stream = Number(layers.tcp?.['tcp.stream']);
    const srcport = Number(layers.tcp?.['tcp.srcport']);
    const items = layers.rtt;
    for (const item of Array.isArray(items) ? items : [items]) {
      const fields: Record<string, string[]> = {};
      const experts: string[] = [];
      collect(item, fields, experts);
      pdus.push({ frame, stream, srcport, fields, experts });
    }
  }
  return pdus;
}

/** `tshark -r FILE -X lua_script:wireshark/rtt.lua [options]`: the summary lines, as text. */
export async function summary(file: string, options: string[] = []): Promise<string> {
  const args = ['-r', file, '-X', `lua_script:${RTT_LUA}`, ...options];
  const { stdout } = await run(TSHARK, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** `tshark -r INPUT -Y FILTER -w OUTPUT`: the packets of a capture that match a display filter. */
export async function filterCapture(input: string, displayFilter: string, output: string) {
  await run(TSHARK, ['-r', input, '-Y', displayFilter, '-w', output]);
}

/**
 * Starts the real server with `--tls` (its certificate in `dir/state`) writing its TLS secrets
 * to `keylog`, and a capture of its port into `capture`; resolves once both are running.
 *
 * @example
 * const { server, port, tshark } = await tlsServerCaptured(dir, join(dir, 'keys.log'), join(dir, 'tls.pcapng'));
 */
export async function tlsServerCaptured(dir: string, keylog: string, capture: string) {
  const { proc: server, port } = await startServer([
    '--tls',
    '--state-dir',
    join(dir, 'state'),
    '--keylog',
    keylog,
  ]);
  const tshark = await startCapture(`tcp port ${port}`, capture);
  return { server, port, tshark };
}
