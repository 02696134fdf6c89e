import { describe, expect, it } from 'vitest';
import {
  createLatencyHistogram,
  encodeHistogram,
  mergeHistograms,
  recordMillis,
  summarizeLatency,
} from './latency.ts';

describe('latency histograms', () => {
  it('records milliseconds as microseconds and summarizes in milliseconds', () => {
    const histogram = createLatencyHistogram();
    for (let i = 1; i <= 100; i++) recordMillis(histogram, i / 10);
    const summary = summarizeLatency(histogram);
    expect(summary.min).toBeCloseTo(0.1, 3);
    expect(summary.max).toBeCloseTo(10, 1);
    expect(summary.p50).toBeCloseTo(5, 1);
    expect(summary.p95).toBeCloseTo(9.5, 1);
    expect(summary.p99).toBeCloseTo(9.9, 1);
    expect(summary.avg).toBeCloseTo(5.05, 1);
  });

  it('never shows a percentile above the maximum', () => {
    const histogram = createLatencyHistogram();
    for (let i = 0; i < 100; i++) recordMillis(histogram, 187.743);
    const summary = summarizeLatency(histogram);
    expect(summary.p99).toBeLessThanOrEqual(summary.max);
    expect(summary.p50).toBeLessThanOrEqual(summary.max);
  });

  it('counts an answer faster than a microsecond as one microsecond', () => {
    const histogram = createLatencyHistogram();
    recordMillis(histogram, 0);
    expect(histogram.totalCount).toBe(1);
    expect(summarizeLatency(histogram).max).toBe(0.001);
  });

  it('merges the histograms that threads send back encoded', () => {
    const a = createLatencyHistogram();
    const b = createLatencyHistogram();
    for (let i = 0; i < 1000; i++) recordMillis(a, 1);
    for (let i = 0; i < 1000; i++) recordMillis(b, 3);
    const merged = mergeHistograms([encodeHistogram(a), encodeHistogram(b)]);
    expect(merged.totalCount).toBe(2000);
    const summary = summarizeLatency(merged);
    expect(summary.min).toBeCloseTo(1, 2);
    expect(summary.max).toBeCloseTo(3, 2);
    expect(summary.avg).toBeCloseTo(2, 2);
  });

  it('summarizes an empty histogram as zeros', () => {
    expect(summarizeLatency(mergeHistograms([]))).toEqual({
      avg: 0,
      min: 0,
      p50: 0,
      p95: 0,
      p99: 0,
      max: 0,
    });
  });
});
