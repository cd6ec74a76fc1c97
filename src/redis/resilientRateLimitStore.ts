import { AutoPickerConfigError } from "../errors";
import { MemoryRateLimitStore } from "../limits/memoryStore";
import type {
  RateLimitStore,
  StoreBlockRequest,
  StoreCancelRequest,
  StoreCommitRequest,
  StoreConfirmRequest,
  StoreConfirmResult,
  StoreConstrainRequest,
  StoreConstrainResult,
  StoreMovedBooking,
  StorePlace,
  StoreRecordRequest,
  StoreReleaseRequest,
  StoreReserveRequest,
  StoreReserveResult,
  StoreStampRequest,
  StoreStatus,
  StoreTarget,
  WindowSpec,
} from "../limits/store";
import {
  defaultFaultLogger,
  type OnRedisUnavailable,
  OutageTracker,
  type RedisFaultLogger,
  RedisUnavailableError,
} from "./outage";

/** Options shared by the resilient stores. */
export interface ResilienceOptions {
  /**
   * `"fail-open"` (default): while Redis is unavailable, this process books against a local store
   * holding `failOpenShare` of each limit, so calls keep flowing. `"fail-closed"`: calls reject with
   * {@link RedisUnavailableError} (the limit is never at risk; availability is).
   */
  onUnavailable?: OnRedisUnavailable;
  /**
   * Share of each limit one process may use on its own while failing open. Default
   * `1 / expectedReplicas`, or 0.5 without it. With N replicas and share s, the fleet can reach
   * N * s of a limit during an outage: keep N * s <= 1 to stay within it.
   */
  failOpenShare?: number;
  /** How many processes share the limits; sets the default `failOpenShare`. */
  expectedReplicas?: number;
  /** During an outage, one call tries Redis again this often. Default 1000 ms. */
  retryIntervalMs?: number;
  /** Gets one warning per outage (and an `info` on recovery). Default `console.warn`. */
  logger?: RedisFaultLogger;
}

/** Options of {@link ResilientRateLimitStore}. */
export interface ResilientRateLimitStoreOptions extends ResilienceOptions {
  /** The shared store, normally a `RedisRateLimitStore`. */
  store: RateLimitStore;
  /** The local fallback. Default a new `MemoryRateLimitStore`. */
  local?: RateLimitStore;
}

/** Resolves the fail-open share from the options. */
export function resolveShare(options: ResilienceOptions): number {
  const share =
    options.failOpenShare ??
    (options.expectedReplicas !== undefined && options.expectedReplicas >= 1
      ? 1 / options.expectedReplicas
      : 0.5);
  if (!(share > 0 && share <= 1))
    throw new AutoPickerConfigError(`failOpenShare must be in (0, 1], got ${share}.`);
  return share;
}

/** A call this process sent, kept for one window so it can be handed to the other store. */
interface Sent {
  at: number;
  tokens: number;
  /** Copied into the local store (an outage began while it counted). */
  seeded: boolean;
  /** Copied into Redis by a hand-over (it may have been lost there in a restart, or never seen). */
  recorded: boolean;
}

/** What this process remembers of one key. */
interface KeyMemory {
  /** Sent calls by current entry id (`r:`/`l:`), in send order; oldest first. */
  readonly sent: Map<string, Sent>;
  /** The longest sliding window seen for the key: how long a send matters. */
  horizonMs: number;
  /** Local bookings were made since the last hand-over to Redis. */
  localSince: boolean;
  /** Redis bookings given up during an outage (moved to the local share): cancelled once it answers. */
  orphans: Array<{ entryId: string; windows: readonly WindowSpec[] }>;
}

/**
 * Replicas notice a recovery at different moments: their probes are a retry interval apart, and
 * their clients reconnect on their own backoff (`RECOMMENDED_REDIS_OPTIONS` backs off to 2 s). The
 * hand-over outlasts that spread; it costs no throughput (the local shares add up to the limit).
 */
