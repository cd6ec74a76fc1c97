/**
 * Per-run budgets: `runBudgetMiddleware` for createAgent, the `autopicker.runBudget` option /
 * `autopicker_run_budget` metadata for createReactAgent and chains, with the real clients against
 * the simulator. A looping agent stops at its envelope; parallel branches never overspend; the cost
 * handler's per-run total equals the envelope's spend.
 */
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import fc from "fast-check";
import { createAgent } from "langchain";
import { z } from "zod";
import { runBudgetMiddleware } from "../src/agents";
import { CostTrackingCallbackHandler } from "../src/cost";
import { isShortfall, RunBudget, type RunBudgetTicket } from "../src/cost/runBudget";
import { AutoPickerConfigError, RunBudgetExceededError } from "../src/errors";
import { getDecisionTrail } from "../src/model/trail";
import type { SimRequest } from "../src/testing/responder";
import { startWorld } from "./support/picker";

const BIG = "gpt-4o";
const SMALL = "gpt-4o-mini";

/** A model that never stops calling its tool (the agent would loop forever), except in `stopAfter` turns. */
function loopingResponder(seen: SimRequest[], stopAfter = Number.POSITIVE_INFINITY) {
  return (r: SimRequest) => {
    seen.push(r);
    const toolTurns = r.messages.filter((m) => m.role === "tool").length;
    if (r.tools.length > 0 && toolTurns < stopAfter)
      return { toolCalls: [{ name: r.tools[0]!.name, args: { q: "more" } }] };
    return { text: `done after ${toolTurns} tool turns` };
  };
}

const search = tool(async ({ q }) => `results for ${q}`, {
  name: "search",
  description: "Search the web",
  schema: z.object({ q: z.string() }),
});

/** Every tool call an AI message made has its ToolMessage: the history is valid to continue. */
function validHistory(messages: BaseMessage[]): boolean {
  const answered = new Set(
    messages.filter((m) => ToolMessage.isInstance(m)).map((m) => (m as ToolMessage).tool_call_id),
  );
  return messages.every(
    (m) => !AIMessage.isInstance(m) || (m.tool_calls ?? []).every((c) => answered.has(c.id!)),
  );
}

async function world(stopAfter?: number) {
  const seen: SimRequest[] = [];
  const w = await startWorld(
    { [BIG]: { provider: "openai" }, [SMALL]: { provider: "openai" } },
    {},
    loopingResponder(seen, stopAfter),
  );
  return { ...w, seen };
}

