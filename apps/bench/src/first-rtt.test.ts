import { describe, expect, it } from 'vitest';
import { firstAgainstRest } from './first-rtt.ts';

describe('firstAgainstRest', () => {
  it('compares the first round trip with the median of the rest', () => {
    expect(firstAgainstRest([0.4, 0.2, 0.3, 0.2])).toEqual({ first: 0.4, median: 0.2, ratio: 2 });
    expect(firstAgainstRest([1, 4, 2])).toEqual({ first: 1, median: 3, ratio: 1 / 3 });
  });

  it('needs a first and at least one more', () => {
    expect(() => firstAgainstRest([1])).toThrow(RangeError);
  });
});
