/**
 * The picker's public event stream (`llm.onX`), errors that survive duplicate installs, and the
 * user's own model objects left as they were.
 */
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import {
  AllModelsFailedError,
  AutoPickerConfigError,
  AutoPickerError,
  BudgetExceededError,
  ContentFilteredError,
  ContextWindowExceededError,
  isAutoPickerError,
  MalformedResponseError,
  RunBudgetExceededError,
  StreamInterruptedError,
} from "../src/errors";
import type { FallbackEvent, WaitEvent } from "../src/model/events";
import { RedisTimeoutError, RedisUnavailableError } from "../src/redis";
import { EventLog, GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

let w: Awaited<ReturnType<typeof startWorld>>;
beforeEach(async () => {
  w = await startWorld();
});
afterEach(() => w.stop());

describe("typed events", () => {
  it("onWait, onFallback, onAttemptFailed, onServed tell the same story as the custom events and stats", async () => {
    const llm = w.picker({ maxRetries: 1 });
    const waits: WaitEvent[] = [];
    const fallbacks: FallbackEvent[] = [];
    const failed: string[] = [];
    const served: string[] = [];
    llm.onWait((e) => waits.push(e));
    llm.onFallback((e) => fallbacks.push(e));
    llm.onAttemptFailed((e) => failed.push(`${e.model}:${e.kind}`));
    llm.onServed((e) => served.push(`${e.model}:${e.primary}:${e.attempts.length}`));
    // Two 429s with a 3 s hint: waited out once, then retries are spent.
    w.sim.enqueueFault(OPENAI, { kind: "rate_limit", retryAfterMs: 3000 }, { times: 2 });
    const log = new EventLog();
    await llm.invoke("hi", { callbacks: [log] });

    expect(waits).toEqual([{ model: OPENAI_NAME, waitMs: 3000, cause: "rate_limit", priority: "normal" }]);
    expect(fallbacks).toEqual([{ from: OPENAI_NAME, to: GEMINI_NAME, reason: "rate_limit" }]);
    expect(failed).toEqual([`${OPENAI_NAME}:rate_limit`, `${OPENAI_NAME}:rate_limit`]);
    expect(served).toEqual([`${GEMINI_NAME}:false:3`]);
    expect(log.named("rate_limit_wait")).toEqual([
      { model: OPENAI_NAME, wait_ms: 3000, cause: "rate_limit", priority: "normal" },
    ]);
    expect(log.named("rate_limit_fallback")).toEqual([
      { original_model: OPENAI_NAME, fallback_model: GEMINI_NAME, reason: "rate_limit" },
    ]);
    expect(llm.stats).toMatchObject({
      totalRequests: 1,
      fallbackRequests: 1,
      rateLimitWaits: 1,
      totalWaitSeconds: 3,
      fallbacks: 1,
      fallbacksByReason: { rate_limit: 1 },
      rateLimitFallbacks: 1,
    });
    expect(llm.stats.byModel[OPENAI_NAME]).toMatchObject({ attempts: 2, errors: { rate_limit: 2 } });
  });

  it("onCircuitStateChange reports open, half-open and closed; dispose stops a listener", async () => {
    const llm = w.picker({ maxRetries: 0, circuitBreaker: { failureThreshold: 1, cooldownSeconds: 30 } });
    const states: string[] = [];
    const sub = llm.onCircuitStateChange((e) => states.push(`${e.model}:${e.state.state}`));
    w.sim.enqueueFault(OPENAI, { kind: "server_error" });
    await llm.invoke("1"); // 503 opens the circuit; Gemini serves
    await w.clock.advance(30_000);
    await llm.invoke("2"); // the probe succeeds
    expect(states).toEqual([`${OPENAI_NAME}:open`, `${OPENAI_NAME}:half_open`, `${OPENAI_NAME}:closed`]);
    sub.dispose();
    w.sim.enqueueFault(OPENAI, { kind: "server_error" });
    await llm.invoke("3");
    expect(states).toHaveLength(3);
  });

  it("onFailed fires when no model answers, and a throwing listener never breaks the call", async () => {
    const warnings: string[] = [];
    const llm = w.picker({ maxRetries: 0, logger: { warn: (m) => warnings.push(m) } });
    const failures: number[] = [];
    llm.onFailed((e) => failures.push(e.attempts.length));
    llm.onServed(() => {
      throw new Error("listener bug");
    });
    expect((await llm.invoke("fine")).content).toMatch(/Simulated answer/);
    expect(warnings).toEqual([expect.stringMatching(/onServed listener threw/)]);
    w.sim.enqueueFault(OPENAI, { kind: "auth" });
    w.sim.enqueueFault("gemini-2.5-flash", { kind: "auth" });
    await expect(llm.invoke("no one")).rejects.toBeInstanceOf(AllModelsFailedError);
    expect(failures).toEqual([2]);
  });
});

describe("errors", () => {
  it("every error class is an AutoPickerError with a code, recognised across copies of the package", () => {
    const ours = [
      new AutoPickerConfigError("x"),
      new AllModelsFailedError([]),
      new BudgetExceededError("day", 1, 1, 1),
      new ContextWindowExceededError(10, { a: 5 }),
      new RunBudgetExceededError("usd", 0.1, 0.05, { spentUsd: 0.45, tokens: 10, modelCalls: 2 }),
      new MalformedResponseError("m", "no generations"),
      new ContentFilteredError("m", "SAFETY"),
      new StreamInterruptedError("m", "partial", { cause: new Error("terminated") }),
      new RedisUnavailableError("down"),
      new RedisTimeoutError("slow"),
    ];
    for (const e of ours) {
      expect(e).toBeInstanceOf(AutoPickerError);
      expect(isAutoPickerError(e)).toBe(true);
      expect(typeof e.code).toBe("string");
      // Messages say what happened; they never carry the caller's text.
      expect(e.message).not.toContain("partial");
    }
    // A copy from another install: same brand, different class.
    const brand = Symbol.for("langchain-autopicker.error");
    const foreign = Object.assign(Object.create({ [brand]: true }), { code: "config", message: "x" });
    expect(isAutoPickerError(foreign)).toBe(true);
    expect(isAutoPickerError(new Error("x"))).toBe(false);
    expect(isAutoPickerError(Object.assign(new Error("x"), { code: "config" }))).toBe(false);
  });
});

describe("the user's models", () => {
  it("keep their own retry settings: the picker calls them through a no-retry view", async () => {
    const gemini = w.gemini();
    const spy = jest.spyOn(gemini.caller, "callWithOptions");
    const llm = w.picker({ primary: gemini, fallbacks: [] });
    await llm.invoke("through the picker");
    expect(spy.mock.calls.at(-1)?.[0]).toMatchObject({ maxRetries: 0 });
    await gemini.invoke("directly");
    expect(spy.mock.calls.at(-1)?.[0]).not.toHaveProperty("maxRetries", 0);
    expect(llm.models[0]!.model).toBe(gemini);
  });

  it("a model from another copy of @langchain/core is accepted (duck-typed, not instanceof)", async () => {
    const model = fakeModel().respond(new AIMessage("hi from a duplicate core"));
    // What a duplicate install looks like from here: the same methods, another class identity.
    const foreign = new Proxy(model, { getPrototypeOf: () => null });
    expect(foreign instanceof BaseChatModel).toBe(false);
    const llm = w.picker({
      primary: { model: foreign, name: "fake/dup", maxInputTokens: 1000 },
      fallbacks: [],
    });
    expect((await llm.invoke("hi")).content).toBe("hi from a duplicate core");
  });
});
