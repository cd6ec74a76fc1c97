import {
  ahead,
  compareQueue,
  DEFAULT_STORE_PLACE,
  normalizedCost,
  pinned,
  shareDimension,
  shareLimit,
} from "./queueOrder";
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
  type StoreMovedBooking,
  type StorePlace,
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
  /**
   * The start it is booked for. Staleness goes by this; it moves only later, and only while the
   * booking is waiting (a higher-class or fairer reservation went ahead of it).
   */
  start: number;
  /** Where it queues: class, tenant (weight, cap), aging. */
  readonly place: StorePlace;
  /** Its tenant's virtual finish tag in its class (weighted fair queueing). */
  readonly tag: number;
  /** When it was first booked: aging counts from here. */
  readonly arrivedAt: number;
  /** Its start was decided by its tenant's `maxShare`: later, cheaper-ranked calls may go before it. */
  capped: boolean;
  /** A later reservation moved it: confirming before its start says so. */
  displaced: boolean;
  /** Where its entries stand: the arrival estimate (booked start + margin, then evidence). */
  at: number;
  readonly tokens: number;
  /** The constraint that decided its start, reported to callers queued behind it. */
  binding: string;
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
  /**
   * Open bookings by start (waiting ones after sent ones): a new booking goes after every waiting
   * one that is ahead of it in queue order, before the rest, which move later.
   */
  queue: Booking[];
  queueHead: number;
  /** Per class: the largest tag sent, the virtual time a tenant that was idle starts from. */
  readonly virtualTime: number[];
  /** Per class and tenant (`rank \0 tenant`): the last tag given. */
  readonly lastTag: Map<string, number>;
  /** Per capped tenant, per window: its own bookings, checked against `maxShare` of the limit. */
  readonly tenantLogs: Map<string, Map<string, WindowLog>>;
}

/** A candidate start during a re-slot, and what decided it. */
interface Slot {
  start: number;
  binding: string;
  capped: boolean;
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
    const { now } = req;
    this.prune(st, req.windows, now);
    const place = req.place ?? DEFAULT_STORE_PLACE;
    for (const w of req.windows) {
      const cost = costOn(w.unit, req.tokens);
      if (cost > w.limit) return { kind: "never_fits", dimension: w.name, requested: cost, limit: w.limit };
      if (place.maxShare !== undefined && cost > shareLimit(w, place.maxShare)) {
        return {
          kind: "never_fits",
          dimension: shareDimension(w),
          requested: cost,
          limit: shareLimit(w, place.maxShare),
        };
      }
    }

    const tagKey = `${place.rank}\0${place.tenant}`;
    const tag =
      Math.max(st.virtualTime[place.rank] ?? 0, st.lastTag.get(tagKey) ?? 0) +
      normalizedCost(req.windows, req.tokens) / place.weight;
    const seq = st.seq + 1;
    const nb: Booking = {
      id: String(seq),
      seq,
      start: now,
      at: now,
      tokens: req.tokens,
      place,
      tag,
      arrivedAt: now,
      capped: false,
      displaced: false,
      binding: "",
      open: true,
      sent: false,
      margin: 0,
    };

    // Where it queues: after every waiting booking ahead of it (a higher class, an earlier tag, or
    // aged past moving), before the first that is not. Those move later, in queue order.
    const lower = place.maxShare === undefined ? now : this.tenantEarliest(st, req.windows, nb, now);
    let cut = st.queue.length;
    let floor = now;
    let floorBinding = "";
    for (let j = st.queueHead; j < st.queue.length; j++) {
      const b = st.queue[j]!;
      if (!b.open) continue;
      if (!b.sent && b.start > now && !pinned(b, now)) {
        if (ahead(nb, b) || (b.capped && Math.max(lower, st.blockedUntil) < b.start)) {
          cut = j;
          break;
        }
      }
      if (b.start > floor) {
        floor = b.start;
        floorBinding = b.binding;
      }
    }
    const displaced = cut < st.queue.length ? st.queue.slice(cut).filter((b) => b.open && !b.sent) : [];
    const before = displaced.map((b) => ({ start: b.start, at: b.at, binding: b.binding, capped: b.capped }));
    for (let k = displaced.length - 1; k >= 0; k--) this.unbook(st, req.windows, displaced[k]!);

