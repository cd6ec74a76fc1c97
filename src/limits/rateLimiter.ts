import { type Clock, systemClock } from "../clock";
import { AutoPickerConfigError } from "../errors";
import {
  type Dimension,
  dimensionKey,
  dimensionName,
  MINUTE_MS,
  resolveDimensions,
  windowSpecs,
} from "./dimensions";
import { MemoryRateLimitStore } from "./memoryStore";
import type { RateLimitStore, StoreConfirmResult, StoreTarget } from "./store";
import type {
  LimiterStatus,
  LimitUnit,
  ModelLimits,
  ProviderRateLimitState,
  ReservationTicket,
  ReserveDecision,
} from "./types";

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Where bookings live; default an in-process {@link MemoryRateLimitStore}. */
  store?: RateLimitStore;
  /** Every time read goes through this clock; default the system clock. */
  clock?: Clock;
  /**
   * Extra time added to every sliding window, ms (a number, or a function of the window length).
   * Calls queued behind others are booked from send times, but the provider stamps arrival times;
   * when one request travels faster than the one a window earlier, both land in one provider
   * window. Default: 1% of the window, at least 25 ms, at most 1 s (a 60 s window costs 0.6 s).
   */
  arrivalMarginMs?: number | ((intervalMs: number) => number);
}

/** The default {@link RateLimiterOptions.arrivalMarginMs}. */
export function defaultArrivalMargin(intervalMs: number): number {
  return Math.min(1000, Math.max(25, Math.ceil(intervalMs * 0.01)));
}

/** What the limiter knows about one model's limits. */
interface ModelEntry {
  /** From `configure()`. */
  configured: Dimension[];
  /** Learned from provider headers, by {@link dimensionKey}: only ever lowered. */
  learned: Map<string, { unit: LimitUnit; intervalMs: number; limit: number }>;
  /** Bumped on every block, so a sleeper can tell a new retry hint arrived while it slept. */
  blockEpoch: number;
}

/**
 * Knows each model's limits and answers "when may this call go?" with the exact earliest instant,
 * booking it so concurrent callers queue in order with one sleep each. It never sleeps itself
 * (except in {@link RateLimiter.acquire}); the caller sleeps `waitMs` and sends.
 *
 * The guarantee: for every dimension, the calls booked in any span of its interval (any 60 s for a
 * per-minute limit; any local day for a calendar limit) never exceed its limit.
 */
