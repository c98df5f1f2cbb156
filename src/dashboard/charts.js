/**
 * Small inline-SVG charts: a line over time and horizontal bars. Colours come from the stylesheet
 * (classes, not style attributes: the Content-Security-Policy allows no inline style). Each chart is
 * an image with a title and a description that says in words what it shows.
 */
import { svg } from './dom.js';

/** viewBox width: about the width a chart gets on screen, so its 11-unit text reads as ~11 px. */
const WIDTH = 400;
let chartIds = 0;

/** 1, 2 or 5 times a power of ten, at least `value`. @param {number} value */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

/**
 * @param {{ title: string, description: string }} text
 * @param {number} height
 */
function frame(text, height) {
  const id = `chart-${++chartIds}`;
  return svg(
    'svg',
    {
      viewBox: `0 0 ${WIDTH} ${height}`,
      role: 'img',
      'aria-labelledby': `${id}-title ${id}-desc`,
    },
    svg('title', { id: `${id}-title` }, text.title),
    svg('desc', { id: `${id}-desc` }, text.description),
  );
}

/** @param {number} ms */
function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * A line over time.
 * @param {{
 *   title: string,
 *   points: { t: number, v: number }[],
 *   from: number,
 *   to: number,
 *   format: (v: number) => string,
 *   unit: string,
 *   height?: number,
 * }} options
 * @returns {SVGElement}
 */
export function lineChart(options) {
  const { points, from, to, format, unit } = options;
  const height = options.height ?? 150;
  const left = 44;
  const right = 12;
  const top = 10;
  const bottom = 22;
  const max = Math.max(0, ...points.map((p) => p.v));
  const peak = points.find((p) => p.v === max);
  const last = points.at(-1);
  const description =
    points.length === 0
      ? 'No data yet.'
      : max === 0
        ? `Zero ${unit} throughout, ${clock(from)} to ${clock(to)}.`
        : `From ${clock(from)} to ${clock(to)}: peak ${format(max)} ${unit}` +
          (peak ? ` at ${clock(peak.t)}` : '') +
          `, latest ${format(last?.v ?? 0)} ${unit}.`;
  const chart = frame({ title: options.title, description }, height);
  const yMax = niceMax(max);
  const span = Math.max(1, to - from);
  const x = (/** @type {number} */ t) => left + ((t - from) / span) * (WIDTH - left - right);
  const y = (/** @type {number} */ v) => top + (1 - v / yMax) * (height - top - bottom);
  const axis = svg('g', { class: 'axis', 'aria-hidden': 'true' });
  for (const fraction of [0, 0.5, 1]) {
    const value = yMax * fraction;
    axis.append(
      svg('line', { class: 'grid', x1: left, x2: WIDTH - right, y1: y(value), y2: y(value) }),
      svg('text', { x: left - 6, y: y(value) + 4, 'text-anchor': 'end' }, format(value)),
    );
  }
  const ticks = [
    [from, 'start'],
    [from + span / 2, 'middle'],
    [to, 'end'],
  ];
  for (const [t, anchor] of ticks) {
    axis.append(svg('text', { x: x(Number(t)), y: height - 6, 'text-anchor': anchor }, clock(Number(t))));
  }
  chart.append(axis);
  if (points.length > 0) {
    const coordinates = points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`);
    const base = y(0).toFixed(1);
    const first = points[0];
    const line = `M${coordinates.join('L')}`;
    chart.append(
      svg('path', {
        class: 'area',
        d: `${line}L${x(last?.t ?? 0).toFixed(1)},${base}L${x(first?.t ?? 0).toFixed(1)},${base}Z`,
      }),
      svg('path', { class: 'line', d: line }),
    );
    if (last) chart.append(svg('circle', { class: 'dot', cx: x(last.t), cy: y(last.v), r: 3 }));
  }
  return chart;
}

/**
 * Horizontal bars with their labels and values.
 * @param {{
 *   title: string,
 *   items: { label: string, value: number, display: string, tone?: string }[],
 *   max?: number,
 *   empty: string,
 * }} options
 * @returns {SVGElement}
 */
export function barChart(options) {
  const { items } = options;
  const row = 26;
  const height = Math.max(1, items.length) * row + 8;
  const description =
    items.length === 0 ? options.empty : items.map((item) => `${item.label}: ${item.display}`).join('; ');
  const chart = frame({ title: options.title, description }, height);
  if (items.length === 0) {
    chart.append(svg('text', { class: 'none', x: 0, y: 20 }, options.empty));
    return chart;
  }
  const labelWidth = 120;
  const valueWidth = 56;
  const barWidth = WIDTH - labelWidth - valueWidth;
  const max = options.max ?? Math.max(...items.map((item) => item.value), 0);
  items.forEach((item, i) => {
    const top = 4 + i * row;
    const width = max > 0 ? (item.value / max) * barWidth : 0;
    chart.append(
      svg('text', { class: 'label', x: 0, y: top + 16 }, truncate(item.label, 18)),
      svg('rect', { class: 'bar-track', x: labelWidth, y: top + 4, width: barWidth, height: 16, rx: 3 }),
      svg('rect', {
        class: `bar ${item.tone ?? ''}`.trim(),
        x: labelWidth,
        y: top + 4,
        width: Math.max(item.value > 0 ? 2 : 0, width).toFixed(1),
        height: 16,
        rx: 3,
      }),
      svg('text', { class: 'value', x: WIDTH, y: top + 16, 'text-anchor': 'end' }, item.display),
    );
  });
  return chart;
}

/** @param {string} text @param {number} length */
function truncate(text, length) {
  const chars = [...text];
  return chars.length <= length ? text : `${chars.slice(0, length - 1).join('')}…`;
}
