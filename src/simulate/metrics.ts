import type { Distribution } from "./types";

/** Nearest-rank percentile of sorted values (`q` in 0..1); 0 for an empty list. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** Count, mean, p50/p90/p99 and max of `values`. */
export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : 0,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
  };
}

/**
 * What the provider counted in its trailing window `(t - windowMs, t]` at each instant `t` an event
 * arrived (events at the same instant merged), as a step series, plus the drop to 0 one window after
 * the last event. Sampling at arrivals is what a limit is checked against, so this is the curve to
 * compare with the limit; the brief dips between two batches are left out. Events are `[time, amount]`.
 */
export function trailingWindowSeries(
  events: ReadonlyArray<readonly [number, number]>,
  windowMs: number,
): Array<[number, number]> {
  const sorted = [...events].sort((a, b) => a[0] - b[0]);
  const series: Array<[number, number]> = [];
  let sum = 0;
  let tail = 0;
  for (let i = 0; i < sorted.length; i++) {
    const [t, amount] = sorted[i]!;
    sum += amount;
    while (sorted[tail]![0] <= t - windowMs) sum -= sorted[tail++]![1];
    if (sorted[i + 1]?.[0] === t) continue;
    series.push([t, sum]);
  }
  const last = sorted.at(-1);
  if (last) series.push([last[0] + windowMs, 0]);
  return series;
}

/** Highest value of a step series (0 when empty). */
export function peak(series: ReadonlyArray<readonly [number, number]>): number {
  return series.reduce((m, [, v]) => Math.max(m, v), 0);
}

/** One bar of a histogram. */
export interface Bin {
  label: string;
  count: number;
}

/** Upper bounds (ms, inclusive) of the wait-time bins; the last bin is open-ended. */
const WAIT_BINS_MS = [0, 1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000];

/** Per-call waits in fixed bins: none, ≤1 s, ≤5 s, ≤10 s, ≤30 s, ≤1 min, ≤2 min, ≤5 min, >5 min. */
export function waitHistogram(waitsMs: readonly number[]): Bin[] {
  const bins: Bin[] = WAIT_BINS_MS.map((upper, i) => ({
    label: i === 0 ? "none" : `≤${formatDuration(upper)}`,
    count: 0,
  }));
  bins.push({ label: `>${formatDuration(WAIT_BINS_MS.at(-1)!)}`, count: 0 });
  for (const w of waitsMs) {
    const i = WAIT_BINS_MS.findIndex((upper) => w <= upper);
    bins[i === -1 ? bins.length - 1 : i]!.count++;
  }
  return bins;
}

/** `850 ms`, `12.3 s`, `4.5 min`, `2.0 h`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${trim(ms / 1_000)} s`;
  if (ms < 3_600_000) return `${trim(ms / 60_000)} min`;
  return `${trim(ms / 3_600_000)} h`;
}

/** `$0.0123`, with enough digits for small simulated costs. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  if (usd < 0.01) return `$${usd.toFixed(5)}`;
  if (usd < 100) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

/** `93.3%`. */
export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function trim(value: number): string {
  return value >= 10 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, "");
}
