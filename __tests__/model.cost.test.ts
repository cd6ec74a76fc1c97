import { HumanMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { createAgent } from "langchain";
import { z } from "zod";
import { TokenEstimator } from "../src/context";
import {
  BudgetManager,
  type CostRecord,
  CostTrackingCallbackHandler,
  MICROS_PER_USD,
  PriceBook,
  usdToMicrosCeil,
} from "../src/cost";
import { BudgetExceededError } from "../src/errors";
import type { DecisionTrail } from "../src/model/types";
import { startWorld } from "./support/picker";

const BIG = "gpt-4o";
const SMALL = "gpt-4o-mini";
const models = { [BIG]: { provider: "openai" as const }, [SMALL]: { provider: "openai" as const } };

type World = Awaited<ReturnType<typeof startWorld>>;
let w: World;
beforeEach(async () => {
  w = await startWorld(models);
});
afterEach(() => w.stop());

const served = (m: { response_metadata: Record<string, unknown> }) =>
  (m.response_metadata.autopicker as DecisionTrail).model;
const picker = (extra: Parameters<World["picker"]>[0] = {}) =>
  w.picker({
    primary: w.openai(BIG, { maxTokens: 50 }),
    fallbacks: [w.openai(SMALL, { maxTokens: 50 })],
    ...extra,
  });

/** What the picker reserves for one "hi" on `model` (maxTokens 50): the exact input estimate, priced by the catalog. */
function reservationUsd(model: string): number {
  const inputTokens = new TokenEstimator().estimate([new HumanMessage("hi")], { model });
  return new PriceBook().price(`openai/${model}`, { inputTokens, outputTokens: 50 })!.total;
}

describe("cost-aware routing", () => {
  it("per-call preference: `cost` picks the cheaper model, `quality` the better one", async () => {
    const llm = picker();
    expect(served(await llm.invoke("hi", { autopicker: { preference: "cost" } }))).toBe(`openai/${SMALL}`);
    expect(served(await llm.invoke("hi", { autopicker: { preference: "quality" } }))).toBe(`openai/${BIG}`);
    expect(served(await llm.invoke("hi", { autopicker: { model: `openai/${SMALL}` } }))).toBe(
      `openai/${SMALL}`,
    );
  });

  it("a task mapped in config routes one step cheap and another expensive, also through run metadata", async () => {
    const llm = picker({ tasks: { classify: "cost", reasoning: { models: [`openai/${BIG}`] } } });
    expect(served(await llm.invoke("label this", { metadata: { autopicker_task: "classify" } }))).toBe(
      `openai/${SMALL}`,
    );
    expect(served(await llm.invoke("think", { autopicker: { task: "reasoning" } }))).toBe(`openai/${BIG}`);
    await expect(llm.invoke("x", { autopicker: { task: "nope" } })).rejects.toThrow(/Unknown task "nope"/);
  });

  it('fallbackOrder "cheapest" tries the cheapest fallback first', async () => {
    const llm = w.picker({
      primary: w.openai(BIG),
      fallbacks: [w.openai(BIG, { model: "gpt-4o" }), w.openai(SMALL)].map((model, i) => ({
        model,
        name: `fb${i}`,
      })),
      fallbackOrder: "cheapest",
    });
    w.sim.enqueueFault(BIG, { kind: "insufficient_quota" });
    const res = await llm.invoke("hi");
    expect(served(res)).toBe("fb1"); // gpt-4o-mini, listed second
  });

  it("50 concurrent calls against a budget that allows 10 never overspend (block mode)", async () => {
    const handler = new CostTrackingCallbackHandler();
    // Exactly 10 reservations fit (reservations round up to whole micro-dollars).
    const limitUsd = (10 * usdToMicrosCeil(reservationUsd(BIG))) / MICROS_PER_USD;
    const warnings: string[] = [];
    const budget = new BudgetManager({
      dailyLimitUsd: limitUsd,
      mode: "block",
      clock: w.clock,
      logger: { warn: (m) => warnings.push(m) },
    });
    const llm = picker({ budget, fallbacks: [] });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => llm.invoke([new HumanMessage("hi")], { callbacks: [handler] })),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const blocked = results.filter(
      (r) => r.status === "rejected" && r.reason instanceof BudgetExceededError,
    ).length;
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(10);
    expect(ok + blocked).toBe(50);
    expect(w.sim.stats(BIG).requests).toBe(ok);
    expect(handler.getUsageStats().total.costUsd).toBeLessThanOrEqual(limitUsd);
    // One warning per kind and period, not one per blocked call.
    expect(warnings.filter((m) => /would be exceeded/.test(m))).toHaveLength(1);
    expect(warnings.filter((m) => /80% used/.test(m))).toHaveLength(1);
  });

  it("downgrade mode switches to the cheaper model when the budget cannot afford the primary", async () => {
    // Enough for one call on the cheap model, not on the primary.
    expect(reservationUsd(SMALL)).toBeLessThan(reservationUsd(BIG) / 2);
    const warnings: string[] = [];
    const budget = new BudgetManager({
      dailyLimitUsd: reservationUsd(BIG) / 2,
      mode: "downgrade",
      clock: w.clock,
      logger: { warn: (m) => warnings.push(m) },
    });
    const log: string[] = [];
    const res = await picker({ budget }).invoke("hi", {
      callbacks: [
        {
          handleCustomEvent: (name: string, data: { reason?: string }) =>
            void log.push(`${name}:${data.reason}`),
        },
      ],
    });
    expect(served(res)).toBe(`openai/${SMALL}`);
    expect(log).toEqual(["budget_fallback:budget"]);
    expect(w.sim.stats(BIG).requests).toBe(0);
    expect(warnings).toEqual([expect.stringMatching(/would be exceeded.*mode "downgrade"/)]);
  });

  it("a multi-step agent's per-run cost equals the sum of its calls, priced as the model that served", async () => {
    const records: CostRecord[] = [];
    const handler = new CostTrackingCallbackHandler({ onCost: (r) => records.push(r) });
    const lookup = tool(async () => "42", {
      name: "lookup",
      description: "Look up",
      schema: z.object({ q: z.string() }),
    });
    w.sim.enqueueFault(BIG, { kind: "insufficient_quota" });
    const agent = createAgent({ model: picker(), tools: [lookup] });
    await agent.invoke({ messages: [new HumanMessage("what is it?")] }, { callbacks: [handler] });
    const stats = handler.getUsageStats();
    const runs = Object.values(stats.byRun);
    expect(runs).toHaveLength(1);
    expect(records).toHaveLength(2);
    expect(records.every((r) => r.status === "priced" && r.model === `openai/${SMALL}`)).toBe(true);
    expect(runs[0]!.costUsd).toBeCloseTo(
      records.reduce((s, r) => s + (r.costUsd ?? 0), 0),
      12,
    );
    expect(stats.byModel[`openai/${SMALL}`]!.requests).toBe(2);
  });

  it("a custom entry name is priced and keyed as its provider model", async () => {
    const records: CostRecord[] = [];
    const handler = new CostTrackingCallbackHandler({ onCost: (r) => records.push(r) });
    await w
      .picker({ primary: { model: w.openai(SMALL), name: "cheap-one" }, fallbacks: [] })
      .invoke("hi", { callbacks: [handler] });
    // One key per model, whatever the entry is called: the same key a plain chain gets.
    expect(records[0]).toMatchObject({ status: "priced", model: `openai/${SMALL}` });
  });
});
