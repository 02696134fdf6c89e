import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js';

export type { Histogram };

/** Latency figures in milliseconds, as the report and the JSON line show them. */
export interface LatencySummary {
  avg: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

// Values are recorded in microseconds: 3 significant digits keep 0.1% resolution from
// 1 µs up; an hour is far beyond any answer we would still wait for.
const HIGHEST_MICROS = 3_600_000_000;

/**
 * A latency histogram recording microseconds (1 µs to 1 h, 3 significant digits).
 *
 * @example
 * const histogram = createLatencyHistogram();
 * recordMillis(histogram, 0.25); // 250 µs
 */
export function createLatencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MICROS,
    numberOfSignificantValueDigits: 3,
  });
}

/**
 * Records one round-trip time given in milliseconds (rounded to whole microseconds, at
 * least 1 so that a very fast answer still counts as a value).
 *
 * @example
 * recordMillis(histogram, performance.now() - sentAt);
 */
export function recordMillis(histogram: Histogram, ms: number): void {
  const micros = Math.round(ms * 1000);
  histogram.recordValue(Math.min(Math.max(micros, 1), HIGHEST_MICROS));
}

/**
 * Encodes a histogram for `postMessage` between threads (HdrHistogram's compressed base64,
 * the same form other HdrHistogram tools read).
 *
 * @example
 * parentPort.postMessage({ histogram: encodeHistogram(histogram) });
 */
export function encodeHistogram(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

/**
 * Decodes and adds up histograms encoded by {@link encodeHistogram}, one per thread.
 *
 * @example
 * const total = mergeHistograms(results.map((r) => r.histogram));
 */
export function mergeHistograms(encoded: readonly string[]): Histogram {
  const total = createLatencyHistogram();
  for (const text of encoded) total.add(decodeFromCompressedBase64(text));
  return total;
}

const ms3 = (micros: number) => Math.round(micros) / 1000;

/**
 * The report's latency figures, in milliseconds with microsecond precision. An empty
 * histogram gives zeros.
 *
 * @example
 * summarizeLatency(histogram); // { avg: 0.61, min: 0.102, p50: 0.55, p95: 0.9, p99: 1.3, max: 4.4 }
 */
export function summarizeLatency(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { avg: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const max = histogram.maxValue;
  // A percentile is reported as the top of its bucket, which may lie a hair above the
  // largest value recorded: no percentile is shown above the maximum.
  const at = (percentile: number) => ms3(Math.min(histogram.getValueAtPercentile(percentile), max));
  return {
    avg: ms3(histogram.mean),
    min: ms3(histogram.minNonZeroValue),
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: ms3(max),
  };
}
