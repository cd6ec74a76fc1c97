/**
 * Hand-written SVG charts for the simulation report: no dependencies, no scripts, no network.
 * Every chart is an `<svg data-chart="KIND">` with a `<title>`, axes with ticks at round values, and
 * labelled marks; every label is placed (or shortened) to stay inside the chart. Charts scale down
 * with the page (`viewBox`), so a narrow window shrinks them instead of scrolling.
 */

/** A colour-blind-safe palette (Okabe-Ito). */
export const PALETTE = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#56B4E9",
  "#D55E00",
  "#F0E442",
  "#000000",
];

/** Escapes text for HTML and SVG. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One line of a {@link lineChart}; drawn as steps (the value holds until the next point). */
export interface LineSeries {
  label: string;
  color: string;
  points: ReadonlyArray<readonly [number, number]>;
}

/** A dashed horizontal reference line, e.g. a rate limit. */
export interface ReferenceLine {
  label: string;
  value: number;
  color: string;
}

/** Options of {@link lineChart}. The x axis is time in ms. */
export interface LineChartOptions {
  kind: string;
  title: string;
  series: LineSeries[];
  references?: ReferenceLine[];
  xMax: number;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

const WIDTH = 640;
const HEIGHT = 260;
/** Margins around the plot; `top` is below the title and legend rows. */
const M = { right: 24, bottom: 42, left: 58 };
const TITLE_Y = 18;
const LEGEND_ROW = 16;

/** Approximate width of `text` at `size` px in a sans-serif face (generous, so estimates don't overflow). */
export function textWidth(text: string, size: number): number {
  return text.length * size * 0.6;
}

/** `text` shortened with an ellipsis to fit `width` px at `size`. */
export function ellipsize(text: string, width: number, size: number): string {
  if (textWidth(text, size) <= width) return text;
  const chars = Math.max(1, Math.floor(width / (size * 0.6)) - 1);
  return `${text.slice(0, chars)}…`;
}

/** A step-line chart with optional dashed reference lines (limits). */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? WIDTH;
  const height = o.height ?? HEIGHT;
  const legendItems = o.series.map((s) => ({ label: s.label, color: s.color }));
  const legendOut = legend(legendItems, width, TITLE_Y + LEGEND_ROW);
  const top = legendOut.bottom + 14;
  const yMax = Math.max(
    1,
    ...o.series.flatMap((s) => s.points.map(([, y]) => y)),
    ...(o.references ?? []).map((r) => r.value),
  );
  // 10% headroom, so a series running at its limit stays visible under the limit's label.
  const y = niceScale(yMax * 1.1);
  const x = timeScale(Math.max(1, o.xMax));
  const plotW = width - M.left - M.right;
  const plotH = height - top - M.bottom;
  const sx = (v: number) => M.left + (Math.min(v, x.top) / x.top) * plotW;
  const sy = (v: number) => top + plotH - (v / y.top) * plotH;
  const parts: string[] = [
    yAxis(y.ticks, sy, width, o.yLabel, top, height),
    xAxis(
      x.ticks.map((t) => ({ at: sx(t), label: x.format(t) })),
      width,
      height,
      o.xLabel,
    ),
  ];
  for (const r of o.references ?? []) {
    const ry = f(sy(r.value));
    parts.push(
      `<line class="limit" x1="${M.left}" x2="${M.left + plotW}" y1="${ry}" y2="${ry}" stroke="${r.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
      `<text class="label" x="${M.left + plotW - 4}" y="${f(sy(r.value) - 4)}" text-anchor="end" font-size="11" fill="${r.color}">${escapeXml(r.label)}</text>`,
    );
  }
  for (const s of o.series) {
    if (s.points.length === 0) continue;
    let d = `M${f(sx(0))},${f(sy(0))}`;
    for (const [px, py] of s.points) d += `H${f(sx(px))}V${f(sy(py))}`;
    d += `H${f(sx(x.top))}`;
    parts.push(
      `<path class="series" data-series="${escapeXml(s.label)}" d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`,
    );
  }
  parts.push(legendOut.svg);
  return svg(o.kind, o.title, width, height, parts);
}

/** One bar of a {@link barChart}. */
export interface Bar {
  label: string;
  value: number;
  color?: string;
}

/** Options of {@link barChart}. */
export interface BarChartOptions {
  kind: string;
  title: string;
  bars: Bar[];
  formatValue: (v: number) => string;
  /** Labels of the y ticks. Default: compact numbers (`40k`). */
  formatTick?: (v: number) => string;
  yLabel: string;
  width?: number;
  height?: number;
}

/** Vertical bars with their value printed on top (histograms, per-scenario totals). */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? WIDTH;
  const height = o.height ?? HEIGHT;
  const top = TITLE_Y + 22;
  const plotW = width - M.left - M.right;
  const plotH = height - top - M.bottom;
  // Headroom for the value printed on the tallest bar.
  const y = niceScale(Math.max(0, ...o.bars.map((b) => b.value)) * 1.12 || 1);
  const sy = (v: number) => top + plotH - (v / y.top) * plotH;
  const slot = plotW / Math.max(1, o.bars.length);
  const parts: string[] = [
    yAxis(y.ticks, sy, width, o.yLabel, top, height, o.formatTick),
    xAxis([], width, height, ""),
  ];
  o.bars.forEach((b, i) => {
    const x = M.left + i * slot + slot * 0.15;
    const w = slot * 0.7;
    const by = sy(b.value);
    parts.push(
      `<rect class="bar" data-label="${escapeXml(b.label)}" data-value="${b.value}" x="${f(x)}" y="${f(by)}" width="${f(w)}" height="${f(top + plotH - by)}" fill="${b.color ?? PALETTE[0]}"><title>${escapeXml(`${b.label}: ${o.formatValue(b.value)}`)}</title></rect>`,
      `<text class="label" x="${f(x + w / 2)}" y="${f(by - 4)}" text-anchor="middle" font-size="11">${escapeXml(ellipsize(o.formatValue(b.value), slot - 4, 11))}</text>`,
      `<text class="tick" x="${f(x + w / 2)}" y="${height - M.bottom + 16}" text-anchor="middle" font-size="11">${escapeXml(ellipsize(b.label, slot - 6, 11))}</text>`,
    );
  });
  return svg(o.kind, o.title, width, height, parts);
}

/** One row of a {@link stackedBars} chart. */
export interface StackedRow {
  label: string;
  segments: Bar[];
}

/** Horizontal 100% bars: what share of each row each segment takes (e.g. served by model). */
export function stackedBars(o: { kind: string; title: string; rows: StackedRow[]; width?: number }): string {
  const width = o.width ?? WIDTH;
  const rowH = 26;
  const labelW = 150;
  const top = TITLE_Y + 16;
  const plotW = width - labelW - M.right;
  const parts: string[] = [];
  const seen = new Map<string, string>();
  o.rows.forEach((row, i) => {
    const y = top + i * (rowH + 10);
    const total = row.segments.reduce((s, seg) => s + seg.value, 0) || 1;
    let x = labelW;
    parts.push(
      `<text class="tick" x="${labelW - 8}" y="${y + rowH / 2 + 4}" text-anchor="end" font-size="12">${escapeXml(ellipsize(row.label, labelW - 12, 12))}</text>`,
    );
    for (const seg of row.segments) {
      const w = (seg.value / total) * plotW;
      const color = seg.color ?? PALETTE[0]!;
      seen.set(seg.label, color);
      if (w <= 0) continue;
      const pct = `${((seg.value / total) * 100).toFixed(1)}%`;
      parts.push(
        `<rect class="bar" data-label="${escapeXml(seg.label)}" data-value="${seg.value}" x="${f(x)}" y="${y}" width="${f(w)}" height="${rowH}" fill="${color}"><title>${escapeXml(`${row.label} — ${seg.label}: ${seg.value} (${pct})`)}</title></rect>`,
      );
      if (w > textWidth(pct, 11) + 8) {
        parts.push(
          `<text class="label" x="${f(x + w / 2)}" y="${y + rowH / 2 + 4}" text-anchor="middle" font-size="11" fill="${contrastText(color)}">${pct}</text>`,
        );
      }
      x += w;
    }
  });
  const legendTop = top + o.rows.length * (rowH + 10) + 12;
  const items = [...seen].map(([label, color]) => ({ label, color }));
  const legendOut = legend(items, width, legendTop, 16);
  const height = legendOut.bottom + 10;
  parts.push(legendOut.svg);
  return svg(o.kind, o.title, width, height, parts);
}

function svg(kind: string, title: string, width: number, height: number, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" data-chart="${escapeXml(kind)}" role="img" aria-label="${escapeXml(title)}" width="${width}" height="${f(height)}" viewBox="0 0 ${width} ${f(height)}" font-family="system-ui, sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<text class="title" x="16" y="${TITLE_Y}" font-size="13" font-weight="600">${escapeXml(ellipsize(title, width - 32, 13))}</text>`,
    ...parts,
    "</svg>",
  ].join("\n");
}

/** Horizontal grid lines and labels at `ticks`, plus the rotated axis label. */
function yAxis(
  ticks: readonly number[],
  sy: (v: number) => number,
  width: number,
  label: string,
  top: number,
  height: number,
  format: (v: number) => string = compact,
): string {
  const bottom = height - M.bottom;
  const out: string[] = [];
  for (const v of ticks) {
    const y = f(sy(v));
    out.push(
      `<line x1="${M.left}" x2="${width - M.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text class="tick" x="${M.left - 6}" y="${f(sy(v) + 4)}" text-anchor="end" font-size="10" fill="#555">${escapeXml(format(v))}</text>`,
    );
  }
  const mid = f(top + (bottom - top) / 2);
  out.push(
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${top}" y2="${bottom}" stroke="#333"/>`,
    `<text class="axis-label" x="14" y="${mid}" font-size="10" fill="#555" transform="rotate(-90 14 ${mid})" text-anchor="middle">${escapeXml(label)}</text>`,
  );
  return out.join("\n");
}

/** The baseline, tick marks and labels at `ticks` (x positions already scaled), and the axis label. */
function xAxis(
  ticks: ReadonlyArray<{ at: number; label: string }>,
  width: number,
  height: number,
  label: string,
): string {
  const bottom = height - M.bottom;
  const out = [
    `<line class="axis" x1="${M.left}" x2="${width - M.right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`,
  ];
  for (const t of ticks) {
    out.push(
      `<line x1="${f(t.at)}" x2="${f(t.at)}" y1="${bottom}" y2="${bottom + 4}" stroke="#333"/>`,
      `<text class="tick" x="${f(t.at)}" y="${bottom + 16}" text-anchor="middle" font-size="10" fill="#555">${escapeXml(t.label)}</text>`,
    );
  }
  if (label) {
    out.push(
      `<text class="axis-label" x="${f(M.left + (width - M.left - M.right) / 2)}" y="${height - 8}" text-anchor="middle" font-size="10" fill="#555">${escapeXml(label)}</text>`,
    );
  }
  return out.join("\n");
}

/** Swatches and labels left to right from the plot's left edge, wrapping onto new rows. */
function legend(
  items: ReadonlyArray<{ label: string; color: string }>,
  width: number,
  y: number,
  left = M.left,
): { svg: string; bottom: number } {
  let x = left;
  let row = y;
  const out: string[] = [];
  for (const item of items) {
    const label = ellipsize(item.label, width - left - M.right - 14, 11);
    const w = 14 + textWidth(label, 11);
    if (x > left && x + w > width - M.right) {
      x = left;
      row += LEGEND_ROW;
    }
    out.push(
      `<rect x="${f(x)}" y="${row - 9}" width="10" height="10" fill="${item.color}"/>`,
      `<text class="label" x="${f(x + 14)}" y="${row}" font-size="11">${escapeXml(label)}</text>`,
    );
    x += w + 14;
  }
  return { svg: `<g class="legend">${out.join("")}</g>`, bottom: items.length ? row : y - LEGEND_ROW };
}

/** Round ticks from 0 to the first tick at or above `max`: steps of 1, 2 or 5 × 10^k, at most 6. */
export function niceScale(max: number): { top: number; ticks: number[] } {
  const target = max > 0 ? max : 1;
  const raw = target / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => Math.ceil(target / s - 1e-9) <= 5) ?? 10 * mag;
  const count = Math.max(1, Math.ceil(target / step - 1e-9));
  const ticks = Array.from({ length: count + 1 }, (_, i) => round(i * step));
  return { top: ticks.at(-1)!, ticks };
}

