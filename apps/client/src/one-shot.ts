import { statusName, type Wire } from '@rtt/protocol';
import type { ClockReading, Reply } from '@rtt/protocol/node';
import type { OneShotCommand } from './cli.ts';

/** What a scripted run needs of a connection. */
export interface OneShotConnection {
  readonly wire: Wire;
  request(command: 'TIME' | 'DATE' | 'TEMP' | 'PING', payload?: string): Promise<Reply>;
  clock(): Promise<ClockReading>;
}

/** One answer as a script sees it. */
export interface Answer {
  command: string;
  /** The status name, `OK` when answered. */
  status: string;
  ok: boolean;
  answer: string;
  rttMs: number;
  /** TIME on the framed wire: the server's clock minus ours, in milliseconds. */
  offsetMs?: number;
}

/** The round-trip statistics of a run, as ping gives them. */
export interface Summary {
  sent: number;
  answered: number;
  lostPercent: number;
  rtt: { min: number; avg: number; max: number; mdev: number } | undefined;
}

/**
 * Asks one command. TIME on the framed wire also asks CLOCK in the same breath, for the
 * server's clock offset (an older server without CLOCK just gives no offset).
 *
 * @example
 * const answer = await ask(client, 'time'); // { command: 'TIME', answer: '13:25:01.208346', rttMs: 0.23, offsetMs: -0.01, ... }
 */
export async function ask(client: OneShotConnection, command: OneShotCommand): Promise<Answer> {
  const name = command.toUpperCase() as 'TIME' | 'DATE' | 'TEMP' | 'PING';
  const clock =
    name === 'TIME' && client.wire === 'framed'
      ? client.clock().then(
          (reading) => reading.offsetMs,
          () => undefined,
        )
      : undefined;
  const reply = await client.request(name, name === 'PING' ? 'ping' : undefined);
  const answer: Answer = {
    command: name,
    status: reply.ok ? 'OK' : (statusName(reply.status) ?? `status ${reply.status}`),
    ok: reply.ok,
    answer: reply.text,
    rttMs: reply.rttMs,
  };
  const offsetMs = await clock;
  if (offsetMs !== undefined) answer.offsetMs = offsetMs;
  return answer;
}

const ms = (value: number) => value.toFixed(3);

/**
 * One answer as one line of text, ping style.
 *
 * @example
 * answerLine({ command: 'TIME', status: 'OK', ok: true, answer: '13:25:01.208346', rttMs: 0.2284, offsetMs: -0.012 });
 * // 'TIME 13:25:01.208346 rtt=0.228 ms offset=-0.012 ms'
 */
export function answerLine(answer: Answer): string {
  const text = answer.ok ? answer.answer : `${answer.status}: ${answer.answer}`;
  const offset =
    answer.offsetMs === undefined
      ? ''
      : ` offset=${answer.offsetMs >= 0 ? '+' : ''}${ms(answer.offsetMs)} ms`;
  return `${answer.command} ${text} rtt=${ms(answer.rttMs)} ms${offset}`;
}

/**
 * One answer as one JSON object: `{"command","status","answer","rtt_ms"}`, and `offset_ms`
 * for a framed TIME.
 *
 * @example
 * answerJson(answer); // '{"command":"DATE","status":"OK","answer":"2026-11-25","rtt_ms":0.21}'
 */
export function answerJson(answer: Answer): string {
  return JSON.stringify({
    command: answer.command,
    status: answer.status,
    answer: answer.answer,
    rtt_ms: round(answer.rttMs),
    ...(answer.offsetMs === undefined ? {} : { offset_ms: round(answer.offsetMs) }),
  });
}

/**
 * A failure as one JSON object, for `--json`.
 *
 * @example
 * errorJson({ code: 'RTT_ERR_CONNECT', message: 'cannot connect ...' }); // '{"error":{"code":...}}'
 */
