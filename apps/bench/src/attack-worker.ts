/**
 * The attacker's thread: runs one {@link Attacker} until the main thread says `stop`, then
 * sends back what it did. A thread of its own keeps the attack's busy loops off the event
 * loop of the probe clients, whose round trips are the measurement.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Attacker, type AttackOptions, type AttackStats } from './attackers.ts';

/** From the main thread. */
export type ToAttackWorker = { type: 'stop' } | { type: 'stats' };

/** From the attacker's thread: its figures so far (`final` once every connection is closed). */
export type FromAttackWorker = { type: 'stats'; stats: AttackStats; final: boolean };

if (parentPort === null) throw new Error('attack-worker.ts runs as a worker thread');
const port = parentPort;
const attacker = new Attacker(workerData as AttackOptions);
const running = attacker.run();
port.on('message', (message: ToAttackWorker) => {
  if (message.type === 'stats') {
    port.postMessage({
      type: 'stats',
      stats: attacker.stats,
      final: false,
    } satisfies FromAttackWorker);
    return;
  }
  attacker.stop();
  void running.then(() => {
    port.postMessage({
      type: 'stats',
      stats: attacker.stats,
      final: true,
    } satisfies FromAttackWorker);
    port.close();
  });
});