const RECONNECT_SPREAD_MS = 2000;

/** Sends are remembered at most this long (a per-day limit is not handed over). */
const MAX_HORIZON_MS = 3_600_000;
/** ...and at most this many per key. */
const MAX_SENT = 50_000;

/**
 * A {@link RateLimitStore} that uses a shared store (Redis) while it answers and, when it fails or
 * times out, either falls back to a local store with a conservative share of each limit
 * (`"fail-open"`, logging one warning) or rejects (`"fail-closed"`). It goes back to the shared
 * store as soon as Redis answers a probe. Entry ids are tagged `r:`/`l:` so commits and cancels
 * reach the store that holds the booking; commits, cancels, stamps, header facts and retry hints
 * never reject (the call they belong to has already happened).
 *
 * Failing over keeps the fleet within its limits:
 * - when an outage begins, the local share starts from the calls this process sent through Redis
 *   in the last window, so one window never holds a Redis share plus a full local share;
 * - a call Redis had booked that is confirmed during the outage re-books in the local share (and
 *   waits there if the share is used up), instead of going out on top of it;
 * - when Redis answers again, a hand-over period follows (the longest window, plus one retry
 *   interval, plus 2 s for the other replicas' clients to reconnect): this process keeps to its
 *   local share while every call it sends is recorded into Redis, the calls it sent locally in the
 *   last window first. Replicas notice the recovery at
 *   different moments; by the time any of them books on Redis alone, Redis holds what the whole
 *   fleet sent, so fresh Redis grants never overlap local ones. Local bookings still queued then
 *   re-book in Redis when they are due.
 */
export class ResilientRateLimitStore implements RateLimitStore {
  private readonly shared: RateLimitStore;
  private readonly local: RateLimitStore;
  private readonly share: number;
  private readonly mode: OnRedisUnavailable;
  private readonly outage: OutageTracker;
  private readonly retryIntervalMs: number;
  /** Bookings moved to the other store: the id in the ticket -> the id it has now. */
  private readonly moved = new Map<string, string>();
  /** ...and back: the id a booking has now -> the id in its ticket. */
  private readonly ticketOf = new Map<string, string>();
  /** Tokens of every open booking, by the id in the ticket (a move re-books them). */
  private readonly tokens = new Map<string, number>();
  /** The queue place of every open booking that named one, by the id in the ticket (likewise). */
  private readonly places = new Map<string, StorePlace>();
  private readonly keys = new Map<string, KeyMemory>();
  /** Until this instant (the callers' clock) Redis only records: see the class comment. */
  private handoverUntil = Number.NEGATIVE_INFINITY;

  constructor(options: ResilientRateLimitStoreOptions) {
    this.shared = options.store;
    this.local = options.local ?? new MemoryRateLimitStore();
    this.share = resolveShare(options);
    this.mode = options.onUnavailable ?? "fail-open";
    this.retryIntervalMs = options.retryIntervalMs ?? 1000;
    this.outage = new OutageTracker(
      "Rate limits",
      options.logger ?? defaultFaultLogger,
      this.retryIntervalMs,
    );
  }

  /** Whether the shared store is currently considered unavailable. */
  get degraded(): boolean {
    return this.outage.isDown;
  }

  async reserve(req: StoreReserveRequest): Promise<StoreReserveResult> {
    const r = await this.route(
      req,
      () => this.shared.reserve(req),
      () => this.local.reserve({ ...req, windows: this.scaled(req.windows) }),
    );
    if (r.value.kind !== "granted") return r.value;
    const entryId = `${r.via}:${r.value.entryId}`;
    this.tokens.set(entryId, req.tokens);
    if (req.place) this.places.set(entryId, req.place);
    const { moved, ...granted } = r.value;
    if (!moved) return { ...granted, entryId };
    // Bookings it moved, by the ids their tickets carry (a booking re-booked in the other store
    // keeps its first id).
    const tickets: StoreMovedBooking[] = moved.map((m) => {
      const current = `${r.via}:${m.entryId}`;
      return { entryId: this.ticketOf.get(current) ?? current, startAt: m.startAt };
    });
    return { ...granted, entryId, moved: tickets };
  }