/** Round time steps, ms. */
const TIME_STEPS = [
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/**
 * A time axis from 0 to the first round step at or above `max` ms, at most 6 steps, labelled in
 * whole units: `30 s`, `2 min`, `3 h`, or `1:30` (min:s, h:min) when the step is a fraction of them.
 */
export function timeScale(max: number): { top: number; ticks: number[]; format: (v: number) => string } {
  const step = TIME_STEPS.find((s) => Math.ceil(max / s - 1e-9) <= 6) ?? TIME_STEPS.at(-1)!;
  const count = Math.max(1, Math.ceil(max / step - 1e-9));
  const ticks = Array.from({ length: count + 1 }, (_, i) => i * step);
  const top = ticks.at(-1)!;
  const pad = (v: number) => String(v).padStart(2, "0");
  const format = (v: number): string => {
    if (v === 0) return "0";
    if (step % 3_600_000 === 0) return `${v / 3_600_000} h`;
    if (step % 60_000 === 0 && top <= 7_200_000) return `${v / 60_000} min`;
    if (step % 60_000 === 0) return `${Math.floor(v / 3_600_000)}:${pad((v % 3_600_000) / 60_000)}`;
    if (top <= 120_000) return `${v / 1000} s`;
    return `${Math.floor(v / 60_000)}:${pad((v % 60_000) / 1000)}`;
  };
  return { top, ticks, format };
}

function compact(v: number): string {
  if (v >= 1e6) return `${round(v / 1e6)}M`;
  if (v >= 1e3) return `${round(v / 1e3)}k`;
  return String(round(v));
}

/** Removes binary noise (0.30000000000000004 -> 0.3). */
function round(v: number): number {
  return Number.parseFloat(v.toPrecision(12));
}

/** White on dark colours, black on light ones (the palette has yellow and sky blue). */
function contrastText(hex: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return "#fff";
  const [r, g, b] = [m[1]!, m[2]!, m[3]!].map((c) => Number.parseInt(c, 16));
  return 0.299 * r! + 0.587 * g! + 0.114 * b! > 150 ? "#000" : "#fff";
}

function f(n: number): string {
  return n.toFixed(1);
}