describe("runBudgetMiddleware with createAgent", () => {
  it('"finish": a looping agent stops at maxModelCalls with a final answer and a valid history', async () => {
    const w = await world();
    try {
      const llm = w.picker({ primary: w.openai(SMALL), fallbacks: [] });
      const agent = createAgent({
        model: llm,
        tools: [search],
        middleware: [runBudgetMiddleware({ maxModelCalls: 4, onExhausted: "finish" })],
      });
      const result = await agent.invoke({ messages: [new HumanMessage("research this")] });
      const last = result.messages.at(-1) as AIMessage;
      expect(last.tool_calls ?? []).toHaveLength(0);
      expect(String(last.content)).toMatch(/budget is spent/);
      expect(validHistory(result.messages)).toBe(true);
      expect(w.sim.stats(SMALL).served).toBe(4);
      expect(result.autopickerBudget).toMatchObject({
        modelCalls: 4,
        exhausted: true,
        remainingModelCalls: 0,
      });
    } finally {
      await w.stop();
    }
  });

  it('"downgrade": switches to the cheaper model mid-run when the primary no longer fits, and finishes', async () => {
    const w = await world(6);
    try {
      const llm = w.picker({ primary: w.openai(BIG), fallbacks: [w.openai(SMALL)] });
      const costs = new CostTrackingCallbackHandler();
      const agent = createAgent({
        model: llm,
        tools: [search],
        // A ~5k-token brief: each gpt-4o call really costs ~$0.0125 (worst case ~$0.023 with 1024
        // output tokens at $10/1M), so three fit in $0.05; gpt-4o-mini calls (~$0.0008) after that.
        middleware: [runBudgetMiddleware({ maxUsd: 0.05, onExhausted: "downgrade" })],
      });
      const brief = `research this: ${"background ".repeat(5_000)}`;
      const result = await agent.invoke({ messages: [new HumanMessage(brief)] }, { callbacks: [costs] });
      const served = result.messages
        .filter((m: BaseMessage) => AIMessage.isInstance(m))
        .map((m: BaseMessage) => getDecisionTrail(m)?.model);
      expect(served).toEqual([BIG, BIG, BIG, SMALL, SMALL, SMALL, SMALL].map((m) => `openai/${m}`));
      expect(String(result.messages.at(-1)!.content)).toMatch(/done after 6 tool turns/);
      expect(result.autopickerBudget!.spentUsd).toBeLessThanOrEqual(0.05);
      await awaitAllCallbacks();
      const byRun = Object.values(costs.getUsageStats().byRun);
      expect(byRun).toHaveLength(1);
      // The cost handler and the envelope price the same calls the same way.
      expect(byRun[0]!.costUsd).toBeCloseTo(result.autopickerBudget!.spentUsd, 9);
    } finally {
      await w.stop();
    }
  });

  it('"throw": raises RunBudgetExceededError with the figures', async () => {
    const w = await world();
    try {
      const agent = createAgent({
        model: w.picker({ primary: w.openai(SMALL), fallbacks: [] }),
        tools: [search],
        middleware: [runBudgetMiddleware({ maxTokens: 2_000, onExhausted: "throw" })],
      });
      const error = await agent
        .invoke({ messages: [new HumanMessage("research this")] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunBudgetExceededError);
      const e = error as RunBudgetExceededError;
      expect(e.dimension).toBe("tokens");
      expect(e.spent.modelCalls).toBeGreaterThan(0);
      expect(e.spent.tokens).toBeLessThanOrEqual(2_000);
    } finally {
      await w.stop();
    }
  });

  it("a subagent invoked inside a tool shares the run's envelope", async () => {
    const w = await world();
    try {
      const llm = w.picker({ primary: w.openai(SMALL), fallbacks: [] });
      const middleware = runBudgetMiddleware({ maxModelCalls: 5 });
      const sub = createAgent({ model: llm, tools: [search], middleware: [middleware] });
      const delegate = tool(
        async ({ q }) => {
          const r = await sub.invoke({ messages: [new HumanMessage(q)] });
          return `sub-agent says: ${String(r.messages.at(-1)!.content).slice(0, 40)}`;
        },
        { name: "delegate", description: "Ask a helper", schema: z.object({ q: z.string() }) },
      );
      const agent = createAgent({ model: llm, tools: [delegate], middleware: [middleware] });
      const result = await agent.invoke({ messages: [new HumanMessage("plan it")] });
      // Parent and subagent together made exactly the 5 calls the run allows.
      expect(w.sim.stats(SMALL).served).toBe(5);
      expect(result.autopickerBudget).toMatchObject({ modelCalls: 5, exhausted: true });
      expect(validHistory(result.messages)).toBe(true);
    } finally {
      await w.stop();
    }
  });

  it("exposeToModel: each request carries a note with what is left", async () => {
    const w = await world(1);
    try {
      const agent = createAgent({
        model: w.picker({ primary: w.openai(SMALL), fallbacks: [] }),
        tools: [search],
        middleware: [runBudgetMiddleware({ maxModelCalls: 10, exposeToModel: true })],
      });
      await agent.invoke({ messages: [new HumanMessage("go")] });
      const notes = w.seen.map((r) => r.messages.find((m) => m.role === "system")?.text ?? "");
      expect(notes[0]).toMatch(/\[Run budget\] Left for this task: 10 of 10 model calls/);
      expect(notes[1]).toMatch(/9 of 10 model calls/);
    } finally {
      await w.stop();
    }
  });

  it("works with a plain chat model too (the middleware reserves and settles itself)", async () => {
    const w = await world();
    try {
      const agent = createAgent({
        model: w.openai(SMALL),
        tools: [search],
        middleware: [runBudgetMiddleware({ maxModelCalls: 3 })],
      });
      const result = await agent.invoke({ messages: [new HumanMessage("research this")] });
      expect(w.sim.stats(SMALL).served).toBe(3);
      expect(String(result.messages.at(-1)!.content)).toMatch(/budget is spent/);
      expect(result.autopickerBudget).toMatchObject({ modelCalls: 3, exhausted: true });
      expect(result.autopickerBudget!.spentUsd).toBeGreaterThan(0);
    } finally {
      await w.stop();
    }
  });

  it("bad options are typed errors naming the field", () => {
    expect(() => runBudgetMiddleware({ maxUsd: -1 })).toThrow(AutoPickerConfigError);
    expect(() => runBudgetMiddleware({ maxUsd: Number.NaN })).toThrow(
      "runBudgetMiddleware maxUsd must be a finite number of dollars >= 0, got NaN.",
    );
    expect(() => runBudgetMiddleware({ maxModelCalls: 2.5 })).toThrow(
      "runBudgetMiddleware maxModelCalls must be a whole number of model calls >= 0, got 2.5.",
    );
    expect(() => runBudgetMiddleware({ maxUsd: 1, onExhausted: "stop" as never })).toThrow(
      /onExhausted must be one of "finish", "downgrade", "throw", got "stop"/,
    );
    expect(() => runBudgetMiddleware({})).toThrow(/needs at least one of maxUsd, maxTokens, maxModelCalls/);
    expect(() => runBudgetMiddleware({ maxUSD: 1 } as never)).toThrow(
      /maxUSD: unknown option \(did you mean maxUsd\?\)/,
    );
  });
});

describe("the run budget without createAgent", () => {
  it("createReactAgent: autopicker_run_budget metadata stops the loop cleanly", async () => {
    const w = await world();
    try {
      const agent = createReactAgent({
        llm: w.picker({ primary: w.openai(SMALL), fallbacks: [] }),
        tools: [search],
      });
      const result = await agent.invoke(
        { messages: [new HumanMessage("research this")] },
        { metadata: { autopicker_run_budget: { maxModelCalls: 3 } }, recursionLimit: 50 },
      );
      expect(w.sim.stats(SMALL).served).toBe(3);
      const last = result.messages.at(-1) as AIMessage;
      expect(String(last.content)).toMatch(/budget is spent/);
      expect(getDecisionTrail(last)?.run_budget_exhausted).toBe("model_calls");
      expect(validHistory(result.messages)).toBe(true);
    } finally {
      await w.stop();
    }
  });

  it("a chain call with autopicker.runBudget in throw mode surfaces RunBudgetExceededError", async () => {
    const w = await world();
    try {
      const llm = w.picker({ primary: w.openai(SMALL), fallbacks: [] });
      const budget = new RunBudget({ maxModelCalls: 1, onExhausted: "throw" });
      await llm.invoke("one", { autopicker: { runBudget: budget } });
      await expect(llm.invoke("two", { autopicker: { runBudget: budget } })).rejects.toBeInstanceOf(
        RunBudgetExceededError,
      );
      expect(w.sim.stats(SMALL).served).toBe(1);
      expect(budget.summary()).toMatchObject({ modelCalls: 1, exhausted: true });
    } finally {
      await w.stop();
    }
  });
});

describe("with the global budget", () => {
  it("a call must fit both: the day's budget blocks even when the run has room, and the run's reservation is returned", async () => {
    const w = await world();
    try {
      const { BudgetExceededError, BudgetManager } = await import("../src");
      const budget = new BudgetManager({
        dailyLimitUsd: 0.0001,
        mode: "block",
        logger: { warn: () => undefined },
      });
      const llm = w.picker({ primary: w.openai(SMALL), fallbacks: [], budget });
      const run = new RunBudget({ maxUsd: 1 });
      await expect(llm.invoke("hi", { autopicker: { runBudget: run } })).rejects.toBeInstanceOf(
        BudgetExceededError,
      );
      expect(run.summary()).toMatchObject({ spentUsd: 0, modelCalls: 0, exhausted: false });
      expect(run.shortfall(0.99, 0)).toBeUndefined(); // nothing left held
    } finally {
      await w.stop();
    }
  });
});

describe("RunBudget under concurrency", () => {
  it("20 parallel branches with random costs never overspend, in any interleaving", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            worst: fc.double({ min: 0.001, max: 0.05, noNaN: true }),
            share: fc.double({ min: 0, max: 1, noNaN: true }),
            delay: fc.nat(5),
          }),
          { minLength: 20, maxLength: 20 },
        ),
        fc.double({ min: 0.01, max: 0.3, noNaN: true }),
        fc.scheduler(),
        async (branches, maxUsd, s) => {
          const budget = new RunBudget({ maxUsd, onExhausted: "throw" });
          const run = async (b: (typeof branches)[number]) => {
            const t = budget.reserve(b.worst, 100);
            if (isShortfall(t)) return;
            await s.schedule(Promise.resolve(b.delay));
            budget.settle(t as RunBudgetTicket, { usd: b.worst * b.share, tokens: 50 });
          };
          const all = Promise.all(branches.map(run));
          await s.waitAll();
          await all;
          expect(budget.summary().spentUsd).toBeLessThanOrEqual(maxUsd + 1e-12);
        },
      ),
      { numRuns: 200 },
    );
  });
});
