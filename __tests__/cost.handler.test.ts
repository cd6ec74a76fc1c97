import { InMemoryCache } from "@langchain/core/caches";
import { AIMessage } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda } from "@langchain/core/runnables";
import { fakeModel } from "@langchain/core/testing";
import { BudgetManager, type CostRecord, CostTrackingCallbackHandler, readRunStart } from "../src/cost";
import { VirtualClock } from "../src/testing/virtualClock";
import { memoryLogger, ScriptedChatModel, usage } from "./cost.helpers";

// Prices per 1M tokens from @pydantic/genai-prices 0.1.8 (see cost.pricing.test.ts).
const MINI = { input: 0.15, cached: 0.075, output: 0.6 };
const GPT_4O = { input: 2.5, cached: 1.25, output: 10 };
const FLASH_LITE = { input: 0.1, cached: 0.01, output: 0.4 };

function miniCost(input: number, output: number, cached = 0): number {
  return ((input - cached) * MINI.input + cached * MINI.cached + output * MINI.output) / 1e6;
}

describe("CostTrackingCallbackHandler on a single model", () => {
  test("prices an invoke, including cached input, and the total is ready when invoke resolves", async () => {
    const handler = new CostTrackingCallbackHandler({ logger: memoryLogger() });
    const model = new ScriptedChatModel([
      {
        usage: usage(10_000, 500, { cached: 6_000 }),
        responseMetadata: { model_name: "gpt-4o-mini-2024-07-18" },
      },
    ]);
    await model.invoke("hi", { callbacks: [handler] });
    // No awaitAllCallbacks(): awaitHandlers makes the result visible as soon as invoke resolves.
    const stats = handler.getUsageStats();
    expect(stats.total.requests).toBe(1);
    expect(stats.total.costUsd).toBeCloseTo(miniCost(10_000, 500, 6_000), 12);
    expect(stats.total.cachedInputTokens).toBe(6_000);
    expect(stats.byModel["gpt-4o-mini-2024-07-18"]?.costUsd).toBeCloseTo(miniCost(10_000, 500, 6_000), 12);
  });

  test("prices a streamed run (usage on the last chunk, model_name in generationInfo)", async () => {
    const records: CostRecord[] = [];
    const handler = new CostTrackingCallbackHandler({
      onCost: (r) => records.push(r),
      logger: memoryLogger(),
    });
    const model = new ScriptedChatModel([
      { text: "one two three", usage: usage(2_000, 300), responseMetadata: { model_name: "gpt-4o" } },
    ]);
    let text = "";
    for await (const chunk of await model.stream("hi", { callbacks: [handler] })) text += chunk.content;
    expect(text).toBe("one two three");
    expect(records).toHaveLength(1);
    expect(records[0]?.model).toBe("gpt-4o");
    expect(records[0]?.costUsd).toBeCloseTo((2_000 * GPT_4O.input + 300 * GPT_4O.output) / 1e6, 12);
  });

  test("works with fakeModel() from @langchain/core/testing", async () => {
    const handler = new CostTrackingCallbackHandler({ logger: memoryLogger() });
    const model = fakeModel().respond(
      new AIMessage({
        content: "hello",
        usage_metadata: usage(1_000, 100),
        response_metadata: { model_name: "gemini-2.5-flash-lite" },
      }),
    );
    await model.invoke("hi", { callbacks: [handler] });
    expect(handler.getUsageStats().total.costUsd).toBeCloseTo(
      (1_000 * FLASH_LITE.input + 100 * FLASH_LITE.output) / 1e6,
      12,
    );
  });

  test("the AutoPickerChatModel stamp (name and pricing) wins over model_name", async () => {
    const records: CostRecord[] = [];
    const handler = new CostTrackingCallbackHandler({
      onCost: (r) => records.push(r),
      logger: memoryLogger(),
    });
    const model = new ScriptedChatModel([
      {
        usage: usage(1_000_000, 0),
        responseMetadata: {
          model_name: "gpt-4o",
          autopicker: { model: "openai/gpt-4o-mini", pricing: { input_per_1m: 0.2, output_per_1m: 0.8 } },
        },
      },
      {
        usage: usage(1_000_000, 0),
        responseMetadata: { model_name: "gpt-4o", autopicker: { model: "openai/gpt-4o-mini" } },
      },
    ]);
    await model.invoke("a", { callbacks: [handler] });
    await model.invoke("b", { callbacks: [handler] });
    expect(records.map((r) => r.model)).toEqual(["openai/gpt-4o-mini", "openai/gpt-4o-mini"]);
    expect(records[0]?.costUsd).toBeCloseTo(0.2, 12); // stamped pricing beats the catalog
    expect(records[1]?.costUsd).toBeCloseTo(MINI.input, 12); // catalog price of the stamped name
  });

  test("the handler's own override beats both the stamp's pricing and the catalog", async () => {
    const handler = new CostTrackingCallbackHandler({
      pricing: { "gpt-4o-mini": { inputPer1M: 1, outputPer1M: 1 } },
      logger: memoryLogger(),
    });
    const model = new ScriptedChatModel([
      {
        usage: usage(1_000_000, 0),
        responseMetadata: {
          autopicker: { model: "openai/gpt-4o-mini", pricing: { inputPer1M: 9, outputPer1M: 9 } },
        },
      },
    ]);
    await model.invoke("a", { callbacks: [handler] });
    expect(handler.getUsageStats().total.costUsd).toBe(1);
  });

  test("falls back to the requested model when the response names none", async () => {
    const handler = new CostTrackingCallbackHandler({ logger: memoryLogger() });
    const model = new ScriptedChatModel([{ usage: usage(1_000, 10) }], { model: "gpt-4o-mini" });
    await model.invoke("a", { callbacks: [handler] });
    expect(Object.keys(handler.getUsageStats().byModel)).toEqual(["gpt-4o-mini"]);
    expect(handler.getUsageStats().total.costUsd).toBeCloseTo(miniCost(1_000, 10), 12);
  });

  test("unknown model: cost null, counted as a request, one warning per model", async () => {
    const logger = memoryLogger();
    const records: CostRecord[] = [];
    const handler = new CostTrackingCallbackHandler({ logger, onCost: (r) => records.push(r) });
    const model = new ScriptedChatModel([
      { usage: usage(1_000, 10), responseMetadata: { model_name: "my-finetune" } },
    ]);
    await model.invoke("a", { callbacks: [handler] });
    await model.invoke("b", { callbacks: [handler] });
    expect(records.map((r) => [r.status, r.costUsd])).toEqual([
      ["unpriced", null],
      ["unpriced", null],
    ]);
    const stats = handler.getUsageStats();
    expect(stats.total.requests).toBe(2);
    expect(stats.total.unpricedRequests).toBe(2);
    expect(stats.total.costUsd).toBe(0);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatch(/^\[autopicker\] No price for model "my-finetune"/);
  });

  test("a LangChain cache hit costs nothing", async () => {
    const records: CostRecord[] = [];
    const handler = new CostTrackingCallbackHandler({
      onCost: (r) => records.push(r),
      logger: memoryLogger(),
    });
    const model = new ScriptedChatModel(
      [{ usage: usage(5_000, 500), responseMetadata: { model_name: "gpt-4o" } }],
      {
        cache: new InMemoryCache(),
      },
    );
    await model.invoke("same prompt", { callbacks: [handler] });
    await model.invoke("same prompt", { callbacks: [handler] });
    expect(records.map((r) => r.status)).toEqual(["priced", "cached"]);
    const stats = handler.getUsageStats();
    expect(stats.total.requests).toBe(2);
    expect(stats.total.cachedRequests).toBe(1);
    expect(stats.total.costUsd).toBeCloseTo((5_000 * GPT_4O.input + 500 * GPT_4O.output) / 1e6, 12);
  });

  test("Gemini thinking tokens missing from output_tokens are billed from total_tokens", async () => {
    const records: CostRecord[] = [];
    const handler = new CostTrackingCallbackHandler({
      onCost: (r) => records.push(r),
      logger: memoryLogger(),
    });
    // @langchain/google-genai: output_tokens = candidates only; total includes 700 thought tokens.
    const model = new ScriptedChatModel([
      {
        usage: { input_tokens: 1_000, output_tokens: 300, total_tokens: 2_000 },
        responseMetadata: { model_name: "gemini-2.5-flash-lite" },
      },
    ]);
    await model.invoke("a", { callbacks: [handler] });
    expect(records[0]?.usage).toMatchObject({ outputTokens: 1_000, reasoningTokens: 700 });
    expect(records[0]?.costUsd).toBeCloseTo((1_000 * FLASH_LITE.input + 1_000 * FLASH_LITE.output) / 1e6, 12);
  });

  test("a model that reports no usage is unpriced, not free", async () => {
    const handler = new CostTrackingCallbackHandler({ logger: memoryLogger() });
    const model = new ScriptedChatModel([{ responseMetadata: { model_name: "gpt-4o" } }]);
    await model.invoke("a", { callbacks: [handler] });
    expect(handler.getUsageStats().total).toMatchObject({ requests: 1, unpricedRequests: 1, costUsd: 0 });
  });

  test("invoke resolves only after the handler's async work (booking spend) is done", async () => {
    const booked: number[] = [];
    const slowBudget = {
      record: async (usd: number) => {
        await new Promise((r) => setTimeout(r, 20));
        booked.push(usd);
      },
    };
    const handler = new CostTrackingCallbackHandler({ budget: slowBudget, logger: memoryLogger() });
    const model = new ScriptedChatModel([
      { usage: usage(1_000_000, 0), responseMetadata: { model_name: "gpt-4o-mini" } },
    ]);
    await model.invoke("a", { callbacks: [handler] });
    expect(booked).toEqual([MINI.input]);
  });

  test("priced calls are booked on a budget", async () => {
    const budget = new BudgetManager({ dailyLimitUsd: 1, logger: memoryLogger() });
    const handler = new CostTrackingCallbackHandler({ budget, logger: memoryLogger() });
    const model = new ScriptedChatModel([
      { usage: usage(1_000_000, 0), responseMetadata: { model_name: "gpt-4o-mini" } },
    ]);
    await model.invoke("a", { callbacks: [handler] });
    expect((await budget.remaining()).day).toBeCloseTo(1 - MINI.input, 12);
  });
});

