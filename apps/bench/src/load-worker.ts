/**
 * A load-generator thread: connects its share of the connections, warms up, waits for the
 * main thread's `go` so that every thread measures the same interval, runs, and sends back
 * its figures and its encoded histogram.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeHistogram } from './latency.ts';
import type { FromLoadWorker, LoadWorkerData, ToLoadWorker } from './load-messages.ts';
import { type LoadRunStats, LoadThread } from './load-thread.ts';

// How long a stopped run waits for the answers in flight before leaving them.
const STOP_GRACE_MS = 1_000;
const PROGRESS_EVERY_MS = 200;

if (parentPort === null) throw new Error('load-worker.ts runs as a worker thread');
const port = parentPort;
const data = workerData as LoadWorkerData;
const post = (message: FromLoadWorker) => port.postMessage(message);
const thread = new LoadThread(data.options);

let stopped = false;
let go: () => void = () => {};
const started = new Promise<void>((resolve) => {
  go = resolve;
});
port.on('message', (message: ToLoadWorker) => {
  if (message.type === 'go') go();
  else {
    stopped = true;
    thread.stop();
    setTimeout(() => thread.abandon(), STOP_GRACE_MS).unref();
    go();
  }
});

async function main(): Promise<void> {
  try {
    await thread.connect();
  } catch (err) {
    const error = err as Error & { code?: string };
    post({ type: 'fatal', code: error.code ?? 'RTT_ERR_CONNECT', message: error.message });
    return;
  }
  if (data.warmup > 0 && !stopped) await thread.run({ requests: data.warmup });
  thread.resetStats();
  post({ type: 'ready' });
  await started;

  let stats: LoadRunStats = { completed: 0, errors: 0, elapsedMs: 0, failures: {} };
  if (!stopped) {
    const progress = setInterval(() => {
      post({
        type: 'progress',
        completed: thread.completed,
        errors: thread.errors,
        latencySumMs: thread.latencySumMs,
      });
    }, PROGRESS_EVERY_MS);
    stats = await thread.run(
      data.durationMs === undefined
        ? { requests: data.requests }
        : { requests: data.requests, durationMs: data.durationMs },
    );
    clearInterval(progress);
  }
  thread.close();
  post({ type: 'done', stats, histogram: encodeHistogram(thread.histogram) });
  // Nothing more will come from the main thread: let the thread end once its sockets are gone.
  port.unref();
}

await main();
