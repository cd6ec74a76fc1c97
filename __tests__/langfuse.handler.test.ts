import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { HumanMessage } from "@langchain/core/messages";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { tool } from "@langchain/core/tools";
import { LangfuseSpanProcessor } from "@langfuse/otel";
import { setLangfuseTracerProvider } from "@langfuse/tracing";
import { InMemorySpanExporter, type ReadableSpan, type Span } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { createAgent } from "langchain";
import { z } from "zod";
import { isAutoPickerError } from "../src/errors";
import { AutoPickerLangfuseHandler } from "../src/langfuse/handler";
import { AutoPickerSpanProcessor } from "../src/langfuse/spanProcessor";
import { AUTOPICKER_EVENT_NAMES } from "../src/model/events";
import {
  type DecodedObservation,
  decodeSpan,
  exported,
  ScriptedChatModel,
  StuckExporter,
  startInMemoryTracing,
} from "./langfuse.helpers";
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
const quiet = { warn: () => undefined };
const collect = () => {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (m: string) => warnings.push(m) } };
};

describe("AutoPickerLangfuseHandler with the real Langfuse span processor (in-memory exporter)", () => {
  it("agent run, primary rate limited: one trace, generations priced and named after what served, rate_limit_fallback under the generation that fell back", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "rate_limit", retryAfterMs: 1000 }, { times: 10 });
    const agent = createAgent({ model: w.picker({ maxRetries: 1 }), tools: [getWeather] });
    const handler = new AutoPickerLangfuseHandler({ sessionId: "s-1" });
    await agent.invoke(
      { messages: [new HumanMessage("Weather in Paris?")] },
      { callbacks: [handler], metadata: { autopicker_tenant: "acme" } },
    );
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
    // Langfuse's model field: the provider's id, which its price table matches; the name: the entry.
    expect(parent!.model).toBe(GEMINI);
    expect(parent!.name).toBe(GEMINI_NAME);
    expect(parent!.metadata).toMatchObject({
      autopicker_model: GEMINI_NAME,
      priority: "normal",
      tenant: "acme",
      price_model: GEMINI_NAME,
      fallback_reason: "rate_limit",
      fallback_from: OPENAI_NAME,
    });
    // The trail is snake_case all the way down.
    const [first] = JSON.parse(parent!.metadata.attempts!) as Array<Record<string, unknown>>;
    expect(first).toMatchObject({ model: OPENAI_NAME, outcome: "rate_limit", waited_ms: expect.any(Number) });
    expect(first).not.toHaveProperty("waitedMs");
    for (const g of gens) {
      // Exactly our keys: the base handler's own usage (with `total`) was overridden while the span ended.
      expect(Object.keys(g.usageDetails!).sort()).toEqual(["input", "input_cache_read", "output"]);
      expect(g.usageDetails!.input).toBeGreaterThan(0);
      expect(Object.keys(g.costDetails!).sort()).toEqual(["input", "input_cache_read", "output", "total"]);
      expect(g.costDetails!.total).toBeGreaterThan(0);
      expect(Number(g.metadata.cost_usd)).toBeCloseTo(g.costDetails!.total!, 12);
    }
    // No prompt text anywhere in event metadata.
    expect(JSON.stringify(fellBack!.metadata)).not.toMatch(/Paris/);
  });

  it("context fallback: context_length_fallback event with exactly its payload's keys", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "context_length" });
    const agent = createAgent({ model: w.picker(), tools: [getWeather] });
    await agent.invoke(
      { messages: [new HumanMessage("Weather in Rome?")] },
      { callbacks: [new AutoPickerLangfuseHandler()] },
    );
    const obs = await exported(t.exporter, t.tracing);
    expect(new Set(obs.map((o) => o.traceId)).size).toBe(1);
    const [event] = events(obs, "context_length_fallback");
    expect(Object.keys(event!.metadata).sort()).toEqual([
      "estimated_tokens",
      "fallback_max_context",
      "fallback_model",
      "original_max_context",
      "original_model",
      "reason",
    ]);
    expect(event!.metadata).toMatchObject({
      original_model: OPENAI_NAME,
      fallback_model: GEMINI_NAME,
      original_max_context: "128000",
      reason: "context_length",
    });
    const parent = generations(obs).find((g) => g.spanId === event!.parentSpanId);
    expect(parent!.model).toBe(GEMINI);
    expect(parent!.costDetails!.total).toBeGreaterThan(0);
  });

  it("an error fallback is an error_fallback event under its generation", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "server_error", status: 503 }, { times: 10 });
    await w.picker({ maxRetries: 0 }).invoke("hi", { callbacks: [new AutoPickerLangfuseHandler()] });
    const obs = await exported(t.exporter, t.tracing);
    const [event] = events(obs, "error_fallback");
    expect(event!.metadata).toEqual({
      original_model: OPENAI_NAME,
      fallback_model: GEMINI_NAME,
      reason: "transient_error",
    });
    expect(generations(obs).map((g) => g.spanId)).toEqual([event!.parentSpanId]);
  });

  it("every event the picker dispatches becomes a Langfuse event under its generation, with only its payload's keys", async () => {
    const payload: Record<string, Record<string, unknown>> = {
      rate_limit_wait: { model: "a", wait_ms: 1200, cause: "rate_limit", priority: "batch", tenant: "acme" },
      rate_limit_fallback: { original_model: "a", fallback_model: "b", reason: "quota_exhausted" },
      budget_fallback: { original_model: "a", fallback_model: "b", reason: "budget" },
      error_fallback: { original_model: "a", fallback_model: "b", reason: "auth_error" },
      context_length_fallback: {
        original_model: "a",
        fallback_model: "b",
        reason: "context_length",
        estimated_tokens: 200_000,
        original_max_context: 128_000,
        fallback_max_context: 1_048_576,
      },
      run_budget_exhausted: {
        model: "a",
        dimension: "usd",
        needed: 0.02,
        remaining: 0.01,
        spent_usd: 0.49,
        tokens: 1200,
        model_calls: 7,
      },
    };
    expect(Object.keys(payload).sort()).toEqual([...AUTOPICKER_EVENT_NAMES].sort());
    const model = new ScriptedChatModel({
      events: [
        ...Object.entries(payload).map(([name, data]) => ({
          name,
          data: { ...data, prompt: "secret text" },
        })),
        { name: "someone_elses_event", data: { x: 1 } },
      ],
    });
    await model.invoke("hi", { callbacks: [new AutoPickerLangfuseHandler({ logger: collect().logger })] });
    const obs = await exported(t.exporter, t.tracing);
    const [gen] = generations(obs);
    const recorded = obs.filter((o) => o.type === "event");
    expect(recorded.map((e) => e.name).sort()).toEqual([...AUTOPICKER_EVENT_NAMES].sort());
    for (const e of recorded) {
      expect(e.parentSpanId).toBe(gen!.spanId);
      expect(e.metadata).toEqual(
        Object.fromEntries(Object.entries(payload[e.name]!).map(([k, v]) => [k, String(v)])),
      );
      expect(e.level).toBe(e.name === "rate_limit_wait" ? "DEFAULT" : "WARNING");
    }
  });

  it("recordWaitEvents: false leaves rate_limit_wait out and keeps the fallbacks", async () => {
    const model = new ScriptedChatModel({
      events: [
        { name: "rate_limit_wait", data: { model: "a", wait_ms: 5, cause: "backoff" } },
        {
          name: "rate_limit_fallback",
          data: { original_model: "a", fallback_model: "b", reason: "rate_limit" },
        },
      ],
    });
    await model.invoke("hi", {
      callbacks: [new AutoPickerLangfuseHandler({ recordWaitEvents: false, logger: quiet })],
    });
    const obs = await exported(t.exporter, t.tracing);
    expect(obs.filter((o) => o.type === "event").map((e) => e.name)).toEqual(["rate_limit_fallback"]);
  });

  it("a plain prompt.pipe(new ChatOpenAI(...)) chain gets cost, keeps its name, and carries its cost key", async () => {
    const chain = ChatPromptTemplate.fromTemplate("Say hi to {name}").pipe(w.openai());
    await chain.invoke({ name: "Ada" }, { callbacks: [new AutoPickerLangfuseHandler()] });
    const obs = await exported(t.exporter, t.tracing);
    const [gen] = generations(obs);
    expect(gen!.name).toBe("ChatOpenAI");
    expect(gen!.model).toMatch(/^gpt-4o-mini/);
    expect(gen!.costDetails!.total).toBeGreaterThan(0);
    expect(gen!.metadata.price_model).toBe(OPENAI_NAME);
    expect(gen!.metadata.autopicker_model).toBeUndefined();
  });

  it("a run the caller named keeps its name; the model is still the served one", async () => {
    await w.picker().invoke("hi", { callbacks: [new AutoPickerLangfuseHandler()], runName: "planner" });
    const [gen] = generations(await exported(t.exporter, t.tracing));
    expect(gen!.name).toBe("planner");
    expect(gen!.model).toBe(OPENAI);
  });

  it("a streamed answer is priced and carries the served model", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "rate_limit", retryAfterMs: 600_000 });
    const stream = await w.picker().stream("hi", { callbacks: [new AutoPickerLangfuseHandler()] });
    for await (const _chunk of stream) {
      // drain
    }
    const [gen] = generations(await exported(t.exporter, t.tracing));
    expect(gen!.model).toBe(GEMINI);
    expect(gen!.name).toBe(GEMINI_NAME);
    expect(gen!.costDetails!.total).toBeGreaterThan(0);
  });

  it("thinking tokens reported only in total_tokens (Gemini 2.5) are output_reasoning, over the base handler's usage", async () => {
    const model = new ScriptedChatModel({
      usage: { input_tokens: 100, output_tokens: 10, total_tokens: 150 },
      responseMetadata: { model_name: GEMINI },
    });
    const handler = new AutoPickerLangfuseHandler({
      pricing: { [GEMINI]: { inputPer1M: 1, outputPer1M: 10 } },
    });
    await model.invoke("hi", { callbacks: [handler] });
    const [gen] = generations(await exported(t.exporter, t.tracing));
    expect(gen!.usageDetails).toEqual({ input: 100, input_cache_read: 0, output: 10, output_reasoning: 40 });
    expect(Object.keys(gen!.costDetails!).sort()).toEqual([
      "input",
      "input_cache_read",
      "output",
      "output_reasoning",
      "total",
    ]);
    expect(gen!.costDetails!.output_reasoning).toBeCloseTo(400e-6, 15);
    expect(gen!.costDetails!.total).toBeCloseTo(600e-6, 15);
  });

  it("a run that reports no usage still ends and is exported (the 5.0.0/5.0.1 no-usage bug), with one warning", async () => {
    const { warnings, logger } = collect();
    const model = new ScriptedChatModel({ responseMetadata: { model_name: "mystery-model" } });
    await model.invoke("a", { callbacks: [new AutoPickerLangfuseHandler({ logger })] });
    await model.invoke("b", { callbacks: [new AutoPickerLangfuseHandler({ logger })] });
    const gens = generations(await exported(t.exporter, t.tracing));
    expect(gens).toHaveLength(2);
    expect(gens[0]!.costDetails).toBeUndefined();
    expect(gens[0]!.model).toBe("mystery-model");
    expect(warnings).toEqual([expect.stringMatching(/reported no token usage/)]);
  });

  it("a call resolves while its export never does: nothing on the call path awaits Langfuse", async () => {
    await t.tracing.shutdown();
    const stuck = new StuckExporter();
    t = startInMemoryTracing({ exporter: stuck, flushTimeoutMs: 10 });
    // Handlers awaited by the call itself, the strictest setting: the call waits for handleLLMEnd.
    class Awaited extends AutoPickerLangfuseHandler {
      override awaitHandlers = true;
    }
    const llm = w.picker();
    await llm.invoke("first", { callbacks: [new Awaited()] });
    await stuck.started(); // the first generation's export is in flight, and stays so
    const second = await llm.invoke("second", { callbacks: [new Awaited()] });
    expect(second.content).toBeTruthy();
    expect(stuck.received.some((s) => s.attributes["langfuse.observation.type"] === "generation")).toBe(true);
  });

  it("recordAlert records a budget alert as an event named after its type, fields in snake_case", async () => {
    const handler = new AutoPickerLangfuseHandler();
    handler.recordAlert({
      type: "budget_threshold",
      at: 0,
      message: "Daily budget 80% used",
      period: "day",
      periodKey: "day:2026-11-22",
      limitUsd: 10,
      spentUsd: 8,
      threshold: 0.8,
    });
    const obs = await exported(t.exporter, t.tracing);
    expect(obs).toEqual([
      expect.objectContaining({
        name: "budget_threshold",
        type: "event",
        level: "WARNING",
        metadata: {
          type: "budget_threshold",
          at: "0",
          message: "Daily budget 80% used",
          period: "day",
          period_key: "day:2026-11-22",
          limit_usd: "10",
          spent_usd: "8",
          threshold: "0.8",
        },
      }),
    ]);
  });

  it("recordAlert with the runId of a run in progress joins its generation", async () => {
    const handler = new AutoPickerLangfuseHandler({ logger: quiet });
    class AlertInRun extends BaseCallbackHandler {
      name = "alert-in-run";
      override awaitHandlers = true;
      override async handleCustomEvent(_name: string, _data: unknown, runId: string) {
        handler.recordAlert(
          {
            type: "rate_limit_wait_long",
            at: 0,
            message: "long",
            waitMs: 9000,
            thresholdMs: 5000,
            windowMs: 1,
          },
          { runId },
        );
      }
    }
    const model = new ScriptedChatModel({ events: [{ name: "tick", data: {} }] });
    await model.invoke("hi", { callbacks: [handler, new AlertInRun()] });
    const obs = await exported(t.exporter, t.tracing);
    const [gen] = generations(obs);
    const [alert] = events(obs, "rate_limit_wait_long");
    expect(alert!.parentSpanId).toBe(gen!.spanId);
    expect(alert!.metadata).toMatchObject({ wait_ms: "9000", threshold_ms: "5000", window_ms: "1" });
  });
});

