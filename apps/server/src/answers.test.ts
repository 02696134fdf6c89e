import { describe, expect, it } from 'vitest';
import { answer, formatDate, formatTime, MAX_ECHO } from './answers.ts';
import { simulatedSensor } from './temperature.ts';

const source = simulatedSensor(21, () => 0.5);

describe('answers', () => {
  it('formats TIME as the seed does, HH:MM:SS.ffffff in local time, with real microseconds', () => {
    const at = new Date(2024, 9, 23, 0, 2, 19).getTime() * 1000 + 198_109;
    expect(formatTime(at)).toBe('00:02:19.198109');
    expect(formatTime(at + 1)).toBe('00:02:19.198110');
    expect(answer('TIME', source).text).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{6}$/);
  });

  it('formats DATE as YYYY-MM-DD in local time', () => {
    expect(formatDate(new Date(2024, 9, 3))).toBe('2024-10-03');
    expect(answer('DATE', source)).toEqual({ ok: true, text: formatDate() });
  });

  it('answers TEMP from the source, marking a simulated reading', () => {
    expect(answer('TEMP', source)).toEqual({ ok: true, text: '21°C (simulated)' });
  });

  it('refuses an unknown command, quoting at most a short prefix of it', () => {
    expect(answer('WHAT', source)).toEqual({ ok: false, text: 'unknown command "WHAT"' });
    const long = answer('X'.repeat(10_000), source).text;
    expect(long).toBe(`unknown command "${'X'.repeat(MAX_ECHO)}"`);
  });
});
