/**
 * The public surface, pinned: adding or removing a runtime export of an entry is a deliberate
 * change (README documents each name; CHANGELOG says what changed). Internals stay unexported.
 */
import * as agents from "../src/agents";
import type {
  AutoPickerChatModelInput,
  AutoPickerStats,
  Priority,
  PriorityOptions,
  ProviderStatus,
  QueueDepth,
  QueuePlace,
  StoreMovedBooking,
  StorePlace,
  StoreQueueStatus,
  TenantOptions,
  WaitStats,
} from "../src/index";
import * as root from "../src/index";
import * as langfuse from "../src/langfuse";
import * as redis from "../src/redis";
import * as simulate from "../src/simulate";
import * as testing from "../src/testing";

const names = (m: object) => Object.keys(m).sort();

describe("public exports", () => {
  it("the root entry", () => {
    expect(names(root)).toEqual([
      "AUTOPICKER_EVENT_NAMES",
      "AlertMonitor",
      "AllModelsFailedError",
      "AutoPickerChatModel",
      "AutoPickerConfigError",
      "AutoPickerError",
      "BUDGET_FALLBACK",
      "BudgetExceededError",
      "BudgetManager",
      "CONTEXT_LENGTH_FALLBACK",
      "ContentFilteredError",
      "ContextWindowExceededError",
      "CostTrackingCallbackHandler",
      "ERROR_FALLBACK",
      "MalformedResponseError",
      "MemoryBudgetStore",
      "MemoryModelHealthStore",
      "MemoryRateLimitStore",
      "PRIORITIES",
      "PriceBook",
      "RATE_LIMIT_FALLBACK",
      "RATE_LIMIT_WAIT",
      "RUN_BUDGET_EXHAUSTED",
      "RateLimiter",
      "RunBudget",
      "RunBudgetExceededError",
      "SendEvidence",
      "StreamInterruptedError",
      "catalogLimits",
      "createAutoPickerFromEnv",
      "fallbackEventName",
      "getDecisionTrail",
      "isAutoPickerError",
      "rateLimitHeadersFetch",
      "systemClock",
    ]);
  });

  it("priority classes and tenants: PRIORITIES at run time, the types at compile time", () => {
    const classes: readonly Priority[] = root.PRIORITIES;
    expect(classes).toEqual(["interactive", "normal", "batch"]);
    // Compile-time pins (npm run typecheck): each type is exported from the root and fits its option.
    const tenant: TenantOptions = { weight: 3, maxShare: 0.5 };
    const batch: PriorityOptions = { maxWaitSeconds: 3600, agingSeconds: 900 };
    const options: Pick<AutoPickerChatModelInput, "tenants" | "priorities"> = {
      tenants: { acme: tenant },
      priorities: { batch },
    };
    const place: QueuePlace = { priority: "batch", tenant: "acme", weight: 3, agingMs: 900_000 };
    const depth: QueueDepth = { priority: place.priority, tenant: place.tenant, waiting: 1 };
    const queue: ProviderStatus["queue"] = [depth];
    const waits: WaitStats = { rateLimitWaits: 1, totalWaitSeconds: 2 };
    const byClass: AutoPickerStats["waitsByPriority"]["batch"] = waits;
    const stored: StorePlace = { rank: 2, tenant: "acme", weight: 3, agingMs: 900_000 };
    const moved: StoreMovedBooking = { entryId: "1", startAt: 0 };
    const reported: StoreQueueStatus = { rank: stored.rank, tenant: stored.tenant, waiting: 1 };
    expect([options, queue, byClass, moved, reported]).toHaveLength(5);
  });

  it("the subpath entries", () => {
    expect(names(agents)).toEqual(["runBudgetMiddleware"]);
    expect(names(langfuse)).toEqual([
      "AutoPickerLangfuseHandler",
      "AutoPickerSpanProcessor",
      "fallbackReport",
      "setupLangfuseTracing",
    ]);
    expect(names(redis)).toEqual([
      "RECOMMENDED_REDIS_OPTIONS",
      "RedisBudgetStore",
      "RedisModelHealthStore",
      "RedisRateLimitStore",
      "RedisTimeoutError",
      "RedisUnavailableError",
      "ResilientBudgetStore",
      "ResilientRateLimitStore",
      "createRedisClient",
      "ioredisScripts",
    ]);
    expect(names(simulate)).toEqual(["PRESETS", "renderHtmlReport", "renderTextSummary", "simulate"]);
    expect(names(testing)).toEqual([
      "ProviderSimulator",
      "VirtualClock",
      "countChatTokens",
      "defaultResponder",
      "sampleFromSchema",
      "startFakeLangfuseServer",
    ]);
  });
});
