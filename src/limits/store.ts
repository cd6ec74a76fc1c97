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

/**
 * Book one request plus `tokens` on every window of its unit, at the earliest instant all allow.
 * Its entries stand at `start + arrivalMarginMs`: the latest the provider is expected to stamp it.
 */
export interface StoreReserveRequest extends StoreTarget {
  tokens: number;
  /** Book nothing and answer `wait_too_long` if the start would be later than `now + maxWaitMs`. */
  maxWaitMs: number;
  /** Transit allowance, ms (>= 0): entries stand this long after the start. Default 0. */
  arrivalMarginMs?: number;
  /** Where the call queues; absent: `normal`, no tenant (FIFO among such calls). */
  place?: StorePlace;
}

/**
 * A booking's place in the model's queue, as a store keeps it: numbers only. The queue is ordered
 * by `(rank, tag, booking order)` among bookings not yet sent; `tag` is the tenant's virtual finish
 * tag (weighted fair queueing), which the store computes from `weight`.
 */
export interface StorePlace {
  /** 0 = interactive, 1 = normal, 2 = batch. */
  rank: number;
  tenant: string;
  weight: number;
  /** (0, 1]: the tenant's cap on every window. Absent: no cap. */
  maxShare?: number;
  /** Once waiting this long (ms), the booking is no longer moved later. `Infinity`: never pinned. */
  agingMs: number;
}

/** A booking another reservation moved later: its caller sleeps until the new start. */
export interface StoreMovedBooking {
  entryId: string;
  startAt: number;
}

/** The store's answer to a reservation; `entryId` identifies the booking for confirm/stamp/commit/cancel. */
export type StoreReserveResult =
  | {
      kind: "granted";
      entryId: string;
      startAt: number;
      waitMs: number;
      /** Bookings of lower classes (or later fair-share turns) this one went ahead of. */
      moved?: readonly StoreMovedBooking[];
    }
  | { kind: "wait_too_long"; waitMs: number; dimension: string }
  | { kind: "never_fits"; dimension: string; requested: number; limit: number };

/**
 * A booked call came back: set its token cost to `actualTokens` (a refund or a debt) and close the
 * booking. Its entries stay where evidence of its arrival put them: the provider stamped the
 * request when it arrived, not when its answer was complete.
 */
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
 * The provider says only `remaining` is left on `window` until `resetAt`: if the calls this log
 * has seen sent believe in more room, book a phantom entry that holds the difference until
 * `resetAt`.
 */
export interface StoreConstrainRequest {
  key: string;
  window: WindowSpec;
  remaining: number;
  resetAt: number;
  now: number;
}

/** What {@link RateLimitStore.constrain} did: the phantom it booked (0 when the provider agreed). */
export interface StoreConstrainResult {
  deficit: number;
}

/** Nothing for `key` starts before `until` (kept if an existing block ends later). */
export interface StoreBlockRequest {
  key: string;
  until: number;
}

/**
 * Evidence that a booked call reached the provider no later than `at` (its request was written to
 * the socket, plus a transit allowance; or its response's first byte, minus the server's own
 * processing time): its entries move to `at`, earlier or later. The booking counts as sent, and
 * is no longer provisional.
 */
export interface StoreStampRequest extends StoreTarget {
  entryId: string;
  at: number;
}

/**
 * The provider says when room comes back on `window`: at `at`, `amount` units are free
 * (`Infinity`: the window is empty then, a full reset). A local log that predicts a later instant
 * is wrong: the oldest entries sent no later than `sentBefore` move to `at - intervalMs`, so they
 * leave the window at `at`, until the room is there. Sliding windows only.
 */
export interface StoreReleaseRequest {
  key: string;
  window: WindowSpec;
  at: number;
  amount: number;
  /** Only entries at or before this instant are the provider's to vouch for (sent before it answered). */
  sentBefore: number;
  now: number;
}

/** Calls sent through another store (the local share during a Redis outage, or the reverse). */
export interface StoreRecordRequest extends StoreTarget {
  /** When each call is counted (its arrival estimate) and its tokens. */
  entries: ReadonlyArray<{ at: number; tokens: number }>;
}