  /**
   * Confirms with the store that holds the booking. A Redis booking due while Redis is unavailable
   * (or during the hand-over) re-books in the local share and waits there if that is used up
   * (fail-closed: rejects); a local booking due once Redis is back re-books in Redis.
   */
  async confirm(req: StoreConfirmRequest): Promise<StoreConfirmResult> {
    const original = req.entryId;
    const current = this.moved.get(original) ?? original;
    const via = current.slice(0, 2);
    const inner = current.slice(2);
    const confirm = this.shared.confirm?.bind(this.shared);
    if (via !== "l:" && via !== "r:") return { ok: false, retryAt: req.now, lost: true };
    if (via === "r:" && !confirm) return { ok: true };
    const toShared = confirm !== undefined && (await this.sharedNow(req));
    let result: StoreConfirmResult;
    if (via === "l:") {
      if (toShared && this.tokens.has(original)) {
        const back = await this.moveToShared(req, original, inner);
        if (back) return back;
        return this.confirm(req);
      }
      result = this.local.confirm
        ? await this.local.confirm({ ...req, entryId: inner, windows: this.scaled(req.windows) })
        : { ok: true };
    } else {
      let answered: StoreConfirmResult | undefined;
      if (toShared) {
        const startedAt = performance.now();
        try {
          await this.handOver(req);
          answered = await confirm!({ ...req, entryId: inner });
          this.outage.succeeded();
        } catch (err) {
          this.outage.failed(err, this.fallbackText(), startedAt);
          if (this.mode === "fail-closed") throw unavailable(err);
        }
      }
      if (!answered) return this.moveToLocal(req, original, inner);
      result = answered;
    }
    if (result.ok) {
      this.remember(req, current, original, req.now + (req.arrivalMarginMs ?? 0));
      if (via === "l:") await this.recordShared(req);
    }
    return result;
  }

  async stamp(req: StoreStampRequest): Promise<void> {
    const current = this.moved.get(req.entryId) ?? req.entryId;
    const sent = this.memory(req.key, req.windows).sent.get(current);
    if (sent) sent.at = req.at;
    await this.settle(req, current, (store, entryId, windows) =>
      store.stamp ? store.stamp({ ...req, entryId, windows }) : Promise.resolve(),
    );
  }

  async commit(req: StoreCommitRequest): Promise<void> {
    const current = this.moved.get(req.entryId) ?? req.entryId;
    const sent = this.memory(req.key, req.windows).sent.get(current);
    if (sent && req.actualTokens !== undefined) sent.tokens = req.actualTokens;
    this.forget(req.entryId);
    await this.settle(req, current, (store, entryId, windows) => store.commit({ ...req, entryId, windows }));
  }

  async cancel(req: StoreCancelRequest): Promise<void> {
    const current = this.moved.get(req.entryId) ?? req.entryId;
    this.memory(req.key, req.windows).sent.delete(current);
    this.forget(req.entryId);
    await this.settle(req, current, (store, entryId, windows) => store.cancel({ ...req, entryId, windows }));
  }

  async constrain(req: StoreConstrainRequest): Promise<StoreConstrainResult | undefined> {
    // The local store hears it too, so a fallback starts from what the provider last said.
    const [window] = this.scaled([req.window]);
    const local = await this.local.constrain({ ...req, window: window! });
    let shared: StoreConstrainResult | undefined;
    await this.bestEffort(async () => {
      shared = (await this.shared.constrain(req)) ?? undefined;
    });
    return shared ?? local ?? undefined;
  }

