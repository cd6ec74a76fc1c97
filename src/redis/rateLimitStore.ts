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

  constructor(options: RedisRateLimitStoreOptions) {
    this.runner = isScriptRunner(options.client) ? options.client : ioredisScripts(options.client);
    this.prefix = options.keyPrefix ?? "autopicker:rl:";
    this.clock = options.clock === undefined || options.clock === "server" ? undefined : options.clock;
    this.timeoutMs = options.timeoutMs ?? 250;
    this.staleMs = options.staleBookingMs ?? 3_600_000;
  }

  async reserve(req: StoreReserveRequest): Promise<StoreReserveResult> {
    const payload = {
      t: req.tokens,
      mw: Number.isFinite(req.maxWaitMs) ? Math.max(0, req.maxWaitMs) : -1,
      m: finiteMargin(req.arrivalMarginMs),
      ...(req.place ? { p: wirePlace(req.place) } : {}),
    };
    const { reply, toCaller } = await this.call("reserve", req.key, req.windows, req.now, payload);
    const [kind, a = "", b = "", c = ""] = reply;
    if (kind === "granted") {
      const waitMs = num(c);
      // In server time the store's instant is translated into the caller's clock (late by at
      // most the round trip, never early), which is what `RateLimiter.acquire` sleeps towards.
      const granted = { kind: "granted" as const, entryId: a, startAt: toCaller(num(b)), waitMs };
      // Then (entry id, new start) of every booking it moved; the last element is the script's now.
      const moved: StoreMovedBooking[] = [];
      for (let i = 4; i + 1 < reply.length - 1; i += 2) {
        moved.push({ entryId: reply[i]!, startAt: toCaller(num(reply[i + 1]!)) });
      }
      return moved.length > 0 ? { ...granted, moved } : granted;
    }
    if (kind === "wait_too_long") return { kind: "wait_too_long", waitMs: num(a), dimension: b };
    return { kind: "never_fits", dimension: a, requested: num(b), limit: num(c) };
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
    payload: Record<string, unknown>,
  ): Promise<{ reply: string[]; toCaller: (t: number) => number }> {
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
    const raw = await withTimeout(
      this.runner.run(SCRIPT_NAME, RATE_LIMIT_LUA, keys, [op, body]),
      this.timeoutMs,
      op,
    );
    const reply = (raw as unknown[]).map(String);
    if (!server) return { reply, toCaller: (t) => t };
    // The script's last element is its `now`. Caller time at the reply is `now + elapsed`; mapping
    // server instants through it errs late by the transit time, the safe side for a rate limit.
    const serverNow = num(reply[reply.length - 1] ?? "0");
    const callerNow = now + (performance.now() - sentAt);
    return { reply, toCaller: (t) => (Number.isFinite(t) ? Math.ceil(t - serverNow + callerNow) : t) };
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