describe("never in the way", () => {
  it("no tracer provider at all: calls succeed, and one warning says to set up tracing", async () => {
    await t.tracing.shutdown(); // back to no provider, no context manager
    const { warnings, logger } = collect();
    w.sim.enqueueFault(OPENAI, { kind: "context_length" });
    const llm = w.picker();
    for (const q of ["a", "b"]) {
      const res = await llm.invoke(q, { callbacks: [new AutoPickerLangfuseHandler({ logger })] });
      expect(res.content).toBeTruthy();
    }
    await exported(t.exporter, t.tracing);
    expect(warnings).toEqual([expect.stringMatching(/not set up.*setupLangfuseTracing/)]);
  });

  it("a provider without AutoPickerSpanProcessor: plain Langfuse generations, calls succeed, one warning naming the fix", async () => {
    await t.tracing.shutdown();
    const setup = startInMemoryTracing(); // for its context manager and to restore everything after
    const exporter = new InMemorySpanExporter();
    const bare = new NodeTracerProvider({
      spanProcessors: [new LangfuseSpanProcessor({ exporter, exportMode: "immediate" })],
    });
    setLangfuseTracerProvider(bare);
    try {
      const { warnings, logger } = collect();
      const llm = w.picker();
      for (const q of ["a", "b"])
        await llm.invoke(q, { callbacks: [new AutoPickerLangfuseHandler({ logger })] });
      await exported(setup.exporter, setup.tracing);
      await bare.forceFlush();
      const gens = exporter
        .getFinishedSpans()
        .map(decodeSpan)
        .filter((o) => o.type === "generation");
      expect(gens).toHaveLength(2);
      expect(gens[0]!.costDetails).toBeUndefined();
      expect(warnings).toEqual([expect.stringMatching(/add new AutoPickerSpanProcessor\(\)/i)]);
    } finally {
      setLangfuseTracerProvider(null);
      await bare.shutdown();
      await setup.tracing.shutdown();
    }
  });

  it("an SDK without onEnding (before 2.3): cost, metadata and events still arrive; usage is the base handler's", async () => {
    await t.tracing.shutdown();
    const setup = startInMemoryTracing();
    const exporter = new InMemorySpanExporter();
    const ours = new AutoPickerSpanProcessor();
    // The processor as an SDK older than 2.3 sees it: no onEnding call.
    const withoutOnEnding = {
      onStart: (span: Span, ctx: Parameters<AutoPickerSpanProcessor["onStart"]>[1]) =>
        ours.onStart(span, ctx),
      onEnd: (span: ReadableSpan) => ours.onEnd(span),
      forceFlush: () => ours.forceFlush(),
      shutdown: () => ours.shutdown(),
    };
    const provider = new NodeTracerProvider({
      spanProcessors: [withoutOnEnding, new LangfuseSpanProcessor({ exporter, exportMode: "immediate" })],
    });
    setLangfuseTracerProvider(provider);
    try {
      w.sim.enqueueFault(OPENAI, { kind: "context_length" });
      await w.picker().invoke("hi", { callbacks: [new AutoPickerLangfuseHandler()] });
      await exported(setup.exporter, setup.tracing);
      await provider.forceFlush();
      const obs = exporter.getFinishedSpans().map(decodeSpan);
      const [gen] = generations(obs);
      expect(gen!.costDetails!.total).toBeGreaterThan(0);
      expect(gen!.metadata).toMatchObject({ autopicker_model: GEMINI_NAME });
      expect(gen!.model).toBe(GEMINI); // the picker stamps model_name, which the base handler reads
      expect(gen!.usageDetails).toHaveProperty("total"); // the base handler's last update stands
      expect(events(obs, "context_length_fallback")[0]!.parentSpanId).toBe(gen!.spanId);
    } finally {
      setLangfuseTracerProvider(null);
      await provider.shutdown();
      await setup.tracing.shutdown();
    }
  });

  it("warnings are once per logger, however many handlers (a handler per request)", async () => {
    const { warnings, logger } = collect();
    const model = new ScriptedChatModel({
      responseMetadata: { model_name: "nobody-prices-this" },
      usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 },
    });
    for (const q of ["a", "b", "c"])
      await model.invoke(q, { callbacks: [new AutoPickerLangfuseHandler({ logger })] });
    await exported(t.exporter, t.tracing);
    expect(warnings).toEqual([expect.stringMatching(/No price for model "nobody-prices-this"/)]);
  });

  it("bad options are an AutoPickerConfigError naming the option", () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ maxTrackedRuns: 0 }, /maxTrackedRuns/],
      [{ recordWaitEvents: "yes" }, /recordWaitEvents/],
      [{ logger: {} }, /logger/],
      [{ priceBook: {} }, /priceBook/],
    ];
    for (const [options, named] of bad) {
      let caught: unknown;
      try {
        new AutoPickerLangfuseHandler(options as never);
      } catch (err) {
        caught = err;
      }
      expect(isAutoPickerError(caught) && caught.code).toBe("config");
      expect((caught as Error).message).toMatch(named);
    }
  });
});
