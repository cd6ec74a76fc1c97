import {
  type CalendarWindowSpec,
  costOn,
  type RateLimitStore,
  type StoreBlockRequest,
  type StoreCancelRequest,
  type StoreCommitRequest,
  type StoreConfirmRequest,
  type StoreConfirmResult,
  type StoreConstrainRequest,
  type StoreReserveRequest,
  type StoreReserveResult,
  type StoreStatus,
  type StoreTarget,
  type WindowSpec,
} from "./store";
import { WindowLog } from "./windowLog";

/** A call that was granted and has not been committed or cancelled yet. */
interface Booking {
  readonly id: string;
  seq: number;
  /** Where its entries stand: the booked start, or the real send time after `confirm`. */
  start: number;
  /** The start it was booked for. Queue order and staleness go by this, which never moves. */
  readonly bookedAt: number;
  readonly tokens: number;
  /** The constraint that decided its start, reported to callers queued behind it. */
  readonly binding: string;
  open: boolean;
}

/** Everything the store keeps for one key (model). */
interface KeyState {
  readonly logs: Map<string, WindowLog>;
  blockedUntil: number;
  seq: number;
  /** Open bookings by id, for commit/cancel. */
  readonly open: Map<string, Booking>;
  /** Bookings in booking order (so by start): the last open one is the FIFO floor for new ones. */
  queue: Booking[];
  queueHead: number;
}

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * A booking neither committed nor cancelled this long after its start is forgotten (its window
   * entries stay until they expire). Bounds memory when a caller loses a ticket. Default 1 hour.
   */
  staleBookingMs?: number;
}

/** The name reported when a provider's retry hint decides the start. */
export const RETRY_HINT_DIMENSION = "retry_after";

