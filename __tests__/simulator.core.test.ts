import { z } from "zod";
import { AutoPickerConfigError } from "../src/errors";
import {
  countChatTokens,
  ProviderSimulator,
  type SimRequest,
  sampleFromSchema,
  VirtualClock,
} from "../src/testing";
import { formatGoDuration } from "../src/testing/goDuration";
import { ModelLimiter } from "../src/testing/modelLimiter";
import { PromptCache } from "../src/testing/promptCache";
import { SlidingWindowLog } from "../src/testing/slidingWindow";
import { countTextTokens } from "../src/testing/tokens";
import { parseGoDuration } from "./simulator.helpers";

const T0 = Date.UTC(2026, 0, 1);

describe("formatGoDuration", () => {
  test.each([
    [0, "0s"],
    [20, "20ms"],
    [999, "999ms"],
    [1000, "1s"],
    [1050, "1.05s"],
    [59_900, "59.9s"],
    [360_000, "6m0s"],
    [252_172, "4m12.172s"],
    [3_600_000, "1h0m0s"],
    [90_061_001, "25h1m1.001s"],
    [0.2, "1ms"],
  ])("%d ms -> %s", (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
    expect(parseGoDuration(text)).toBe(Math.ceil(ms));
  });
});

describe("SlidingWindowLog", () => {
  test("an entry counts while now - t < interval, and waitFor is exact with weighted entries", () => {
    const log = new SlidingWindowLog({ unit: "tokens", limit: 100, intervalMs: 1000 });
    log.book(0, 30);
    log.book(200, 50);
    log.book(500, 20);
    expect(log.usedAt(500)).toBe(100);
    expect(log.waitFor(500, 1)).toBe(500); // the 30 at t=0 leaves at 1000
    expect(log.waitFor(500, 31)).toBe(700); // needs the 50 at t=200 gone too
    expect(log.waitFor(500, 101)).toBe(Number.POSITIVE_INFINITY);
    expect(log.resetMs(500)).toBe(1000); // the last entry (t=500) leaves at 1500
    expect(log.usedAt(999)).toBe(100);
    expect(log.usedAt(1000)).toBe(70);
    expect(log.waitFor(1000, 30)).toBe(0);
  });
});

describe("ModelLimiter", () => {
  test("the wait is the max over windows, and the binding window is reported", () => {
    const limiter = new ModelLimiter(
      [
        { unit: "requests", limit: 2, intervalMs: 60_000 },
        { unit: "requests", limit: 1, intervalMs: 1_000 },
      ],
      false,
    );
    expect(limiter.admit(0, 0)).toEqual({ admitted: true });
    const second = limiter.admit(100, 0);
    expect(second).toMatchObject({ admitted: false, reason: "rate", waitMs: 900 });
    expect(limiter.admit(1000, 0)).toEqual({ admitted: true });
    const third = limiter.admit(1500, 0);
    expect(third).toMatchObject({ admitted: false, window: { intervalMs: 60_000 }, used: 2, waitMs: 58_500 });
    // Headers describe the per-minute window.
    expect(limiter.snapshot("requests", 1500)).toEqual({ limit: 2, remaining: 0, resetMs: 59_500 });
    expect(limiter.snapshot("tokens", 1500)).toBeUndefined();
  });

  test("a cost above a window's limit is too_large; count429s books rejected requests", () => {
    const limiter = new ModelLimiter(
      [
        { unit: "requests", limit: 1, intervalMs: 60_000 },
        { unit: "tokens", limit: 100, intervalMs: 60_000 },
      ],
      true,
    );
    expect(limiter.admit(0, 101)).toMatchObject({ admitted: false, reason: "too_large", requested: 101 });
    // The rejected request above was booked, so the window is already full.
    expect(limiter.admit(10, 5)).toMatchObject({ admitted: false, reason: "rate", waitMs: 59_990 });
  });
});

describe("countChatTokens", () => {
  test("follows OpenAI's cookbook overhead: 3 per message + role + text (+1 + name), +3 reply priming", () => {
    expect(countChatTokens([])).toBe(3);
    const text = "The quick brown fox jumps over the lazy dog.";
    expect(countChatTokens([{ role: "user", text }])).toBe(
      3 + 3 + countTextTokens("user") + countTextTokens(text),
    );
    expect(countChatTokens([{ role: "user", text, name: "alice" }])).toBe(
      countChatTokens([{ role: "user", text }]) + 1 + countTextTokens("alice"),
    );
    expect(countTextTokens(text)).toBe(10); // o200k_base
    expect(countTextTokens("<|endoftext|>")).toBeGreaterThan(1); // special tokens count as plain text
  });
});

