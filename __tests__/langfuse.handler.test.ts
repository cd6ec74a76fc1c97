import { HumanMessage } from "@langchain/core/messages";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { tool } from "@langchain/core/tools";
import { createAgent } from "langchain";
import { z } from "zod";
import { AutoPickerLangfuseHandler } from "../src/langfuse/handler";
import { type DecodedObservation, exported, startInMemoryTracing } from "./langfuse.helpers";
import { GEMINI, GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

type World = Awaited<ReturnType<typeof startWorld>>;
let w: World;
let t: ReturnType<typeof startInMemoryTracing>;
beforeEach(async () => {
  w = await startWorld();
  t = startInMemoryTracing();
});
afterEach(async () => {
  await t.tracing.shutdown();
  await w.stop();
});

const getWeather = tool(async ({ city }: { city: string }) => `Sunny in ${city}`, {
  name: "get_weather",
  description: "Weather for a city",
  schema: z.object({ city: z.string() }),
});

const generations = (obs: DecodedObservation[]) => obs.filter((o) => o.type === "generation");
const events = (obs: DecodedObservation[], name: string) =>
  obs.filter((o) => o.type === "event" && o.name === name);

describe("AutoPickerLangfuseHandler with the real Langfuse span processor (in-memory exporter)", () => {
  it("agent run, primary rate limited: one trace, generations priced, rate_limit_fallback under the generation that fell back", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "rate_limit", retryAfterMs: 1000 }, { times: 10 });
    const agent = createAgent({ model: w.picker({ maxRetries: 1 }), tools: [getWeather] });
    const handler = new AutoPickerLangfuseHandler({ sessionId: "s-1" });
    await agent.invoke({ messages: [new HumanMessage("Weather in Paris?")] }, { callbacks: [handler] });
    const obs = await exported(t.exporter, t.tracing);

    expect(new Set(obs.map((o) => o.traceId)).size).toBe(1);
    const gens = generations(obs);
    expect(gens.length).toBe(2); // tool call turn + final answer turn
    const [fellBack] = events(obs, "rate_limit_fallback");
    expect(fellBack).toBeDefined();
    expect(fellBack!.metadata).toEqual({
      original_model: OPENAI_NAME,
      fallback_model: GEMINI_NAME,
      reason: "rate_limit",
    });
    expect(fellBack!.level).toBe("WARNING");
    const parent = gens.find((g) => g.spanId === fellBack!.parentSpanId);
    expect(parent).toBeDefined();
    expect(parent!.model).toBe(GEMINI);
    expect(parent!.metadata).toMatchObject({ autopicker_model: GEMINI_NAME, fallback_reason: "rate_limit" });
    expect(JSON.parse(parent!.metadata.attempts!)[0]).toMatchObject({
      model: OPENAI_NAME,
      outcome: "rate_limit",
    });
    for (const g of gens) {
      expect(g.usageDetails).toEqual(
        expect.objectContaining({
          input: expect.any(Number),
          input_cache_read: 0,
          output: expect.any(Number),
        }),
      );
      expect(g.usageDetails!.input).toBeGreaterThan(0);
      expect(Object.keys(g.costDetails!).sort()).toEqual(["input", "input_cache_read", "output", "total"]);
      expect(g.costDetails!.total).toBeGreaterThan(0);
      expect(Number(g.metadata.cost_usd)).toBeCloseTo(g.costDetails!.total!, 12);
    }
    // No prompt text anywhere in event metadata.
    expect(JSON.stringify(fellBack!.metadata)).not.toMatch(/Paris/);
  });

  it("context fallback: context_length_fallback event with the seed's metadata keys", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "context_length" });
    const agent = createAgent({ model: w.picker(), tools: [getWeather] });
    await agent.invoke(
      { messages: [new HumanMessage("Weather in Rome?")] },
      { callbacks: [new AutoPickerLangfuseHandler()] },
    );
    const obs = await exported(t.exporter, t.tracing);
    expect(new Set(obs.map((o) => o.traceId)).size).toBe(1);
    const [event] = events(obs, "context_length_fallback");
    expect(Object.keys(event!.metadata).sort()).toEqual(
      [
        "estimated_tokens",
        "fallback_max_context",
        "fallback_model",
        "original_max_context",
        "original_model",
      ].sort(),
    );
    expect(event!.metadata).toMatchObject({
      original_model: OPENAI_NAME,
      fallback_model: GEMINI_NAME,
      original_max_context: "128000",
    });
    const parent = generations(obs).find((g) => g.spanId === event!.parentSpanId);
    expect(parent!.model).toBe(GEMINI);
    expect(parent!.costDetails!.total).toBeGreaterThan(0);
  });

  it("a plain prompt.pipe(new ChatOpenAI(...)) chain gets cost on its generation", async () => {
    const chain = ChatPromptTemplate.fromTemplate("Say hi to {name}").pipe(w.openai());
    await chain.invoke({ name: "Ada" }, { callbacks: [new AutoPickerLangfuseHandler()] });
    const obs = await exported(t.exporter, t.tracing);
    const [gen] = generations(obs);
    expect(gen!.model).toMatch(/gpt-4o-mini/);
    expect(gen!.costDetails!.total).toBeGreaterThan(0);
    expect(gen!.metadata.cost_usd).toBeDefined();
    expect(gen!.metadata.autopicker_model).toBeUndefined();
  });
});
