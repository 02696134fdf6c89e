/**
 * Small hand-written SVG charts for the benchmark report: a line chart over categories and
 * a bar chart. Plain SVG 1.1 text with no script and no external font, so GitHub renders
 * it inline and a diff of two runs' charts stays readable.
 */

export interface Series {
  name: string;
  /** One value per x label; NaN leaves a gap. */
  values: readonly number[];
  color: string;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  xLabels: readonly string[];
  series: readonly Series[];
  /** A logarithmic y axis, for values that span decades (latencies). */
  logY?: boolean;
  width?: number;
  height?: number;
}

export interface Bar {
  label: string;
  value: number;
  color: string;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  bars: readonly Bar[];
  width?: number;
  height?: number;
}

const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const MARGIN = { top: 48, right: 190, bottom: 56, left: 78 };

/**
 * Escapes text for an SVG text node or attribute.
 *
 * @example
 * escapeXml('p50 < 1 ms'); // 'p50 &lt; 1 ms'
 */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/**
 * Round tick values for a linear axis from 0 to at least `max`: steps of 1, 2 or 5 times a
 * power of ten, about five of them.
 *
 * @example
 * linearTicks(93_000); // [0, 20000, 40000, 60000, 80000, 100000]
 */
export function linearTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step; v += step) ticks.push(Math.round(v * 1e9) / 1e9);
  return ticks;
}

/**
 * Tick values for a logarithmic axis covering `min`..`max`: 1, 2 and 5 times each power of
 * ten inside the range, plus the decades around it.
 *
 * @example
 * logTicks(0.07, 35); // [0.01, 0.02, 0.05, 0.1, ..., 50, 100]
 */
export function logTicks(min: number, max: number): number[] {
  const low = Math.floor(Math.log10(Math.max(min, 1e-9)));
  const high = Math.ceil(Math.log10(Math.max(max, min * 10)));
  const ticks: number[] = [];
  for (let e = low; e <= high; e++) {
    for (const m of [1, 2, 5]) {
      const v = Math.round(m * 10 ** e * 1e9) / 1e9;
      if (v >= 10 ** low && v <= 10 ** high) ticks.push(v);
    }
  }
  return ticks;
}

/**
 * A short label for an axis value: `95k`, `1.2M`, `0.05`.
 *
 * @example
 * formatTick(95_000); // '95k'
 */
export function formatTick(value: number): string {
  if (value >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return `${+value.toPrecision(3)}`;
}

// A horizontal line and a label for every tick of the value axis.
function gridLines(
  ticks: readonly number[],
  y: (value: number) => number,
  plotW: number,
): string[] {
  return ticks.flatMap((tick) => {
    const ty = y(tick).toFixed(1);
    return [
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${ty}" y2="${ty}" stroke="#e3e3e3"/>`,
      `<text x="${MARGIN.left - 8}" y="${ty}" dy="4" text-anchor="end" fill="#444">${formatTick(tick)}</text>`,
    ];
  });
}

function frame(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="13">`,
    // The title element is what screen readers and tooltips use for the whole chart.
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * A line chart over evenly spaced categories (e.g. 1, 10, 50, 200, 1000 connections).
 *
 * @example
 * const svg = lineChart({
 *   title: 'Throughput', xLabel: 'connections', yLabel: 'requests/s',
 *   xLabels: ['1', '10', '50'],
 *   series: [{ name: 'server', values: [12000, 80000, 90000], color: '#1f77b4' }],
 * });
 */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 440;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const values = options.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && v > 0);
  const max = Math.max(...values, 1e-9);
  const min = Math.min(...values, max);
  const ticks = options.logY ? logTicks(min, max) : linearTicks(max);
  const lo = options.logY ? Math.log10(ticks[0] as number) : 0;
  const hi = options.logY ? Math.log10(ticks.at(-1) as number) : (ticks.at(-1) as number);
  const y = (v: number) =>
    MARGIN.top + plotH - (((options.logY ? Math.log10(v) : v) - lo) / (hi - lo)) * plotH;
  const n = options.xLabels.length;
  const x = (i: number) => MARGIN.left + (n === 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const body: string[] = [];

  body.push(...gridLines(ticks, y, plotW));
  options.xLabels.forEach((label, i) => {
    body.push(
      `<text x="${x(i).toFixed(1)}" y="${MARGIN.top + plotH + 20}" text-anchor="middle" fill="#444">${escapeXml(label)}</text>`,
    );
  });
  body.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#888"/>`,
  );
  body.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#888"/>`,
  );
  body.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
  );
  body.push(
    `<text transform="translate(20 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );

  options.series.forEach((series, index) => {
    const points = series.values
      .map((v, i) =>
        Number.isFinite(v) && v > 0 ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : undefined,
      )
      .filter((p) => p !== undefined);
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    body.push(
      `<polyline points="${points.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2.2"${dash}/>`,
    );
    for (const point of points) {
      const [px, py] = point.split(',');
      body.push(`<circle cx="${px}" cy="${py}" r="3.5" fill="${series.color}"/>`);
    }
    const ly = MARGIN.top + 8 + index * 22;
    const lx = MARGIN.left + plotW + 18;
    body.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${series.color}" stroke-width="2.2"${dash}/>`,
    );
    body.push(`<text x="${lx + 32}" y="${ly}" dy="4">${escapeXml(series.name)}</text>`);
  });
  return frame(width, height, options.title, body);
}

/**
 * A vertical bar chart with the value printed above each bar.
 *
 * @example
 * const svg = barChart({ title: 'Threads', yLabel: 'requests/s', bars: [{ label: '-t 1', value: 80000, color: '#1f77b4' }] });
 */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 400;
  const right = 30;
  const plotW = width - MARGIN.left - right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const ticks = linearTicks(Math.max(...options.bars.map((b) => b.value), 1));
  const top = ticks.at(-1) as number;
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
  const slot = plotW / Math.max(1, options.bars.length);
  const body: string[] = [];
  body.push(...gridLines(ticks, y, plotW));
  options.bars.forEach((bar, i) => {
    const bx = MARGIN.left + i * slot + slot * 0.18;
    const bw = slot * 0.64;
    const by = y(bar.value);
    body.push(
      `<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${bw.toFixed(1)}" height="${(MARGIN.top + plotH - by).toFixed(1)}" fill="${bar.color}"/>`,
    );
    body.push(
      `<text x="${(bx + bw / 2).toFixed(1)}" y="${(by - 6).toFixed(1)}" text-anchor="middle" fill="#222">${formatTick(bar.value)}</text>`,
    );
    body.push(
      `<text x="${(bx + bw / 2).toFixed(1)}" y="${MARGIN.top + plotH + 20}" text-anchor="middle" fill="#444">${escapeXml(bar.label)}</text>`,
    );
  });
  body.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#888"/>`,
  );
  body.push(
    `<text transform="translate(20 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  return frame(width, height, options.title, body);
}
