import type { AIMessageChunk } from "@langchain/core/messages";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { z } from "zod";
import { countChatTokens, ProviderSimulator, type SimFault, VirtualClock } from "../src/testing";
import { caught, detail, until } from "./simulator.helpers";

const MODEL = "gemini-2.5-flash";
const T0 = Date.UTC(2026, 0, 1);

const weather = tool(async ({ city }) => `Sunny in ${city}`, {
  name: "get_weather",
  description: "Current weather for a city",
  schema: z.object({ city: z.string(), unit: z.enum(["c", "f"]) }),
});

describe("ProviderSimulator with the real ChatGoogleGenerativeAI", () => {
  let sim: ProviderSimulator;
  let clock: VirtualClock;

  beforeEach(async () => {
    clock = new VirtualClock({ startMs: T0, autoAdvance: false });
    sim = new ProviderSimulator({
      clock,
      models: {
        [MODEL]: { provider: "gemini", requestsPerMinute: 10, requestsPerDay: 250 },
        "gemini-small": { provider: "gemini", contextWindow: 200 },
        "gpt-4o-mini": { provider: "openai" },
      },
    });
    await sim.start();
  });
  afterEach(() => sim.stop());

  const client = (model = MODEL, extra: Record<string, unknown> = {}) =>
    new ChatGoogleGenerativeAI({
      model,
      apiKey: "test",
      maxRetries: 0,
      baseUrl: sim.geminiBaseUrl,
      ...extra,
    });

  test("invoke reports usageMetadata with countChatTokens prompt tokens", async () => {
    const reply = await client().invoke([new SystemMessage("Be brief."), new HumanMessage("Hello there")]);
    const prompt = countChatTokens([
      { role: "system", text: "Be brief." },
      { role: "user", text: "Hello there" },
    ]);
    expect(reply.content).toBe(`Simulated answer from ${MODEL} (${prompt} input tokens).`);
    expect(reply.usage_metadata).toMatchObject({ input_tokens: prompt, total_tokens: expect.any(Number) });
    expect(reply.usage_metadata!.output_tokens).toBeGreaterThan(0);
    expect(sim.stats(MODEL)).toMatchObject({ requests: 1, served: 1, arrivals: [T0], inputTokens: prompt });
  });

  test("stream (alt=sse) yields several chunks whose usage adds up to the final totals", async () => {
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await client().stream("Hello there")) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    const merged = chunks.reduce((a, b) => a.concat(b));
    const prompt = countChatTokens([{ role: "user", text: "Hello there" }]);
    expect(merged.content).toBe(`Simulated answer from ${MODEL} (${prompt} input tokens).`);
    expect(merged.usage_metadata?.input_tokens).toBe(prompt);
    expect(merged.usage_metadata?.output_tokens).toBe(sim.stats(MODEL).outputTokens);
    expect(chunks.at(-1)!.usage_metadata!.output_tokens).toBeGreaterThan(0);
  });

  test("tool call round trip with bindTools (functionCall parts, functionResponse back)", async () => {
    const model = client().bindTools([weather]);
    const call = await model.invoke([new HumanMessage("Weather in Paris?")]);
    expect(call.tool_calls).toEqual([
      expect.objectContaining({ name: "get_weather", args: { city: "sim", unit: "c" } }),
    ]);
    const result = await weather.invoke(call.tool_calls![0]!);
    const final = await model.invoke([new HumanMessage("Weather in Paris?"), call, result]);
    expect(final.tool_calls ?? []).toHaveLength(0);
    expect(String(final.content)).toMatch(/^Simulated answer from gemini-2.5-flash/);

    let streamed: AIMessageChunk | undefined;
    for await (const chunk of await model.stream("Weather?"))
      streamed = streamed ? streamed.concat(chunk) : chunk;
    expect(streamed?.tool_calls?.[0]).toMatchObject({
      name: "get_weather",
      args: { city: "sim", unit: "c" },
    });
  });

  test("withStructuredOutput works with responseSchema and with function calling", async () => {
    const Plan = z.object({
      title: z.string(),
      steps: z.array(z.object({ n: z.number().int(), done: z.boolean() })),
    });
    const viaSchema = await client().withStructuredOutput(Plan).invoke("Plan?");
    expect(Plan.parse(viaSchema)).toEqual({ title: "sim", steps: [{ n: 1, done: true }] });
    const viaTool = await client().withStructuredOutput(Plan, { method: "functionCalling" }).invoke("Plan?");
    expect(Plan.parse(viaTool)).toEqual(viaSchema);
  });

  test("the 11th request in a minute gets RESOURCE_EXHAUSTED with per-minute QuotaFailure and RetryInfo", async () => {
    const model = client();
    for (let i = 0; i < 10; i++) await model.invoke(`call ${i}`);
    await clock.advance(1_500);
    const error = await caught(() => model.invoke("call 10"));
    expect(error.constructor.name).toBe("GoogleGenerativeAIFetchError");
    expect(error.status).toBe(429);
    const quota = detail(error.errorDetails, "google.rpc.QuotaFailure") as {
      violations: Record<string, unknown>[];
    };
    expect(quota.violations[0]).toMatchObject({
      quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
      quotaValue: "10",
      quotaDimensions: { model: MODEL, location: "global" },
    });
    expect(detail(error.errorDetails, "google.rpc.Help")).toBeDefined();
    // 58.5 s to wait: RetryInfo rounds down to whole seconds, the message has the exact value.
    expect(detail(error.errorDetails, "google.rpc.RetryInfo")).toMatchObject({ retryDelay: "58s" });
    expect(error.message).toContain("Please retry in 58.5s.");
    expect(error.message).toMatch(/quota.*billing/);

    await clock.setTime(T0 + 60_000);
    await expect(model.invoke("call 10")).resolves.toBeDefined();
    expect(sim.stats(MODEL)).toMatchObject({ requests: 12, served: 11, rateLimited: 1 });
  });

  test("a prompt longer than the context window is a plain 400 INVALID_ARGUMENT", async () => {
    const error = await caught(() => client("gemini-small").invoke("lorem ipsum ".repeat(300)));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(
      /The input token count \(\d+\) exceeds the maximum number of tokens allowed \(200\)\./,
    );
  });

  test("unknown or other-provider model names are 404 NOT_FOUND", async () => {
    for (const name of ["gemini-nope", "gpt-4o-mini"]) {
      const error = await caught(() => client(name).invoke("Hi"));
      expect(error.status).toBe(404);
      expect(error.message).toContain(`models/${name} is not found`);
    }
  });

  describe("scripted faults", () => {
    const cases: [string, SimFault, (e: Record<string, unknown>) => void][] = [
      [
        "rate_limit",
        { kind: "rate_limit", retryAfterMs: 9_980 },
        (e) => {
          expect(e.status).toBe(429);
          expect(detail(e.errorDetails, "RetryInfo")).toMatchObject({ retryDelay: "9s" });
          expect(String(e.message)).toContain("Please retry in 9.98s.");
          const quota = detail(e.errorDetails, "QuotaFailure") as { violations: { quotaId: string }[] };
          expect(quota.violations[0]!.quotaId).toContain("PerMinute");
        },
      ],
      [
        "rate_limit without retry hints",
        { kind: "rate_limit", withHeaders: false },
        (e) => {
          expect(e.status).toBe(429);
          expect(detail(e.errorDetails, "RetryInfo")).toBeUndefined();
        },
      ],
      [
        "daily_quota",
        { kind: "daily_quota" },
        (e) => {
          const quota = detail(e.errorDetails, "QuotaFailure") as { violations: Record<string, unknown>[] };
          expect(quota.violations[0]).toMatchObject({
            quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            quotaValue: "250",
          });
          // A retry hint is still present, as on the real API: only the quotaId tells it is daily.
          expect(detail(e.errorDetails, "RetryInfo")).toBeDefined();
        },
      ],
      [
        "insufficient_quota",
        { kind: "insufficient_quota" },
        (e) => {
          const quota = detail(e.errorDetails, "QuotaFailure") as { violations: Record<string, unknown>[] };
          expect(quota.violations[0]).toMatchObject({ quotaValue: "0" });
          expect(detail(e.errorDetails, "RetryInfo")).toBeUndefined();
        },
      ],
      ["server_error 500", { kind: "server_error" }, (e) => expect(e.status).toBe(500)],
      ["server_error 503", { kind: "server_error", status: 503 }, (e) => expect(e.status).toBe(503)],
      [
        "context_length",
        { kind: "context_length" },
        (e) => {
          expect(e.status).toBe(400);
          expect(String(e.message)).toContain("exceeds the maximum number of tokens allowed (1048576)");
        },
      ],
      [
        "auth",
        { kind: "auth" },
        (e) => {
          expect(e.status).toBe(400);
          expect(detail(e.errorDetails, "ErrorInfo")).toMatchObject({ reason: "API_KEY_INVALID" });
        },
      ],
      ["bad_request", { kind: "bad_request" }, (e) => expect(e.status).toBe(400)],
      [
        "unknown",
        { kind: "unknown", status: 418 },
        (e) => {
          expect(e.status).toBe(418);
          expect(e.errorDetails).toBeUndefined();
        },
      ],
    ];

    test.each(cases)("%s", async (_name, fault, check) => {
      sim.enqueueFault(MODEL, fault);
      const error = await caught(() => client().invoke("Hi"));
      expect(error.constructor.name).toBe("GoogleGenerativeAIFetchError");
      check(error);
      await expect(client().invoke("Hi")).resolves.toBeDefined();
    });

    test("stream_cut sends two SSE events, then drops the connection", async () => {
      // Checked on the wire, not through ChatGoogleGenerativeAI: @google/generative-ai 0.24 tees the
      // stream and never observes the aggregate branch, so a cut also raises an unhandled rejection
      // in the caller's process (real API, real client), which jest reports as a failure. Through
      // the client the stream fails with "[GoogleGenerativeAI Error]: Error reading from the stream".
      sim.enqueueFault(MODEL, { kind: "stream_cut" });
      const response = await fetch(
        `${sim.geminiBaseUrl}/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`,
        {
          method: "POST",
          headers: { "content-type": "application/json", "x-goog-api-key": "test" },
          body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Hi" }] }] }),
        },
      );
      expect(response.status).toBe(200);
      let received = "";
      const error = await caught(async () => {
        const decoder = new TextDecoder();
        for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
          received += decoder.decode(bytes, { stream: true });
        }
      });
      expect(error.message).toBe("terminated");
      const events = received.split("\r\n\r\n").filter(Boolean);
      expect(events).toHaveLength(2);
      for (const event of events)
        expect(JSON.parse(event.replace(/^data: /, ""))).toHaveProperty("candidates");
    });

    test("hang holds a streaming request until the client aborts", async () => {
      sim.enqueueFault(MODEL, { kind: "hang" });
      const controller = new AbortController();
      const pending = caught(async () => {
        for await (const _ of await client().stream("Hi", { signal: controller.signal })) {
          // never reached
        }
      });
      await until(() => sim.stats(MODEL).requests === 1);
      controller.abort();
      expect((await pending).message).toMatch(/abort/i);
    });

    test("stop() ends a hanging invoke (ChatGoogleGenerativeAI.invoke does not pass its AbortSignal on)", async () => {
      sim.enqueueFault(MODEL, { kind: "hang" });
      const pending = caught(() => client().invoke("Hi"));
      await until(() => sim.stats(MODEL).requests === 1);
      await sim.stop();
      expect((await pending).message).toContain("fetch failed");
    });
  });
});
