import type { Clock } from "../clock";
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
  StoreQueueStatus,
  StoreRecordRequest,
  StoreReleaseRequest,
  StoreReserveRequest,
  StoreReserveResult,
  StoreStampRequest,
  StoreStatus,
  StoreTarget,
  WindowSpec,
} from "../limits/store";
import { RATE_LIMIT_LUA } from "./rateLimitLua";
import {
  type IoRedisClient,
  ioredisScripts,
  isScriptRunner,
  type RedisScriptRunner,
  RedisTimeoutError,
  taggedKey,
  withTimeout,
} from "./scriptRunner";

/** Options of {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** An ioredis client (single node or Cluster), or any {@link RedisScriptRunner}. */
  client: IoRedisClient | RedisScriptRunner;
  /** Prepended to every key. Default `"autopicker:rl:"`. Use one per environment/application. */
  keyPrefix?: string;
  /**
   * Whose time books the slots. `"server"` (default): Redis `TIME`, so replicas with skewed clocks
   * still share one timeline; instants are translated to and from the caller's clock on each call.
   * A {@link Clock}: the caller's `now` is used as is (virtual-time tests, simulations).
   */
  clock?: "server" | Clock;
  /** Every call rejects with `RedisTimeoutError` after this long. Default 250 ms. */
  timeoutMs?: number;
  /**
   * A booking neither committed nor cancelled this long after its start is forgotten (its window
   * entries stay until they expire), as in `MemoryRateLimitStore`. Default 1 hour.
   */
  staleBookingMs?: number;
}

/**
 * The script and its key layout. v3 (queue places, tenant shares) keeps its keys under `v3:`, so
 * keys an earlier version wrote are never read (they expire a minute after their last window).
 */
const SCRIPT_NAME = "ratelimit_v3";
const LAYOUT = "v3";

/** The keys of one model: meta, bookings, queue, provisional, waiting counts. */
const FIXED_KEYS = ["m", "b", "q", "f", "d"] as const;

/** The JSON the script decodes for a window (short names keep the payload small). */
interface WireWindow {
  n: string;
  r: 0 | 1;
  l: number;
  i: number;
  c: 0 | 1;
  p?: readonly number[];
}

