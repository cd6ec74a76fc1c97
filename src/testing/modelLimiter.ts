import { type SimWindow, type SimWindowUnit, SlidingWindowLog } from "./slidingWindow";

/** The outcome of one arrival at a simulated model's rate limiter. */
export type Admission =
  | { admitted: true }
  | {
      admitted: false;
      /** `rate` = over the limit for now; `too_large` = the cost exceeds the limit and never fits. */
      reason: "rate" | "too_large";
      /** The window that rejected (for `rate`: the one that frees up last). */
      window: SimWindow;
      /** Units the rejecting window had counted before this request. */
      used: number;
      /** Units this request asked for in that window. */
      requested: number;
      /** Exact ms until the request would fit in every window; `Infinity` when `too_large`. */
      waitMs: number;
    };

/** Room left in one window, as the x-ratelimit-* headers report it. */
export interface WindowSnapshot {
  limit: number;
  remaining: number;
  /** Ms until the window is fully free again. */
  resetMs: number;
}

/**
 * All rate limits of one simulated model. A request is admitted only if it fits every window,
 * and is then booked in all of them at its arrival time.
 */
export class ModelLimiter {
  private readonly logs: SlidingWindowLog[];

  /**
   * @param specs the model's windows.
   * @param count429s book rejected requests in the request windows too, as real OpenAI does
   *   ("failed requests count against your limit"): a client that retries blindly keeps itself
   *   locked out.
   */
  constructor(
    specs: readonly SimWindow[],
    private readonly count429s: boolean,
  ) {
    this.logs = specs.map((spec) => new SlidingWindowLog(spec));
  }

  /** Checks and (if admitted) books one request of `tokens` tokens arriving at `now`. */
  admit(now: number, tokens: number): Admission {
    let worst: Extract<Admission, { admitted: false }> | undefined;
    for (const log of this.logs) {
      const cost = costIn(log.spec.unit, tokens);
      const waitMs = log.waitFor(now, cost);
      if (waitMs <= 0) continue;
      if (!worst || waitMs > worst.waitMs) {
        worst = {
          admitted: false,
          reason: Number.isFinite(waitMs) ? "rate" : "too_large",
          window: log.spec,
          used: log.usedAt(now),
          requested: cost,
          waitMs,
        };
      }
    }
    if (worst) {
      if (this.count429s) {
        for (const log of this.logs) if (log.spec.unit === "requests") log.book(now, 1);
      }
      return worst;
    }
    for (const log of this.logs) log.book(now, costIn(log.spec.unit, tokens));
    return { admitted: true };
  }

  /**
   * The window reported in `x-ratelimit-*-{unit}` headers: only a per-minute one, because OpenAI's
   * headers always mean RPM/TPM and clients read them that way. Reporting a scaled 2-second window
   * there would teach a client a per-minute limit 30x too strict. `undefined` when there is none.
   */
  snapshot(unit: SimWindowUnit, now: number): WindowSnapshot | undefined {
    const log = this.logs.find((l) => l.spec.unit === unit && l.spec.intervalMs === 60_000);
    if (!log) return undefined;
    return {
      limit: log.spec.limit,
      remaining: Math.max(0, log.spec.limit - log.usedAt(now)),
      resetMs: log.resetMs(now),
    };
  }

  /** Forgets every booking. */
  clear(): void {
    for (const log of this.logs) log.clear();
  }
}

function costIn(unit: SimWindowUnit, tokens: number): number {
  return unit === "requests" ? 1 : tokens;
}
