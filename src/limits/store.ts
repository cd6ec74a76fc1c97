import type { LimitUnit } from "./types";

/**
 * One limit as the store enforces it. The limiter resolves everything that needs a time-zone
 * database (calendar boundaries) before calling the store, so a Redis/Lua store needs only numbers.
 */
export type WindowSpec = SlidingWindowSpec | CalendarWindowSpec;

/** At most `limit` in any span `(t - intervalMs, t]`. */
export interface SlidingWindowSpec {
  kind: "sliding";
  /** Stable name: the store keys this dimension's log by it. */
  name: string;
  unit: LimitUnit;
  limit: number;
  intervalMs: number;
}

/** At most `limit` between consecutive boundaries (e.g. local midnights). */
export interface CalendarWindowSpec {
  kind: "calendar";
  name: string;
  unit: LimitUnit;
  limit: number;
  /** Nominal period length, for display only. */
  intervalMs: number;
  /**
   * Ascending period starts: the first is at or before `now`, and they reach past `now + maxWaitMs`.
   * The last period is treated as open-ended, which only ever over-counts.
   */
  periodStarts: readonly number[];
}

/** Identifies one model's state in a store, and the limits that apply to it right now. */
export interface StoreTarget {
  /** One key per model (a Redis store adds its prefix and `{hash-tag}`). */
  key: string;
  windows: readonly WindowSpec[];
  /**
   * The caller's time. A store with its own clock (Redis `TIME`) may use that instead; it must
   * then return `startAt` in its own time, and the caller relies on `waitMs` for sleeping.
   */
  now: number;
}

/** Book one request plus `tokens` on every window of its unit, at the earliest instant all allow. */
export interface StoreReserveRequest extends StoreTarget {
  tokens: number;
  /** Book nothing and answer `wait_too_long` if the start would be later than `now + maxWaitMs`. */
  maxWaitMs: number;
}

/** The store's answer to a reservation; `entryId` identifies the booking for commit/cancel. */
export type StoreReserveResult =
  | { kind: "granted"; entryId: string; startAt: number; waitMs: number }
  | { kind: "wait_too_long"; waitMs: number; dimension: string }
  | { kind: "never_fits"; dimension: string; requested: number; limit: number };

/** A booked call came back: move its entries to `now` and set its token cost to `actualTokens`. */
export interface StoreCommitRequest extends StoreTarget {
  entryId: string;
  /** Tokens actually used; absent keeps the estimate. */
  actualTokens?: number;
}

/** A booked call was never sent: remove its entries. */
export interface StoreCancelRequest extends StoreTarget {
  entryId: string;
}

/**
 * The provider says only `remaining` is left on `window` until `resetAt`: if the local log
 * believes in more room, book a phantom entry that holds the difference until `resetAt`.
 */
export interface StoreConstrainRequest {
  key: string;
  window: WindowSpec;
  remaining: number;
  resetAt: number;
  now: number;
}

/** Nothing for `key` starts before `until` (kept if an existing block ends later). */
export interface StoreBlockRequest {
  key: string;
  until: number;
}

/** One window of {@link StoreStatus}. */
export interface StoreWindowStatus {
  name: string;
  used: number;
  nextFreeAt?: number;
}

/** What the store holds for one key. */
export interface StoreStatus {
  blockedUntil?: number;
  windows: StoreWindowStatus[];
}

/**
 * Where bookings live. Every method is ONE atomic operation on one key (in Redis: one Lua script
 * over a sorted set per window, keyed `{model}:window`, plus a block key), so several processes
 * sharing a store never double-book. Implementations must keep, per window, a log of
 * `(time, cost)` entries and answer a reservation with the earliest `t >= max(now, block, last
 * uncommitted booking)` at which every window has room, booking at `t`.
 */
export interface RateLimitStore {
  reserve(request: StoreReserveRequest): Promise<StoreReserveResult>;
  commit(request: StoreCommitRequest): Promise<void>;
  cancel(request: StoreCancelRequest): Promise<void>;
  constrain(request: StoreConstrainRequest): Promise<void>;
  block(request: StoreBlockRequest): Promise<void>;
  status(request: StoreTarget): Promise<StoreStatus>;
  /**
   * Check-and-stamp at send time (optional; without it the booked time stands). Bookings queued
   * behind a batch were computed from the batch's *booked* instant; if the batch actually left
   * late (a busy event loop, a slow store) while the queued call leaves on time, the provider sees
   * less than a window between them. `confirm` re-checks the booking's sliding windows against
   * what was really sent and either stamps it at `now` or says when it may go.
   */
  confirm?(request: StoreConfirmRequest): Promise<StoreConfirmResult>;
}

/** A granted booking about to be sent. */
export interface StoreConfirmRequest extends StoreTarget {
  entryId: string;
}

/** `ok`: stamped at `now`, send it. Otherwise sleep until `retryAt` and confirm again. */
export type StoreConfirmResult = { ok: true } | { ok: false; retryAt: number };

/** What one booking costs on a window of the given unit. */
export function costOn(unit: LimitUnit, tokens: number): number {
  return unit === "requests" ? 1 : tokens;
}