/**
 * A {@link RateLimitStore} in Redis, shared by every process that uses the same Redis and
 * `keyPrefix`: the semantics of `MemoryRateLimitStore` (sliding-window logs per dimension, queue
 * places: priority classes with aging, tenants by weighted fair queueing and `maxShare` caps,
 * bookings moved later by higher-class arrivals; exact earliest start, check-and-stamp at send
 * time, stamps from evidence of arrival, header phantoms and releases, retry-hint blocks), each
 * method ONE Lua script over the model's keys, so concurrent replicas never double-book. Keys
 * share the model's `{hash-tag}` (Redis Cluster) and expire a minute after nothing in them matters
 * any more.
 *
 * Calls fail (reject) when Redis is unreachable or slow; wrap the store in
 * `ResilientRateLimitStore` to fall back to a local share of each limit instead.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly runner: RedisScriptRunner;
  private readonly prefix: string;
  private readonly clock: Clock | undefined;
  private readonly timeoutMs: number;
  private readonly staleMs: number;
  private readonly lanes = new Map<string, ReserveLane>();
  /** `timeoutMs` as withTimeout applies it: one that is not a positive finite number is none. */
  private readonly waitLimitMs: number;

  constructor(options: RedisRateLimitStoreOptions) {
    this.runner = isScriptRunner(options.client) ? options.client : ioredisScripts(options.client);
    this.prefix = options.keyPrefix ?? "autopicker:rl:";
    this.clock = options.clock === undefined || options.clock === "server" ? undefined : options.clock;
    this.timeoutMs = options.timeoutMs ?? 250;
    this.waitLimitMs =
      this.timeoutMs > 0 && Number.isFinite(this.timeoutMs) ? this.timeoutMs : Number.POSITIVE_INFINITY;
    this.staleMs = options.staleBookingMs ?? 3_600_000;
  }

  /**
   * One script call per model at a time from this store: reservations made while one is in flight
   * wait for it and then go together (`reserve_batch`), so a burst of k concurrent calls costs a
   * few round trips and, when they land mid-queue, one re-slot instead of k (each is O(backlog)).
   * A reservation that times out while still waiting to be sent is withdrawn: Redis never books it.
   * One that times out after it was sent and is granted anyway is cancelled as soon as the grant
   * arrives, so a slow Redis leaves no slot booked for a caller who has gone (to the local share).
   */
  reserve(req: StoreReserveRequest): Promise<StoreReserveResult> {
    const item: WireReserve = {
      t: req.tokens,
      mw: Number.isFinite(req.maxWaitMs) ? Math.max(0, req.maxWaitMs) : -1,
      m: finiteMargin(req.arrivalMarginMs),
      ...(req.place ? { p: wirePlace(req.place) } : {}),
    };
    // Calls go together only with the same windows (limits, or calendar periods, can change).
    const laneKey = `${req.key}\u0000${JSON.stringify(req.windows)}`;
    let lane = this.lanes.get(laneKey);
    if (!lane) {
      lane = { key: req.key, windows: req.windows, queue: [], inFlight: false, holdBackMs: 0 };
      this.lanes.set(laneKey, lane);
    }
    const target = lane;
    let entry: PendingReserve | undefined;
    const result = new Promise<StoreReserveResult>((resolve, reject) => {
      const queuedAt = performance.now();
      entry = { item, now: req.now, queuedAt, deadline: queuedAt + this.waitLimitMs, resolve, reject };
      target.queue.push(entry);
    });
    if (!target.inFlight) void this.drain(laneKey, target);
    return withTimeout(result, this.timeoutMs, "reserve").catch((err: unknown) => {
      const at = entry ? target.queue.indexOf(entry) : -1;
      if (at >= 0) target.queue.splice(at, 1);
      else if (entry) entry.abandoned = true;
      this.forget(laneKey, target);
      throw err;
    });
  }

  /**
   * Sends a lane's waiting reservations, up to {@link MAX_BATCH} per script call, until none wait.
   * After a failed call, one with less than half its timeout left is not sent (it would likely
   * time out after Redis booked it); it stays queued until its own timeout withdraws it.
   */
  private async drain(laneKey: string, lane: ReserveLane): Promise<void> {
    lane.inFlight = true;
    const half = Number.isFinite(this.waitLimitMs) ? this.waitLimitMs / 2 : 0;
    try {
      for (;;) {
        const cutoff = performance.now() + lane.holdBackMs;
        const batch: PendingReserve[] = [];
        lane.queue = lane.queue.filter((e) => {
          if (batch.length >= MAX_BATCH || e.deadline < cutoff) return true;
          batch.push(e);
          return false;
        });
        if (batch.length === 0) break;
        try {
          const sentAt = performance.now();
          const answers = await this.reserveMany(lane, batch);
          // Slower than half the timeout counts as failing: the next ones could time out too.
          lane.holdBackMs = performance.now() - sentAt > half ? half : 0;
          this.settle(lane, batch, answers);
        } catch (err) {
          // Redis failed or is slower than the timeout: what has less than half its time left
          // would likely time out after Redis booked it. Half, so a fresh one is always sent.
          lane.holdBackMs = half;
          for (const e of batch) e.reject(err);
        }
      }
    } finally {
      lane.inFlight = false;
      this.forget(laneKey, lane);
    }
  }

  /**
   * Answers a batch's callers. Moves are reported once, with the first grant a caller still waits
   * for (nothing moves unless something was granted). A grant nobody waits for (its caller timed
   * out, or the script call did and the answer came anyway) is cancelled, best effort: the stale
   * prune is the backstop for one whose answer never comes.
   */
  private settle(lane: ReserveLane, batch: readonly PendingReserve[], answers: BatchAnswers): void {
    let movesTold = answers.moved.length === 0;
    for (const [i, e] of batch.entries()) {
      const r = answers.results[i]!;
      if (e.abandoned) {
        if (r.kind !== "granted") continue;
        const req = { key: lane.key, windows: lane.windows, now: this.callerNow(e), entryId: r.entryId };
        this.cancel(req).catch(() => undefined);
      } else if (!movesTold && r.kind === "granted") {
        movesTold = true;
        e.resolve({ ...r, moved: answers.moved });
      } else e.resolve(r);
    }
  }

  /**
   * A reservation's `now` at `at` (`performance.now()`): in server time the caller's clock then (it
   * may have waited for its turn); an injected clock's `now` is the script's own, as given.
   */
  private callerNow(e: PendingReserve, at = performance.now()): number {
    return this.clock ? e.now : e.now + (at - e.queuedAt);
  }

  private forget(laneKey: string, lane: ReserveLane): void {
    if (!lane.inFlight && lane.queue.length === 0 && this.lanes.get(laneKey) === lane) {
      this.lanes.delete(laneKey);
    }
  }

  private async reserveMany(lane: ReserveLane, batch: readonly PendingReserve[]): Promise<BatchAnswers> {
    // In server time `now` maps replies into the caller's clock, so it is the caller's time at the
    // send, not when the reservation was made.
    const sendAt = performance.now();
    const reply = await this.callRaw(
      "reserve",
      lane.key,
      lane.windows,
      Math.max(...batch.map((e) => this.callerNow(e, sendAt))),
      { items: batch.map((e) => e.item) },
      // The script call timed out. Every reservation's own timeout started no later than it and
      // has fired first, so each is marked abandoned: settle cancels what was granted.
      (late) => this.settle(lane, batch, batchAnswers(late)),
    );
    return batchAnswers(reply);
  }

  async commit(req: StoreCommitRequest): Promise<void> {
    const payload =
      req.actualTokens === undefined ? { id: req.entryId } : { id: req.entryId, a: req.actualTokens };
    await this.call("commit", req.key, req.windows, req.now, payload);
  }

  async confirm(req: StoreConfirmRequest): Promise<StoreConfirmResult> {
    const { reply, toCaller } = await this.call("confirm", req.key, req.windows, req.now, {
      id: req.entryId,
      m: finiteMargin(req.arrivalMarginMs),
      pv: req.provisional === true ? 1 : 0,
    });
    // A server-time `retryAt` maps into the caller's clock late by at most the round trip.
    if (reply[0] === "lost") return { ok: false, retryAt: req.now, lost: true };
    if (reply[0] === "moved") return { ok: false, retryAt: toCaller(num(reply[1] ?? "")), moved: true };
    return reply[0] === "retry" ? { ok: false, retryAt: toCaller(num(reply[1] ?? "")) } : { ok: true };
  }

  async cancel(req: StoreCancelRequest): Promise<void> {
    await this.call("cancel", req.key, req.windows, req.now, { id: req.entryId });
  }

  async stamp(req: StoreStampRequest): Promise<void> {
    if (!Number.isFinite(req.at)) return;
    await this.call("stamp", req.key, req.windows, req.now, { id: req.entryId, at: req.at });
  }

  async constrain(req: StoreConstrainRequest): Promise<StoreConstrainResult> {
    const { reply } = await this.call("constrain", req.key, [req.window], req.now, {
      ra: req.resetAt,
      rem: req.remaining,
    });
    return { deficit: num(reply[1] ?? "0") };
  }

  async release(req: StoreReleaseRequest): Promise<void> {
    if (!Number.isFinite(req.at) || !(req.amount > 0)) return;
    await this.call("release", req.key, [req.window], req.now, {
      at: req.at,
      amt: Number.isFinite(req.amount) ? req.amount : -1,
      sb: Number.isFinite(req.sentBefore) ? req.sentBefore : req.now,
    });
  }

  async record(req: StoreRecordRequest): Promise<void> {
    const e = req.entries.filter((x) => Number.isFinite(x.at)).map((x) => [x.at, x.tokens]);
    if (e.length === 0) return;
    await this.call("record", req.key, req.windows, req.now, { e });
  }

  async block(req: StoreBlockRequest): Promise<void> {
    // The request carries no `now`; the caller's clock is the injected one or the system clock.
    const now = this.clock ? this.clock.now() : Date.now();
    await this.call("block", req.key, [], now, { u: req.until });
  }

  async status(req: StoreTarget): Promise<StoreStatus> {
    const { reply, toCaller } = await this.call("status", req.key, req.windows, req.now, {});
    const blocked = reply[1] ?? "";
    const windows = req.windows.map((w, i) => {
      const used = num(reply[2 + 2 * i] ?? "0");
      const next = reply[3 + 2 * i] ?? "";
      return next === "" ? { name: w.name, used } : { name: w.name, used, nextFreeAt: toCaller(num(next)) };
    });
    // Then (rank, tenant, waiting) per class and tenant; the last element is the script's now.
    const queue: StoreQueueStatus[] = [];
    for (let i = 2 + 2 * req.windows.length; i + 2 < reply.length - 1; i += 3) {
      queue.push({ rank: num(reply[i]!), tenant: reply[i + 1]!, waiting: num(reply[i + 2]!) });
    }
    return blocked === "" ? { windows, queue } : { blockedUntil: toCaller(num(blocked)), windows, queue };
  }

  /** Deletes every key of `model` (tests, or after changing a model's limits for good). */
  async clear(model: string): Promise<void> {
    const keys = FIXED_KEYS.map((k) => this.key(model, k));
    await withTimeout(this.runner.run("del_v3", DEL_LUA, keys, []), this.timeoutMs, "clear");
  }

  private key(model: string, suffix: string): string {
    return taggedKey(this.prefix, model, `${LAYOUT}:${suffix}`);
  }

  private async call(
    op: string,
    model: string,
    windows: readonly WindowSpec[],
    now: number,
    payload: object,
  ): Promise<{ reply: string[]; toCaller: (t: number) => number }> {
    const { raw, toCaller } = await this.callRaw(op, model, windows, now, payload);
    return { reply: raw.map(String), toCaller };
  }

  private async callRaw(
    op: string,
    model: string,
    windows: readonly WindowSpec[],
    now: number,
    payload: object,
    late?: (reply: RawReply) => void,
  ): Promise<RawReply> {
    const keys = FIXED_KEYS.map((k) => this.key(model, k));
    for (const w of windows) {
      keys.push(
        this.key(model, `w:${w.name}`),
        this.key(model, `x:${w.name}`),
        this.key(model, `c:${w.name}`),
        this.key(model, `t:${w.name}`),
      );
    }
    const server = this.clock === undefined;
    const body = JSON.stringify({
      ...payload,
      srv: server ? 1 : 0,
      now,
      st: Number.isFinite(this.staleMs) ? this.staleMs : -1,
      w: windows.map(wire),
    });
    const sentAt = performance.now();
    const work = this.runner.run(SCRIPT_NAME, RATE_LIMIT_LUA, keys, [op, body]) as Promise<unknown[]>;
    const reply = (raw: unknown[]): RawReply => {
      if (!server) return { raw, toCaller: (t) => t };
      // The script's last element is its `now`. Caller time at the reply is `now + elapsed`; mapping
      // server instants through it errs late by the transit time, the safe side for a rate limit.
      const serverNow = num(String(raw[raw.length - 1] ?? "0"));
      const callerNow = now + (performance.now() - sentAt);
      return { raw, toCaller: (t) => (Number.isFinite(t) ? Math.ceil(t - serverNow + callerNow) : t) };
    };
    try {
      return reply(await withTimeout(work, this.timeoutMs, op));
    } catch (err) {
      // Timed out but maybe still executed: whoever must undo what it did hears of the answer.
      if (late && err instanceof RedisTimeoutError) {
        work.then((raw) => late(reply(raw))).catch(() => undefined);
      }
      throw err;
    }
  }
}