export function errorJson(error: { code?: string | undefined; message: string }): string {
  return JSON.stringify({
    error: { code: error.code ?? 'RTT_ERR_CLIENT', message: error.message },
  });
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * Sums up a run: `sent` requests, the answered ones' round trips (min, average, max and mean
 * deviation as ping computes it: the square root of the mean square less the squared mean).
 *
 * @example
 * summarize(3, [0.1, 0.2, 0.3]); // { sent: 3, answered: 3, lostPercent: 0, rtt: { min: 0.1, avg: 0.2, max: 0.3, mdev: 0.0816... } }
 */
export function summarize(sent: number, rtts: readonly number[]): Summary {
  const answered = rtts.length;
  const lostPercent = sent === 0 ? 0 : Math.round(((sent - answered) / sent) * 100);
  if (answered === 0) return { sent, answered, lostPercent, rtt: undefined };
  let sum = 0;
  let squares = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const rtt of rtts) {
    sum += rtt;
    squares += rtt * rtt;
    min = Math.min(min, rtt);
    max = Math.max(max, rtt);
  }
  const avg = sum / answered;
  const mdev = Math.sqrt(Math.max(0, squares / answered - avg * avg));
  return { sent, answered, lostPercent, rtt: { min, avg, max, mdev } };
}

/**
 * The summary as ping prints it, or as one JSON object.
 *
 * @example
 * summaryLine(summarize(3, [0.1, 0.2, 0.3])); // '3 sent, 3 answered, 0% lost; rtt min/avg/max/mdev = 0.100/0.200/0.300/0.082 ms'
 */
export function summaryLine(summary: Summary, json = false): string {
  const { sent, answered, lostPercent, rtt } = summary;
  if (json) {
    return JSON.stringify({
      sent,
      answered,
      lost_percent: lostPercent,
      rtt_ms:
        rtt === undefined
          ? null
          : {
              min: round(rtt.min),
              avg: round(rtt.avg),
              max: round(rtt.max),
              mdev: round(rtt.mdev),
            },
    });
  }
  const head = `${sent} sent, ${answered} answered, ${lostPercent}% lost`;
  if (rtt === undefined) return head;
  return `${head}; rtt min/avg/max/mdev = ${ms(rtt.min)}/${ms(rtt.avg)}/${ms(rtt.max)}/${ms(rtt.mdev)} ms`;
}

/** Options of {@link runCommand}. */
export interface RunOptions {
  command: OneShotCommand;
  /** Times to ask; 0: until `signal` aborts. */
  count: number;
  /** Seconds between two requests. */
  interval: number;
  json: boolean;
  /** Aborted on Ctrl+C: the run stops and sums up. */
  signal: AbortSignal;
  print: (line: string) => void;
  printError: (line: string) => void;
}

/**
 * Asks `command` `count` times (or until `signal` aborts), one line per answer, then a
 * summary when more than one was asked for. Resolves with the exit code: 0 when every
 * request was answered OK, 1 otherwise.
 *
 * @example
 * const code = await runCommand(client, { command: 'ping', count: 5, interval: 1, json: false, signal, print, printError });
 */
export async function runCommand(client: OneShotConnection, options: RunOptions): Promise<number> {
  const { command, count, interval, json, signal, print, printError } = options;
  const rtts: number[] = [];
  let sent = 0;
  let failed = false;
  while ((count === 0 || sent < count) && !signal.aborted) {
    if (sent > 0 && interval > 0 && !(await pause(interval * 1000, signal))) break;
    sent += 1;
    let answer: Answer;
    try {
      answer = await ask(client, command);
    } catch (err) {
      const error = err as { code?: string; message: string };
      printError(json ? errorJson(error) : `🛑 ${error.message}`);
      failed = true;
      break;
    }
    print(json ? answerJson(answer) : answerLine(answer));
    if (answer.ok) rtts.push(answer.rttMs);
    else failed = true;
  }
  if (count !== 1) print(summaryLine(summarize(sent, rtts), json));
  return failed || rtts.length < sent ? 1 : 0;
}

// Resolves true after `ms`, or false at once when `signal` aborts first.
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