describe("PromptCache", () => {
  test("caches from 1024 shared tokens on, in 128-token steps", () => {
    const cache = new PromptCache();
    const long = "alpha beta gamma delta ".repeat(400);
    const tokens = countTextTokens(long);
    expect(cache.lookupAndStore(long, tokens)).toBe(0);
    expect(cache.lookupAndStore(long, tokens)).toBe(1024 + Math.floor((tokens - 1024) / 128) * 128);
    const short = "alpha beta gamma delta ".repeat(100);
    expect(cache.lookupAndStore(short, countTextTokens(short))).toBe(0);
  });
});

describe("sampleFromSchema", () => {
  test("fits zod-generated schemas with refs, unions, formats and bounds", () => {
    const Item = z.object({ sku: z.string().uuid(), qty: z.number().int().gt(5).lte(10) });
    const Order = z.object({
      id: z.string().min(8),
      when: z.string().datetime(),
      kind: z.enum(["retail", "wholesale"]),
      items: z.array(Item).min(2),
      note: z.string().nullable(),
      shipped: z.boolean(),
      optional: z.string().optional(),
      price: z.number().positive().max(0.5),
    });
    const value = sampleFromSchema(z.toJSONSchema(Order)) as Record<string, unknown>;
    expect(Order.parse(value)).toEqual(value);
    expect(value).not.toHaveProperty("optional");
    expect(value.items).toHaveLength(2);
  });

  test("understands $defs refs, allOf, type lists and Gemini's upper-case types", () => {
    expect(
      sampleFromSchema({
        $defs: {
          Leaf: { type: "object", properties: { v: { type: ["null", "integer"] } }, required: ["v"] },
        },
        type: "object",
        properties: {
          leaf: { $ref: "#/$defs/Leaf" },
          both: { allOf: [{ type: "string" }, { minLength: 5 }] },
        },
        required: ["leaf", "both"],
      }),
    ).toEqual({ leaf: { v: 1 }, both: "simmm" });
    expect(
      sampleFromSchema({
        type: "OBJECT",
        properties: { n: { type: "NUMBER" }, tags: { type: "ARRAY", items: { type: "STRING" } } },
        required: ["n", "tags"],
      }),
    ).toEqual({ n: 1, tags: ["sim"] });
  });
});