describe("CostTrackingCallbackHandler on chains and agents", () => {
  test("a prompt | model | parser chain is one top-level run", async () => {
    const handler = new CostTrackingCallbackHandler({ logger: memoryLogger() });
    const model = new ScriptedChatModel([
      { text: "pong", usage: usage(800, 20), responseMetadata: { model_name: "gpt-4o-mini" } },
    ]);
    const chain = ChatPromptTemplate.fromTemplate("say {word}").pipe(model).pipe(new StringOutputParser());
    await expect(chain.invoke({ word: "ping" }, { callbacks: [handler] })).resolves.toBe("pong");
    const stats = handler.getUsageStats();
    const runs = Object.values(stats.byRun);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ requests: 1, finished: true, name: "RunnableSequence" });
    expect(runs[0]?.costUsd).toBeCloseTo(miniCost(800, 20), 12);
  });

  test("a multi-step run's cost equals the sum of its calls; concurrent runs stay apart", async () => {
    const records: CostRecord[] = [];
    const handler = new CostTrackingCallbackHandler({
      onCost: (r) => records.push(r),
      logger: memoryLogger(),
    });
    const mini = new ScriptedChatModel([
      { usage: usage(3_000, 200, { cached: 1_000 }), responseMetadata: { model_name: "gpt-4o-mini" } },
    ]);
    const big = new ScriptedChatModel([
      { usage: usage(5_000, 400), responseMetadata: { model_name: "gpt-4o" } },
    ]);
    // Nested: the inner sub-chain and a tool-like lambda both call models; all belong to the outer run.
    const inner = RunnableLambda.from(
      async (q: string, config) => (await big.invoke(q, config)).content as string,
    );
    const agent = RunnableLambda.from(async (q: string, config) => {
      await mini.invoke(q, config);
      await inner.invoke(q, config);
      await mini.invoke(q, config);
      return "done";
    }).withConfig({ runName: "agent" });
    await Promise.all([
      agent.invoke("a", { callbacks: [handler] }),
      agent.invoke("b", { callbacks: [handler] }),
    ]);

    const stats = handler.getUsageStats();
    const runs = Object.values(stats.byRun);
    expect(runs).toHaveLength(2);
    const expectedRun = 2 * miniCost(3_000, 200, 1_000) + (5_000 * GPT_4O.input + 400 * GPT_4O.output) / 1e6;
    for (const run of runs) {
      expect(run).toMatchObject({ name: "agent", requests: 3, finished: true });
      expect(run.costUsd).toBeCloseTo(expectedRun, 12);
      const sumOfCalls = records
        .filter((r) => r.rootRunId === run.rootRunId)
        .reduce((sum, r) => sum + (r.costUsd ?? 0), 0);
      expect(run.costUsd).toBeCloseTo(sumOfCalls, 12);
    }
    expect(stats.total.costUsd).toBeCloseTo(2 * expectedRun, 12);
  });

  test("groups by metadata keys and by UTC day and month", async () => {
    const clock = new VirtualClock({ startMs: Date.UTC(2026, 10, 30, 23, 59), autoAdvance: false });
    const handler = new CostTrackingCallbackHandler({
      clock,
      groupByMetadata: ["userId"],
      logger: memoryLogger(),
    });
    const model = new ScriptedChatModel([
      { usage: usage(1_000_000, 0), responseMetadata: { model_name: "gpt-4o-mini" } },
    ]);
    await model.invoke("a", { callbacks: [handler], metadata: { userId: "u1" } });
    await clock.advance(2 * 60_000); // now 2026-12-01
    await model.invoke("b", { callbacks: [handler], metadata: { userId: "u2" } });
    await model.invoke("c", { callbacks: [handler], metadata: { userId: "u2" } });
    await model.invoke("d", { callbacks: [handler] });
    const stats = handler.getUsageStats();
    expect(stats.byDay["2026-11-30"]?.requests).toBe(1);
    expect(stats.byDay["2026-12-01"]?.requests).toBe(3);
    expect(stats.byMonth["2026-11"]?.costUsd).toBeCloseTo(MINI.input, 12);
    expect(stats.byMonth["2026-12"]?.costUsd).toBeCloseTo(3 * MINI.input, 12);
    expect(stats.byMetadata.userId?.u1?.requests).toBe(1);
    expect(stats.byMetadata.userId?.u2?.costUsd).toBeCloseTo(2 * MINI.input, 12);
    expect(Object.keys(stats.byMetadata.userId ?? {})).toEqual(["u1", "u2"]);
  });

  test("finished runs beyond the cap are dropped but totals keep them", async () => {
    const handler = new CostTrackingCallbackHandler({ maxFinishedRuns: 3, logger: memoryLogger() });
    const model = new ScriptedChatModel([
      { usage: usage(1_000, 10), responseMetadata: { model_name: "gpt-4o-mini" } },
    ]);
    const chain = RunnableLambda.from(
      async (q: string, config) => (await model.invoke(q, config)).content as string,
    );
    for (let i = 0; i < 5; i++) await chain.invoke(`q${i}`, { callbacks: [handler] });
    const stats = handler.getUsageStats();
    expect(Object.keys(stats.byRun)).toHaveLength(3);
    expect(stats.total.requests).toBe(5);
    expect(stats.total.costUsd).toBeCloseTo(5 * miniCost(1_000, 10), 12);
  });

  test("metadata values beyond the cap are counted under (other)", async () => {
    const handler = new CostTrackingCallbackHandler({
      groupByMetadata: ["userId"],
      maxMetadataValues: 2,
      logger: memoryLogger(),
    });
    const model = new ScriptedChatModel([
      { usage: usage(1_000, 10), responseMetadata: { model_name: "gpt-4o-mini" } },
    ]);
    for (const userId of ["a", "b", "c", "d", "a"])
      await model.invoke("x", { callbacks: [handler], metadata: { userId } });
    const byUser = handler.getUsageStats().byMetadata.userId ?? {};
    expect(Object.fromEntries(Object.entries(byUser).map(([k, v]) => [k, v.requests]))).toEqual({
      a: 2,
      b: 1,
      "(other)": 2,
    });
  });
});

describe("readRunStart", () => {
  test("provider from ls_provider metadata, else from the model class", () => {
    const openai = {
      lc: 1,
      type: "not_implemented" as const,
      id: ["langchain", "chat_models", "openai", "ChatOpenAI"],
    };
    const google = {
      lc: 1,
      type: "not_implemented" as const,
      id: ["langchain", "chat_models", "ChatGoogleGenerativeAI"],
    };
    expect(readRunStart(openai, { invocation_params: { model: "gpt-4o" } }, {})).toEqual({
      requestedModel: "gpt-4o",
      provider: "openai",
    });
    expect(readRunStart(google, { invocation_params: { modelName: "gemini-2.5-pro" } }, {}).provider).toBe(
      "google",
    );
    expect(
      readRunStart(google, {}, { ls_provider: "google_genai", ls_model_name: "gemini-2.5-pro" }),
    ).toEqual({
      lsModelName: "gemini-2.5-pro",
      provider: "google_genai",
    });
  });
});