    const slack = margin(req.arrivalMarginMs);
    this.reslot(st, req.windows, [...displaced, nb], floor, floorBinding, now, slack);
    const waitMs = nb.start - now;
    // No calendar period left (start = Infinity) is never granted, not even with an unbounded wait.
    if (waitMs > req.maxWaitMs || nb.start === Number.POSITIVE_INFINITY) {
      // Book nothing: put everything back where it stood.
      for (const b of [...displaced, nb].reverse()) this.unbook(st, req.windows, b);
      displaced.forEach((b, k) => {
        const was = before[k]!;
        b.start = was.start;
        b.binding = was.binding;
        b.capped = was.capped;
        this.book(st, req.windows, b, was.at);
      });
      return { kind: "wait_too_long", waitMs, dimension: nb.binding };
    }

    st.seq = seq;
    st.lastTag.set(tagKey, tag);
    st.open.set(nb.id, nb);
    const moved: StoreMovedBooking[] = [];
    displaced.forEach((b, k) => {
      if (b.start !== before[k]!.start) {
        b.displaced = true;
        moved.push({ entryId: b.id, startAt: b.start });
      }
      // A booking no calendar period can hold any more is gone: its caller books again.
      if (b.start === Number.POSITIVE_INFINITY) this.close(st, b);
    });
    if (displaced.length === 0) {
      st.queue.push(nb); // the common case: last in queue order, nothing moves
    } else {
      const kept = st.queue.slice(st.queueHead, cut);
      // Sent early (confirmed before their start) ones after the cut stay, ahead of re-slotted
      // ones at the same start (as the Redis store orders them).
      const sentTail = st.queue.slice(cut).filter((b) => b.open && b.sent);
      const requeued = [...displaced, nb]
        .filter((b) => b.open)
        .sort((a, b) => a.start - b.start || a.seq - b.seq);
      st.queue = kept.concat(mergeByStart(sentTail, requeued));
      st.queueHead = 0;
    }
    const result: StoreReserveResult = { kind: "granted", entryId: nb.id, startAt: nb.start, waitMs };
    return moved.length > 0 ? { ...result, moved } : result;
  }

  /**
   * Gives each booking of `todo` (none of them in the logs) its slot, in turn from `floor`: the
   * next slot goes to the booking that can start earliest, ties to the one first in queue order.
   * Only the first waiting booking of each class and tenant competes (FIFO within them), so one
   * turn costs a few window look-ups. Books each at its start (+ `margin`).
   */
  private reslot(
    st: KeyState,
    windows: readonly WindowSpec[],
    todo: Booking[],
    floor: number,
    floorBinding: string,
    now: number,
    margin: number,
  ): void {
    if (todo.length === 1) {
      // Nothing displaced (the common case): one look-up, no lanes.
      this.place(st, windows, todo[0]!, this.slotFor(st, windows, todo[0]!, floor, floorBinding), margin);
      return;
    }
    const lanes = new Map<string, Booking[]>();
    for (const b of [...todo].sort((x, y) => compareQueue(x, y, now))) {
      const lane = pinned(b, now) ? `p\0${b.place.tenant}` : `${b.place.rank}\0${b.place.tenant}`;
      let list = lanes.get(lane);
      if (!list) {
        list = [];
        lanes.set(lane, list);
      }
      list.push(b);
    }
    const heads = [...lanes.values()].map((list) => ({ list, next: 0 }));
    let t = floor;
    let binding = floorBinding;
    for (let n = 0; n < todo.length; n++) {
      let best: { lane: (typeof heads)[number]; slot: Slot } | undefined;
      for (const lane of heads) {
        const b = lane.list[lane.next];
        if (!b) continue;
        const slot = this.slotFor(st, windows, b, t, binding);
        const head = best ? best.lane.list[best.lane.next]! : undefined;
        if (
          !best ||
          !head ||
          slot.start < best.slot.start ||
          (slot.start === best.slot.start && compareQueue(b, head, now) < 0)
        ) {
          best = { lane, slot };
        }
      }
      if (!best) break;
      const b = best.lane.list[best.lane.next++]!;
      this.place(st, windows, b, best.slot, margin);
      if (b.start !== Number.POSITIVE_INFINITY) {
        t = b.start;
        binding = b.binding;
      }
    }
  }

  /** Gives `b` its slot and books it there (a slot no calendar period holds books nothing). */
  private place(st: KeyState, windows: readonly WindowSpec[], b: Booking, slot: Slot, margin: number): void {
    b.start = slot.start;
    b.binding = slot.binding;
    b.capped = slot.capped;
    if (b.start !== Number.POSITIVE_INFINITY) this.book(st, windows, b, b.start + margin);
  }

  /** The earliest start >= `from` at which every window, and the tenant's share, has room for `b`. */
  private slotFor(
    st: KeyState,
    windows: readonly WindowSpec[],
    b: Booking,
    from: number,
    fromBinding: string,
  ): Slot {
    let start = from;
    let binding = fromBinding;
    let capped = false;
    if (st.blockedUntil > start) {
      start = st.blockedUntil;
      binding = RETRY_HINT_DIMENSION;
    }
    const share = b.place.maxShare;
    // Each window's condition is monotone in time, so the earliest start is the max of the
    // per-window answers; iterate because a calendar window's answer depends on where we are.
    for (let round = 0; round <= 2 * windows.length; round++) {
      let moved = false;
      for (const w of windows) {
        const cost = costOn(w.unit, b.tokens);
        const t = earliestOn(this.logs(st, w).all, w, start, cost, w.limit);
        if (t > start) {
          start = t;
          binding = w.name;
          capped = false;
          moved = true;
        }
        if (share !== undefined) {
          const tt = earliestOn(this.tenantLog(st, b.place.tenant, w), w, start, cost, shareLimit(w, share));
          if (tt > start) {
            start = tt;
            binding = shareDimension(w);
            capped = true;
            moved = true;
          }
        }
      }
      if (!moved || start === Number.POSITIVE_INFINITY) break;
    }
    return { start, binding, capped };
  }

  /** The earliest instant >= `from` at which the tenant's share of every window has room for `b`. */
  private tenantEarliest(st: KeyState, windows: readonly WindowSpec[], b: Booking, from: number): number {
    const share = b.place.maxShare;
    if (share === undefined) return from;
    let start = from;
    for (const w of windows) {
      const t = earliestOn(
        this.tenantLog(st, b.place.tenant, w),
        w,
        start,
        costOn(w.unit, b.tokens),
        shareLimit(w, share),
      );
      if (t > start) start = t;
    }
    return start;
  }

  /** Enters `b` in every log at `at`. */
  private book(st: KeyState, windows: readonly WindowSpec[], b: Booking, at: number): void {
    b.at = at;
    for (const w of windows) {
      const cost = costOn(w.unit, b.tokens);
      this.logs(st, w).all.insert(at, b.seq, cost);
      if (b.place.maxShare !== undefined) this.tenantLog(st, b.place.tenant, w).insert(at, b.seq, cost);
    }
  }

  /** Takes `b` out of every log. */
  private unbook(st: KeyState, windows: readonly WindowSpec[], b: Booking): void {
    for (const w of windows) {
      const logs = this.logs(st, w);
      logs.all.remove(b.seq);
      logs.sent.remove(b.seq);
      if (b.place.maxShare !== undefined) this.tenantLog(st, b.place.tenant, w).remove(b.seq);
    }
  }

  async confirm(req: StoreConfirmRequest): Promise<StoreConfirmResult> {
    const st = this.keys.get(req.key);
    const b = st?.open.get(req.entryId);
    if (!st || !b) return { ok: false, retryAt: req.now, lost: true };
    if (b.sent) return { ok: true };
    // Moved later while its caller slept (a caller in another process learns it here).
    if (b.displaced && b.start > req.now) return { ok: false, retryAt: b.start, moved: true };
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
    const rank = b.place.rank;
    st.virtualTime[rank] = Math.max(st.virtualTime[rank] ?? 0, b.tag);
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
      const at = logs.all.timeOf(b.seq) ?? b.at;
      logs.sent.set(b.seq, at, cost);
      if (b.place.maxShare !== undefined) this.tenantLog(st, b.place.tenant, w).set(b.seq, at, cost);
    }
    this.prune(st, req.windows, req.now);
  }

  async cancel(req: StoreCancelRequest): Promise<void> {
    const st = this.keys.get(req.key);
    const b = st?.open.get(req.entryId);
    if (!st || !b) return;
    this.close(st, b);
    this.unbook(st, req.windows, b);
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
      const next = earliestOn(log, w, req.now, 1, w.limit);
      return next > req.now ? { name: w.name, used, nextFreeAt: next } : { name: w.name, used };
    });
    const depth = new Map<string, { rank: number; tenant: string; waiting: number }>();
    for (let j = st.queueHead; j < st.queue.length; j++) {
      const b = st.queue[j]!;
      if (!b.open || b.sent) continue;
      const k = `${b.place.rank}\0${b.place.tenant}`;
      const d = depth.get(k) ?? { rank: b.place.rank, tenant: b.place.tenant, waiting: 0 };
      d.waiting++;
      depth.set(k, d);
    }
    const queue = [...depth.values()];
    return st.blockedUntil > req.now ? { blockedUntil: st.blockedUntil, windows, queue } : { windows, queue };
  }

  /** Moves every entry of `b` to `at` and counts it as sent. */
  private markSent(st: KeyState, b: Booking, windows: readonly WindowSpec[], at: number): void {
    for (const w of windows) {
      const logs = this.logs(st, w);
      const cost = costOn(w.unit, b.tokens);
      logs.all.put(b.seq, at, cost);
      logs.sent.put(b.seq, at, cost);
      if (b.place.maxShare !== undefined) this.tenantLog(st, b.place.tenant, w).put(b.seq, at, cost);
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
        virtualTime: [],
        lastTag: new Map(),
        tenantLogs: new Map(),
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

  private tenantLog(st: KeyState, tenant: string, w: WindowSpec): WindowLog {
    let byWindow = st.tenantLogs.get(tenant);
    if (!byWindow) {
      byWindow = new Map();
      st.tenantLogs.set(tenant, byWindow);
    }
    let log = byWindow.get(w.name);
    if (!log) {
      log = new WindowLog();
      byWindow.set(w.name, log);
    }
    return log;
  }

  private close(st: KeyState, b: Booking): void {
    b.open = false;
    st.open.delete(b.id);
    st.provisional.delete(b.id);
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
      for (const byWindow of st.tenantLogs.values()) {
        const log = byWindow.get(w.name);
        if (!log) continue;
        if (w.kind === "sliding") log.dropThrough(now - w.intervalMs);
        else log.dropBefore(periodStartAt(w, now));
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

/** Two lists sorted by start, merged; at equal starts `first`'s come first. */
function mergeByStart(first: Booking[], second: Booking[]): Booking[] {
  const out: Booking[] = [];
  let i = 0;
  let j = 0;
  while (i < first.length || j < second.length) {
    if (j >= second.length || (i < first.length && first[i]!.start <= second[j]!.start))
      out.push(first[i++]!);
    else out.push(second[j++]!);
  }
  return out;
}

/** The earliest instant >= `from` at which `log` has room for `cost` within `limit` on `w`. */
function earliestOn(log: WindowLog, w: WindowSpec, from: number, cost: number, limit: number): number {
  if (w.kind === "sliding") return Math.max(from, log.earliestWithin(limit - cost, w.intervalMs));
  for (let k = periodIndex(w, from); k < w.periodStarts.length; k++) {
    if (periodSum(log, w, k) + cost <= limit) return Math.max(from, w.periodStarts[k]!);
  }
  return Number.POSITIVE_INFINITY;
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
