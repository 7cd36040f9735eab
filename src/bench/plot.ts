// One self-contained SVG for one or more runs: throughput over time above,
// p50 (solid) and p99 (dashed) latency over time below, on a shared time
// axis; one colour per run. A run without a timeline (wrk) is drawn as
// horizontal lines at its overall figures and says so in the legend.
import type { BenchResult } from './types.js';

const WIDTH = 1200;
const HEIGHT = 640;
const MARGIN = { left: 80, right: 340, top: 50, bottom: 50 };
const PANEL_GAP = 60;
const PANEL_HEIGHT = (HEIGHT - MARGIN.top - MARGIN.bottom - PANEL_GAP) / 2;
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
/** Latency goes on a log axis when its values span more than this ratio. */
const LOG_SCALE_RATIO_MIN = 20;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** A coordinate for the SVG: finite, two decimals. */
const num = (value: number): string => (Number.isFinite(value) ? String(Math.round(value * 100) / 100) : '0');

/** About `count` round tick values covering [min, max] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** The smallest nice tick value at or above `value`. */
function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const ticks = niceTicks(0, value, 5);
  const last = ticks[ticks.length - 1]!;
  return last >= value ? last : last + (ticks[1]! - ticks[0]!);
}

interface Scale {
  at: (value: number) => number;
  ticks: number[];
  log: boolean;
}

function linearScale(min: number, max: number, pixelLow: number, pixelHigh: number): Scale {
  const span = max - min || 1;
  return { at: (v) => pixelLow + ((v - min) / span) * (pixelHigh - pixelLow), ticks: niceTicks(min, max), log: false };
}

function logScale(min: number, max: number, pixelLow: number, pixelHigh: number): Scale {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const span = hi - lo || 1;
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) for (const m of hi - lo <= 2 ? [1, 2, 5] : [1]) if (e < hi || m === 1) ticks.push(Number((m * Math.pow(10, e)).toPrecision(6)));
  return { at: (v) => pixelLow + ((Math.log10(Math.max(v, Math.pow(10, lo))) - lo) / span) * (pixelHigh - pixelLow), ticks, log: true };
}

function tickLabel(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 10_000) return `${num(value / 1000)}k`;
  return String(Number(value.toPrecision(4)));
}

function axes(x: Scale, y: Scale, top: number, yTitle: string): string[] {
  const bottom = top + PANEL_HEIGHT;
  const right = MARGIN.left + PLOT_WIDTH;
  const parts = [`<rect x="${MARGIN.left}" y="${num(top)}" width="${PLOT_WIDTH}" height="${num(PANEL_HEIGHT)}" fill="none" stroke="#444"/>`];
  for (const t of x.ticks) {
    const px = num(x.at(t));
    parts.push(`<line x1="${px}" y1="${num(bottom)}" x2="${px}" y2="${num(bottom + 5)}" stroke="#444"/>`, `<text x="${px}" y="${num(bottom + 18)}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  for (const t of y.ticks) {
    const py = num(y.at(t));
    parts.push(`<line x1="${MARGIN.left}" y1="${py}" x2="${right}" y2="${py}" stroke="#e4e4e4"/>`, `<text x="${MARGIN.left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`);
  }
  parts.push(`<text transform="translate(20 ${num(top + PANEL_HEIGHT / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(yTitle)}</text>`);
  return parts;
}

function polyline(points: [number, number][], colour: string, dashed: boolean, cls: string): string {
  const dash = dashed ? ' stroke-dasharray="6 4"' : '';
  const markers = points.length < 3 ? points.map(([px, py]) => `<circle cx="${num(px)}" cy="${num(py)}" r="2.5" fill="${colour}"/>`).join('') : '';
  return `<polyline class="${cls}" fill="none" stroke="${colour}" stroke-width="1.6"${dash} points="${points.map(([px, py]) => `${num(px)},${num(py)}`).join(' ')}"/>${markers}`;
}

/** Throughput and latency over time for each result, as one SVG document. */
export function plotSvg(results: BenchResult[], title: string): string {
  const timeMax = Math.max(1, ...results.map((r) => (r.timeline.length > 0 ? r.timeline[r.timeline.length - 1]!.tSec : r.durationSec)));
  const x = linearScale(0, timeMax, MARGIN.left, MARGIN.left + PLOT_WIDTH);
  const throughputTop = MARGIN.top;
  const latencyTop = MARGIN.top + PANEL_HEIGHT + PANEL_GAP;
  const opsValues = results.flatMap((r) => (r.timeline.length > 0 ? r.timeline.map((p) => p.opsPerSec) : [r.opsPerSec]));
  const yOps = linearScale(0, niceCeil(Math.max(0, ...opsValues.filter(Number.isFinite)) * 1.05), throughputTop + PANEL_HEIGHT, throughputTop);
  const latencyValues = results.flatMap((r) => (r.timeline.length > 0 ? r.timeline.filter((p) => p.opsPerSec > 0).flatMap((p) => [p.p50Ms, p.p99Ms]) : [r.all.p50Ms, r.all.p99Ms])).filter((v) => Number.isFinite(v) && v > 0);
  const latencyMin = latencyValues.length > 0 ? Math.min(...latencyValues) : 0.1;
  const latencyMax = latencyValues.length > 0 ? Math.max(...latencyValues) : 1;
  const useLog = latencyMax / latencyMin > LOG_SCALE_RATIO_MIN;
  const latencyBottom = latencyTop + PANEL_HEIGHT;
  const yLatency = useLog ? logScale(latencyMin, latencyMax, latencyBottom, latencyTop) : linearScale(0, niceCeil(latencyMax * 1.05), latencyBottom, latencyTop);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${num(MARGIN.left + PLOT_WIDTH / 2)}" y="28" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`,
    ...axes(x, yOps, throughputTop, 'throughput (ops/s)'),
    ...axes(x, yLatency, latencyTop, `latency (ms${useLog ? ', log scale' : ''})`),
    `<text x="${num(MARGIN.left + PLOT_WIDTH / 2)}" y="${num(HEIGHT - 12)}" text-anchor="middle">time (s)</text>`,
  ];
  results.forEach((result, i) => parts.push(...series(result, COLOURS[i % COLOURS.length]!, x, yOps, yLatency, timeMax)));
  parts.push(...legend(results), '</svg>');
  return parts.join('\n') + '\n';
}