describe("ProviderSimulator over raw HTTP", () => {
  let sim: ProviderSimulator;
  let clock: VirtualClock;
  const seen: SimRequest[] = [];

  beforeEach(async () => {
    seen.length = 0;
    clock = new VirtualClock({ startMs: T0, autoAdvance: false });
    sim = new ProviderSimulator({
      clock,
      count429s: true,
      tpmCounting: "max_of_prompt_and_max_tokens",
      models: {
        "gpt-a": { provider: "openai", requestsPerMinute: 2 },
        "gpt-tpm": { provider: "openai", tokensPerMinute: 100 },
        "gpt-slow": { provider: "openai", latencyMs: 10_000 },
        "gem-a": { provider: "gemini", requestsPerMinute: 5 },
      },
      responder: (request) => {
        seen.push(request);
        return { text: "ok" };
      },
    });
    await sim.start();
  });
  afterEach(() => sim.stop());

  const openai = (body: Record<string, unknown>) =>
    fetch(`${sim.openaiBaseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], ...body }),
    });

  test("the responder sees a normalised OpenAI request", async () => {
    const response = await openai({
      model: "gpt-a",
      max_tokens: 7,
      stream: false,
      messages: [
        { role: "developer", content: "Rules" },
        { role: "user", content: [{ type: "text", text: "Hi" }], name: "bob" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "1", type: "function", function: { name: "f", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "1", content: "42" },
      ],
      tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: {} } } }],
      tool_choice: { type: "function", function: { name: "f" } },
    });
    expect(response.status).toBe(200);
    expect(seen[0]).toMatchObject({
      provider: "openai",
      model: "gpt-a",
      maxTokens: 7,
      stream: false,
      toolChoice: { name: "f" },
      tools: [{ name: "f" }],
      messages: [
        { role: "system", text: "Rules" },
        { role: "user", text: "Hi", name: "bob" },
        { role: "assistant", text: "f({})" },
        { role: "tool", text: "42" },
      ],
    });
  });

  test("the responder sees a normalised Gemini request (forced function via allowedFunctionNames)", async () => {
    const response = await fetch(`${sim.geminiBaseUrl}/v1/models/gem-a:generateContent`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": "k" },
      body: JSON.stringify({
        systemInstruction: { role: "system", parts: [{ text: "Rules" }] },
        contents: [
          { role: "user", parts: [{ text: "Hi" }] },
          { role: "model", parts: [{ functionCall: { name: "f", args: { a: 1 } } }] },
          { role: "user", parts: [{ functionResponse: { name: "f", response: { result: 2 } } }] },
        ],
        tools: [{ functionDeclarations: [{ name: "f", parameters: { type: "OBJECT", properties: {} } }] }],
        toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["f"] } },
        generationConfig: { maxOutputTokens: 9 },
      }),
    });
    expect(response.status).toBe(200);
    expect(seen[0]).toMatchObject({
      provider: "gemini",
      maxTokens: 9,
      toolChoice: { name: "f" },
      messages: [
        { role: "system", text: "Rules" },
        { role: "user", text: "Hi" },
        { role: "assistant", text: 'f({"a":1})' },
        { role: "tool", text: '{"result":2}' },
      ],
    });
  });

  test("count429s: rejected requests count against RPM, as on real OpenAI", async () => {
    expect((await openai({ model: "gpt-a" })).status).toBe(200);
    expect((await openai({ model: "gpt-a" })).status).toBe(200);
    await clock.advance(30_000);
    const rejected = await openai({ model: "gpt-a" });
    expect(rejected.status).toBe(429);
    expect(rejected.headers.get("retry-after-ms")).toBe("30000");
    await clock.setTime(T0 + 60_000);
    const next = await openai({ model: "gpt-a" });
    expect(next.status).toBe(200);
    // The rejected probe at T0+30s still occupies a slot until T0+90s.
    expect(next.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(sim.stats("gpt-a")).toMatchObject({ requests: 4, served: 3, rateLimited: 1 });
  });

  test("tpmCounting max_of_prompt_and_max_tokens books max(prompt, max_tokens)", async () => {
    const first = await openai({ model: "gpt-tpm", max_tokens: 60 });
    expect(first.headers.get("x-ratelimit-remaining-tokens")).toBe("40");
    expect((await openai({ model: "gpt-tpm", max_tokens: 60 })).status).toBe(429);
  });

  test("malformed bodies and unknown routes get the provider's 4xx", async () => {
    const bad = await fetch(`${sim.openaiBaseURL}/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "gpt-a", messages: [] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("empty_array");
    expect((await fetch(`${sim.openaiBaseURL}/models`)).status).toBe(404);
    expect(sim.stats("gpt-a").requests).toBe(0);
  });

  test("stats() sums models; reset() clears windows, faults and counters", async () => {
    await openai({ model: "gpt-a" });
    await clock.advance(5);
    await fetch(`${sim.geminiBaseUrl}/v1beta/models/gem-a:generateContent`, {
      method: "POST",
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Hi" }] }] }),
    });
    expect(sim.stats()).toMatchObject({ requests: 2, served: 2, arrivals: [T0, T0 + 5] });
    await openai({ model: "gpt-a" });
    sim.enqueueFault("gpt-a", { kind: "bad_request" });
    sim.reset();
    expect(sim.stats()).toMatchObject({ requests: 0, served: 0, arrivals: [] });
    expect((await openai({ model: "gpt-a" })).status).toBe(200);
    expect((await openai({ model: "gpt-a" })).status).toBe(200);
  });

  test("configuration mistakes throw at once", () => {
    expect(() => sim.enqueueFault("nope", { kind: "auth" })).toThrow(/Unknown simulated model "nope"/);
    expect(() => sim.enqueueFault("gpt-a", { kind: "auth" }, { times: 0 })).toThrow(AutoPickerConfigError);
    expect(
      () => new ProviderSimulator({ models: { m: { provider: "openai", requestsPerMinute: 0 } } }),
    ).toThrow(/positive integer/);
    expect(() => new ProviderSimulator({ models: {} }).openaiBaseURL).toThrow(/not started/);
  });

  test("stop() during real-ms latency drops the connection at once", async () => {
    const pending = openai({ model: "gpt-slow" }).then(
      () => "answered",
      () => "dropped",
    );
    for (let i = 0; i < 200 && sim.stats("gpt-slow").requests === 0; i++)
      await new Promise((r) => setTimeout(r, 1));
    expect(sim.stats("gpt-slow").requests).toBe(1);
    await sim.stop(); // would otherwise answer after 10 s; jest's 30 s timeout is not hit either way
    expect(await pending).toBe("dropped");
  });
});
