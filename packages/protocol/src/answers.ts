import type { Answerer } from './session.ts';

/**
 * The answers' text, as the seed's server formats them: TIME `HH:MM:SS.ffffff` (local time,
 * microseconds), DATE `YYYY-MM-DD` (local), TEMP `<number>°C`. Kept in the protocol package
 * so that every server (the real one, the benchmark's baseline, another project's) gives the
 * same text for the same work.
 */

/** One temperature reading; `simulated` marks a reading from no real sensor. */
export interface TemperatureReading {
  readonly celsius: number;
  readonly simulated: boolean;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/**
 * Microseconds since the epoch, from the high-resolution clock: `performance.timeOrigin +
 * performance.now()` carries sub-millisecond digits that `Date` does not.
 * @example
 * formatTime(nowMicros());
 */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * Local time of day with microseconds, the seed's `HH:MM:SS.ffffff`.
 * @example
 * formatTime(new Date(2024, 9, 23, 0, 2, 19).getTime() * 1000 + 198_109); // '00:02:19.198109'
 */
export function formatTime(epochMicros: number = nowMicros()): string {
  const micros = ((epochMicros % 1_000_000) + 1_000_000) % 1_000_000;
  const date = new Date((epochMicros - micros) / 1000);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(micros, 6)}`;
}

/**
 * Local date, `YYYY-MM-DD`.
 * @example
 * formatDate(new Date(2024, 9, 23)); // '2024-10-23'
 */
export function formatDate(date: Date = new Date()): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/**
 * A reading as the seed shows it (`6°C`), marking simulated ones so that nobody takes a
 * made-up number for a measurement.
 * @example
 * formatTemperature({ celsius: 21.5, simulated: true }); // '21.5°C (simulated)'
 */
export function formatTemperature({ celsius, simulated }: TemperatureReading): string {
  return `${celsius}°C${simulated ? ' (simulated)' : ''}`;
}

/**
 * The server's answers for TIME, DATE and TEMP, with temperatures from `readTemperature`.
 * @example
 * const answer = createAnswerer(() => ({ celsius: 21, simulated: true }));
 * answer('TEMP'); // '21°C (simulated)'
 * answer('DATE'); // e.g. '2026-11-25'
 */
export function createAnswerer(readTemperature: () => TemperatureReading): Answerer {
  if (typeof readTemperature !== 'function') {
    throw new TypeError('readTemperature must be a function');
  }
  return (command) => {
    switch (command) {
      case 'TIME':
        return formatTime();
      case 'DATE':
        return formatDate();
      case 'TEMP':
        return formatTemperature(readTemperature());
      default:
        throw new RangeError(`no answer for command ${String(command)}`);
    }
  };
}