function series(result: BenchResult, colour: string, x: Scale, yOps: Scale, yLatency: Scale, timeMax: number): string[] {
  if (result.timeline.length === 0) {
    const flat = (y: number): [number, number][] => [[x.at(0), y], [x.at(timeMax), y]];
    return [polyline(flat(yOps.at(result.opsPerSec)), colour, false, 'throughput'), polyline(flat(yLatency.at(result.all.p50Ms)), colour, false, 'p50'), polyline(flat(yLatency.at(result.all.p99Ms)), colour, true, 'p99')];
  }
  const withOps = result.timeline.filter((p) => p.opsPerSec > 0);
  return [
    polyline(result.timeline.map((p) => [x.at(p.tSec), yOps.at(p.opsPerSec)]), colour, false, 'throughput'),
    polyline(withOps.map((p) => [x.at(p.tSec), yLatency.at(p.p50Ms)]), colour, false, 'p50'),
    polyline(withOps.map((p) => [x.at(p.tSec), yLatency.at(p.p99Ms)]), colour, true, 'p99'),
  ];
}

function legend(results: BenchResult[]): string[] {
  const left = MARGIN.left + PLOT_WIDTH + 20;
  const parts: string[] = [];
  results.forEach((result, i) => {
    const y = MARGIN.top + 10 + i * 20;
    const colour = COLOURS[i % COLOURS.length]!;
    const suffix = result.timeline.length === 0 ? ' (no timeline: overall figures)' : '';
    parts.push(`<line x1="${left}" y1="${y}" x2="${left + 24}" y2="${y}" stroke="${colour}" stroke-width="3"/>`, `<text class="legend" x="${left + 30}" y="${y}" dominant-baseline="middle">${escapeXml(result.label + suffix)}</text>`);
  });
  const keyTop = MARGIN.top + PANEL_HEIGHT + PANEL_GAP + 10;
  parts.push(
    `<line x1="${left}" y1="${keyTop}" x2="${left + 24}" y2="${keyTop}" stroke="#444" stroke-width="1.6"/>`,
    `<text x="${left + 30}" y="${keyTop}" dominant-baseline="middle">p50</text>`,
    `<line x1="${left}" y1="${keyTop + 20}" x2="${left + 24}" y2="${keyTop + 20}" stroke="#444" stroke-width="1.6" stroke-dasharray="6 4"/>`,
    `<text x="${left + 30}" y="${keyTop + 20}" dominant-baseline="middle">p99</text>`,
  );
  return parts;
}
