import { type Clock, systemClock } from "../clock";

/** One spend counter: spent plus reserved micro-dollars of one period, e.g. `"day:2026-11-22"`. */
export interface BudgetCounter {
  key: string;
  /** When the store may forget the counter (epoch ms); set on every write. */
  expiresAt: number;
}

/** A counter with the limit a reservation must stay within (`null`: no limit). */
export interface LimitedBudgetCounter extends BudgetCounter {
  limitMicros: number | null;
}

/** Result of {@link BudgetStore.reserve}. `usedMicros[i]` belongs to `counters[i]`. */
export type StoreReservation =
  | { ok: true; usedMicros: number[] }
  /** `failedIndex`: the first counter the amount did not fit; nothing was added anywhere. */
  | { ok: false; failedIndex: number; usedMicros: number[] };

/**
 * Where budgets keep their counters. Every method is one atomic operation, so a store shared by
 * many processes (Redis: one Lua script each, integer `INCRBY`, `PEXPIREAT`) keeps the budget.
 * Amounts are integer micro-dollars.
 */
export interface BudgetStore {
  /**
   * Atomically: if `used + amountMicros <= limitMicros` for every counter with a limit, add
   * `amountMicros` to all of them; otherwise change nothing.
   */
  reserve(counters: readonly LimitedBudgetCounter[], amountMicros: number): Promise<StoreReservation>;
  /** Atomically adds `deltaMicros` (may be negative; counters never go below 0). Returns the new values. */
  add(counters: readonly BudgetCounter[], deltaMicros: number): Promise<number[]>;
  /** Current values (0 for missing counters). */
  read(keys: readonly string[]): Promise<number[]>;
  /**
   * True the first time `key` is claimed before `expiresAt`, false afterwards (Redis: `SET NX PXAT`).
   * Keeps an alert to once per period across processes.
   */
  claimOnce(key: string, expiresAt: number): Promise<boolean>;
}

interface Entry {
  value: number;
  expiresAt: number;
}

/** Options of {@link MemoryBudgetStore}. */
export interface MemoryBudgetStoreOptions {
  /** Decides expiry. Default: the system clock. */
  clock?: Clock;
}

/**
 * A {@link BudgetStore} in process memory: each method runs synchronously, so it is atomic within
 * one process. Expired counters are dropped as they are touched and on every reservation.
 */
export class MemoryBudgetStore implements BudgetStore {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;

  constructor(options: MemoryBudgetStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async reserve(counters: readonly LimitedBudgetCounter[], amountMicros: number): Promise<StoreReservation> {
    this.purgeExpired();
    const used = counters.map((c) => this.value(c.key));
    const failedIndex = counters.findIndex(
      (c, i) => c.limitMicros !== null && (used[i] ?? 0) + amountMicros > c.limitMicros,
    );
    if (failedIndex >= 0) return { ok: false, failedIndex, usedMicros: used };
    return { ok: true, usedMicros: counters.map((c, i) => this.write(c, (used[i] ?? 0) + amountMicros)) };
  }

  async add(counters: readonly BudgetCounter[], deltaMicros: number): Promise<number[]> {
    return counters.map((c) => this.write(c, Math.max(0, this.value(c.key) + deltaMicros)));
  }

  async read(keys: readonly string[]): Promise<number[]> {
    return keys.map((key) => this.value(key));
  }

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.entries.set(key, { value: 1, expiresAt });
    return true;
  }

  private value(key: string): number {
    return this.live(key)?.value ?? 0;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private write(counter: BudgetCounter, value: number): number {
    this.entries.set(counter.key, { value, expiresAt: counter.expiresAt });
    return value;
  }

  private purgeExpired(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
