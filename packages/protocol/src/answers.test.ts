import { describe, expect, it } from 'vitest';
import { createAnswerer, formatDate, formatTemperature, formatTime } from './answers.ts';

const answer = createAnswerer(() => ({ celsius: 21, simulated: true }));

describe('answers', () => {
  it('formats TIME as the seed does, HH:MM:SS.ffffff in local time, with real microseconds', () => {
    const at = new Date(2024, 9, 23, 0, 2, 19).getTime() * 1000 + 198_109;
    expect(formatTime(at)).toBe('00:02:19.198109');
    expect(formatTime(at + 1)).toBe('00:02:19.198110');
    expect(answer('TIME')).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{6}$/);
  });

  it('formats DATE as YYYY-MM-DD in local time', () => {
    expect(formatDate(new Date(2024, 9, 3))).toBe('2024-10-03');
    expect(answer('DATE')).toBe(formatDate());
  });

  it('answers TEMP from the reading, marking a simulated one', () => {
    expect(answer('TEMP')).toBe('21°C (simulated)');
    expect(formatTemperature({ celsius: 6, simulated: false })).toBe('6°C');
    expect(formatTemperature({ celsius: 21.4, simulated: true })).toBe('21.4°C (simulated)');
  });

  it('has no answer for anything else, and wants a function', () => {
    expect(() => answer('PING' as 'TIME')).toThrow(RangeError);
    expect(() => createAnswerer(undefined as never)).toThrow(TypeError);
  });
});
