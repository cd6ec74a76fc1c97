import type { AIMessageChunk } from "@langchain/core/messages";
import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import type { ChatGenerationChunk } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { countChatTokens, ProviderSimulator, type SimFault, VirtualClock } from "../src/testing";
import { caught, parseGoDuration, until } from "./simulator.helpers";

const MODEL = "gpt-4o-mini";
const T0 = Date.UTC(2026, 0, 1);

const weather = tool(async ({ city }) => `Sunny in ${city}`, {
  name: "get_weather",
  description: "Current weather for a city",
  schema: z.object({ city: z.string(), unit: z.enum(["c", "f"]), days: z.number().int().optional() }),
});

describe("ProviderSimulator with the real ChatOpenAI", () => {
  let sim: ProviderSimulator;
  const clock = new VirtualClock({ startMs: T0, autoAdvance: false });
  /** Response headers of every call, read through the SDK's custom fetch (successes hide them otherwise). */
  const seenHeaders: Headers[] = [];

  beforeAll(async () => {
    sim = new ProviderSimulator({
      clock,
      models: {
        [MODEL]: { provider: "openai", requestsPerMinute: 60, tokensPerMinute: 40_000 },
        "gpt-small": { provider: "openai", contextWindow: 200 },
        "gpt-cached": { provider: "openai", promptCaching: true },
        "gpt-quiet": { provider: "openai", requestsPerMinute: 5, sendRateLimitHeaders: false },
      },
    });
    await sim.start();
  });
  afterAll(() => sim.stop());
  beforeEach(() => {
    sim.reset();
    seenHeaders.length = 0;
  });

  function client(model = MODEL, extra: Record<string, unknown> = {}) {
    return new ChatOpenAI({
      model,
      apiKey: "sk-test-abcd1234",
      maxRetries: 0,
      ...extra,
      configuration: {
        baseURL: sim.openaiBaseURL,
        fetch: async (url: RequestInfo | URL, init?: RequestInit) => {
          const response = await fetch(url, init);
          seenHeaders.push(response.headers);
          return response;
        },
      },
    });
  }

  test("invoke bills prompt tokens exactly as countChatTokens and reports usage", async () => {
    const reply = await client().invoke([new SystemMessage("Be brief."), new HumanMessage("Hello there")]);
    const expected = countChatTokens([
      { role: "system", text: "Be brief." },
      { role: "user", text: "Hello there" },
    ]);
    expect(reply.content).toBe(`Simulated answer from ${MODEL} (${expected} input tokens).`);
    expect(reply.usage_metadata?.input_tokens).toBe(expected);
    expect(reply.usage_metadata?.output_tokens).toBeGreaterThan(0);
    expect(reply.usage_metadata?.total_tokens).toBe(expected + reply.usage_metadata!.output_tokens);
    expect(reply.response_metadata.finish_reason).toBe("stop");
    const stats = sim.stats(MODEL);
    expect(stats).toMatchObject({
      requests: 1,
      served: 1,
      rateLimited: 0,
      arrivals: [clock.now()],
      inputTokens: expected,
    });
    expect(stats.outputTokens).toBe(reply.usage_metadata?.output_tokens);
  });

  test("success headers carry x-ratelimit-* with Go-duration resets", async () => {
    const reply = await client().invoke("Hello there");
    const headers = seenHeaders[0]!;
    expect(headers.get("x-ratelimit-limit-requests")).toBe("60");
    expect(headers.get("x-ratelimit-remaining-requests")).toBe("59");
    expect(headers.get("x-ratelimit-reset-requests")).toBe("1m0s");
    expect(headers.get("x-ratelimit-limit-tokens")).toBe("40000");
    expect(Number(headers.get("x-ratelimit-remaining-tokens"))).toBe(
      40_000 - reply.usage_metadata!.input_tokens,
    );
    expect(parseGoDuration(headers.get("x-ratelimit-reset-tokens")!)).toBe(60_000);

    await clock.advance(17_828);
    await client().invoke("Hello again");
    // "Time until fully free" is set by the newest booking, made just now: a full minute again.
    expect(seenHeaders[1]!.get("x-ratelimit-reset-requests")).toBe("1m0s");
    expect(seenHeaders[1]!.get("x-ratelimit-remaining-requests")).toBe("58");
  });

  test("a model with sendRateLimitHeaders: false sends none", async () => {
    await client("gpt-quiet").invoke("Hi");
    expect(seenHeaders[0]!.get("x-ratelimit-limit-requests")).toBeNull();
  });

  test("max_tokens caps the answer and reports finish_reason length", async () => {
    const reply = await client(MODEL, { maxTokens: 3 }).invoke("Hello there");
    expect(reply.usage_metadata?.output_tokens).toBe(3);
    expect(reply.response_metadata.finish_reason).toBe("length");
  });

  test("stream yields several content chunks and usage on the last chunk", async () => {
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await client(MODEL, { streamUsage: true }).stream("Hello there"))
      chunks.push(chunk);
    const contentChunks = chunks.filter((c) => typeof c.content === "string" && c.content.length > 0);
    expect(contentChunks.length).toBeGreaterThanOrEqual(3);
    const text = contentChunks.map((c) => c.content).join("");
    const prompt = countChatTokens([{ role: "user", text: "Hello there" }]);
    expect(text).toBe(`Simulated answer from ${MODEL} (${prompt} input tokens).`);
    const withUsage = chunks.filter((c) => c.usage_metadata);
    expect(withUsage).toHaveLength(1);
    expect(chunks.indexOf(withUsage[0]!)).toBe(chunks.length - 1);
    expect(withUsage[0]!.usage_metadata).toMatchObject({
      input_tokens: prompt,
      total_tokens: expect.any(Number),
    });
  });

  test("tool call round trip with bindTools, streamed and not", async () => {
    const model = client().bindTools([weather]);
    const call = await model.invoke([new HumanMessage("Weather in Paris?")]);
    expect(call.tool_calls).toEqual([
      expect.objectContaining({
        name: "get_weather",
        args: { city: "sim", unit: "c" },
        id: expect.any(String),
      }),
    ]);
    expect(call.response_metadata.finish_reason).toBe("tool_calls");

    let streamed: AIMessageChunk | undefined;
    for await (const chunk of await model.stream("Weather in Paris?"))
      streamed = streamed ? streamed.concat(chunk) : chunk;
    expect(streamed?.tool_calls).toEqual([
      expect.objectContaining({ name: "get_weather", args: { city: "sim", unit: "c" } }),
    ]);

    const result = await weather.invoke(call.tool_calls![0]!);
    const final = await model.invoke([new HumanMessage("Weather in Paris?"), call, result]);
    expect(final.tool_calls ?? []).toHaveLength(0);
    expect(String(final.content)).toMatch(/^Simulated answer from gpt-4o-mini/);
  });

  test("a forced tool_choice calls that tool", async () => {
    const other = tool(async () => "x", {
      name: "other",
      description: "x",
      schema: z.object({ n: z.number() }),
    });
    const call = await client().bindTools([weather, other], { tool_choice: "other" }).invoke("anything");
    expect(call.tool_calls?.[0]).toMatchObject({ name: "other", args: { n: 1 } });
  });

  test("withStructuredOutput works with json_schema and function calling", async () => {
    const Person = z.object({
      name: z.string(),
      age: z.number().int().min(18),
      email: z.string().email(),
      tags: z.array(z.enum(["a", "b"])),
      address: z.object({ city: z.string(), zip: z.string().nullable() }),
    });
    const viaSchema = await client().withStructuredOutput(Person).invoke("Who?");
    expect(Person.parse(viaSchema)).toEqual({
      name: "sim",
      age: 18,
      email: "sim@example.com",
      tags: ["a"],
      address: { city: "sim", zip: "sim" },
    });
    const viaTool = await client().withStructuredOutput(Person, { method: "functionCalling" }).invoke("Who?");
    expect(Person.parse(viaTool)).toEqual(viaSchema);
  });

  test("prompt caching reports repeated prefixes of 1024+ tokens in 128-token steps", async () => {
    const system = new SystemMessage("policy ".repeat(1500));
    const first = await client("gpt-cached").invoke([system, new HumanMessage("one")]);
    const second = await client("gpt-cached").invoke([system, new HumanMessage("two")]);
    expect(first.usage_metadata?.input_token_details?.cache_read ?? 0).toBe(0);
    const cached = second.usage_metadata!.input_token_details!.cache_read!;
    expect(cached).toBeGreaterThanOrEqual(1024);
    expect((cached - 1024) % 128).toBe(0);
    expect(cached).toBeLessThan(second.usage_metadata!.input_tokens);
  });

  describe("sliding windows on clock time", () => {
    // A fresh clock per test, so absolute times are known.
    let windowSim: ProviderSimulator;
    let windowClock: VirtualClock;
    beforeEach(async () => {
      windowClock = new VirtualClock({ startMs: T0, autoAdvance: false });
      windowSim = new ProviderSimulator({
        clock: windowClock,
        models: {
          [MODEL]: { provider: "openai", requestsPerMinute: 60 },
          "gpt-tpm": { provider: "openai", tokensPerMinute: 100 },
        },
      });
      await windowSim.start();
    });
    afterEach(() => windowSim.stop());
    const windowClient = (model: string, extra: Record<string, unknown> = {}) =>
      new ChatOpenAI({
        model,
        apiKey: "sk-test",
        maxRetries: 0,
        ...extra,
        configuration: { baseURL: windowSim.openaiBaseURL },
      });

    test("the 61st request inside a minute gets a 429 with the exact retry-after; after it, it passes", async () => {
      const model = windowClient(MODEL);
      for (let i = 0; i < 60; i++) {
        await model.invoke(`call ${i}`);
        await windowClock.advance(100);
      }
      // Now T0 + 6000 ms; the oldest booking (T0) leaves the window at T0 + 60000.
      const error = await caught(() => model.invoke("call 60"));
      expect(error.constructor.name).toBe("RateLimitError");
      expect(error.status).toBe(429);
      expect(error.code).toBe("rate_limit_exceeded");
      expect(error.type).toBe("requests");
      expect(error.message).toContain(
        "Rate limit reached for gpt-4o-mini in organization org-sim on requests per min (RPM): Limit 60, Used 60, Requested 1. Please try again in 54s.",
      );
      const headers = error.headers as Headers;
      expect(headers.get("retry-after-ms")).toBe("54000");
      expect(headers.get("retry-after")).toBe("54");
      expect(headers.get("x-ratelimit-remaining-requests")).toBe("0");
      expect(headers.get("x-ratelimit-reset-requests")).toBe("59.9s"); // the last booking (T0 + 5900) leaves then

      await windowClock.setTime(T0 + 59_999);
      const stillBlocked = await caught(() => model.invoke("call 60"));
      expect((stillBlocked.headers as Headers).get("retry-after-ms")).toBe("1");

      await windowClock.setTime(T0 + 60_000);
      await expect(model.invoke("call 60")).resolves.toBeDefined();
      const stats = windowSim.stats(MODEL);
      expect(stats).toMatchObject({ requests: 63, served: 61, rateLimited: 2 });
      expect(stats.arrivals.slice(-3)).toEqual([T0 + 6000, T0 + 59_999, T0 + 60_000]);
    });

    test("TPM books prompt + max_tokens at arrival; a request above the limit is 'too large'", async () => {
      const model = windowClient("gpt-tpm", { maxTokens: 45 });
      const first = await model.invoke("Hi");
      const cost = first.usage_metadata!.input_tokens + 45;
      expect(cost * 2).toBeGreaterThan(100);
      const error = await caught(() => model.invoke("Hi"));
      expect(error.status).toBe(429);
      expect(error.type).toBe("tokens");
      expect(error.message).toContain(`on tokens per min (TPM): Limit 100, Used ${cost}, Requested ${cost}.`);
      expect((error.headers as Headers).get("retry-after-ms")).toBe("60000");

      const huge = await caught(() => windowClient("gpt-tpm", { maxTokens: 500 }).invoke("Hi"));
      expect(huge.status).toBe(429);
      expect(huge.message).toContain("Request too large for gpt-tpm");
      expect((huge.headers as Headers).get("retry-after")).toBeNull();
    });
  });

  test("a prompt longer than the context window gets context_length_exceeded (ContextOverflowError)", async () => {
    const error = await caught(() => client("gpt-small").invoke("lorem ipsum ".repeat(300)));
    expect(error.name).toBe("ContextOverflowError");
    const cause = error.cause as Record<string, unknown>;
    expect(cause.status).toBe(400);
    expect(cause.code).toBe("context_length_exceeded");
    expect(error.message).toMatch(
      /maximum context length is 200 tokens\. However, your messages resulted in \d+ tokens/,
    );
    expect(sim.stats("gpt-small")).toMatchObject({ requests: 1, served: 0 });
  });

  test("an unknown model is a 404 model_not_found", async () => {
    const error = await caught(() => client("gpt-nope").invoke("Hi"));
    expect(error.status).toBe(404);
    expect(error.code).toBe("model_not_found");
  });

  describe("scripted faults surface as the real client's errors", () => {
    const cases: [string, SimFault, (e: Record<string, unknown>) => void][] = [
      [
        "rate_limit",
        { kind: "rate_limit", retryAfterMs: 1500 },
        (e) => {
          expect(e.constructor).toHaveProperty("name", "RateLimitError");
          expect(e.code).toBe("rate_limit_exceeded");
          const h = e.headers as Headers;
          expect(h.get("retry-after-ms")).toBe("1500");
          expect(h.get("retry-after")).toBe("2");
          expect(h.get("x-ratelimit-remaining-requests")).toBe("0");
          expect(parseGoDuration(h.get("x-ratelimit-reset-requests")!)).toBe(1500);
        },
      ],
      [
        "rate_limit without headers",
        { kind: "rate_limit", withHeaders: false },
        (e) => {
          expect(e.status).toBe(429);
          expect((e.headers as Headers).get("retry-after")).toBeNull();
          expect((e.headers as Headers).get("x-ratelimit-reset-requests")).toBeNull();
        },
      ],
      [
        "daily_quota",
        { kind: "daily_quota" },
        (e) => {
          expect(e.code).toBe("rate_limit_exceeded");
          expect(String(e.message)).toContain("on requests per day (RPD)");
          expect((e.headers as Headers).get("retry-after-ms")).toBe(String(6 * 3_600_000));
        },
      ],
      [
        "insufficient_quota",
        { kind: "insufficient_quota" },
        (e) => {
          expect(e.status).toBe(429);
          expect(e.code).toBe("insufficient_quota");
          expect((e.headers as Headers).get("retry-after")).toBeNull();
        },
      ],
      [
        "server_error 500",
        { kind: "server_error" },
        (e) => expect(e.constructor.name).toBe("InternalServerError"),
      ],
      ["server_error 502", { kind: "server_error", status: 502 }, (e) => expect(e.status).toBe(502)],
      ["server_error 503", { kind: "server_error", status: 503 }, (e) => expect(e.status).toBe(503)],
      ["server_error 529", { kind: "server_error", status: 529 }, (e) => expect(e.status).toBe(529)],
      [
        "context_length",
        { kind: "context_length" },
        (e) => {
          expect(e.name).toBe("ContextOverflowError");
          expect((e.cause as Record<string, unknown>).code).toBe("context_length_exceeded");
        },
      ],
      [
        "auth",
        { kind: "auth" },
        (e) => {
          expect(e.constructor.name).toBe("AuthenticationError");
          expect(e.status).toBe(401);
          expect(e.code).toBe("invalid_api_key");
          expect(String(e.message)).toContain("Incorrect API key provided: sk-test***1234.");
        },
      ],
      [
        "bad_request",
        { kind: "bad_request" },
        (e) => {
          expect(e.constructor.name).toBe("BadRequestError");
          expect(e.type).toBe("invalid_request_error");
        },
      ],
      [
        "unknown",
        { kind: "unknown" },
        (e) => {
          expect(e.status).toBe(418);
          expect(e.code).toBeUndefined();
        },
      ],
    ];

    test.each(cases)("%s", async (_name, fault, check) => {
      sim.enqueueFault(MODEL, fault);
      check(await caught(() => client().invoke("Hi")));
      // The fault was served once, before normal handling; the next call is answered.
      await expect(client().invoke("Hi")).resolves.toBeDefined();
      expect(sim.stats(MODEL)).toMatchObject({ requests: 2, served: 1, faults: 1 });
    });

    test("faults are FIFO and `times` repeats one", async () => {
      sim.enqueueFault(MODEL, { kind: "server_error", status: 503 }, { times: 2 });
      sim.enqueueFault(MODEL, { kind: "bad_request" });
      const statuses: unknown[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await caught(() => client().invoke("Hi"))).status);
      expect(statuses).toEqual([503, 503, 400]);
      await expect(client().invoke("Hi")).resolves.toBeDefined();
    });

    test("stream_cut delivers two content chunks, then the stream fails", async () => {
      sim.enqueueFault(MODEL, { kind: "stream_cut" });
      const texts: string[] = [];
      const error = await caught(async () => {
        for await (const chunk of await client().stream("Hi"))
          if (chunk.content) texts.push(String(chunk.content));
      });
      expect(texts).toHaveLength(2);
      // undici's error for a body cut mid-way (a TypeError from another realm, so no instanceof).
      expect(error.name).toBe("TypeError");
      expect(error.message).toBe("terminated");
    });

    test("hang never answers; aborting the call frees it", async () => {
      sim.enqueueFault(MODEL, { kind: "hang" });
      const controller = new AbortController();
      const pending = caught(() => client().invoke("Hi", { signal: controller.signal }));
      await until(() => sim.stats(MODEL).requests === 1);
      controller.abort();
      expect((await pending).name).toMatch(/Abort/);
    });
  });
});

