/**
 * Every input a user writes goes through one validation layer (src/config): each bad input of the
 * issue (and the ones found along the way) is an AutoPickerConfigError that names the option's
 * path, says what it must be and shows what it got (strings quoted). The good path stays open:
 * LangChain's own model options are accepted.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { ChatOpenAI } from "@langchain/openai";
import { didYouMean, formatValue } from "../src/config";
import { BudgetManager } from "../src/cost";
import { createAutoPickerFromEnv } from "../src/env/createFromEnv";
import { AutoPickerConfigError } from "../src/errors";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";
import type { AutoPickerChatModelInput } from "../src/model/types";

const openai = (model = "gpt-4o-mini") =>
  new ChatOpenAI({ model, apiKey: "sk-test", configuration: { baseURL: "http://127.0.0.1:9/v1" } });
const primary = openai();

function configError(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(AutoPickerConfigError);
    return (error as Error).message;
  }
  throw new Error("expected an AutoPickerConfigError");
}

const picker = (fields: Record<string, unknown>) => () =>
  new AutoPickerChatModel(fields as unknown as AutoPickerChatModelInput);

describe("AutoPickerChatModel options", () => {
  const TIERS = '"free", "tier1", "tier2", "tier3", "tier4", "tier5"';
  test.each<[string, () => unknown, string]>([
    [
      "no options at all",
      () => new (AutoPickerChatModel as unknown as new () => unknown)(),
      "AutoPickerChatModel needs options: new AutoPickerChatModel({ primary: new ChatOpenAI(...)",
    ],
    [
      "no primary",
      picker({}),
      "primary must be a LangChain chat model or an entry { model, name?, limits?, ... }, got undefined.",
    ],
    [
      "a model name for primary",
      picker({ primary: "gpt-4o" }),
      "primary must be a LangChain chat model or an entry",
    ],
    [
      "fallbacks: {}",
      picker({ primary, fallbacks: {} }),
      "fallbacks must be an array of chat models or entries, got an object.",
    ],
    [
      "an entry without a model",
      picker({ primary, fallbacks: [{ name: "x" }] }),
      "fallbacks[0].model must be a LangChain chat model (e.g. new ChatOpenAI(...)), got undefined.",
    ],
    [
      "jitter: bogus",
      picker({ primary, jitter: "bogus" }),
      'jitter must be one of "full", "equal", "none", got "bogus".',
    ],
    [
      "failureThreshold -1",
      picker({ primary, circuitBreaker: { failureThreshold: -1 } }),
      "circuitBreaker.failureThreshold must be a whole number >= 1, got -1.",
    ],
    [
      "failureThreshold NaN",
      picker({ primary, circuitBreaker: { failureThreshold: Number.NaN } }),
      "circuitBreaker.failureThreshold must be a whole number >= 1, got NaN.",
    ],
    [
      "failureThreshold 2.5",
      picker({ primary, circuitBreaker: { failureThreshold: 2.5 } }),
      "circuitBreaker.failureThreshold must be a whole number >= 1, got 2.5.",
    ],
    [
      'cooldownSeconds: "x"',
      picker({ primary, circuitBreaker: { cooldownSeconds: "x" } }),
      'circuitBreaker.cooldownSeconds must be a finite number of seconds > 0, got "x".',
    ],
    [
      "an unknown circuitBreaker key",
      picker({ primary, circuitBreaker: { threshold: 3 } }),
      "circuitBreaker.threshold: unknown option (known: failureThreshold, cooldownSeconds)",
    ],
    ["tier: tier9", picker({ primary, tier: "tier9" }), `tier must be one of ${TIERS}, got "tier9"`],
    [
      "a misspelt tier",
      picker({ primary, tier: "teir1" }),
      `tier must be one of ${TIERS}, got "teir1" (did you mean "tier1"?).`,
    ],
    [
      "an entry's tier",
      picker({ primary: { model: primary, tier: "gold" } }),
      `primary.tier must be one of ${TIERS}, got "gold".`,
    ],
    [
      "requestsPerMinute: 0.5",
      picker({ primary: { model: primary, limits: { requestsPerMinute: 0.5 } } }),
      "primary.limits.requestsPerMinute must be a finite number of requests >= 1, got 0.5.",
    ],
    [
      "tokensPerMinute: Infinity",
      picker({ primary: { model: primary, limits: { tokensPerMinute: Number.POSITIVE_INFINITY } } }),
      "primary.limits.tokensPerMinute must be a finite number of tokens >= 1, got Infinity.",
    ],
    [
      "a window of 0 ms",
      picker({
        primary,
        fallbacks: [
          { model: openai("gpt-4o"), limits: { windows: [{ unit: "requests", limit: 5, intervalMs: 0 }] } },
        ],
      }),
      "fallbacks[0].limits.windows[0].intervalMs must be a finite number of milliseconds > 0, got 0.",
    ],
    [
      "a time zone that is not one",
      picker({
        primary: { model: primary, limits: { requestsPerDay: 100, dailyResetTimeZone: "Mars/Olympus" } },
      }),
      'primary.limits.dailyResetTimeZone must be an IANA time zone (e.g. "America/Los_Angeles"), got "Mars/Olympus".',
    ],
    [
      "a typo'd limits key",
      picker({ primary: { model: primary, limits: { requestPerMinute: 10 } } }),
      "primary.limits.requestPerMinute: unknown option (did you mean requestsPerMinute?)",
    ],
    [
      "a typo'd entry key",
      picker({ primary: { model: primary, limit: { requestsPerMinute: 10 } } }),
      "primary.limit: unknown option (did you mean limits?)",
    ],
    [
      "maxWaitSecond",
      picker({ primary, maxWaitSecond: 30 }),
      "maxWaitSecond: unknown option (did you mean maxWaitSeconds?)",
    ],
    [
      'maxWaitSeconds: "30"',
      picker({ primary, maxWaitSeconds: "30" }),
      'maxWaitSeconds must be a finite number of seconds >= 0, got "30".',
    ],
    [
      "maxInputTokens: 0",
      picker({ primary: { model: primary, maxInputTokens: 0 } }),
      "primary.maxInputTokens must be a whole number of tokens >= 1, got 0.",
    ],
    [
      "maxRetries: -1",
      picker({ primary, maxRetries: -1 }),
      "maxRetries must be a whole number of retries >= 0, got -1.",
    ],
    [
      "backoffBase: 0.5",
      picker({ primary, backoffBase: 0.5 }),
      "backoffBase must be a finite number >= 1, got 0.5.",
    ],
    [
      "backoffMaxSeconds: Infinity",
      picker({ primary, backoffMaxSeconds: Number.POSITIVE_INFINITY }),
      "backoffMaxSeconds must be a finite number of seconds > 0, got Infinity.",
    ],
    [
      "contextStrategy: drop",
      picker({ primary, contextStrategy: "drop" }),
      'contextStrategy must be one of "fallback", "truncate", "error", got "drop".',
    ],
    [
      "fallbackOrder: random",
      picker({ primary, fallbackOrder: "random" }),
      'fallbackOrder must be one of "listed", "cheapest", got "random".',
    ],
    [
      "a task routed to a preference that does not exist",
      picker({ primary, tasks: { classify: "fast" } }),
      'tasks.classify must be "quality", "balanced", "cost" or { models: [...] }, got "fast".',
    ],
    [
      "a task routed to a model that does not exist",
      picker({ primary, tasks: { classify: { models: ["openai/gpt-5"] } } }),
      'tasks.classify routes to unknown models "openai/gpt-5"; names are: openai/gpt-4o-mini.',
    ],
    [
      "a logger that is a function",
      picker({ primary, logger: console.log }),
      "logger must be a logger (an object with warn())",
    ],
    [
      "entry pricing with a negative price",
      picker({ primary: { model: primary, pricing: { inputPer1M: -1, outputPer1M: 1 } } }),
      "primary.pricing.inputPer1M must be a finite number of USD >= 0, got -1.",
    ],
    [
      "temperature on the picker",
      picker({ primary, temperature: 0 }),
      'temperature: "temperature" is a parameter of each model, not of the picker: set it on every inner model',
    ],
    [
      "maxTokens on the picker",
      picker({ primary, maxTokens: 256 }),
      '"maxTokens" is a parameter of each model',
    ],
    [
      "stop on the picker",
      picker({ primary, stop: ["\n"] }),
      "or pass it per call (llm.invoke(input, { stop }))",
    ],
    [
      "several problems at once",
      picker({ primary, jitter: "x", maxRetries: "3" }),
      'Invalid AutoPickerChatModel options: 2 problems:\n- maxRetries must be a whole number of retries >= 0, got "3".\n- jitter must be one of',
    ],
  ])("%s", (_name, build, fragment) => {
    expect(configError(build)).toContain(fragment);
  });

  test("LangChain's own model options are accepted and reach the base class", () => {
    const onFailedAttempt = () => undefined;
    const llm = new AutoPickerChatModel({
      primary: {
        model: primary,
        name: "main",
        limits: { requestsPerMinute: 1, windows: [] },
        maxInputTokens: 1000,
      },
      fallbacks: [openai("gpt-4o")],
      callbacks: [],
      tags: ["batch"],
      metadata: { team: "a" },
      verbose: false,
      cache: false,
      maxConcurrency: 4,
      onFailedAttempt,
      disableStreaming: false,
      circuitBreaker: { failureThreshold: 3, cooldownSeconds: 0.5 },
      tier: "tier1",
      maxWaitSeconds: 0,
      tasks: { classify: "cost", deep: { models: ["main"] } },
    });
    expect(llm.tags).toEqual(["batch"]);
    expect(llm.metadata).toMatchObject({ team: "a" });
    expect(llm.models.map((m) => m.name)).toEqual(["main", "openai/gpt-4o"]);
  });
});

describe("BudgetManager options", () => {
  const budget = (options: Record<string, unknown>) => () => new BudgetManager(options as never);
  test.each<[string, () => unknown, string]>([
    [
      "a negative limit",
      budget({ dailyLimitUsd: -1 }),
      "Budget dailyLimitUsd must be a finite number of USD >= 0, got -1.",
    ],
    [
      "a limit as a string",
      budget({ monthlyLimitUsd: "50" }),
      'Budget monthlyLimitUsd must be a finite number of USD >= 0, got "50".',
    ],
    [
      "alertThreshold above 1",
      budget({ alertThreshold: 1.5 }),
      "Budget alertThreshold must be a finite number > 0 and <= 1, got 1.5.",
    ],
    [
      "mode: stop",
      budget({ mode: "stop" }),
      'Budget mode must be one of "block", "downgrade", "warn", got "stop".',
    ],
    [
      "a typo'd key",
      budget({ dailyLimit: 5 }),
      "Budget dailyLimit: unknown option (did you mean dailyLimitUsd?)",
    ],
  ])("%s", (_name, build, fragment) => {
    expect(configError(build)).toContain(fragment);
  });
});

describe("createAutoPickerFromEnv", () => {
  const fromEnv = (env: Record<string, string>, options: Record<string, unknown> = {}) =>
    createAutoPickerFromEnv({
      env: { OPENAI_API_KEY: "sk-test", ...env },
      logger: { warn: () => undefined, debug: () => undefined },
      ...options,
    } as never);
  test.each<[string, Record<string, string>, Record<string, unknown>, string]>([
    [
      "LLM_TIER=gold",
      { LLM_TIER: "gold" },
      {},
      'LLM_TIER must be one of "free", "tier1", "tier2", "tier3", "tier4", "tier5", got "gold".',
    ],
    [
      "OPENAI_MAX_INPUT_TOKENS=abc",
      { OPENAI_MAX_INPUT_TOKENS: "abc" },
      {},
      'OPENAI_MAX_INPUT_TOKENS must be a whole number >= 1, got "abc".',
    ],
    [
      "OPENAI_MAX_INPUT_TOKENS=0",
      { OPENAI_MAX_INPUT_TOKENS: "0" },
      {},
      'OPENAI_MAX_INPUT_TOKENS must be a whole number >= 1, got "0".',
    ],
    [
      "a typo'd option",
      {},
      { maxWaitSecond: 5 },
      "maxWaitSecond: unknown option (did you mean maxWaitSeconds?)",
    ],
    ["models given to the env factory", {}, { primary }, "primary: unknown option"],
    ["a bad jitter", {}, { jitter: "lots" }, 'jitter must be one of "full", "equal", "none", got "lots".'],
  ])("%s", async (_name, env, options, fragment) => {
    const error = await fromEnv(env, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AutoPickerConfigError);
    expect((error as Error).message).toContain(fragment);
  });

  test("LLM_TIER is case-insensitive and applies the catalog", async () => {
    const llm = await fromEnv({ LLM_TIER: "Tier1" });
    expect(llm.models[0]!.limits).toMatchObject({ requestsPerMinute: 500 });
  });
});

describe("message helpers", () => {
  test("formatValue quotes strings and never prints an object's content", () => {
    expect(formatValue("30")).toBe('"30"');
    expect(formatValue(30)).toBe("30");
    expect(formatValue(Number.NaN)).toBe("NaN");
    expect(formatValue({ apiKey: "sk-secret" })).toBe("an object");
    expect(formatValue(primary as BaseChatModel)).toBe("a ChatOpenAI");
    expect(formatValue([1, 2])).toBe("an array of 2");
    expect(formatValue("x".repeat(100))).toBe(`"${"x".repeat(40)}..."`);
  });

  test("didYouMean suggests close names only", () => {
    expect(didYouMean("maxWaitSecond", ["maxWaitSeconds", "maxRetries"])).toBe("maxWaitSeconds");
    expect(didYouMean("MAXRETRIES", ["maxWaitSeconds", "maxRetries"])).toBe("maxRetries");
    expect(didYouMean("zzz", ["maxWaitSeconds", "maxRetries"])).toBeUndefined();
  });
});
