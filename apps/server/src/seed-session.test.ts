import { describe, expect, it } from 'vitest';
import { endsMidCommand } from './seed-session.ts';

describe('endsMidCommand', () => {
  it.each([
    ['T', true],
    ['ti', true],
    ['TEM', true],
    ['TIMEDA', true],
    [' time d', true],
    ['TIME', false],
    ['TIMEDATE', false],
    ['', false],
    ['XY', false],
    ['WHATTI', false],
    ['TIMEX', false],
  ])('%j -> %s', (text, expected) => {
    expect(endsMidCommand(text)).toBe(expected);
  });
});