/**
 * What the real ChatOpenAI does with answers a tidy API never sends. These pin the client's
 * behaviour (not ours): the router builds its response check, accounting and stream errors on them.
 */
describe("untidy answers through the real ChatOpenAI", () => {
  let sim: ProviderSimulator;
  beforeAll(async () => {
    sim = new ProviderSimulator({ models: { [MODEL]: { provider: "openai" } } });
    await sim.start();
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.reset());

  const client = () =>
    new ChatOpenAI({
      model: MODEL,
      apiKey: "sk-test",
      maxRetries: 0,
      configuration: { baseURL: sim.openaiBaseURL },
    });
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

  describe.each([
    ["choices: []", { kind: "empty_answer", shape: "no_choices" }],
    ["{}", { kind: "empty_answer", shape: "empty_object" }],
    ["an HTML page", { kind: "html_page" }],
  ] as [string, SimFault][])("HTTP 200 with %s", (_name, fault) => {
    test("_generate resolves with no generations; invoke throws core's raw TypeError", async () => {
      sim.enqueueFault(MODEL, fault);
      const result = await client()._generate([new HumanMessage("Hi")], {} as never);
      expect(result.generations).toEqual([]);
      sim.enqueueFault(MODEL, fault);
      const error = await caught(() => client().invoke("Hi"));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toBe("Cannot read properties of undefined (reading 'message')");
    });

    test("a stream ends with no chunk and no error", async () => {
      const { chunks, error } = await streamed(fault);
      expect(error).toBeUndefined();
      expect(chunks).toEqual([]);
    });
  });

  test("message: null resolves as an empty answer with finish_reason stop and no output_tokens", async () => {
    sim.enqueueFault(MODEL, { kind: "empty_answer", shape: "null_message" });
    const reply = await client().invoke("Hi");
    expect(reply.content).toBe("");
    expect(reply.response_metadata.finish_reason).toBe("stop");
    // completion_tokens: 0 is dropped: output_tokens is absent, not 0.
    expect(reply.usage_metadata).toMatchObject({ input_tokens: expect.any(Number) });
    expect(reply.usage_metadata?.output_tokens).toBeUndefined();
    // Streamed: a role chunk and a finish chunk, both without text.
    const { chunks, error, text } = await streamed({ kind: "empty_answer", shape: "null_message" });
    expect(error).toBeUndefined();
    expect(chunks).toHaveLength(2);
    expect(text).toBe("");
    expect(chunks[1]!.generationInfo?.finish_reason).toBe("stop");
  });

  test("no usage: the answer arrives with token-less usage_metadata (input + output is NaN)", async () => {
    sim.enqueueFault(MODEL, { kind: "no_usage" });
    const reply = await client().invoke("Hi");
    expect(String(reply.content)).toMatch(/^Simulated answer/);
    expect(reply.usage_metadata).toEqual({ input_token_details: {}, output_token_details: {} });
    expect(reply.response_metadata.tokenUsage).toEqual({});
    const u = reply.usage_metadata as unknown as { input_tokens: number; output_tokens: number };
    expect(u.input_tokens + u.output_tokens).toBeNaN();
    // Streamed (ChatOpenAI asks for include_usage by default): no chunk carries usage.
    const { chunks, error, text } = await streamed({ kind: "no_usage" });
    expect(error).toBeUndefined();
    expect(text).toMatch(/^Simulated answer/);
    expect(chunks.filter((c) => (c.message as AIMessageChunk).usage_metadata)).toEqual([]);
    expect(sim.stats(MODEL)).toMatchObject({ served: 2, faults: 2 });
  });

  test.each([0, 2])(
    "a stream cut after %i content chunks yields the role chunk and those, then TypeError terminated",
    async (afterChunks) => {
      const { chunks, error } = await streamed({ kind: "stream_cut", afterChunks });
      // The role chunk (empty text) always comes first: even a cut before any text is "after the first chunk".
      expect(chunks).toHaveLength(afterChunks + 1);
      expect(chunks[0]!.text).toBe("");
      expect(chunks.slice(1).every((c) => c.text.length > 0)).toBe(true);
      expect(error?.name).toBe("TypeError");
      expect(error?.message).toBe("terminated");
      expect(error?.cause).toMatchObject({ message: "other side closed" });
    },
  );

  test("content_filter: invoke resolves with finish_reason content_filter, empty or partial", async () => {
    sim.enqueueFault(MODEL, { kind: "content_filter" });
    const empty = await client().invoke("Hi");
    expect(empty.content).toBe("");
    expect(empty.response_metadata.finish_reason).toBe("content_filter");
    sim.enqueueFault(MODEL, { kind: "content_filter", partial: true });
    const partial = await client().invoke("Hi");
    expect(partial.content).toBe("Simulated answer from gpt-4o-mini ");
    expect(partial.response_metadata.finish_reason).toBe("content_filter");
    expect(partial.usage_metadata?.output_tokens).toBeGreaterThan(0);
    // Streamed: the partial text, then a finish chunk that says content_filter.
    const { chunks, error, text } = await streamed({ kind: "content_filter", partial: true });
    expect(error).toBeUndefined();
    expect(text).toBe("Simulated answer from gpt-4o-mini ");
    expect(chunks.some((c) => c.generationInfo?.finish_reason === "content_filter")).toBe(true);
  });

  test("prompt_blocked (Azure's prompt filter) is a BadRequestError with code content_filter", async () => {
    sim.enqueueFault(MODEL, { kind: "prompt_blocked" });
    const error = await caught(() => client().invoke("Hi"));
    expect(error.constructor.name).toBe("BadRequestError");
    expect(error.status).toBe(400);
    expect(error.code).toBe("content_filter");
    expect((error.error as Record<string, unknown>).innererror).toMatchObject({
      code: "ResponsibleAIPolicyViolation",
    });
  });

  test("a URL file block is refused client-side with a plain Error, before any request", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const message = new HumanMessage({
        content: [
          {
            type: "file",
            source_type: "url",
            url: "https://example.com/a.pdf",
            mime_type: "application/pdf",
          },
        ] as never,
      });
      for (const call of [
        () => client().invoke([message]),
        async () => {
          for await (const _ of await client().stream([message])) {
            // never reached
          }
        },
      ]) {
        const error = await caught(call);
        expect(error.constructor).toBe(Error);
        expect(error.message).toBe(
          "URL file blocks with source_type url must be formatted as a data URL for ChatOpenAI",
        );
        expect(error.status).toBeUndefined();
      }
      expect(sim.stats(MODEL).requests).toBe(0);
    } finally {
      warn.mockRestore();
    }
  });
});

