import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { track } from '../e2e/harness.ts';

/**
 * HAProxy for the tests behind a proxy: the configuration docs/DEPLOY.md shows, a running
 * `haproxy -db` on a port the system picks, and its runtime API (`show stat`) to wait on.
 * Debian's `haproxy` package (what `.ci/run` installs, 2.6 on Debian 12) is the reference.
 */

/** The haproxy to run: `haproxy` on PATH, or the HAPROXY environment variable. */
export const HAPROXY = process.env.HAPROXY ?? 'haproxy';

/** One rtt server behind HAProxy. */
export interface Backend {
  /** Its name in HAProxy's configuration and in `show stat`. */
  name: string;
  /** Where it serves clients (`ADDRESS:PORT`), started with `--proxy-protocol`. */
  address: string;
  /** Its `--metrics-port`, where HAProxy asks `/readyz`. */
  metricsPort: number | string;
}

/** What {@link haproxyConfig} fills in. */
export interface HaproxyConfigOptions {
  /** The frontend's `bind` argument: `ADDRESS:PORT`, or `fd@N` for an inherited socket. */
  bind: string;
  /**
   * Connections HAProxy takes at once; it needs two descriptors each (client and server), and
   * refuses to start if it cannot raise its open-file limit that far.
   */
  maxconn: number;
  /** The runtime API's unix socket. */
  statsSocket: string;
  backends: readonly Backend[];
  /** Time between health checks (HAProxy's `inter`). */
  checkInterval: string;
  /** Failed checks that take a server out of the rotation, and passed ones that bring it back. */
  fall: number;
  rise: number;
}

/**
 * The configuration: TCP, round robin, the PROXY protocol v2 to every server, health checks
 * with `GET /readyz` on each server's metrics port. docs/DEPLOY.md shows it as this function
 * renders it (a test checks that the two agree), so a change here is a change there.
 *
 * @example
 * haproxyConfig({ bind: 'fd@3', maxconn: 1000, statsSocket: '/tmp/x/haproxy.sock', backends, checkInterval: '100ms', fall: 1, rise: 1 });
 */
export function haproxyConfig(options: HaproxyConfigOptions): string {
  const servers = options.backends.map(
    (backend) =>
      `    server ${backend.name} ${backend.address} send-proxy-v2 check port ${backend.metricsPort}`,
  );
  return `global
    maxconn ${options.maxconn}
    stats socket ${options.statsSocket} mode 600 level admin
    # A reload lets the old process finish its connections; this bounds how long.
    hard-stop-after 30s

defaults
    mode tcp
    timeout connect 2s
    # Longer than the servers' --idle-timeout (300 s), so that they, not HAProxy, close
    # idle clients, with a word to say why (an ERROR frame IDLE_TIMEOUT on the framed wire).
    timeout client 310s
    timeout server 310s
    timeout check 2s
    # A server that stopped listening but is not yet marked down: try another one.
    retries 3
    option redispatch 1

frontend rtt
    bind ${options.bind}
    default_backend rtt_servers

backend rtt_servers
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server inter ${options.checkInterval} fall ${options.fall} rise ${options.rise}
${servers.join('\n')}
`;
}

/** One server's row of `show stat`. */
export interface ServerState {
  /** `UP`, `DOWN`, `MAINT`, `UP 1/2` (going down), `DOWN 1/2` (going up), `no check`, ... */
  status: string;
  /** The last check: `L7OK`, `L7STS` (a status other than 200), `L4CON` (refused), `INI`, ... */
  checkStatus: string;
  /** Connections sent to it so far. */
  total: number;
}

