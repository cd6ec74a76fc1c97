import { Redis, type RedisOptions } from "ioredis";

/**
 * ioredis options that suit a rate limiter on the request path: fail fast instead of queueing
 * (a limiter that waits seconds for Redis is worse than one that falls back), keep reconnecting
 * in the background, and never let the retry timers hold the process open after `quit()`.
 */
export const RECOMMENDED_REDIS_OPTIONS: RedisOptions = {
  connectTimeout: 1000,
  // A backstop only: the stores time out each call themselves (`timeoutMs`, default 250 ms) in a
  // way that survives event-loop stalls; ioredis' own timer would fire first after a stall.
  commandTimeout: 1000,
  maxRetriesPerRequest: 1,
  // Reconnect forever, backing off to 2 s: fail-open stores resume sharing once it is back.
  retryStrategy: (times) => Math.min(100 * times, 2000),
};

/**
 * A new ioredis client with {@link RECOMMENDED_REDIS_OPTIONS} (yours override them). Connection
 * errors are swallowed by an `error` listener (ioredis would print each one): the resilient stores
 * report outages once. Call `client.quit()` on shutdown.
 */
export function createRedisClient(url = "redis://127.0.0.1:6379", options: RedisOptions = {}): Redis {
  const client = new Redis(url, { ...RECOMMENDED_REDIS_OPTIONS, ...options });
  client.on("error", () => undefined);
  return client;
}