// Deletes the fixed keys and every window's keys found through the meta hash's sum fields.
const DEL_LUA = `
local fields = redis.call('HKEYS', KEYS[1])
local base = string.sub(KEYS[1], 1, -2)
for _, f in ipairs(fields) do
  local p = string.sub(f, 1, 2)
  if p == 's:' or p == 'x:' then
    local n = string.sub(f, 3)
    redis.call('DEL', base .. 'w:' .. n, base .. 'x:' .. n, base .. 'c:' .. n, base .. 't:' .. n)
  end
end
return redis.call('DEL', unpack(KEYS))
`;

/** One reservation as the script reads it (short names keep the payload small). */
interface WireReserve {
  t: number;
  mw: number;
  m: number;
  p?: ReturnType<typeof wirePlace>;
}

/** A script's reply, and how to map its server instants into the caller's clock. */
interface RawReply {
  raw: unknown[];
  toCaller: (t: number) => number;
}

/** A reservation waiting for its model's script call. */
interface PendingReserve {
  item: WireReserve;
  now: number;
  /** `performance.now()` when it was made, and when its caller stops waiting (Infinity: never). */
  queuedAt: number;
  deadline: number;
  /** Its caller gave up (timeout) after it was sent: a grant that still arrives is cancelled. */
  abandoned?: boolean;
  resolve(result: StoreReserveResult): void;
  reject(err: unknown): void;
}

