import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { AIMessageChunk } from "@langchain/core/messages";
import { HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import type { ChatGenerationChunk } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { ChatGoogleGenerativeAI, EmptyContentError } from "@langchain/google-genai";
import { z } from "zod";
import { countChatTokens, ProviderSimulator, type SimFault, VirtualClock } from "../src/testing";
import { caught, detail, until } from "./simulator.helpers";

const TSX = join(__dirname, "..", "node_modules", "tsx", "dist", "cli.mjs");
const run = promisify(execFile);

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

/**
 * What the real ChatGoogleGenerativeAI (over @google/generative-ai 0.24) does with answers a tidy
 * API never sends. These pin the client's behaviour, not ours: the router builds on them.
 */
describe("untidy answers through the real ChatGoogleGenerativeAI", () => {
  let sim: ProviderSimulator;
  beforeAll(async () => {
    sim = new ProviderSimulator({ models: { [MODEL]: { provider: "gemini" } } });
    await sim.start();
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.reset());

  const client = () =>
    new ChatGoogleGenerativeAI({ model: MODEL, apiKey: "test", maxRetries: 0, baseUrl: sim.geminiBaseUrl });
  async function streamed(fault: SimFault) {
    sim.enqueueFault(MODEL, fault);
    const chunks: ChatGenerationChunk[] = [];
    let error: (Error & Record<string, unknown>) | undefined;
    try {
      for await (const chunk of client()._streamResponseChunks([new HumanMessage("Hi")], {} as never))
        chunks.push(chunk);
    } catch (e) {
      error = e as Error & Record<string, unknown>;
    }
    return { chunks, error, text: chunks.map((c) => c.text).join("") };
  }

  test.each([
    ["candidates: []", { kind: "empty_answer", shape: "no_choices" }, "The model returned no content."],
    ["{}", { kind: "empty_answer", shape: "empty_object" }, "The model returned no content."],
    [
      "a candidate without content",
      { kind: "empty_answer", shape: "null_message" },
      "The model returned no content. Finish reason: STOP.",
    ],
    [
      "finishReason SAFETY and no content",
      { kind: "content_filter" },
      "The model returned no content. Finish reason: SAFETY.",
    ],
    [
      "promptFeedback.blockReason SAFETY",
      { kind: "prompt_blocked" },
      "The model returned no content. Block reason: SAFETY.",
    ],
  ] as [string, SimFault, string][])(
    "HTTP 200 with %s: invoke throws EmptyContentError; a stream ends with no chunk and no error",
    async (_name, fault, message) => {
      sim.enqueueFault(MODEL, fault);
      const error = await caught(() => client().invoke("Hi"));
      expect(error).toBeInstanceOf(EmptyContentError);
      expect(error.message).toBe(message);
      const { chunks, error: streamError } = await streamed(fault);
      expect(streamError).toBeUndefined();
      expect(chunks).toEqual([]);
    },
  );

  test("no usageMetadata: the answer arrives with no usage_metadata at all", async () => {
    sim.enqueueFault(MODEL, { kind: "no_usage" });
    const reply = await client().invoke("Hi");
    expect(String(reply.content)).toMatch(/^Simulated answer/);
    expect(reply.usage_metadata).toBeUndefined();
    expect(reply.response_metadata.tokenUsage).toEqual({});
    const { chunks, error, text } = await streamed({ kind: "no_usage" });
    expect(error).toBeUndefined();
    expect(text).toMatch(/^Simulated answer/);
    expect(chunks.filter((c) => (c.message as AIMessageChunk).usage_metadata)).toEqual([]);
  });

  test("a partial answer stopped by SAFETY: invoke says so; a stream silently drops the SAFETY event", async () => {
    sim.enqueueFault(MODEL, { kind: "content_filter", partial: true });
    const reply = await client().invoke("Hi");
    expect(reply.content).toBe(`Simulated answer from ${MODEL} `);
    expect(reply.response_metadata.finishReason).toBe("SAFETY");
    expect(reply.response_metadata.safetyRatings).toContainEqual(
      expect.objectContaining({ category: "HARM_CATEGORY_DANGEROUS_CONTENT", blocked: true }),
    );
    // The closing event has no content, so the client skips it: the text looks complete, no
    // chunk carries a finishReason, and the last event's output tokens are lost.
    const { chunks, error, text } = await streamed({ kind: "content_filter", partial: true });
    expect(error).toBeUndefined();
    expect(text).toBe(`Simulated answer from ${MODEL} `);
    expect(chunks.some((c) => c.generationInfo?.finishReason !== undefined)).toBe(false);
  });

  test("HTML pages and cut streams, in a plain Node process: the errors users get, and the SDK's leak", async () => {
    const { stdout } = await run(process.execPath, [TSX, join(__dirname, "gemini.untidy.child.ts")]);
    const report = JSON.parse(stdout.trim().split("\n").pop()!);
    const readError = {
      ctor: "GoogleGenerativeAIError",
      message: "[GoogleGenerativeAI Error]: Error reading from the stream",
    };
    // @google/generative-ai 0.24's processStream tees the body and returns `{ stream, response }`;
    // ChatGoogleGenerativeAI reads only `stream`, so when the body fails the `response` promise
    // rejects with nobody listening: one unhandled rejection per failed stream.
    const leak = [readError.message];
    expect(report).toEqual({
      "html_page invoke": {
        error: { ctor: "SyntaxError", message: expect.stringMatching(/is not valid JSON$/) },
        chunks: 0,
        unhandled: [],
      },
      "html_page stream": {
        error: {
          ctor: "GoogleGenerativeAIError",
          message: "[GoogleGenerativeAI Error]: Failed to parse stream",
        },
        chunks: 0,
        unhandled: ["[GoogleGenerativeAI Error]: Failed to parse stream"],
      },
      "stream_cut invoke": { error: { ctor: "TypeError", message: "terminated" }, chunks: 0, unhandled: [] },
      "stream_cut 0 stream": { error: readError, chunks: 0, unhandled: leak },
      "stream_cut 2 stream": { error: readError, chunks: 2, unhandled: leak },
      "stream_cut 2 stream, response handled": { error: readError, chunks: 2, unhandled: [] },
    });
  });

  test("client-side refusals (unknown block, unmatched tool result) are plain Errors, before any request", async () => {
    const inputs = [
      [new HumanMessage({ content: [{ type: "weird_block", foo: 1 }] as never })],
      [new HumanMessage("Hi"), new ToolMessage({ tool_call_id: "x", content: "r" })],
    ];
    const messages: string[] = [];
    for (const input of inputs) {
      const error = await caught(() => client().invoke(input));
      expect(error.constructor).toBe(Error);
      messages.push(error.message);
    }
    expect(messages[0]).toBe("Unknown content type weird_block");
    expect(messages[1]).toMatch(/^Google requires a tool name for each tool call response/);
    expect(sim.stats(MODEL).requests).toBe(0);
  });
});
