import { describe, expect, it } from 'vitest';
import { barChart, escapeXml, formatTick, linearTicks, lineChart, logTicks } from './svg-chart.ts';

describe('axis ticks', () => {
  it('steps a linear axis by 1, 2 or 5 times a power of ten, from 0 past the maximum', () => {
    expect(linearTicks(93_000)).toEqual([0, 20_000, 40_000, 60_000, 80_000, 100_000]);
    expect(linearTicks(4)).toEqual([0, 1, 2, 3, 4]);
    expect(linearTicks(0)).toEqual([0, 1]);
  });

  it('covers whole decades on a log axis', () => {
    const ticks = logTicks(0.07, 35);
    expect(ticks[0]).toBe(0.01);
    expect(ticks.at(-1)).toBe(100);
    expect(ticks).toContain(0.05);
    expect(ticks).toContain(20);
  });

  it('labels values shortly', () => {
    expect(formatTick(95_000)).toBe('95k');
    expect(formatTick(1_250_000)).toBe('1.3M');
    expect(formatTick(0.05)).toBe('0.05');
  });
});

describe('charts', () => {
  it('draws one polyline per series and escapes text', () => {
    const svg = lineChart({
      title: 'p50 < p99',
      xLabel: 'connections',
      yLabel: 'ms',
      xLabels: ['1', '10', '50'],
      series: [
        { name: 'a', values: [1, 2, 3], color: '#000' },
        { name: 'b', values: [1, Number.NaN, 3], color: '#f00', dashed: true },
      ],
      logY: true,
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(5);
    expect(svg).toContain('p50 &lt; p99');
    expect(svg).toContain('stroke-dasharray');
    expect(svg).not.toContain('NaN');
  });

  it('draws one bar per value', () => {
    const svg = barChart({
      title: 'threads',
      yLabel: 'req/s',
      bars: [
        { label: '-t 1', value: 80_000, color: '#00f' },
        { label: '-t 2', value: 90_000, color: '#00f' },
      ],
    });
    expect(svg.match(/<rect /g)).toHaveLength(3);
    expect(svg).toContain('>90k<');
    expect(escapeXml('"&"')).toBe('&quot;&amp;&quot;');
  });
});
