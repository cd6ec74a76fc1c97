import { type Clock, systemClock } from "../clock";
import {
  MemoryModelHealthStore,
  type ModelHealthStore,
  type SharedModelHealth,
  snapshot,
} from "../model/healthStore";
import type { FallbackReason } from "../retry/policy";
import {
  type IoRedisClient,
  ioredisScripts,
  isScriptRunner,
  type RedisScriptRunner,
  taggedKey,
  withTimeout,
} from "./scriptRunner";

/** Options of {@link RedisModelHealthStore}. */
export interface RedisModelHealthStoreOptions {
  client: IoRedisClient | RedisScriptRunner;
  /** Default `"autopicker:health:"`. */
  keyPrefix?: string;
  /** Reads "now" for expiry and filtering. Default the system clock. */
  clock?: Clock;
  /** Default 250 ms. */
  timeoutMs?: number;
}

// KEYS[1] hash { u = until, r = reason, c = circuit retry-at }. ARGV: op, value, reason, now.
// Only ever extends a mark; the key expires when the last mark does.
const HEALTH_LUA = `
local op, v, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4])
local h = KEYS[1]
if op == 'mark' then
  if v > tonumber(redis.call('HGET', h, 'u') or '0') then redis.call('HSET', h, 'u', ARGV[2], 'r', ARGV[3]) end
elseif op == 'open' then
  if v > tonumber(redis.call('HGET', h, 'c') or '0') then redis.call('HSET', h, 'c', ARGV[2]) end
elseif op == 'close' then
  redis.call('HDEL', h, 'c')
else
  return redis.call('HMGET', h, 'u', 'r', 'c')
end
local last = math.max(tonumber(redis.call('HGET', h, 'u') or '0'), tonumber(redis.call('HGET', h, 'c') or '0'))
if last > now then redis.call('PEXPIRE', h, math.ceil(last - now)) else redis.call('DEL', h) end
return {}
`;

/** A {@link ModelHealthStore} in Redis: one small hash per model, expiring with its last mark. */
export class RedisModelHealthStore implements ModelHealthStore {
  private readonly runner: RedisScriptRunner;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(options: RedisModelHealthStoreOptions) {
    this.runner = isScriptRunner(options.client) ? options.client : ioredisScripts(options.client);
    this.prefix = options.keyPrefix ?? "autopicker:health:";
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 250;
  }

  async markUnavailable(model: string, untilMs: number, reason: FallbackReason): Promise<void> {
    await this.run(model, "mark", untilMs, reason);
  }

  async openCircuit(model: string, retryAtMs: number): Promise<void> {
    await this.run(model, "open", retryAtMs, "");
  }

  async closeCircuit(model: string): Promise<void> {
    await this.run(model, "close", 0, "");
  }

  async get(model: string): Promise<SharedModelHealth> {
    const reply = (await this.run(model, "get", 0, "")) as (string | null)[];
    const [u, r, c] = reply;
    return snapshot(
      Number(u ?? 0),
      (r ?? undefined) as FallbackReason | undefined,
      Number(c ?? 0),
      this.clock.now(),
    );
  }

  private run(model: string, op: string, value: number, reason: string): Promise<unknown> {
    const key = taggedKey(this.prefix, model, "h");
    const args = [op, String(value), reason, String(this.clock.now())];
    return withTimeout(this.runner.run("health_v1", HEALTH_LUA, [key], args), this.timeoutMs, `health ${op}`);
  }
}

// The interface and the in-process store live with the model; re-exported for this entry's users.
export { MemoryModelHealthStore, type ModelHealthStore, type SharedModelHealth };
