/**
 * The public surface, pinned: adding or removing a runtime export of an entry is a deliberate
 * change (README documents each name; CHANGELOG says what changed). Internals stay unexported.
 */
import * as agents from "../src/agents";
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
