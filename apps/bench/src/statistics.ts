/**
 * The median of some numbers (the mean of the middle two for an even count); NaN for none.
 * Medians of repeated runs are what the report quotes: one noisy run on a shared machine
 * moves a mean, not a median.
 *
 * @example
 * median([3, 1, 2]); // 2
 * median([4, 1, 3, 2]); // 2.5
 */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * `a / b` rounded to two decimals, or NaN when `b` is not a positive number.
 *
 * @example
 * ratio(95, 100); // 0.95
 */
export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) ? Math.round((a / b) * 100) / 100 : Number.NaN;
}
