/**
 * Hand-written SVG charts for the simulation report: no dependencies, no scripts, no network.
 * Every chart is an `<svg data-chart="KIND">` with a `<title>`, axes and labelled marks.
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

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  kind: string;
  title: string;
  series: LineSeries[];
  references?: ReferenceLine[];
  xMax: number;
  formatX: (x: number) => string;
  yLabel: string;
  width?: number;
  height?: number;
}

const M = { top: 28, right: 16, bottom: 36, left: 56 };

/** A step-line chart with optional dashed reference lines (limits). */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 240;
  // 10% headroom, so a series running at its limit stays visible under the limit's label.
  const yTop = niceMax(
    1.1 *
      Math.max(
        1,
        ...o.series.flatMap((s) => s.points.map(([, y]) => y)),
        ...(o.references ?? []).map((r) => r.value),
      ),
  );
  const xMax = Math.max(1, o.xMax);
  const plotW = width - M.left - M.right;
  const plotH = height - M.top - M.bottom;
  const sx = (x: number) => M.left + (Math.min(x, xMax) / xMax) * plotW;
  const sy = (y: number) => M.top + plotH - (y / yTop) * plotH;
  const parts: string[] = [axes(width, height, yTop, sy, xMax, sx, o.formatX, o.yLabel)];
  for (const r of o.references ?? []) {
    parts.push(
      `<line class="limit" x1="${M.left}" x2="${M.left + plotW}" y1="${f(sy(r.value))}" y2="${f(sy(r.value))}" stroke="${r.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
      `<text x="${M.left + plotW - 4}" y="${f(sy(r.value) - 4)}" text-anchor="end" font-size="11" fill="${r.color}">${escapeXml(r.label)}</text>`,
    );
  }
  for (const s of o.series) {
    if (s.points.length === 0) continue;
    let d = `M${f(sx(0))},${f(sy(0))}`;
    for (const [x, y] of s.points) d += `H${f(sx(x))}V${f(sy(y))}`;
    d += `H${f(sx(xMax))}`;
    parts.push(
      `<path class="series" data-series="${escapeXml(s.label)}" d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`,
    );
  }
  parts.push(
    legend(
      o.series.map((s) => ({ label: s.label, color: s.color })),
      width,
    ),
  );
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
  yLabel: string;
  width?: number;
  height?: number;
}

/** Vertical bars with their value printed on top (histograms, per-scenario totals). */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 240;
  const plotW = width - M.left - M.right;
  const plotH = height - M.top - M.bottom;
  const yTop = niceMax(Math.max(0, ...o.bars.map((b) => b.value)) || 1);
  const sy = (y: number) => M.top + plotH - (y / yTop) * plotH;
  const slot = plotW / Math.max(1, o.bars.length);
  const parts: string[] = [
    axes(
      width,
      height,
      yTop,
      sy,
      0,
      () => 0,
      () => "",
      o.yLabel,
    ),
  ];
  o.bars.forEach((b, i) => {
    const x = M.left + i * slot + slot * 0.15;
    const w = slot * 0.7;
    const y = sy(b.value);
    parts.push(
      `<rect class="bar" data-label="${escapeXml(b.label)}" data-value="${b.value}" x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(M.top + plotH - y)}" fill="${b.color ?? PALETTE[0]}"><title>${escapeXml(`${b.label}: ${o.formatValue(b.value)}`)}</title></rect>`,
      `<text x="${f(x + w / 2)}" y="${f(y - 4)}" text-anchor="middle" font-size="11">${escapeXml(o.formatValue(b.value))}</text>`,
      `<text x="${f(x + w / 2)}" y="${height - M.bottom + 16}" text-anchor="middle" font-size="11">${escapeXml(b.label)}</text>`,
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
  const width = o.width ?? 640;
  const rowH = 26;
  const labelW = 140;
  const height = M.top + o.rows.length * (rowH + 10) + 40;
  const plotW = width - labelW - M.right;
  const parts: string[] = [];
  const seen = new Map<string, string>();
  o.rows.forEach((row, i) => {
    const y = M.top + i * (rowH + 10);
    const total = row.segments.reduce((s, seg) => s + seg.value, 0) || 1;
    let x = labelW;
    parts.push(
      `<text x="${labelW - 8}" y="${y + rowH / 2 + 4}" text-anchor="end" font-size="12">${escapeXml(row.label)}</text>`,
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
      if (w > 44) {
        parts.push(
          `<text x="${f(x + w / 2)}" y="${y + rowH / 2 + 4}" text-anchor="middle" font-size="11" fill="#fff">${pct}</text>`,
        );
      }
      x += w;
    }
  });
  parts.push(
    legend(
      [...seen].map(([label, color]) => ({ label, color })),
      width,
      height - 14,
    ),
  );
  return svg(o.kind, o.title, width, height, parts);
}

function svg(kind: string, title: string, width: number, height: number, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" data-chart="${escapeXml(kind)}" role="img" aria-label="${escapeXml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<text x="${M.left}" y="16" font-size="13" font-weight="600">${escapeXml(title)}</text>`,
    ...parts,
    "</svg>",
  ].join("\n");
}

function axes(
  width: number,
  height: number,
  yTop: number,
  sy: (y: number) => number,
  xMax: number,
  sx: (x: number) => number,
  formatX: (x: number) => string,
  yLabel: string,
): string {
  const out: string[] = [];
  const bottom = height - M.bottom;
  for (let i = 0; i <= 4; i++) {
    const v = (yTop * i) / 4;
    const y = f(sy(v));
    out.push(
      `<line x1="${M.left}" x2="${width - M.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 6}" y="${Number(y) + 4}" text-anchor="end" font-size="10" fill="#555">${escapeXml(compact(v))}</text>`,
    );
  }
  if (xMax > 0) {
    for (let i = 0; i <= 5; i++) {
      const v = (xMax * i) / 5;
      out.push(
        `<text x="${f(sx(v))}" y="${bottom + 14}" text-anchor="middle" font-size="10" fill="#555">${escapeXml(formatX(v))}</text>`,
      );
    }
  }
  out.push(
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${bottom}" stroke="#333"/>`,
    `<line class="axis" x1="${M.left}" x2="${width - M.right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`,
    `<text x="12" y="${M.top + (bottom - M.top) / 2}" font-size="10" fill="#555" transform="rotate(-90 12 ${M.top + (bottom - M.top) / 2})" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  );
  return out.join("\n");
}

function legend(items: Array<{ label: string; color: string }>, width: number, y = 16): string {
  let x = width - M.right;
  const out: string[] = [];
  for (const item of [...items].reverse()) {
    const w = 18 + item.label.length * 6.2;
    x -= w + 10;
    out.push(
      `<rect x="${f(x)}" y="${y - 9}" width="10" height="10" fill="${item.color}"/>`,
      `<text x="${f(x + 14)}" y="${y}" font-size="11">${escapeXml(item.label)}</text>`,
    );
  }
  return `<g class="legend">${out.join("")}</g>`;
}

/** The smallest 1/2/2.5/5 × 10^k at or above `v`. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function compact(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(+v.toPrecision(3));
}

function f(n: number): string {
  return n.toFixed(1);
}