/** A running `haproxy -db -f CONFIG`; the harness's `killAll` stops it. */
export class Haproxy {
  readonly child: ChildProcess;
  /** Where clients connect, on 127.0.0.1. */
  readonly port: number;
  readonly statsSocket: string;
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(child: ChildProcess, port: number, statsSocket: string) {
    this.child = child;
    this.port = port;
    this.statsSocket = statsSocket;
    track(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      // Not started at all (no such file): 'error' and no 'exit'.
      child.once('error', (error) => {
        this.stderr += `${error.message}\n`;
        resolve({ code: null, signal: null });
      });
    });
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
    });
  }

  /** Sends one command to the runtime API and resolves with its answer. */
  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.statsSocket);
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => {
        answer += text;
      });
      socket.once('error', reject);
      socket.once('close', () => resolve(answer));
      // Without `prompt`, HAProxy answers one command and closes the connection.
      socket.end(`${line}\n`);
    });
  }

  /** The backend's servers by name, from `show stat` (CSV, its first line naming the columns). */
  async servers(): Promise<Map<string, ServerState>> {
    const [header, ...rows] = (await this.command('show stat'))
      .split('\n')
      .filter((row) => row.length > 0);
    const columns = (header ?? '').replace(/^# /, '').split(',');
    const column = (name: string) => columns.indexOf(name);
    const states = new Map<string, ServerState>();
    for (const row of rows) {
      const cells = row.split(',');
      const name = cells[column('svname')] ?? '';
      if (cells[column('pxname')] !== 'rtt_servers' || name === 'BACKEND') continue;
      states.set(name, {
        status: cells[column('status')] ?? '',
        checkStatus: cells[column('check_status')] ?? '',
        total: Number(cells[column('stot')]),
      });
    }
    return states;
  }

  /**
   * Resolves once the servers' states satisfy `condition` (asked every 20 ms); rejects if
   * HAProxy exits first, or with the last states seen after `timeoutMs`.
   */
  async until(
    condition: (states: Map<string, ServerState>) => boolean,
    timeoutMs = 15_000,
  ): Promise<void> {
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    const deadline = performance.now() + timeoutMs;
    let states: Map<string, ServerState> | undefined;
    for (;;) {
      if (exited) throw new Error(`haproxy exited:\n${this.stderr}`);
      // Refused (or missing) until HAProxy has read its configuration and opened the socket.
      states = await this.servers().catch(() => states);
      if (states !== undefined && condition(states)) return;
      if (performance.now() > deadline) {
        const seen = states === undefined ? 'no answer on its socket' : JSON.stringify([...states]);
        throw new Error(
          `HAProxy's servers did not get there in ${timeoutMs} ms: ${seen}\n${this.stderr}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * Starts HAProxy in front of `backends`, in the foreground (`-db`), with its configuration and
 * runtime socket in `dir`; resolves once its socket answers and every server has passed a
 * health check. Clients connect to 127.0.0.1 on `haproxy.port`, a port the system chose.
 */
export async function startHaproxy(
  dir: string,
  backends: readonly Backend[],
  // Checks every 100 ms, one failed or passed enough: a test need not wait for seconds.
  tuning = { maxconn: 1000, checkInterval: '100ms', fall: 1, rise: 1 },
): Promise<Haproxy> {
  // The listening socket is made here, on a port the system picks, and handed to HAProxy as
  // its file descriptor 3 (`bind fd@3`, "inherited from the parent"): no free port is guessed,
  // so no other program can take it between choosing and binding. Node's copy is closed once
  // HAProxy has its own, before any client connects, so only HAProxy accepts on it.
  const listener = net.createServer();
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const { port } = listener.address() as net.AddressInfo;
  const statsSocket = join(dir, 'haproxy.sock');
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(config, haproxyConfig({ bind: 'fd@3', statsSocket, backends, ...tuning }));
  // Node has no public way to name a server's descriptor; its handle's `fd` is what libuv
  // listens on (on Unix; spawn's stdio takes no net.Server).
  const fd = (listener as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  let child: ChildProcess;
  try {
    if (typeof fd !== 'number' || fd < 0) {
      throw new Error(`no descriptor for the listening socket (got ${String(fd)})`);
    }
    // Not in a process group of its own: with `-db` HAProxy has no children, and in the test
    // runner's group a Ctrl+C reaches it too.
    child = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe', fd] });
  } finally {
    listener.close();
  }
  const haproxy = new Haproxy(child, port, statsSocket);
  await haproxy.until((states) =>
    backends.every((backend) => {
      const state = states.get(backend.name);
      return state?.status === 'UP' && state.checkStatus === 'L7OK';
    }),
  );
  return haproxy;
}
