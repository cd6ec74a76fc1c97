import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import { type CostRecord, CostTrackingCallbackHandler } from "../src/cost";
import { ProviderSimulator } from "../src/testing";
import { memoryLogger } from "./cost.helpers";

// Per-1M prices from @pydantic/genai-prices 0.1.8 (see cost.pricing.test.ts).
const MINI = { input: 0.15, cached: 0.075, output: 0.6 };
const FLASH_LITE = { input: 0.1, cached: 0.01, output: 0.4 };

// Long enough (> 1024 tokens) for the simulator's prompt cache to report cached tokens on repeats.
const LONG_PROMPT = `Summarise: ${"the quick brown fox jumps over the lazy dog ".repeat(200)}`;

let sim: ProviderSimulator;

beforeAll(async () => {
  sim = new ProviderSimulator({
    models: {
      "gpt-4o-mini": { provider: "openai", promptCaching: true },
      "gemini-2.5-flash-lite": { provider: "gemini", promptCaching: true },
    },
  });
  await sim.start();
});

afterAll(async () => {
  await sim.stop();
});

function track() {
  const records: CostRecord[] = [];
  const handler = new CostTrackingCallbackHandler({ onCost: (r) => records.push(r), logger: memoryLogger() });
  return { records, handler };
}

function priced(r: CostRecord | undefined, p: { input: number; cached: number; output: number }): number {
  const u = r?.usage;
  if (!u) throw new Error("no usage");
  return (
    ((u.inputTokens - u.cachedInputTokens) * p.input +
      u.cachedInputTokens * p.cached +
      u.outputTokens * p.output) /
    1e6
  );
}

describe("real ChatOpenAI against the provider simulator", () => {
  const model = () =>
    new ChatOpenAI({
      model: "gpt-4o-mini",
      apiKey: "sk-test",
      maxRetries: 0,
      configuration: { baseURL: sim.openaiBaseURL },
    });

  test("invoke: tokens match what the provider billed, cached input is priced at the cache rate", async () => {
    const { records, handler } = track();
    const before = sim.stats("gpt-4o-mini");
    await model().invoke(LONG_PROMPT, { callbacks: [handler] });
    await model().invoke(LONG_PROMPT, { callbacks: [handler] });
    const after = sim.stats("gpt-4o-mini");
    expect(records.map((r) => [r.status, r.model, r.provider])).toEqual([
      ["priced", "openai/gpt-4o-mini", "openai"],
      ["priced", "openai/gpt-4o-mini", "openai"],
    ]);
    const billedInput = records.reduce((s, r) => s + (r.usage?.inputTokens ?? 0), 0);
    const billedOutput = records.reduce((s, r) => s + (r.usage?.outputTokens ?? 0), 0);
    expect(billedInput).toBe(after.inputTokens - before.inputTokens);
    expect(billedOutput).toBe(after.outputTokens - before.outputTokens);
    expect(records[1]?.usage?.cachedInputTokens).toBeGreaterThan(1000);
    for (const r of records) expect(r.costUsd).toBeCloseTo(priced(r, MINI), 12);
    expect(handler.getUsageStats().total.costUsd).toBeCloseTo(
      priced(records[0], MINI) + priced(records[1], MINI),
      12,
    );
  });

  test("stream: usage from the final chunk is priced once", async () => {
    const { records, handler } = track();
    const before = sim.stats("gpt-4o-mini");
    let text = "";
    for await (const chunk of await model().stream("Say something short.", { callbacks: [handler] })) {
      text += chunk.content;
    }
    const after = sim.stats("gpt-4o-mini");
    expect(text.length).toBeGreaterThan(0);
    expect(records).toHaveLength(1);
    expect(records[0]?.model).toBe("openai/gpt-4o-mini");
    expect(records[0]?.usage?.inputTokens).toBe(after.inputTokens - before.inputTokens);
    expect(records[0]?.usage?.outputTokens).toBe(after.outputTokens - before.outputTokens);
    expect(records[0]?.costUsd).toBeCloseTo(priced(records[0], MINI), 12);
  });
});

describe("real ChatGoogleGenerativeAI against the provider simulator", () => {
  test("Gemini names no model in its response: the requested model and ls_provider identify it", async () => {
    const { records, handler } = track();
    const model = new ChatGoogleGenerativeAI({
      model: "gemini-2.5-flash-lite",
      apiKey: "test",
      baseUrl: sim.geminiBaseUrl,
      maxRetries: 0,
    });
    await model.invoke(LONG_PROMPT, { callbacks: [handler] });
    await model.invoke(LONG_PROMPT, { callbacks: [handler] });
    expect(records.map((r) => r.status)).toEqual(["priced", "priced"]);
    expect(records.map((r) => [r.model, r.provider])).toEqual([
      ["gemini/gemini-2.5-flash-lite", "google_genai"],
      ["gemini/gemini-2.5-flash-lite", "google_genai"],
    ]);
    expect(records[1]?.usage?.cachedInputTokens).toBeGreaterThan(1000);
    for (const r of records) expect(r.costUsd).toBeCloseTo(priced(r, FLASH_LITE), 12);
  });
});