/** One window of {@link StoreStatus}. */
export interface StoreWindowStatus {
  name: string;
  used: number;
  nextFreeAt?: number;
}

/** Bookings waiting (granted, not sent yet) of one class and tenant. */
export interface StoreQueueStatus {
  rank: number;
  tenant: string;
  waiting: number;
}

/** What the store holds for one key. */
export interface StoreStatus {
  blockedUntil?: number;
  windows: StoreWindowStatus[];
  /** Waiting bookings by class and tenant (absent: the store does not report them). */
  queue?: StoreQueueStatus[];
}

/**
 * Where bookings live. Every method is ONE atomic operation on one key (in Redis: one Lua script
 * over two sorted sets per window, keyed `{model}:...`, plus a block key), so several processes
 * sharing a store never double-book. Implementations keep, per window, a log of `(time, cost)`
 * entries (every booking, at its arrival estimate) and the part of it that was really sent, and
 * answer a reservation with the earliest `t >= max(now, block, last open booking)` at which every
 * window has room, booking at `t`.
 *
 * A booking's life: `reserve` -> `confirm` (about to be sent: re-checked against what was really
 * sent, stamped at `now + arrivalMarginMs`) -> `stamp` (evidence of its arrival, any number of
 * times) -> `commit` (tokens reconciled) or `cancel` (never sent).
 */
export interface RateLimitStore {
  reserve(request: StoreReserveRequest): Promise<StoreReserveResult>;
  commit(request: StoreCommitRequest): Promise<void>;
  cancel(request: StoreCancelRequest): Promise<void>;
  // biome-ignore lint/suspicious/noConfusingVoidType: stores written before the result existed return void.
  constrain(request: StoreConstrainRequest): Promise<StoreConstrainResult | undefined | void>;
  block(request: StoreBlockRequest): Promise<void>;
  status(request: StoreTarget): Promise<StoreStatus>;
  /**
   * Check-and-stamp at send time (optional; without it the booked time stands). Bookings queued
   * behind a batch were computed from the batch's *booked* instant; if the batch actually left
   * late (a busy event loop, a slow store) while the queued call leaves on time, the provider sees
   * less than a window between them. `confirm` re-checks the booking's sliding windows against
   * what was really sent (bookings not yet confirmed check themselves when they are) and either
   * stamps it at `now + arrivalMarginMs` or says when it may go.
   */
  confirm?(request: StoreConfirmRequest): Promise<StoreConfirmResult>;
  /** Moves a booking to evidence of its arrival (optional; without it the confirm stamp stands). */
  stamp?(request: StoreStampRequest): Promise<void>;
  /** The provider's own "when" (optional; without it the local log's prediction stands). */
  release?(request: StoreReleaseRequest): Promise<void>;
  /** Counts calls sent elsewhere (optional; the Redis fail-over uses it to hand bookings over). */
  record?(request: StoreRecordRequest): Promise<void>;
}

/** A granted booking about to be sent. */
export interface StoreConfirmRequest extends StoreTarget {
  entryId: string;
  /** Transit allowance added to `now` for the stamp, ms (>= 0). Default 0. */
  arrivalMarginMs?: number;
  /**
   * The caller will `stamp` the booking once its request is seen on the wire. Until then it has
   * not left yet: whenever its entry would fall out of the shortest sliding window, it moves to
   * the operation's `now + arrivalMarginMs`, so it keeps counting however late the send.
   */
  provisional?: boolean;
}

/**
 * `ok`: stamped at `now` (+ margin), send it. Otherwise sleep until `retryAt` and confirm again
 * (`moved`: another reservation went ahead of it), or, `lost`, the store no longer knows the booking (it expired, or the store lost its data in a
 * restart): book again, never send it unchecked.
 */
export type StoreConfirmResult =
  | { ok: true }
  | {
      ok: false;
      retryAt: number;
      lost?: true;
      /** The booking was moved later by a higher-class (or fairer) reservation: `retryAt` is its new start. */
      moved?: true;
    };

/** What one booking costs on a window of the given unit. */
export function costOn(unit: LimitUnit, tokens: number): number {
  return unit === "requests" ? 1 : tokens;
}
