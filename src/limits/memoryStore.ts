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
  type StoreConstrainResult,
  type StoreRecordRequest,
  type StoreReleaseRequest,
  type StoreReserveRequest,
  type StoreReserveResult,
  type StoreStampRequest,
  type StoreStatus,
  type StoreTarget,
  type WindowSpec,
} from "./store";
import { WindowLog } from "./windowLog";

/** A call that was granted and has not been committed or cancelled yet. */
interface Booking {
  readonly id: string;
  readonly seq: number;
  /** The start it was booked for. Queue order and staleness go by this, which never moves. */
  readonly start: number;
  /** Where its entries stand: the arrival estimate (booked start + margin, then evidence). */
  at: number;
  readonly tokens: number;
  /** The constraint that decided its start, reported to callers queued behind it. */
  readonly binding: string;
  open: boolean;
  /** Confirmed, stamped or committed: it counts in the `sent` logs. */
  sent: boolean;
  /** The transit allowance it was confirmed with. */
  margin: number;
}

/**
 * One window's entries: `all` holds every booking (what reservations check), `sent` only what was
 * really sent (confirmed, stamped, committed, phantoms, records): what `confirm` checks, since
 * bookings not yet confirmed check themselves when they are.
 */
interface Logs {
  readonly all: WindowLog;
  readonly sent: WindowLog;
}