/** The reservations of one model (and windows) made while a script call on it is in flight. */
interface ReserveLane {
  key: string;
  windows: readonly WindowSpec[];
  queue: PendingReserve[];
  inFlight: boolean;
  /** After a failed call, a waiting reservation with less time left than this is not sent. */
  holdBackMs: number;
}

/** At most this many reservations per script call: one script blocks Redis while it runs. */
const MAX_BATCH = 256;

/** A reserve script call's answers: one per reservation, and the bookings it moved. */
interface BatchAnswers {
  results: StoreReserveResult[];
  moved: StoreMovedBooking[];
}

/** 'batch', the moved bookings' (id, start) pairs, one reply per reservation, the script's now. */
function batchAnswers({ raw, toCaller }: RawReply): BatchAnswers {
  const moved = movedPairs(strings(raw[1]), toCaller);
  const movedTo = new Map(moved.map((m) => [m.entryId, m.startAt]));
  const results = raw.slice(2, -1).map((r): StoreReserveResult => {
    const answer = parseReserve(strings(r), toCaller);
    // A call of this batch that a later call of it moved: answered with its new start (its caller
    // is not waiting yet, so it could not follow the move).
    const to = answer.kind === "granted" ? movedTo.get(answer.entryId) : undefined;
    if (answer.kind !== "granted" || to === undefined || to === answer.startAt) return answer;
    return { ...answer, startAt: to, waitMs: answer.waitMs + (to - answer.startAt) };
  });
  return { results, moved };
}

