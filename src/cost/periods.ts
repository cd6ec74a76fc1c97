/** Budget and statistics periods, always in UTC so every replica agrees on when a day ends. */
export type BudgetPeriod = "day" | "month";

/** `"2026-11-22"`: the UTC day of `epochMs`. */
export function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** `"2026-11"`: the UTC month of `epochMs`. */
export function utcMonth(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

/** The store key of a period, e.g. `"day:2026-11-22"` or `"month:2026-11"`. */
export function periodKey(period: BudgetPeriod, epochMs: number): string {
  return period === "day" ? `day:${utcDay(epochMs)}` : `month:${utcMonth(epochMs)}`;
}

/** Epoch ms at which the period containing `epochMs` ends (exclusive). */
export function periodEnd(period: BudgetPeriod, epochMs: number): number {
  const d = new Date(epochMs);
  return period === "day"
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
