import { type Clock, systemClock } from "../clock";
import type { BudgetCounter, BudgetStore, LimitedBudgetCounter, StoreReservation } from "../cost/budgetStore";
import {
  type IoRedisClient,
  ioredisScripts,
  isScriptRunner,
  type RedisScriptRunner,
  withTimeout,
} from "./scriptRunner";

/** Options of {@link RedisBudgetStore}. */
export interface RedisBudgetStoreOptions {
  /** An ioredis client (single node or Cluster), or any {@link RedisScriptRunner}. */
  client: IoRedisClient | RedisScriptRunner;
  /** Prepended to every key. Default `"autopicker:budget:"`. */
  keyPrefix?: string;
  /**
   * The Cluster hash tag shared by every budget key (a reservation touches the day and the month
   * counter in one script, so they must share a slot). Default `"budget"`.
   */
  hashTag?: string;
  /** Turns each counter's `expiresAt` into a time-to-live. Default the system clock. */
  clock?: Clock;
  /** Every call rejects with `RedisTimeoutError` after this long. Default 250 ms. */
  timeoutMs?: number;
}

// ARGV: amount, then per key: limit ('' = none), ttl ms. All-or-nothing: check every limit first.
const RESERVE_LUA = `
local amount = tonumber(ARGV[1])
local used = {}
for i, k in ipairs(KEYS) do used[i] = tonumber(redis.call('GET', k) or '0') end
for i = 1, #KEYS do
  local lim = ARGV[2 * i]
  if lim ~= '' and used[i] + amount > tonumber(lim) then
    local out = { 0, i - 1 }
    for j = 1, #KEYS do out[#out + 1] = used[j] end
    return out
  end
end
local out = { 1, -1 }
for i, k in ipairs(KEYS) do
  local v = used[i] + amount
  redis.call('SET', k, v, 'PX', ARGV[2 * i + 1])
  out[#out + 1] = v
end
return out
`;

// ARGV: delta, then per key a ttl ms. Counters never go below 0.
const ADD_LUA = `
local delta = tonumber(ARGV[1])
local out = {}
for i, k in ipairs(KEYS) do
  local v = math.max(0, tonumber(redis.call('GET', k) or '0') + delta)
  redis.call('SET', k, v, 'PX', ARGV[i + 1])
  out[i] = v
end
return out
`;

const READ_LUA = `
local out = {}
for i, k in ipairs(KEYS) do out[i] = tonumber(redis.call('GET', k) or '0') end
return out
`;

const CLAIM_LUA = `
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
`;

/**
 * A {@link BudgetStore} in Redis: the daily and monthly spend counters are shared by every process
 * using the same Redis and prefix. `reserve` checks every limit and adds to every counter in one
 * Lua script (so replicas can never overspend together), amounts are integer micro-dollars, each
 * counter expires when its period (plus the manager's settle grace) is over, and `claimOnce` is a
 * `SET NX PX`, so a budget alert fires once per period across the fleet.
 */
export class RedisBudgetStore implements BudgetStore {
  private readonly runner: RedisScriptRunner;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(options: RedisBudgetStoreOptions) {
    this.runner = isScriptRunner(options.client) ? options.client : ioredisScripts(options.client);
    this.prefix = `${options.keyPrefix ?? "autopicker:budget:"}{${options.hashTag ?? "budget"}}:`;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 250;
  }

  async reserve(counters: readonly LimitedBudgetCounter[], amountMicros: number): Promise<StoreReservation> {
    const args = [String(amountMicros)];
    for (const c of counters) args.push(c.limitMicros === null ? "" : String(c.limitMicros), this.ttl(c));
    const [ok, failed, ...used] = await this.run("budget_reserve_v1", RESERVE_LUA, counters, args);
    return ok === 1
      ? { ok: true, usedMicros: used }
      : { ok: false, failedIndex: failed ?? 0, usedMicros: used };
  }

  async add(counters: readonly BudgetCounter[], deltaMicros: number): Promise<number[]> {
    return this.run("budget_add_v1", ADD_LUA, counters, [
      String(deltaMicros),
      ...counters.map((c) => this.ttl(c)),
    ]);
  }

  async read(keys: readonly string[]): Promise<number[]> {
    return this.run(
      "budget_read_v1",
      READ_LUA,
      keys.map((key) => ({ key })),
      [],
    );
  }

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    const [claimed] = await this.run("budget_claim_v1", CLAIM_LUA, [{ key }], [this.ttl({ expiresAt })]);
    return claimed === 1;
  }

  private ttl(counter: { expiresAt: number }): string {
    // PX must be positive; a counter already past its expiry lives 1 ms (the memory store drops it).
    return String(Math.max(1, Math.ceil(counter.expiresAt - this.clock.now())));
  }

  private async run(
    name: string,
    lua: string,
    counters: readonly { key: string }[],
    args: string[],
  ): Promise<number[]> {
    const keys = counters.map((c) => this.prefix + c.key);
    const reply = await withTimeout(this.runner.run(name, lua, keys, args), this.timeoutMs, name);
    return (Array.isArray(reply) ? reply : [reply]).map(Number);
  }
}
