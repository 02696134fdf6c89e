import type { TemperatureSource } from './temperature.ts';
import { formatTemperature } from './temperature.ts';

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/**
 * Local time of day with microseconds, the seed's `HH:MM:SS.ffffff`. `performance.timeOrigin +
 * performance.now()` carries sub-millisecond digits that `Date` does not.
 *
 * @example
 * formatTime(Date.UTC(2024, 9, 23, 0, 2, 19) * 1000 + 198_109); // '00:02:19.198109' in UTC
 */
export function formatTime(epochMicros: number = nowMicros()): string {
  const micros = ((epochMicros % 1_000_000) + 1_000_000) % 1_000_000;
  const date = new Date((epochMicros - micros) / 1000);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(micros, 6)}`;
}

/**
 * Local date, `YYYY-MM-DD`.
 *
 * @example
 * formatDate(new Date(2024, 9, 23)); // '2024-10-23'
 */
export function formatDate(date: Date = new Date()): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Microseconds since the epoch, from the high-resolution clock. */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** How much of an unknown command an error answer quotes. */
export const MAX_ECHO = 32;

/** The answers the server gives, by command name. */
export type Answer = { ok: true; text: string } | { ok: false; text: string };

/**
 * Answers one command by name (`TIME`, `DATE`, `TEMP`); `PING` is answered by the framed
 * session itself (it echoes a payload).
 *
 * @example
 * answer('DATE', source); // { ok: true, text: '2026-11-25' }
 * answer('WHAT', source); // { ok: false, text: 'unknown command WHAT' }
 */
export function answer(command: string, temperature: TemperatureSource): Answer {
  switch (command) {
    case 'TIME':
      return { ok: true, text: formatTime() };
    case 'DATE':
      return { ok: true, text: formatDate() };
    case 'TEMP':
      return { ok: true, text: formatTemperature(temperature.read()) };
    default:
      // Quote a bounded prefix: the text came from the client and need not be echoed whole.
      return { ok: false, text: `unknown command ${JSON.stringify(command.slice(0, MAX_ECHO))}` };
  }
}
