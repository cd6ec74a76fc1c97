import { ChatOpenAI } from "@langchain/openai";
import { AllModelsFailedError, StreamInterruptedError } from "../src/errors";
import { defaultArrivalMargin } from "../src/limits";
import type { DecisionTrail } from "../src/model/types";
import { EventLog, GEMINI, GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

type World = Awaited<ReturnType<typeof startWorld>>;
let w: World;
beforeEach(async () => {
  w = await startWorld();
});
afterEach(() => w.stop());

const trailOf = (m: { response_metadata: Record<string, unknown> }) =>
  m.response_metadata.autopicker as DecisionTrail;
const requests = (model: string) => w.sim.stats(model).requests;

describe("decision policy, one row at a time (real clients against the simulator, virtual time)", () => {
  it("rate limit with a hint: waits the hint on the same model and serves from the primary", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "rate_limit", retryAfterMs: 5000 }, { times: 2 });
    const llm = w.picker();
    const t0 = w.clock.now();
    const res = await llm.invoke("hi");
    expect(trailOf(res).model).toBe(OPENAI_NAME);
    expect(requests(OPENAI)).toBe(3);
    expect(requests(GEMINI)).toBe(0);
    expect(w.clock.now() - t0).toBe(10_000);
    expect(trailOf(res).waited_ms).toBe(10_000);
    expect(llm.stats).toMatchObject({
      primaryRequests: 1,
      fallbackRequests: 0,
      rateLimitWaits: 2,
      totalWaitSeconds: 10,
    });
  });

  it("rate limit, retries spent: falls back and says why in a rate_limit_fallback event", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "rate_limit", retryAfterMs: 1000 }, { times: 10 });
    const log = new EventLog();
    const res = await w.picker({ maxRetries: 3 }).invoke("hi", { callbacks: [log] });
    expect(requests(OPENAI)).toBe(4); // first try + 3 retries
    expect(trailOf(res)).toMatchObject({ model: GEMINI_NAME, fallback_reason: "rate_limit" });
    expect(log.named("rate_limit_fallback")).toEqual([
      { original_model: OPENAI_NAME, fallback_model: GEMINI_NAME, reason: "rate_limit" },
    ]);
    expect(res.response_metadata.model_name).toBe(GEMINI);
  });

  it("a hinted wait beyond maxWaitSeconds falls back at once instead of sleeping", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "rate_limit", retryAfterMs: 600_000 });
    const t0 = w.clock.now();
    const res = await w.picker({ maxWaitSeconds: 300 }).invoke("hi");
    expect(trailOf(res).model).toBe(GEMINI_NAME);
    expect(requests(OPENAI)).toBe(1);
    expect(w.clock.now()).toBe(t0);
  });

  it("a local-limit wait beyond maxWaitSeconds falls back at once, without asking the primary", async () => {
    const llm = w.picker({
      primary: { model: w.openai(), limits: { requestsPerMinute: 1 } },
      maxWaitSeconds: 10,
    });
    const t0 = w.clock.now();
    expect(trailOf(await llm.invoke("one")).model).toBe(OPENAI_NAME);
    const second = await llm.invoke("two");
    expect(trailOf(second).model).toBe(GEMINI_NAME);
    expect(trailOf(second).attempts[0]!.outcome).toMatch(/wait_too_long/);
    expect(requests(OPENAI)).toBe(1);
    expect(w.clock.now()).toBe(t0);
  });

  it("a local-limit wait within maxWaitSeconds is slept exactly, then the primary serves", async () => {
    const llm = w.picker({ primary: { model: w.openai(), limits: { requestsPerMinute: 2 } } });
    const t0 = w.clock.now();
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => llm.invoke(`q${i}`)));
    expect(results.map((r) => trailOf(r).model)).toEqual(Array(5).fill(OPENAI_NAME));
    expect(w.sim.stats(OPENAI).rateLimited).toBe(0);
    // 5 calls at 2/min: batches at 0, 60 s, 120 s, each window widened by the arrival margin (0.6 s).
    expect(w.clock.now() - t0).toBe(2 * (60_000 + defaultArrivalMargin(60_000)));
  });

  it("quota gone (insufficient_quota): falls back at once and later calls skip the model", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "insufficient_quota" });
    const llm = w.picker();
    const log = new EventLog();
    expect(trailOf(await llm.invoke("a", { callbacks: [log] })).model).toBe(GEMINI_NAME);
    expect(log.named("rate_limit_fallback")[0]).toMatchObject({ reason: "quota_exhausted" });
    expect(trailOf(await llm.invoke("b")).model).toBe(GEMINI_NAME);
    expect(requests(OPENAI)).toBe(1);
    const [primary] = await llm.getProviderStatus();
    expect(primary).toMatchObject({ available: false, quotaReason: "quota_exhausted" });
  });

  it("Gemini daily quota (PerDay quota id) falls back even though RetryInfo says seconds", async () => {
    w.sim.enqueueFault(GEMINI, { kind: "daily_quota" });
    const llm = w.picker({ primary: w.gemini(), fallbacks: [w.openai()] });
    const res = await llm.invoke("hi");
    expect(trailOf(res)).toMatchObject({ model: OPENAI_NAME, fallback_reason: "quota_exhausted" });
    expect(requests(GEMINI)).toBe(1);
  });

  it("context error from the provider falls forward with a context_length_fallback event", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "context_length" });
    const log = new EventLog();
    const res = await w.picker().invoke("hi", { callbacks: [log] });
    expect(trailOf(res).model).toBe(GEMINI_NAME);
    const [event] = log.named("context_length_fallback");
    expect(event).toMatchObject({
      original_model: OPENAI_NAME,
      fallback_model: GEMINI_NAME,
      original_max_context: 128_000,
    });
    expect(event!.fallback_max_context).toBeGreaterThan(128_000);
    expect(event!.estimated_tokens).toBeGreaterThan(0);
  });

  it("transient 5xx: retried with exponential backoff on the same model", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "server_error", status: 503 }, { times: 2 });
    const t0 = w.clock.now();
    const res = await w.picker({ backoffInitialSeconds: 1, backoffBase: 2 }).invoke("hi");
    expect(trailOf(res).model).toBe(OPENAI_NAME);
    expect(requests(OPENAI)).toBe(3);
    expect(w.clock.now() - t0).toBe(1000 + 2000);
  });

  it("auth failure: falls back at once", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "auth" });
    const res = await w.picker().invoke("hi");
    expect(trailOf(res)).toMatchObject({ model: GEMINI_NAME, fallback_reason: "auth_error" });
    expect(requests(OPENAI)).toBe(1);
    expect(JSON.stringify(trailOf(res))).not.toMatch(/sk-test\*\*\*1234/);
  });

  it("bad request: surfaces, no fallback", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "bad_request" });
    await expect(w.picker().invoke("hi")).rejects.toMatchObject({ status: 400 });
    expect(requests(GEMINI)).toBe(0);
  });

  it("unknown error: retried once; the second falls back", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "unknown", status: 418 });
    expect(trailOf(await w.picker().invoke("a")).model).toBe(OPENAI_NAME);
    expect(requests(OPENAI)).toBe(2);
    w.sim.enqueueFault(OPENAI, { kind: "unknown", status: 418 }, { times: 2 });
    const res = await w.picker().invoke("b");
    expect(trailOf(res)).toMatchObject({ model: GEMINI_NAME, fallback_reason: "unknown_error" });
    expect(requests(OPENAI)).toBe(4);
  });

  it("all models failed: AllModelsFailedError lists every attempt; onAllFailed degrades gracefully", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "auth" }, { times: 2 });
    w.sim.enqueueFault(GEMINI, { kind: "auth" }, { times: 2 });
    const error = await w
      .picker()
      .invoke("a")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllModelsFailedError);
    expect((error as AllModelsFailedError).attempts.map((a) => [a.model, a.outcome])).toEqual([
      [OPENAI_NAME, "auth"],
      [GEMINI_NAME, "auth"],
    ]);
    const degraded = await w
      .picker({ onAllFailed: ({ attempts }) => `Service busy; ${attempts.length} attempts failed.` })
      .invoke("b");
    expect(degraded.content).toBe("Service busy; 2 attempts failed.");
  });

  it("abort during a wait rejects promptly and frees the slot", async () => {
    await w.stop();
    w = await startWorld(undefined, { autoAdvance: false });
    const llm = w.picker({ primary: { model: w.openai(), limits: { requestsPerMinute: 1 } } });
    await llm.invoke("first");
    const ac = new AbortController();
    const waiting = llm.invoke("second", { signal: ac.signal });
    while (w.clock.pendingTimers === 0) await new Promise((r) => setImmediate(r));
    ac.abort();
    await expect(waiting).rejects.toThrow(/abort/i);
    expect(requests(OPENAI)).toBe(1);
    const status = await llm.rateLimiter.status(OPENAI_NAME);
    expect(status.dimensions[0]!.used).toBe(1); // the aborted call's booking was refunded
  });

  it("circuit breaker: opens after consecutive transient failures, skips, probes after the cooldown, closes", async () => {
    const llm = w.picker({ maxRetries: 1, circuitBreaker: { failureThreshold: 2, cooldownSeconds: 30 } });
    w.sim.enqueueFault(OPENAI, { kind: "server_error", status: 500 }, { times: 2 });
    expect(trailOf(await llm.invoke("1")).model).toBe(GEMINI_NAME);
    expect((await llm.getProviderStatus())[0]!.circuit.state).toBe("open");
    const log = new EventLog();
    expect(trailOf(await llm.invoke("2", { callbacks: [log] })).model).toBe(GEMINI_NAME);
    expect(log.named("error_fallback")[0]).toMatchObject({ reason: "circuit_open" });
    expect(requests(OPENAI)).toBe(2);
    await w.clock.advance(30_000);
    expect(trailOf(await llm.invoke("3")).model).toBe(OPENAI_NAME);
    expect(requests(OPENAI)).toBe(3);
    expect((await llm.getProviderStatus())[0]!.circuit.state).toBe("closed");
  });

  it("inner retries never stack: the inner model's own maxRetries is switched off", async () => {
    const inner = new ChatOpenAI({
      model: OPENAI,
      apiKey: "sk-test",
      maxRetries: 6,
      configuration: { baseURL: w.sim.openaiBaseURL },
    });
    w.sim.enqueueFault(OPENAI, { kind: "server_error", status: 500 }, { times: 10 });
    await w.picker({ primary: inner, maxRetries: 1 }).invoke("hi");
    expect(requests(OPENAI)).toBe(2); // ours: 1 try + 1 retry; none from the SDK or AsyncCaller
  });
});

describe("streaming", () => {
  it("an error before the first chunk falls back; the stream yields several chunks from the fallback", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "auth" });
    const chunks = [];
    for await (const c of await w.picker().stream("tell me a story")) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(2);
    expect(requests(GEMINI)).toBe(1);
    const last = chunks.at(-1)!;
    expect((last.response_metadata.autopicker as DecisionTrail).model).toBe(GEMINI_NAME);
  });

  it("an error after the first chunk surfaces (no fallback mid-answer)", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "stream_cut" });
    const chunks: unknown[] = [];
    const consume = async () => {
      for await (const c of await w.picker().stream("tell me a story")) chunks.push(c);
    };
    const error = await consume().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    const cut = error as StreamInterruptedError;
    expect(cut.model).toBe(OPENAI_NAME);
    expect(cut.cause).toMatchObject({ name: "TypeError", message: "terminated" }); // undici: the socket closed mid-body
    expect(chunks.length).toBeGreaterThan(0);
    // What the caller holds is exactly what the error says was streamed.
    expect(cut.partialText).toBe(chunks.map((c) => String((c as { content: unknown }).content)).join(""));
    expect(requests(GEMINI)).toBe(0);
  });
});