/** One call's reserve reply (strings). */
function parseReserve(reply: readonly string[], toCaller: (t: number) => number): StoreReserveResult {
  const [kind, a = "", b = "", c = ""] = reply;
  // In server time the store's instant is translated into the caller's clock (late by at most the
  // round trip, never early), which is what `RateLimiter.acquire` sleeps towards.
  if (kind === "granted") return { kind: "granted", entryId: a, startAt: toCaller(num(b)), waitMs: num(c) };
  if (kind === "wait_too_long") return { kind: "wait_too_long", waitMs: num(a), dimension: b };
  return { kind: "never_fits", dimension: a, requested: num(b), limit: num(c) };
}

/** (id, start) pairs of moved bookings, as the script lists them. */
function movedPairs(flat: readonly string[], toCaller: (t: number) => number): StoreMovedBooking[] {
  const moved: StoreMovedBooking[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    moved.push({ entryId: flat[i]!, startAt: toCaller(num(flat[i + 1]!)) });
  }
  return moved;
}

/** A nested reply as strings (an empty Lua table comes back as an empty array). */
function strings(x: unknown): string[] {
  return Array.isArray(x) ? x.map(String) : [];
}

function wire(w: WindowSpec): WireWindow {
  const base = { n: w.name, r: w.unit === "requests" ? 1 : 0, l: w.limit, i: w.intervalMs } as const;
  return w.kind === "calendar" ? { ...base, c: 1, p: w.periodStarts } : { ...base, c: 0 };
}

/** The JSON the script decodes for a place; `ag` is a string so that `Infinity` survives JSON. */
function wirePlace(p: StorePlace): { r: number; tn: string; wt: number; ms?: number; ag: string } {
  const ag = Number.isFinite(p.agingMs) ? String(p.agingMs) : p.agingMs > 0 ? "inf" : "-inf";
  const base = { r: p.rank, tn: p.tenant, wt: p.weight, ag };
  return p.maxShare === undefined ? base : { ...base, ms: p.maxShare };
}

function finiteMargin(ms: number | undefined): number {
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function num(s: string): number {
  if (s === "inf") return Number.POSITIVE_INFINITY;
  if (s === "-inf") return Number.NEGATIVE_INFINITY;
  return Number(s);
}
