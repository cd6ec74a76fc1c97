/**
 * Streamed usage is merged with core's `mergeUsageMetadata`, so cached-input and reasoning details
 * survive to the budget and the cost handler: a streamed call settles at the price sheet's figure,
 * not at the full input price.
 */
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { BudgetManager, CostTrackingCallbackHandler } from "../src/cost";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";
import { ScriptedChatModel, usage } from "./cost.helpers";

// A price sheet simple enough to check by hand (USD per 1M tokens).
const pricing = { inputPer1M: 2, cachedInputPer1M: 0.5, outputPer1M: 8 };
// 10k input of which 8k were cache reads; 2k output of which 1.5k reasoning.
const USED = usage(10_000, 2_000, { cached: 8_000, reasoning: 1_500 });
const SHEET_USD = (2_000 * 2 + 8_000 * 0.5 + 2_000 * 8) / 1e6; // 0.024
const FULL_INPUT_USD = (10_000 * 2 + 2_000 * 8) / 1e6; // 0.036: what dropping the details would charge

function picker(budget: BudgetManager) {
  const model = new ScriptedChatModel([{ text: "one two three", usage: USED }], { model: "gpt-4o-mini" });
  return new AutoPickerChatModel({
    primary: { model, name: "scripted/reasoner", maxInputTokens: 100_000, pricing },
    budget,
    logger: { warn: () => undefined },
  });
}

describe("streamed usage with cached and reasoning tokens", () => {
  it("settles the budget and prices the call at the price sheet's figure", async () => {
    expect(SHEET_USD).not.toBeCloseTo(FULL_INPUT_USD, 6);
    const budget = new BudgetManager({ dailyLimitUsd: 1, logger: { warn: () => undefined } });
    const costs = new CostTrackingCallbackHandler();
    const llm = picker(budget);
    let text = "";
    let merged: unknown;
    for await (const chunk of await llm.stream("hi", { callbacks: [costs] })) {
      text += chunk.content;
      if (chunk.usage_metadata) merged = chunk.usage_metadata;
    }
    await awaitAllCallbacks();
    expect(text).toBe("one two three");
    // The details reach the caller, the budget and the handler.
    expect(merged).toMatchObject({
      input_tokens: 10_000,
      output_tokens: 2_000,
      input_token_details: { cache_read: 8_000 },
      output_token_details: { reasoning: 1_500 },
    });
    const left = (await budget.remaining()).day!;
    expect(1 - left).toBeCloseTo(SHEET_USD, 9);
    const total = costs.getUsageStats().total;
    expect(total.costUsd).toBeCloseTo(SHEET_USD, 9);
    expect(total.cachedInputTokens).toBe(8_000);
  });
});