test("stop() closes promptly with a hanging request in flight", async () => {
  const sim = new ProviderSimulator({ models: { [MODEL]: { provider: "openai" } } });
  await sim.start();
  const model = new ChatOpenAI({
    model: MODEL,
    apiKey: "sk-test",
    maxRetries: 0,
    configuration: { baseURL: sim.openaiBaseURL },
  });
  await model.invoke("warm up a keep-alive connection");
  sim.enqueueFault(MODEL, { kind: "hang" });
  const pending = caught(() => model.invoke("Hi"));
  await until(() => sim.stats(MODEL).requests === 2);
  await sim.stop();
  const error = await pending;
  expect(error.constructor.name).toBe("APIConnectionError");
  await sim.stop(); // idempotent
});

test("tool results after the last user turn get a text answer even with tools bound", async () => {
  const sim = new ProviderSimulator({ models: { [MODEL]: { provider: "openai" } } });
  await sim.start();
  try {
    const model = new ChatOpenAI({
      model: MODEL,
      apiKey: "sk-test",
      maxRetries: 0,
      configuration: { baseURL: sim.openaiBaseURL },
    }).bindTools([weather]);
    const history = [
      new HumanMessage("Weather?"),
      new AIMessage({
        content: "",
        tool_calls: [{ id: "c1", name: "get_weather", args: { city: "Oslo", unit: "c" } }],
      }),
      new ToolMessage({ tool_call_id: "c1", content: "Rainy" }),
    ];
    expect((await model.invoke(history)).tool_calls).toHaveLength(0);
    expect((await model.invoke([...history, new HumanMessage("And tomorrow?")])).tool_calls).toHaveLength(1);
  } finally {
    await sim.stop();
  }
});