export class RateLimiter {
  private readonly store: RateLimitStore;
  private readonly clock: Clock;
  private readonly models = new Map<string, ModelEntry>();
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);
  private readonly margin: (intervalMs: number) => number;

  constructor(options: RateLimiterOptions = {}) {
    this.store = options.store ?? new MemoryRateLimitStore();
    this.clock = options.clock ?? systemClock;
    const margin = options.arrivalMarginMs ?? defaultArrivalMargin;
    if (typeof margin === "number" && !(Number.isFinite(margin) && margin >= 0)) {
      throw new AutoPickerConfigError(
        `arrivalMarginMs must be a non-negative number of ms, got ${String(margin)}.`,
      );
    }
    this.margin = typeof margin === "number" ? () => margin : margin;
  }

  /**
   * Sets (or with `undefined`, clears) a model's limits, and forgets limits learned from headers.
   * @throws AutoPickerConfigError when a number is not positive and finite, a field is unknown or
   *   the time zone is not an IANA zone.
   */
  configure(model: string, limits: ModelLimits | undefined): void {
    if (typeof model !== "string" || model === "")
      throw new AutoPickerConfigError("Model name must be non-empty.");
    const configured = limits === undefined ? [] : resolveDimensions(model, limits);
    this.models.set(model, {
      configured,
      learned: new Map(),
      blockEpoch: this.models.get(model)?.blockEpoch ?? 0,
    });
  }

  /**
   * Books one request plus `cost.tokens` on every dimension of its unit, at the earliest instant
   * they all allow. Books nothing when that is more than `maxWaitMs` away or can never happen.
   */
  async reserve(
    model: string,
    cost: { tokens: number },
    options: { maxWaitMs: number },
  ): Promise<ReserveDecision> {
    const tokens = checkTokens(cost.tokens);
    const maxWaitMs = Math.max(0, options.maxWaitMs);
    const r = await this.store.reserve({ ...this.target(model), tokens, maxWaitMs });
    if (r.kind !== "granted") return r;
    const ticket: ReservationTicket = Object.freeze({
      model,
      id: `${this.idPrefix}:${r.entryId}`,
      tokens,
      startAt: r.startAt,
    });
    return { kind: "granted", waitMs: r.waitMs, startAt: r.startAt, ticket };
  }

  /**
   * {@link reserve}, then sleeps until the slot (honouring `signal`). If a provider's retry hint
   * arrived during the sleep and blocks the slot, gives the slot back and queues again within
   * what is left of `maxWaitMs`. On abort the slot is refunded and the signal's reason is thrown.
   * A granted answer's `waitMs` is the total time waited.
   */
  async acquire(
    model: string,
    cost: { tokens: number },
    options: {
      maxWaitMs: number;
      signal?: AbortSignal;
      /** Told the wait before each sleep (progress displays, `rate_limit_wait` events). */
      onWait?: (waitMs: number) => void | Promise<void>;
    },
  ): Promise<ReserveDecision> {
    const began = this.clock.now();
    for (;;) {
      options.signal?.throwIfAborted();
      const left = options.maxWaitMs - (this.clock.now() - began);
      // Taken before reserving, so a hint that lands while the store answers is not missed.
      const epoch = this.entry(model).blockEpoch;
      const d = await this.reserve(model, cost, { maxWaitMs: Math.max(0, left) });
      if (d.kind !== "granted") return d;
      try {
        // Sleep to the booked instant, not for `waitMs`: time passed while the store answered.
        const sleepMs = d.startAt - this.clock.now();
        if (sleepMs > 0) await options.onWait?.(sleepMs);
        await this.clock.sleep(sleepMs, options.signal);
      } catch (err) {
        await this.cancel(d.ticket);
        throw err;
      }
      if (this.entry(model).blockEpoch !== epoch) {
        const { blockedUntil } = await this.status(model);
        if (blockedUntil !== undefined && blockedUntil > this.clock.now()) {
          await this.cancel(d.ticket);
          continue;
        }
      }
      const late = await this.confirmAtSend(model, d.ticket, began, options);
      if (late) return late;
      return { ...d, waitMs: this.clock.now() - began };
    }
  }

  /**
   * Re-checks a granted booking when it is about to be sent and stamps it then (see
   * {@link RateLimitStore.confirm}); sleeps the extra if calls booked before it left late.
   * Returns a refusal only when that extra would exceed `maxWaitMs`.
   */
  private async confirmAtSend(
    model: string,
    ticket: ReservationTicket,
    began: number,
    options: { maxWaitMs: number; signal?: AbortSignal },
  ): Promise<ReserveDecision | undefined> {
    const entryId = this.entryId(ticket);
    if (!this.store.confirm || entryId === undefined) return undefined;
    for (;;) {
      let r: StoreConfirmResult;
      try {
        r = await this.store.confirm({ ...this.target(model), entryId });
      } catch (err) {
        // A fail-closed store refused: give the slot back rather than leave it booked until expiry.
        await this.cancel(ticket).catch(() => undefined);
        throw err;
      }
      if (r.ok) return undefined;
      const now = this.clock.now();
      if (r.retryAt - began > options.maxWaitMs) {
        await this.cancel(ticket);
        return { kind: "wait_too_long", waitMs: r.retryAt - began, dimension: "send_lag" };
      }
      try {
        await this.clock.sleep(r.retryAt - now, options.signal);
      } catch (err) {
        await this.cancel(ticket);
        throw err;
      }
    }
  }

  /**
   * The call came back: count it at response time (the provider stamped it on arrival, after we
   * sent it; a window that starts at send time would end too early) and replace the token
   * estimate by `actualTokens` (a refund or a debt). Idempotent: a second commit does nothing.
   */
  async commit(ticket: ReservationTicket, actualTokens?: number): Promise<void> {
    const actual = actualTokens === undefined ? undefined : checkTokens(actualTokens);
    const entryId = this.entryId(ticket);
    if (entryId === undefined) return;
    await this.store.commit({
      ...this.target(ticket.model),
      entryId,
      ...(actual === undefined ? {} : { actualTokens: actual }),
    });
  }

  /** The call was never sent (aborted while waiting): give its slot back entirely. */
  async cancel(ticket: ReservationTicket): Promise<void> {
    const entryId = this.entryId(ticket);
    if (entryId === undefined) return;
    await this.store.cancel({ ...this.target(ticket.model), entryId });
  }

  /**
   * Takes in what a provider reported (success or 429 headers). Never believes in more room than
   * the provider: when it reports fewer remaining than the local log, a phantom booking holds the
   * difference until its reset. A reported limit fills in a missing dimension or lowers a
   * configured one; it never raises one. `retryAfterMs` blocks the model like {@link blockUntil}.
   */
  async learn(model: string, state: ProviderRateLimitState): Promise<void> {
    const now = this.clock.now();
    const entry = this.entry(model);
    if (isNonNegative(state.retryAfterMs) && state.retryAfterMs > 0) {
      await this.blockUntil(model, now + state.retryAfterMs);
    }
    const facts = [
      [
        "requests",
        state.limitRequests,
        state.remainingRequests,
        state.resetRequestsMs,
        state.requestsIntervalMs,
      ],
      ["tokens", state.limitTokens, state.remainingTokens, state.resetTokensMs, state.tokensIntervalMs],
    ] as const;
    for (const [unit, limit, remaining, resetMs, interval] of facts) {
      const intervalMs = isNonNegative(interval) && interval > 0 ? interval : MINUTE_MS;
      const key = dimensionKey(unit, intervalMs);
      if (isNonNegative(limit) && limit > 0) {
        const prev = entry.learned.get(key);
        if (!prev || limit < prev.limit) entry.learned.set(key, { unit, intervalMs, limit });
      }
      if (!isNonNegative(remaining)) continue;
      // Same (margined) windows as reservations, so a phantom leaves exactly at the provider's reset.
      const windows = windowSpecs(this.dimensions(model), now, this.margin);
      const window = windows.find(
        (w) =>
          w.unit === unit &&
          w.intervalMs === intervalMs + (w.kind === "sliding" ? this.margin(intervalMs) : 0),
      );
      if (!window) continue;
      const reset = isNonNegative(resetMs) ? resetMs : intervalMs;
      await this.store.constrain({
        key: model,
        window,
        remaining: Math.floor(remaining),
        resetAt: now + reset,
        now,
      });
    }
  }

  /** A provider's retry hint: nothing for `model` starts before `untilMs` (epoch ms). */
  async blockUntil(model: string, untilMs: number): Promise<void> {
    if (!Number.isFinite(untilMs)) return;
    this.entry(model).blockEpoch++;
    await this.store.block({ key: model, until: untilMs });
  }

  /** The model's dimensions with their current use, and any retry-hint block. */
  async status(model: string): Promise<LimiterStatus> {
    const target = this.target(model);
    const s = await this.store.status(target);
    const dimensions = target.windows.map((w, i) => {
      const ws = s.windows[i];
      const base = {
        name: w.name,
        unit: w.unit,
        limit: w.limit,
        intervalMs: w.intervalMs,
        used: ws?.used ?? 0,
      };
      return ws?.nextFreeAt === undefined ? base : { ...base, nextFreeAt: ws.nextFreeAt };
    });
    return s.blockedUntil === undefined ? { dimensions } : { blockedUntil: s.blockedUntil, dimensions };
  }

  /** Effective dimensions: configured ones lowered by learned limits, plus learned-only ones. */
  /** Whether any of the model's limits (configured or learned) counts tokens, so callers know to estimate them. */
  countsTokens(model: string): boolean {
    return this.dimensions(model).some((d) => d.unit === "tokens");
  }

  private dimensions(model: string): Dimension[] {
    const entry = this.models.get(model);
    if (!entry) return [];
    if (entry.learned.size === 0) return entry.configured;
    const out = entry.configured.map((d) => {
      const l = entry.learned.get(dimensionKey(d.unit, d.intervalMs));
      return l && l.limit < d.limit ? { ...d, limit: l.limit } : d;
    });
    for (const [key, l] of entry.learned) {
      if (!entry.configured.some((d) => dimensionKey(d.unit, d.intervalMs) === key)) {
        out.push({
          name: dimensionName(l.unit, l.intervalMs),
          unit: l.unit,
          limit: l.limit,
          intervalMs: l.intervalMs,
        });
      }
    }
    return out;
  }

  private target(model: string): StoreTarget {
    const now = this.clock.now();
    return { key: model, windows: windowSpecs(this.dimensions(model), now, this.margin), now };
  }

  private entry(model: string): ModelEntry {
    let e = this.models.get(model);
    if (!e) {
      e = { configured: [], learned: new Map(), blockEpoch: 0 };
      this.models.set(model, e);
    }
    return e;
  }

  /** The store's id inside one of our tickets; `undefined` for a ticket another limiter issued. */
  private entryId(ticket: ReservationTicket): string | undefined {
    const prefix = `${this.idPrefix}:`;
    return ticket.id.startsWith(prefix) ? ticket.id.slice(prefix.length) : undefined;
  }
}

function isNonNegative(n: number | undefined): n is number {
  return typeof n === "number" && Number.isFinite(n) && n >= 0;
}

/** Token counts are whole, finite and non-negative; anything else is a programming error. */
function checkTokens(tokens: number): number {
  if (!isNonNegative(tokens)) {
    throw new RangeError(`Token count must be a finite number >= 0, got ${String(tokens)}.`);
  }
  return Math.ceil(tokens);
}
