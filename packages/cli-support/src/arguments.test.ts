import { describe, expect, it } from 'vitest';
import { integerIn, programArgs } from './arguments.ts';
import { UsageError } from './errors.ts';

describe('programArgs', () => {
  it('drops the `--` pnpm passes through, and only a leading one', () => {
    expect(programArgs(['node', 'main.ts', '--', '-p', '7777'])).toEqual(['-p', '7777']);
    expect(programArgs(['node', 'main.ts', '-p', '7777'])).toEqual(['-p', '7777']);
    expect(programArgs(['node', 'main.ts', '-p', '--', 'x'])).toEqual(['-p', '--', 'x']);
  });
});

describe('integerIn', () => {
  it('accepts integers within bounds, as numbers or strings', () => {
    expect(integerIn('port', 0, 0, 65535)).toBe(0);
    expect(integerIn('port', '65535', 0, 65535)).toBe(65535);
  });

  it.each([70000, -1, 1.5, Number.NaN, 'seven'])('rejects %s with a UsageError', (value) => {
    let caught: unknown;
    try {
      integerIn('port', value, 0, 65535);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).code).toBe('RTT_ERR_USAGE');
  });
});