  /**
   * Redis only. The provider's "room at T" is room for the whole fleet: each replica's local share
   * taking it as its own would let N calls into one slot.
   */
  async release(req: StoreReleaseRequest): Promise<void> {
    const release = this.shared.release?.bind(this.shared);
    if (release) await this.bestEffort(() => release(req));
  }

  async record(req: StoreRecordRequest): Promise<void> {
    await this.route(
      req,
      async () => this.shared.record?.(req),
      async () => this.local.record?.({ ...req, windows: this.scaled(req.windows) }),
    );
  }

  async block(req: StoreBlockRequest): Promise<void> {
    await this.local.block(req);
    await this.bestEffort(() => this.shared.block(req));
  }

  async status(req: StoreTarget): Promise<StoreStatus> {
    return (
      await this.route(
        req,
        () => this.shared.status(req),
        () => this.local.status({ ...req, windows: this.scaled(req.windows) }),
      )
    ).value;
  }

  /** The windows the local fallback enforces: `failOpenShare` of each limit, at least 1. */
  private scaled(windows: readonly WindowSpec[]): WindowSpec[] {
    return windows.map((w) => ({ ...w, limit: Math.max(1, Math.floor(w.limit * this.share)) }));
  }

  private async route<T>(
    target: StoreTarget,
    shared: () => Promise<T>,
    local: () => Promise<T>,
  ): Promise<{ value: T; via: "r" | "l" }> {
    if (await this.sharedNow(target)) {
      const startedAt = performance.now();
      try {
        await this.handOver(target);
        const value = await shared();
        this.outage.succeeded();
        return { value, via: "r" };
      } catch (err) {
        this.outage.failed(err, this.fallbackText(), startedAt);
        if (this.mode === "fail-closed") throw unavailable(err);
      }
    }
    await this.seedLocal(target);
    return { value: await local(), via: "l" };
  }

  /**
   * Whether an operation goes to Redis now. During an outage one caller per retry interval probes
   * (recording this key's local sends); the probe that succeeds starts the hand-over, during which
   * operations stay local. Fail-closed refuses while Redis is down.
   */
  private async sharedNow(target: StoreTarget): Promise<boolean> {
    if (this.outage.isDown) {
      if (this.outage.shouldTry()) {
        const startedAt = performance.now();
        try {
          await this.handOver(target, true);
          this.outage.succeeded();
          if (this.mode === "fail-open") {
            this.memory(target.key, target.windows);
            let horizon = 0;
            for (const mem of this.keys.values()) horizon = Math.max(horizon, mem.horizonMs);
            this.handoverUntil = target.now + horizon + this.retryIntervalMs + RECONNECT_SPREAD_MS;
          }
        } catch (err) {
          this.outage.failed(err, this.fallbackText(), startedAt);
        }
      }
      if (this.outage.isDown) {
        if (this.mode === "fail-closed") {
          throw new RedisUnavailableError("Rate-limit store unavailable (fail-closed).");
        }
        return false;
      }
    }
    return target.now >= this.handoverUntil;
  }

  /**
   * Before anything is granted by Redis after an outage: record the calls this process sent on
   * its local share in the last window, and give up the Redis bookings that moved to the local
   * share. `probe`: read Redis even when there is nothing to record. Throws when Redis fails.
   */
  private async handOver(target: StoreTarget, probe = false): Promise<void> {
    const mem = this.keys.get(target.key);
    if (!mem?.localSince) {
      if (probe) await this.shared.status(target);
      return;
    }
    const entries: Array<{ at: number; tokens: number }> = [];
    const handed: Sent[] = [];
    // Local sends, and Redis sends of the last window too: a restarted Redis lost them (a paused
    // one counts them twice until they leave, the safe side).
    for (const s of this.live(mem, target.now).values()) {
      if (!s.recorded) {
        entries.push({ at: s.at, tokens: s.tokens });
        handed.push(s);
      }
    }
    if (entries.length > 0 && this.shared.record) {
      await this.shared.record({ ...target, entries });
    } else if (probe) {
      await this.shared.status(target);
    }
    for (const s of handed) s.recorded = true;
    mem.localSince = false;
    const orphans = mem.orphans.splice(0);
    for (const o of orphans) {
      // Their calls were sent (or queued) locally and are counted above; the Redis slot is free.
      await this.shared
        .cancel({ key: target.key, windows: o.windows, now: target.now, entryId: o.entryId })
        .catch(() => undefined);
    }
  }

