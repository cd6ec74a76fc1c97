import {
  type BudgetCounter,
  type BudgetStore,
  type LimitedBudgetCounter,
  MemoryBudgetStore,
  type StoreReservation,
} from "../cost/budgetStore";
import { defaultFaultLogger, type OnRedisUnavailable, OutageTracker, RedisUnavailableError } from "./outage";
import { type ResilienceOptions, resolveShare } from "./resilientRateLimitStore";

/** Options of {@link ResilientBudgetStore}. */
export interface ResilientBudgetStoreOptions extends ResilienceOptions {
  /** The shared store, normally a `RedisBudgetStore`. */
  store: BudgetStore;
  /** The local fallback. Default a new `MemoryBudgetStore`. */
  local?: BudgetStore;
}

/**
 * A {@link BudgetStore} over a shared store (Redis) that, when Redis fails, books locally against
 * `failOpenShare` of each limit (`"fail-open"`, one warning) or rejects (`"fail-closed"`). When
 * Redis answers again, what was booked locally is added to the shared counters first, so spend
 * made during the outage is not forgotten, and refunds of calls reserved locally never reduce the
 * shared counters below what was really spent.
 */
export class ResilientBudgetStore implements BudgetStore {
  private readonly shared: BudgetStore;
  private readonly local: BudgetStore;
  private readonly share: number;
  private readonly mode: OnRedisUnavailable;
  private readonly outage: OutageTracker;
  /** Counters written locally during an outage, to copy into Redis on recovery. */
  private readonly localCounters = new Map<string, BudgetCounter>();
  /** Micro-dollars reserved locally and not yet refunded: refunds come out of this first. */
  private localReserved = 0;

  constructor(options: ResilientBudgetStoreOptions) {
    this.shared = options.store;
    this.local = options.local ?? new MemoryBudgetStore();
    this.share = resolveShare(options);
    this.mode = options.onUnavailable ?? "fail-open";
    this.outage = new OutageTracker(
      "Budget",
      options.logger ?? defaultFaultLogger,
      options.retryIntervalMs ?? 1000,
    );
  }

  /** Whether the shared store is currently considered unavailable. */
  get degraded(): boolean {
    return this.outage.isDown;
  }

  async reserve(counters: readonly LimitedBudgetCounter[], amountMicros: number): Promise<StoreReservation> {
    const shared = await this.tryShared(() => this.shared.reserve(counters, amountMicros));
    if (shared.ok) return shared.value;
    const scaled = counters.map((c) => ({
      ...c,
      limitMicros: c.limitMicros === null ? null : Math.floor(c.limitMicros * this.share),
    }));
    const r = await this.local.reserve(scaled, amountMicros);
    if (r.ok) {
      this.remember(counters);
      this.localReserved += amountMicros;
    }
    return r;
  }

  async add(counters: readonly BudgetCounter[], deltaMicros: number): Promise<number[]> {
    // A refund first pays back local reservations (they never reached Redis); the rest, and all
    // debts and new spend, go to Redis when it answers. Applying a Redis reservation's refund
    // locally only leaves Redis over-counting, the safe side.
    const fromLocal = deltaMicros < 0 ? Math.min(-deltaMicros, this.localReserved) : 0;
    let values: number[] | undefined;
    if (fromLocal > 0) {
      this.localReserved -= fromLocal;
      values = await this.local.add(counters, -fromLocal);
    }
    const rest = deltaMicros + fromLocal;
    if (rest === 0 && values) return values;
    const shared = await this.tryShared(() => this.shared.add(counters, rest));
    if (shared.ok) return shared.value;
    this.remember(counters);
    return this.local.add(counters, rest);
  }

  async read(keys: readonly string[]): Promise<number[]> {
    const shared = await this.tryShared(() => this.shared.read(keys));
    return shared.ok ? shared.value : this.local.read(keys);
  }

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    const shared = await this.tryShared(() => this.shared.claimOnce(key, expiresAt));
    return shared.ok ? shared.value : this.local.claimOnce(key, expiresAt);
  }

  private async tryShared<T>(work: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    if (this.outage.shouldTry()) {
      const startedAt = performance.now();
      try {
        const value = await work();
        if (this.outage.succeeded()) await this.flushLocal();
        return { ok: true, value };
      } catch (err) {
        this.outage.failed(
          err,
          this.mode === "fail-open"
            ? `failing open to a local budget with ${Math.round(this.share * 100)}% of each limit`
            : "failing closed (calls are refused until it answers)",
          startedAt,
        );
        if (this.mode === "fail-closed")
          throw new RedisUnavailableError(`Budget store unavailable: ${String(err)}`);
      }
    } else if (this.mode === "fail-closed") {
      throw new RedisUnavailableError("Budget store unavailable (fail-closed).");
    }
    return { ok: false };
  }

  /** Adds what was booked locally during the outage to the shared counters, then forgets it. */
  private async flushLocal(): Promise<void> {
    const counters = [...this.localCounters.values()];
    this.localCounters.clear();
    this.localReserved = 0;
    const values = await this.local.read(counters.map((c) => c.key));
    for (const [i, counter] of counters.entries()) {
      const v = values[i] ?? 0;
      if (v <= 0) continue;
      const startedAt = performance.now();
      try {
        await this.shared.add([counter], v);
        await this.local.add([counter], -v);
      } catch (err) {
        this.remember([counter]);
        this.outage.failed(err, "keeping the local budget", startedAt);
        return;
      }
    }
  }

  private remember(counters: readonly BudgetCounter[]): void {
    for (const c of counters) this.localCounters.set(c.key, { key: c.key, expiresAt: c.expiresAt });
  }
}
