/**
 * Sharing rate limits, budgets and model health between processes through Redis. Import from
 * `langchain-autopicker/redis` (the main entry never loads ioredis).
 */
export { RedisBudgetStore, type RedisBudgetStoreOptions } from "./budgetStore";
export { createRedisClient, RECOMMENDED_REDIS_OPTIONS } from "./client";
// MemoryModelHealthStore and the ModelHealthStore interface live in the main entry.
export { RedisModelHealthStore, type RedisModelHealthStoreOptions } from "./health";
export { type OnRedisUnavailable, type RedisFaultLogger, RedisUnavailableError } from "./outage";
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from "./rateLimitStore";
export { ResilientBudgetStore, type ResilientBudgetStoreOptions } from "./resilientBudgetStore";
export {
  type ResilienceOptions,
  ResilientRateLimitStore,
  type ResilientRateLimitStoreOptions,
} from "./resilientRateLimitStore";
export {
  type IoRedisClient,
  ioredisScripts,
  type RedisScriptRunner,
  RedisTimeoutError,
} from "./scriptRunner";
