import { Status } from '@rtt/protocol';
import type { ClockReading, Reply } from '@rtt/protocol/node';
import { describe, expect, it } from 'vitest';
import {
  type Answer,
  answerJson,
  answerLine,
  ask,
  errorJson,
  type OneShotConnection,
  runCommand,
  summarize,
  summaryLine,
} from './one-shot.ts';

function fakeClient(
  wire: 'framed' | 'seed',
  replies: Partial<Record<string, Reply | Error>> = {},
  clock: ClockReading | Error = { serverMicros: 1, offsetMs: -0.0124, rttMs: 0.2 },
) {
  const sent: string[] = [];
  const client: OneShotConnection = {
    wire,
    async request(command, payload) {
      sent.push(payload === undefined ? command : `${command} ${payload}`);
      const reply = replies[command] ?? {
        status: Status.OK,
        ok: true,
        text: `${command}!`,
        rttMs: 0.25,
      };
      if (reply instanceof Error) throw reply;
      return reply;
    },
    async clock() {
      sent.push('CLOCK');
      if (clock instanceof Error) throw clock;
      return clock;
    },
  };
  return { client, sent };
}

const time: Answer = {
  command: 'TIME',
  status: 'OK',
  ok: true,
  answer: '13:25:01.208346',
  rttMs: 0.22844,
  offsetMs: -0.0124,
};

describe('one answer', () => {
  it('asks TIME with CLOCK on the framed wire, for the offset; alone on the seed wire', async () => {
    const framed = fakeClient('framed');
    expect(await ask(framed.client, 'time')).toEqual({
      command: 'TIME',
      status: 'OK',
      ok: true,
      answer: 'TIME!',
      rttMs: 0.25,
      offsetMs: -0.0124,
    });
    expect(framed.sent.sort()).toEqual(['CLOCK', 'TIME']);
    const seed = fakeClient('seed');
    expect(await ask(seed.client, 'time')).not.toHaveProperty('offsetMs');
    expect(seed.sent).toEqual(['TIME']);
  });

  it('gives no offset when the server has no CLOCK, and names a failed status', async () => {
    const { client } = fakeClient(
      'framed',
      { TEMP: { status: Status.INTERNAL_ERROR, ok: false, text: 'internal error', rttMs: 1 } },
      new Error('unknown command 5'),
    );
    expect(await ask(client, 'time')).not.toHaveProperty('offsetMs');
    const temp = await ask(client, 'temp');
    expect(answerLine(temp)).toBe('TEMP INTERNAL_ERROR: internal error rtt=1.000 ms');
  });

  it('prints as a line and as JSON', () => {
    expect(answerLine(time)).toBe('TIME 13:25:01.208346 rtt=0.228 ms offset=-0.012 ms');
    expect(answerLine({ ...time, offsetMs: 0.5 })).toContain('offset=+0.500 ms');
    expect(JSON.parse(answerJson(time))).toEqual({
      command: 'TIME',
      status: 'OK',
      answer: '13:25:01.208346',
      rtt_ms: 0.228,
      offset_ms: -0.012,
    });
    expect(JSON.parse(errorJson({ message: 'gone' }))).toEqual({
      error: { code: 'RTT_ERR_CLIENT', message: 'gone' },
    });
  });
});

describe('a run of several', () => {
  it('sums up as ping does: min, avg, max and mean deviation', () => {
    const summary = summarize(4, [0.1, 0.2, 0.3]);
    expect(summary).toMatchObject({ sent: 4, answered: 3, lostPercent: 25 });
    expect(summary.rtt?.mdev).toBeCloseTo(Math.sqrt(2 / 300), 10);
    expect(summaryLine(summary)).toBe(
      '4 sent, 3 answered, 25% lost; rtt min/avg/max/mdev = 0.100/0.200/0.300/0.082 ms',
    );
    expect(summaryLine(summarize(0, []))).toBe('0 sent, 0 answered, 0% lost');
    expect(JSON.parse(summaryLine(summarize(2, [1, 3]), true))).toEqual({
      sent: 2,
      answered: 2,
      lost_percent: 0,
      rtt_ms: { min: 1, avg: 2, max: 3, mdev: 1 },
    });
  });

  const run = (client: OneShotConnection, count: number, signal = new AbortController().signal) => {
    const out: string[] = [];
    const errors: string[] = [];
    const done = runCommand(client, {
      command: 'date',
      count,
      interval: 0,
      json: false,
      signal,
      print: (line) => out.push(line),
      printError: (line) => errors.push(line),
    });
    return { done, out, errors };
  };

  it('asks count times, then sums up; exit code 0', async () => {
    const { done, out } = run(fakeClient('framed').client, 3);
    expect(await done).toBe(0);
    expect(out).toEqual([
      'DATE DATE! rtt=0.250 ms',
      'DATE DATE! rtt=0.250 ms',
      'DATE DATE! rtt=0.250 ms',
      '3 sent, 3 answered, 0% lost; rtt min/avg/max/mdev = 0.250/0.250/0.250/0.000 ms',
    ]);
  });

  it('asks once with no summary by default', async () => {
    const { done, out } = run(fakeClient('framed').client, 1);
    expect(await done).toBe(0);
    expect(out).toEqual(['DATE DATE! rtt=0.250 ms']);
  });

  it('stops at a lost connection with one error line and exit code 1', async () => {
    const { done, out, errors } = run(
      fakeClient('framed', { DATE: new Error('connection lost') }).client,
      3,
    );
    expect(await done).toBe(1);
    expect(errors).toEqual(['🛑 connection lost']);
    expect(out).toEqual(['1 sent, 0 answered, 100% lost']);
  });

  it('with count 0, runs until the signal aborts, then sums up', async () => {
    const stop = new AbortController();
    let asked = 0;
    const client: OneShotConnection = {
      wire: 'seed',
      async request() {
        asked += 1;
        if (asked === 5) stop.abort();
        return { status: Status.OK, ok: true, text: 'x', rttMs: 1 };
      },
      clock: () => Promise.reject(new Error('no clock')),
    };
    const { done, out } = run(client, 0, stop.signal);
    expect(await done).toBe(0);
    expect(out.at(-1)).toBe(
      '5 sent, 5 answered, 0% lost; rtt min/avg/max/mdev = 1.000/1.000/1.000/0.000 ms',
    );
  });
});