  /** During the hand-over, a call sent on the local share is recorded into Redis as it goes. */
  private async recordShared(target: StoreTarget): Promise<void> {
    if (!this.shared.record || this.outage.isDown || target.now >= this.handoverUntil) return;
    // The hand-over records every send of the window not in Redis yet: this one included.
    this.memory(target.key, target.windows).localSince = true;
    await this.bestEffort(() => this.handOver(target));
  }

  /** The first local booking of a key in an outage: the local share starts from what this process sent through Redis. */
  private async seedLocal(target: StoreTarget): Promise<void> {
    const mem = this.memory(target.key, target.windows);
    if (mem.localSince) return;
    mem.localSince = true;
    const entries: Array<{ at: number; tokens: number }> = [];
    for (const [id, s] of this.live(mem, target.now)) {
      if (id.startsWith("r:") && !s.seeded) {
        entries.push({ at: s.at, tokens: s.tokens });
        s.seeded = true;
      }
    }
    if (entries.length > 0 && this.local.record) {
      await this.local.record({ ...target, windows: this.scaled(target.windows), entries });
    }
  }

  /** A Redis booking is due while Redis is unavailable: book it in the local share instead. */
  private async moveToLocal(
    req: StoreConfirmRequest,
    original: string,
    inner: string,
  ): Promise<StoreConfirmResult> {
    const tokens = this.tokens.get(original);
    if (tokens === undefined) return { ok: false, retryAt: req.now, lost: true }; // not booked here
    await this.seedLocal(req);
    const windows = this.scaled(req.windows);
    const place = this.places.get(original);
    const r = await this.local.reserve({
      key: req.key,
      windows,
      now: req.now,
      tokens,
      maxWaitMs: Number.POSITIVE_INFINITY,
      ...(req.arrivalMarginMs === undefined ? {} : { arrivalMarginMs: req.arrivalMarginMs }),
      ...(place ? { place } : {}),
    });
    // Larger than the local share: it cannot go during the outage.
    if (r.kind !== "granted") return { ok: false, retryAt: Number.POSITIVE_INFINITY };
    const id = `l:${r.entryId}`;
    this.rebooked(original, id);
    this.memory(req.key, req.windows).orphans.push({ entryId: inner, windows: req.windows });
    return this.confirm(req);
  }

  /**
   * A local booking is due while Redis answers: book it in Redis, so it does not overlap what
   * Redis grants others. Returns a wait when Redis puts it later; `undefined` to confirm there.
   */
  private async moveToShared(
    req: StoreConfirmRequest,
    original: string,
    inner: string,
  ): Promise<StoreConfirmResult | undefined> {
    const tokens = this.tokens.get(original)!;
    const place = this.places.get(original);
    let r: StoreReserveResult;
    try {
      r = (
        await this.route(
          req,
          () =>
            this.shared.reserve({
              key: req.key,
              windows: req.windows,
              now: req.now,
              tokens,
              maxWaitMs: Number.POSITIVE_INFINITY,
              ...(req.arrivalMarginMs === undefined ? {} : { arrivalMarginMs: req.arrivalMarginMs }),
              ...(place ? { place } : {}),
            }),
          async () => ({ kind: "wait_too_long", waitMs: 0, dimension: "" }) as const,
        )
      ).value;
    } catch {
      r = { kind: "wait_too_long", waitMs: 0, dimension: "" };
    }
    if (r.kind !== "granted") {
      // Redis failed again: stay local.
      if (this.local.confirm) {
        const result = await this.local.confirm({
          ...req,
          entryId: inner,
          windows: this.scaled(req.windows),
        });
        if (result.ok) this.remember(req, `l:${inner}`, original, req.now + (req.arrivalMarginMs ?? 0));
        return result;
      }
      return { ok: true };
    }
    this.rebooked(original, `r:${r.entryId}`);
    await this.local.cancel({ ...req, entryId: inner, windows: this.scaled(req.windows) });
    return r.startAt > req.now ? { ok: false, retryAt: r.startAt } : undefined;
  }

