#!/usr/bin/env node
/**
 * Does the client report its own warm-up? For each trial: a fresh server, a fresh client
 * process asking `time` ten times (`--count 10 --interval 0.2 --json`), and the first round
 * trip against the median of the next nine. The target: within 2x.
 *
 *   pnpm --filter bench first-rtt -- --trials 10 [--wire seed]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { answeredHelpOrVersion, commandLine, integerIn, programArgs } from '@rtt/cli-support';
import { ENTRY, startServer } from './child-processes.ts';

const CLIENT = fileURLToPath(new URL('../../client/src/main.ts', import.meta.url));

/** One trial: the first round trip and the median of the nine after it, in milliseconds. */
export interface Trial {
  first: number;
  median: number;
  ratio: number;
}

/**
 * The first round trip against the median of the rest.
 *
 * @example
 * firstAgainstRest([0.4, 0.2, 0.3, 0.2]); // { first: 0.4, median: 0.2, ratio: 2 }
 */
export function firstAgainstRest(rtts: readonly number[]): Trial {
  const [first, ...rest] = rtts;
  if (first === undefined || rest.length === 0) throw new RangeError('need at least two RTTs');
  const sorted = [...rest].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median =
    sorted.length % 2 === 1
      ? (sorted[Math.floor(middle)] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { first, median, ratio: first / median };
}

function clientRtts(port: number, wire: string, interval: number): Promise<number[]> {
  const args = ['-ip', '127.0.0.1', '-p', String(port), '--wire', wire, 'time'];
  const child = spawn(
    process.execPath,
    [
      '--conditions=rtt-source',
      CLIENT,
      ...args,
      '--count',
      '10',
      '--interval',
      String(interval),
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const rtts = out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { rtt_ms?: unknown })
        // The answers' lines; the summary's rtt_ms is an object.
        .flatMap((object) => (typeof object.rtt_ms === 'number' ? [object.rtt_ms] : []));
      if (code === 0 && rtts.length === 10) resolve(rtts);
      else reject(new Error(`client exited ${code}: ${out}`));
    });
  });
}

async function main(): Promise<number> {
  const parsed = await commandLine(programArgs(process.argv), {
    name: 'first-rtt',
    usage:
      '$0 [options]\n\nThe first request of a fresh client on a fresh server, against the next nine.',
    version: false,
  })
    .option('trials', { type: 'number', default: 10 })
    .option('wire', { choices: ['framed', 'seed'] as const, default: 'framed' as const })
    // Requests back to back keep every thread on both ends awake, which makes the later ones
    // faster than any first one can be; a pause, as between a person's choices, does not.
    .option('interval', { type: 'number', default: 0.2, describe: 'seconds between requests' })
    .parse();
  if (answeredHelpOrVersion(parsed)) return 0;
  const trials = integerIn('trials', parsed.trials, 1, 1000);
  const results: Trial[] = [];
  for (let i = 0; i < trials; i++) {
    const server = await startServer('server', ENTRY.server, ['-ip', '127.0.0.1', '-p', '0']);
    try {
      const trial = firstAgainstRest(
        await clientRtts(server.port, parsed.wire, Number(parsed.interval)),
      );
      results.push(trial);
      process.stdout.write(
        `trial ${i + 1}: first ${trial.first.toFixed(3)} ms, median of the next nine ${trial.median.toFixed(3)} ms, ${trial.ratio.toFixed(2)}x\n`,
      );
    } finally {
      await server.stop();
    }
  }
  const ratios = results.map((r) => r.ratio).sort((a, b) => a - b);
  const within = ratios.filter((ratio) => ratio <= 2).length;
  process.stdout.write(
    `${parsed.wire}: ${within} of ${trials} trials within 2x; ratio median ${ratios[Math.floor(trials / 2)]?.toFixed(2)}x, max ${ratios.at(-1)?.toFixed(2)}x\n`,
  );
  return 0;
}

if (import.meta.main) process.exit(await main());