/**
 * The default, in-process {@link RateLimitStore}: one {@link WindowLog} per window per key. Each
 * method runs synchronously to completion, so every operation is atomic within the process.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly keys = new Map<string, KeyState>();
  private readonly staleBookingMs: number;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.staleBookingMs = options.staleBookingMs ?? 3_600_000;
  }

  async reserve(req: StoreReserveRequest): Promise<StoreReserveResult> {
    const st = this.state(req.key);
    this.prune(st, req.windows, req.now);
    for (const w of req.windows) {
      const cost = costOn(w.unit, req.tokens);
      if (cost > w.limit) return { kind: "never_fits", dimension: w.name, requested: cost, limit: w.limit };
    }

    // FIFO floor: never before an earlier open booking, so bookings queue in order and each
    // window only needs checking at the new entry's own time.
    let start = req.now;
    let binding = "";
    if (st.blockedUntil > start) {
      start = st.blockedUntil;
      binding = RETRY_HINT_DIMENSION;
    }
    const last = this.lastOpen(st);
    if (last && last.start > start) {
      start = last.start;
      binding = last.binding;
    }
    // Each window's condition is monotone in time, so the earliest start is the max of the
    // per-window answers; iterate because a calendar window's answer depends on where we are.
    for (let round = 0; round <= req.windows.length; round++) {
      let moved = false;
      for (const w of req.windows) {
        const t = this.earliest(st, w, start, costOn(w.unit, req.tokens));
        if (t > start) {
          start = t;
          binding = w.name;
          moved = true;
        }
      }
      if (!moved) break;
    }

    const waitMs = start - req.now;
    // No calendar period left (start = Infinity) is never granted, not even with an unbounded wait.
    if (waitMs > req.maxWaitMs || start === Number.POSITIVE_INFINITY) {
      return { kind: "wait_too_long", waitMs, dimension: binding };
    }

    const seq = ++st.seq;
    const booking: Booking = {
      id: String(seq),
      seq,
      start,
      bookedAt: start,
      tokens: req.tokens,
      binding,
      open: true,
    };
    for (const w of req.windows) this.log(st, w).insert(start, seq, costOn(w.unit, req.tokens));
    st.open.set(booking.id, booking);
    st.queue.push(booking);
    return { kind: "granted", entryId: booking.id, startAt: start, waitMs };
  }

  async commit(req: StoreCommitRequest): Promise<void> {
    const st = this.keys.get(req.key);
    const b = st?.open.get(req.entryId);
    if (!st || !b) return;
    this.close(st, b);
    this.prune(st, req.windows, req.now);
    // The provider stamped the call when it arrived, somewhere before now: counting it at `now`
    // keeps our window from ending before the provider's does.
    const time = Math.max(b.start, req.now);
    const seq = time > b.start ? ++st.seq : b.seq;
    const actual = req.actualTokens ?? b.tokens;
    for (const w of req.windows) {
      const log = this.log(st, w);
      log.remove(b.start, b.seq);
      log.insert(time, seq, costOn(w.unit, actual));
    }
  }

  async confirm(req: StoreConfirmRequest): Promise<StoreConfirmResult> {
    const st = this.keys.get(req.key);
    const b = st?.open.get(req.entryId);
    if (!st || !b) return { ok: true };
    if (st.blockedUntil > req.now) return { ok: false, retryAt: st.blockedUntil };
    this.prune(st, req.windows, req.now);
    let retryAt = Number.NEGATIVE_INFINITY;
    for (const w of req.windows) {
      if (w.kind !== "sliding") continue;
      const log = this.log(st, w);
      const cost = costOn(w.unit, b.tokens);
      log.remove(b.start, b.seq);
      retryAt = Math.max(retryAt, log.earliestWithinUpTo(w.limit - cost, w.intervalMs, req.now));
      log.insert(b.start, b.seq, cost);
    }
    if (retryAt > req.now) return { ok: false, retryAt };
    if (req.now > b.start) {
      const seq = ++st.seq;
      for (const w of req.windows) {
        const log = this.log(st, w);
        log.remove(b.start, b.seq);
        log.insert(req.now, seq, costOn(w.unit, b.tokens));
      }
      b.start = req.now;
      b.seq = seq;
    }
    return { ok: true };
  }

  async cancel(req: StoreCancelRequest): Promise<void> {
    const st = this.keys.get(req.key);
    const b = st?.open.get(req.entryId);
    if (!st || !b) return;
    this.close(st, b);
    for (const w of req.windows) this.log(st, w).remove(b.start, b.seq);
    this.prune(st, req.windows, req.now);
  }

  async constrain(req: StoreConstrainRequest): Promise<void> {
    if (!(req.resetAt > req.now) || !(req.remaining >= 0)) return;
    const st = this.state(req.key);
    const w = req.window;
    this.prune(st, [w], req.now);
    const log = this.log(st, w);
    // Only what has already been sent counts against what the provider reports; calls booked
    // for later will still come out of its `remaining`.
    const sent =
      w.kind === "sliding"
        ? log.sumAfter(req.now - w.intervalMs) - log.sumAfter(req.now)
        : log.sumAtOrAfter(periodStartAt(w, req.now)) - log.sumAfter(req.now);
    const deficit = w.limit - sent - req.remaining;
    if (deficit <= 0) return;
    // A sliding entry at (resetAt - interval) leaves the window exactly at resetAt. A calendar
    // window has no such instant; the phantom holds until the period ends.
    const time = w.kind === "sliding" ? req.resetAt - w.intervalMs : req.now;
    log.insert(time, ++st.seq, deficit);
  }

  async block(req: StoreBlockRequest): Promise<void> {
    const st = this.state(req.key);
    st.blockedUntil = Math.max(st.blockedUntil, req.until);
  }

  async status(req: StoreTarget): Promise<StoreStatus> {
    const st = this.state(req.key);
    this.prune(st, req.windows, req.now);
    const windows = req.windows.map((w) => {
      const log = this.log(st, w);
      const used =
        w.kind === "sliding"
          ? log.sumAfter(req.now - w.intervalMs)
          : periodSum(log, w, periodIndex(w, req.now));
      const next = this.earliest(st, w, req.now, 1);
      return next > req.now ? { name: w.name, used, nextFreeAt: next } : { name: w.name, used };
    });
    return st.blockedUntil > req.now ? { blockedUntil: st.blockedUntil, windows } : { windows };
  }

  /** The earliest instant >= `from` at which `w` has room for `cost`. */
  private earliest(st: KeyState, w: WindowSpec, from: number, cost: number): number {
    const log = this.log(st, w);
    if (w.kind === "sliding") return Math.max(from, log.earliestWithin(w.limit - cost, w.intervalMs));
    for (let k = periodIndex(w, from); k < w.periodStarts.length; k++) {
      if (periodSum(log, w, k) + cost <= w.limit) return Math.max(from, w.periodStarts[k]!);
    }
    return Number.POSITIVE_INFINITY;
  }

  private state(key: string): KeyState {
    let st = this.keys.get(key);
    if (!st) {
      st = { logs: new Map(), blockedUntil: 0, seq: 0, open: new Map(), queue: [], queueHead: 0 };
      this.keys.set(key, st);
    }
    return st;
  }

  private log(st: KeyState, w: WindowSpec): WindowLog {
    let log = st.logs.get(w.name);
    if (!log) {
      log = new WindowLog();
      st.logs.set(w.name, log);
    }
    return log;
  }

  private close(st: KeyState, b: Booking): void {
    b.open = false;
    st.open.delete(b.id);
  }

  /** The latest open booking (the FIFO floor), dropping closed ones from the back. */
  private lastOpen(st: KeyState): Booking | undefined {
    while (st.queue.length > st.queueHead && !st.queue[st.queue.length - 1]!.open) st.queue.pop();
    return st.queue.length > st.queueHead ? st.queue[st.queue.length - 1] : undefined;
  }

  /** Drops entries that have left every window, and bookings that are closed or stale. */
  private prune(st: KeyState, windows: readonly WindowSpec[], now: number): void {
    for (const w of windows) {
      const log = this.log(st, w);
      if (w.kind === "sliding") log.dropThrough(now - w.intervalMs);
      else log.dropBefore(periodStartAt(w, now));
    }
    const staleBefore = now - this.staleBookingMs;
    while (st.queueHead < st.queue.length) {
      const b = st.queue[st.queueHead]!;
      if (b.open && b.bookedAt >= staleBefore) break;
      if (b.open) this.close(st, b);
      st.queueHead++;
    }
    if (st.queueHead >= 32 && st.queueHead * 2 >= st.queue.length) {
      st.queue = st.queue.slice(st.queueHead);
      st.queueHead = 0;
    }
  }
}

/** Index of the period containing `t` (0 if `t` precedes the first boundary). */
function periodIndex(w: CalendarWindowSpec, t: number): number {
  let lo = 0;
  let hi = w.periodStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (w.periodStarts[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function periodStartAt(w: CalendarWindowSpec, t: number): number {
  return w.periodStarts[periodIndex(w, t)] ?? Number.NEGATIVE_INFINITY;
}

/** Sum booked in period `k` (the last period is open-ended). */
function periodSum(log: WindowLog, w: CalendarWindowSpec, k: number): number {
  const from = log.sumAtOrAfter(w.periodStarts[k] ?? Number.NEGATIVE_INFINITY);
  const next = w.periodStarts[k + 1];
  return next === undefined ? from : from - log.sumAtOrAfter(next);
}
