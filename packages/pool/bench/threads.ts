/**
 * Compares thread counts for connection-owning pools: each configuration serves 50 busy
 * connections (8-byte ping-pong) from a separate load process, rounds interleaved so that
 * a noisy machine hits every configuration alike. Prints medians and the ratio to the best.
 *
 *   pnpm --filter @rtt/pool bench [-- --connections 50 --seconds 2 --rounds 3 --threads 0,1,2,4,32]
 *
 * A `--threads` entry `T:A` also sets `activeThreads` to A (`2:2` runs two session threads
 * from the start; plain `2` keeps the default, one per core but one).
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { parseArgs, promisify } from 'node:util';
import { createPool } from '../src/index.ts';

const run = promisify(execFile);
const options = {
  connections: { type: 'string', default: '50' },
  seconds: { type: 'string', default: '2' },
  rounds: { type: 'string', default: '3' },
  threads: { type: 'string', default: '0,1,2,4,32' },
} as const;
let values: { [K in keyof typeof options]: string };
try {
  ({ values } = parseArgs({ args: process.argv.slice(2).filter((arg) => arg !== '--'), options }));
} catch (err) {
  // A mistyped option is one line, not a stack trace.
  process.stderr.write(
    `pool bench: ${(err as Error).message}; options: --connections, --seconds, --rounds, --threads\n`,
  );
  process.exit(2);
}
const configs = values.threads.split(',').map((entry) => {
  const [threads = 0, active] = entry.split(':').map(Number);
  return { label: entry, threads, active };
});
const session = new URL('./echo-session.ts', import.meta.url);
const load = new URL('./load.ts', import.meta.url).pathname;

async function measure({ threads, active }: (typeof configs)[number]): Promise<number> {
  const pool = createPool({
    session,
    threads,
    ...(active === undefined ? {} : { activeThreads: active }),
  });
  const server = net.createServer(
    { pauseOnConnect: true },
    (socket) => void pool.adopt(socket, {}),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    const { stdout } = await run(process.execPath, [
      load,
      String(port),
      values.connections,
      values.seconds,
    ]);
    return Number(stdout.trim()) / Number(values.seconds);
  } finally {
    server.close();
    await pool.close({ timeout: 1000 });
  }
}

const results = new Map<string, number[]>(configs.map((c) => [c.label, []]));
for (let round = 1; round <= Number(values.rounds); round += 1) {
  for (const config of configs) {
    const rps = await measure(config);
    results.get(config.label)?.push(rps);
    process.stderr.write(`round ${round}: threads ${config.label}: ${Math.round(rps)} req/s\n`);
  }
}
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const medians = configs.map(({ label }) => ({
  threads: label,
  rps: median(results.get(label) ?? []),
}));
const best = Math.max(...medians.map((m) => m.rps));
console.log(
  `${values.connections} connections, ${values.seconds} s per run, median of ${values.rounds} rounds`,
);
console.log('threads | req/s (median) | vs best');
for (const { threads, rps } of medians) {
  console.log(
    `${String(threads).padStart(7)} | ${String(Math.round(rps)).padStart(14)} | ${(rps / best).toFixed(2)}x`,
  );
}