  private async settle(
    req: StoreTarget,
    current: string,
    apply: (store: RateLimitStore, entryId: string, windows: readonly WindowSpec[]) => Promise<void>,
  ): Promise<void> {
    const via = current.slice(0, 2);
    const entryId = current.slice(2);
    if (via === "l:") {
      await apply(this.local, entryId, this.scaled(req.windows));
    } else if (via === "r:") {
      // Lost while Redis is down: the booking then stays at its estimate and stamp, and expires.
      await this.bestEffort(() => apply(this.shared, entryId, req.windows));
    }
  }

  /** Remembers a call sent now (its id as it is booked now), for the hand-overs. */
  private remember(target: StoreTarget, current: string, original: string, at: number): void {
    const tokens = this.tokens.get(original) ?? 0;
    const mem = this.memory(target.key, target.windows);
    // A local send is in the local store; a hand-over records every send of the window in Redis.
    const sent: Sent = { at, tokens, seeded: current.startsWith("l:"), recorded: false };
    mem.sent.set(current, sent);
    if (mem.sent.size > MAX_SENT) mem.sent.delete(mem.sent.keys().next().value!);
  }

  /** The booking of ticket `original` now lives under `current`. */
  private rebooked(original: string, current: string): void {
    const before = this.moved.get(original);
    if (before !== undefined) this.ticketOf.delete(before);
    this.moved.set(original, current);
    this.ticketOf.set(current, original);
  }

  private forget(original: string): void {
    this.tokens.delete(original);
    this.places.delete(original);
    const current = this.moved.get(original);
    if (current !== undefined) this.ticketOf.delete(current);
    this.moved.delete(original);
  }

  private memory(key: string, windows: readonly WindowSpec[]): KeyMemory {
    let mem = this.keys.get(key);
    if (!mem) {
      mem = { sent: new Map(), horizonMs: 0, localSince: false, orphans: [] };
      this.keys.set(key, mem);
    }
    for (const w of windows) {
      if (w.kind === "sliding" && w.intervalMs > mem.horizonMs) {
        mem.horizonMs = Math.min(MAX_HORIZON_MS, w.intervalMs);
      }
    }
    return mem;
  }

  /** The remembered sends still inside the longest window, dropping older ones. */
  private live(mem: KeyMemory, now: number): Map<string, Sent> {
    const oldest = now - mem.horizonMs;
    for (const [id, s] of mem.sent) {
      if (s.at > oldest) break;
      mem.sent.delete(id);
    }
    return mem.sent;
  }

  private async bestEffort(work: () => Promise<void>): Promise<void> {
    if (this.outage.isDown && !this.outage.shouldTry()) return;
    const startedAt = performance.now();
    try {
      await work();
      this.outage.succeeded();
    } catch (err) {
      this.outage.failed(err, this.fallbackText(), startedAt);
    }
  }

  private fallbackText(): string {
    return this.mode === "fail-open"
      ? `failing open to a local limiter with ${Math.round(this.share * 100)}% of each limit`
      : "failing closed (calls are refused until it answers)";
  }
}

function unavailable(err: unknown): RedisUnavailableError {
  const e = new RedisUnavailableError(
    `Rate-limit store unavailable: ${err instanceof Error ? err.message : String(err)}`,
  );
  (e as { cause?: unknown }).cause = err;
  return e;
}
