/** What a window counts: requests (cost 1 each) or tokens. */
export type SimWindowUnit = "requests" | "tokens";

/** One rate limit: at most `limit` units in any span of `intervalMs` milliseconds. */
export interface SimWindow {
  unit: SimWindowUnit;
  limit: number;
  intervalMs: number;
}

interface Entry {
  at: number;
  cost: number;
}

/**
 * A sliding-window log: the exact provider-side model of "at most `limit` in any `intervalMs`".
 * An entry stamped at `t` counts while `now - t < intervalMs`. Entries are appended in time order
 * (arrivals are stamped with a monotone clock), so the oldest are always at the front.
 */
export class SlidingWindowLog {
  private readonly entries: Entry[] = [];
  private used = 0;

  constructor(readonly spec: SimWindow) {}

  /** Units counted in the window ending at `now`. */
  usedAt(now: number): number {
    this.prune(now);
    return this.used;
  }

  /**
   * Milliseconds from `now` until `cost` more units fit: 0 when they fit now, `Infinity` when
   * `cost` exceeds the limit and never can.
   */
  waitFor(now: number, cost: number): number {
    this.prune(now);
    if (cost > this.spec.limit) return Number.POSITIVE_INFINITY;
    let excess = this.used + cost - this.spec.limit;
    if (excess <= 0) return 0;
    for (const entry of this.entries) {
      excess -= entry.cost;
      if (excess <= 0) return entry.at + this.spec.intervalMs - now;
    }
    // Unreachable: removing every entry leaves `cost <= limit`.
    return this.spec.intervalMs;
  }

  /** Milliseconds from `now` until every entry has left the window ("fully free"). */
  resetMs(now: number): number {
    this.prune(now);
    const last = this.entries[this.entries.length - 1];
    return last ? last.at + this.spec.intervalMs - now : 0;
  }

  /** Records `cost` units at `now`. Zero-cost bookings are skipped. */
  book(now: number, cost: number): void {
    if (cost <= 0) return;
    this.entries.push({ at: now, cost });
    this.used += cost;
  }

  clear(): void {
    this.entries.length = 0;
    this.used = 0;
  }

  private prune(now: number): void {
    while (this.entries.length > 0 && now - this.entries[0]!.at >= this.spec.intervalMs) {
      this.used -= this.entries.shift()!.cost;
    }
  }
}