/** Everything the store keeps for one key (model). */
interface KeyState {
  readonly logs: Map<string, Logs>;
  blockedUntil: number;
  seq: number;
  /** Open bookings by id. */
  readonly open: Map<string, Booking>;
  /** Confirmed provisionally, not stamped yet: they have not been seen on the wire. */
  readonly provisional: Map<string, Booking>;
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
 * The default, in-process {@link RateLimitStore}: two {@link WindowLog}s per window per key. Each
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
    const at = start + margin(req.arrivalMarginMs);
    const booking: Booking = {
      id: String(seq),
      seq,
      start,
      at,
      tokens: req.tokens,
      binding,
      open: true,
      sent: false,
      margin: 0,
    };
    for (const w of req.windows) this.logs(st, w).all.insert(at, seq, costOn(w.unit, req.tokens));
    st.open.set(booking.id, booking);
    st.queue.push(booking);
    return { kind: "granted", entryId: booking.id, startAt: start, waitMs };
  }

  async confirm(req: StoreConfirmRequest): Promise<StoreConfirmResult> {
    const st = this.keys.get(req.key);
    const b = st?.open.get(req.entryId);
    if (!st || !b) return { ok: false, retryAt: req.now, lost: true };
    if (b.sent) return { ok: true };
    if (st.blockedUntil > req.now) return { ok: false, retryAt: st.blockedUntil };
    this.prune(st, req.windows, req.now);
    // Only what was really sent counts: bookings not yet confirmed check themselves later.
    let retryAt = Number.NEGATIVE_INFINITY;
    for (const w of req.windows) {
      if (w.kind !== "sliding") continue;
      const t = this.logs(st, w).sent.earliestWithin(w.limit - costOn(w.unit, b.tokens), w.intervalMs);
      if (t > retryAt) retryAt = t;
    }
    if (retryAt > req.now) return { ok: false, retryAt };
    b.margin = margin(req.arrivalMarginMs);
    this.markSent(st, b, req.windows, req.now + b.margin);
    if (req.provisional === true && b.open) st.provisional.set(b.id, b);
    return { ok: true };
  }

  async stamp(req: StoreStampRequest): Promise<void> {
    const st = this.keys.get(req.key);
    const b = st?.open.get(req.entryId);
    if (!st || !b || !Number.isFinite(req.at)) return;
    st.provisional.delete(b.id);
    this.markSent(st, b, req.windows, req.at);
  }

  async commit(req: StoreCommitRequest): Promise<void> {
    const st = this.keys.get(req.key);
    const b = st?.open.get(req.entryId);
    if (!st || !b) return;
    this.close(st, b);
    // It came back, so it was sent: it stays where it stands, at its actual cost.
    const actual = req.actualTokens ?? b.tokens;
    for (const w of req.windows) {
      const logs = this.logs(st, w);
      const cost = costOn(w.unit, actual);
      logs.all.set(b.seq, b.at, cost);
      logs.sent.set(b.seq, logs.all.timeOf(b.seq) ?? b.at, cost);
    }
    this.prune(st, req.windows, req.now);
  }

  async cancel(req: StoreCancelRequest): Promise<void> {
    const st = this.keys.get(req.key);
    const b = st?.open.get(req.entryId);
    if (!st || !b) return;
    this.close(st, b);
    for (const w of req.windows) {
      const logs = this.logs(st, w);
      logs.all.remove(b.seq);
      logs.sent.remove(b.seq);
    }
    this.prune(st, req.windows, req.now);
  }

  async constrain(req: StoreConstrainRequest): Promise<StoreConstrainResult> {
    if (!(req.resetAt > req.now) || !(req.remaining >= 0)) return { deficit: 0 };
    const st = this.state(req.key);
    const w = req.window;
    this.prune(st, [w], req.now);
    const logs = this.logs(st, w);
    // Only what has really been sent counts against what the provider reports; calls booked
    // for later will still come out of its `remaining`.
    const sent =
      w.kind === "sliding"
        ? logs.sent.sumAfter(req.now - w.intervalMs) - logs.sent.sumAfter(req.now)
        : logs.sent.sumAtOrAfter(periodStartAt(w, req.now)) - logs.sent.sumAfter(req.now);
    const deficit = w.limit - sent - req.remaining;
    if (deficit <= 0) return { deficit: 0 };
    // A sliding entry at (resetAt - interval) leaves the window exactly at resetAt. A calendar
    // window has no such instant; the phantom holds until the period ends.
    const time = w.kind === "sliding" ? req.resetAt - w.intervalMs : req.now;
    const seq = ++st.seq;
    logs.all.insert(time, seq, deficit);
    logs.sent.insert(time, seq, deficit);
    return { deficit };
  }

  async release(req: StoreReleaseRequest): Promise<void> {
    const w = req.window;
    if (w.kind !== "sliding" || !(req.at > req.now) || !(req.amount > 0)) return;
    const st = this.state(req.key);
    this.prune(st, [w], req.now);
    const logs = this.logs(st, w);
    const to = req.at - w.intervalMs;
    const needed = logs.all.sumAfter(to) + req.amount - w.limit;
    if (!(needed > 0)) return;
    for (const seq of logs.sent.ageTo(to, req.sentBefore, needed)) logs.all.move(seq, to);
  }

  async record(req: StoreRecordRequest): Promise<void> {
    const entries = req.entries.filter((e) => Number.isFinite(e.at));
    if (entries.length === 0) return;
    const st = this.state(req.key);
    for (const e of entries) {
      const seq = ++st.seq;
      for (const w of req.windows) {
        const logs = this.logs(st, w);
        const cost = costOn(w.unit, e.tokens);
        logs.all.insert(e.at, seq, cost);
        logs.sent.insert(e.at, seq, cost);
      }
    }
    this.prune(st, req.windows, req.now);
  }

  async block(req: StoreBlockRequest): Promise<void> {
    const st = this.state(req.key);
    st.blockedUntil = Math.max(st.blockedUntil, req.until);
  }

  async status(req: StoreTarget): Promise<StoreStatus> {
    const st = this.state(req.key);
    this.prune(st, req.windows, req.now);
    const windows = req.windows.map((w) => {
      const log = this.logs(st, w).all;
      const used =
        w.kind === "sliding"
          ? log.sumAfter(req.now - w.intervalMs)
          : periodSum(log, w, periodIndex(w, req.now));
      const next = this.earliest(st, w, req.now, 1);
      return next > req.now ? { name: w.name, used, nextFreeAt: next } : { name: w.name, used };
    });
    return st.blockedUntil > req.now ? { blockedUntil: st.blockedUntil, windows } : { windows };
  }

  /** Moves every entry of `b` to `at` and counts it as sent. */
  private markSent(st: KeyState, b: Booking, windows: readonly WindowSpec[], at: number): void {
    for (const w of windows) {
      const logs = this.logs(st, w);
      const cost = costOn(w.unit, b.tokens);
      logs.all.put(b.seq, at, cost);
      logs.sent.put(b.seq, at, cost);
    }
    b.at = at;
    b.sent = true;
  }

  /**
   * A provisional booking has not been seen on the wire: it leaves no earlier than now. Before its
   * entry could fall out of the shortest sliding window, it moves to `now + margin`.
   */
  private holdProvisional(st: KeyState, windows: readonly WindowSpec[], now: number): void {
    let shortest = Number.POSITIVE_INFINITY;
    for (const w of windows) if (w.kind === "sliding" && w.intervalMs < shortest) shortest = w.intervalMs;
    if (shortest === Number.POSITIVE_INFINITY) return;
    for (const b of st.provisional.values()) {
      if (b.at <= now - shortest) this.markSent(st, b, windows, now + b.margin);
    }
  }

  /** The earliest instant >= `from` at which `w` has room for `cost`. */
  private earliest(st: KeyState, w: WindowSpec, from: number, cost: number): number {
    const log = this.logs(st, w).all;
    if (w.kind === "sliding") return Math.max(from, log.earliestWithin(w.limit - cost, w.intervalMs));
    for (let k = periodIndex(w, from); k < w.periodStarts.length; k++) {
      if (periodSum(log, w, k) + cost <= w.limit) return Math.max(from, w.periodStarts[k]!);
    }
    return Number.POSITIVE_INFINITY;
  }

  private state(key: string): KeyState {
    let st = this.keys.get(key);
    if (!st) {
      st = {
        logs: new Map(),
        blockedUntil: 0,
        seq: 0,
        open: new Map(),
        provisional: new Map(),
        queue: [],
        queueHead: 0,
      };
      this.keys.set(key, st);
    }
    return st;
  }

  private logs(st: KeyState, w: WindowSpec): Logs {
    let logs = st.logs.get(w.name);
    if (!logs) {
      logs = { all: new WindowLog(), sent: new WindowLog() };
      st.logs.set(w.name, logs);
    }
    return logs;
  }

  private close(st: KeyState, b: Booking): void {
    b.open = false;
    st.open.delete(b.id);
    st.provisional.delete(b.id);
  }

  /** The latest open booking (the FIFO floor), dropping closed ones from the back. */
  private lastOpen(st: KeyState): Booking | undefined {
    while (st.queue.length > st.queueHead && !st.queue[st.queue.length - 1]!.open) st.queue.pop();
    return st.queue.length > st.queueHead ? st.queue[st.queue.length - 1] : undefined;
  }

  /** Drops entries that have left every window, and bookings that are closed or stale. */
  private prune(st: KeyState, windows: readonly WindowSpec[], now: number): void {
    if (st.provisional.size > 0) this.holdProvisional(st, windows, now);
    for (const w of windows) {
      const logs = this.logs(st, w);
      if (w.kind === "sliding") {
        logs.all.dropThrough(now - w.intervalMs);
        logs.sent.dropThrough(now - w.intervalMs);
      } else {
        const from = periodStartAt(w, now);
        logs.all.dropBefore(from);
        logs.sent.dropBefore(from);
      }
    }
    const staleBefore = now - this.staleBookingMs;
    while (st.queueHead < st.queue.length) {
      const b = st.queue[st.queueHead]!;
      if (b.open && b.start >= staleBefore) break;
      if (b.open) this.close(st, b);
      st.queueHead++;
    }
    if (st.queueHead >= 32 && st.queueHead * 2 >= st.queue.length) {
      st.queue = st.queue.slice(st.queueHead);
      st.queueHead = 0;
    }
  }
}

/** A transit allowance as given: finite and >= 0, else 0. */
function margin(ms: number | undefined): number {
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? ms : 0;
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
