/**
 * Slots are stamped by evidence of arrival (virtual time): the real send instant plus a transit
 * allowance, capped by the first response byte minus the server's processing time, never moved to
 * when the answer completes; the allowance is learned; the provider's own "when" caps the wait.
 */
import { RateLimiter, type ReserveDecision, SendEvidence } from "../src/limits";
import { VirtualClock } from "../src/testing/virtualClock";
import { GEMINI, GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

const T0 = Date.UTC(2026, 0, 1);

function setup(options: { marginMs?: number; learn?: boolean } = {}) {
  const clock = new VirtualClock({ startMs: T0 });
  const limiter = new RateLimiter({
    clock,
    arrivalMarginMs: options.marginMs ?? 10,
    learnArrivalMargin: options.learn ?? false,
  });
  return { clock, limiter };
}

function granted(d: ReserveDecision) {
  if (d.kind !== "granted") throw new Error(`expected granted, got ${JSON.stringify(d)}`);
  return d;
}

/** One call: acquire, then a request that leaves `lagMs` late and answers `answerMs` later. */
async function call(
  limiter: RateLimiter,
  clock: VirtualClock,
  o: { lagMs?: number; answerMs?: number; status?: number; headers?: Record<string, string> } = {},
) {
  const d = granted(await limiter.acquire("m", { tokens: 0 }, { maxWaitMs: 1e9 }));
  const evidence = new SendEvidence();
  const startedAt = clock.now();
  await limiter.send(
    d.ticket,
    async () => {
      await clock.sleep(o.lagMs ?? 0);
      evidence.recordSent();
      await clock.sleep(o.answerMs ?? 0);
      evidence.recordResponse(o.status ?? 200, o.headers ?? {});
    },
    evidence,
  );
  await limiter.commit(d.ticket);
  return { startedAt, evidence };
}

describe("stamping from evidence", () => {
  it("a request that leaves late is stamped when it left: the next slot opens a window after that", async () => {
    const { clock, limiter } = setup({ marginMs: 10 });
    limiter.configure("m", { windows: [{ unit: "requests", limit: 1, intervalMs: 1000 }] });
    const [, next] = await Promise.all([
      call(limiter, clock, { lagMs: 300, answerMs: 3000 }),
      call(limiter, clock),
    ]);
    // Stamped at the decision instead, it would have gone at T0 + 1010 and landed 700 ms after
    // the first in the provider's window.
    expect(next.startedAt).toBe(T0 + 300 + 10 + 1000);
  });

  it("the first response byte minus the server's processing time caps the stamp", async () => {
    const { clock, limiter } = setup({ marginMs: 500 });
    limiter.configure("m", { windows: [{ unit: "requests", limit: 1, intervalMs: 1000 }] });
    // Sent at T0, first byte at T0 + 50, of which the server says 40 ms were its own: it had
    // the request by T0 + 10, so the 500 ms allowance is not needed.
    await call(limiter, clock, { answerMs: 50, headers: { "openai-processing-ms": "40" } });
    expect((await call(limiter, clock)).startedAt).toBe(T0 + 10 + 1000);
  });

  it("never holds a slot until the answer is complete: a queued call goes while a 3 s answer is still coming", async () => {
    const { clock, limiter } = setup({ marginMs: 10 });
    limiter.configure("m", { windows: [{ unit: "requests", limit: 1, intervalMs: 1000 }] });
    const [slow, queued] = await Promise.all([
      call(limiter, clock, { answerMs: 3000 }),
      call(limiter, clock),
    ]);
    expect(slow.startedAt).toBe(T0);
    // Stamped at response time (the old rule), it would have waited for T0 + 3000 + 1000.
    expect(queued.startedAt).toBe(T0 + 10 + 1000);
  });

  it("a request still not sent a whole window after its slot keeps counting: the next call waits for it", async () => {
    const { clock, limiter } = setup({ marginMs: 0 });
    limiter.configure("m", { windows: [{ unit: "requests", limit: 1, intervalMs: 1000 }] });
    const [late, next] = await Promise.all([call(limiter, clock, { lagMs: 2500 }), call(limiter, clock)]);
    expect(late.evidence.sentAt).toBe(T0 + 2500);
    expect(next.startedAt).toBe(T0 + 2500 + 1000);
  });

  it("a call with no evidence at all keeps the instant it was decided", async () => {
    const { clock, limiter } = setup({ marginMs: 10 });
    limiter.configure("m", { windows: [{ unit: "requests", limit: 1, intervalMs: 1000 }] });
    const d = granted(await limiter.acquire("m", { tokens: 0 }, { maxWaitMs: 0 }));
    await limiter.send(d.ticket, () => clock.sleep(5000));
    await limiter.commit(d.ticket);
    expect(granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 0 })).startAt).toBe(T0 + 5000);
    const status = await limiter.status("m");
    expect(status.dimensions[0]).toMatchObject({ used: 1 });
  });
});

describe("the transit allowance is learned", () => {
  it("narrows to what responses bound while remaining-* headers agree, widens after a 429 the log did not predict", async () => {
    const { clock, limiter } = setup({ marginMs: 40, learn: true });
    limiter.configure("m", { windows: [{ unit: "requests", limit: 100, intervalMs: 60_000 }] });
    expect(limiter.arrivalMargin("m")).toBe(40);
    // Answers whose first byte came 12 ms after the send, 10 of them the server's own: a bound
    // alone does not narrow anything.
    const quick = { answerMs: 12, headers: { "openai-processing-ms": "10" } };
    for (let i = 0; i < 4; i++) await call(limiter, clock, quick);
    expect(limiter.arrivalMargin("m")).toBe(40);
    // The same answers with the provider's count agreeing with the local log: narrowed.
    const agreeing = (used: number) => ({
      ...quick,
      headers: {
        ...quick.headers,
        "x-ratelimit-limit-requests": "100",
        "x-ratelimit-remaining-requests": String(100 - used),
      },
    });
    for (let i = 5; i <= 8; i++) await call(limiter, clock, agreeing(i));
    expect(limiter.arrivalMargin("m")).toBe(Math.ceil(2 * 1.5) + 2);
    // A 429 although the local log had room: back to the base, doubled.
    await call(limiter, clock, { status: 429 });
    expect(limiter.arrivalMargin("m")).toBe(80);
    // Agreeing headers ease it back.
    await call(limiter, clock, agreeing(10));
    expect(limiter.arrivalMargin("m")).toBe(64);
    // The provider counts more than the log: no narrowing (and a phantom holds the difference).
    await call(limiter, clock, agreeing(20));
    expect(limiter.arrivalMargin("m")).toBe(64);
  });
});

describe("the provider's own 'when' wins over a longer local prediction", () => {
  it("Retry-After 10 s caps a 60 s local wait: the next call goes in 10 s", async () => {
    const { clock, limiter } = setup({ marginMs: 0 });
    limiter.configure("m", { requestsPerMinute: 6 });
    for (let i = 0; i < 5; i++) {
      await call(limiter, clock);
      await clock.sleep(1000);
    }
    // The 6th fits locally, but the provider refuses it: come back in 10 s (its limit is 5).
    const refused = await call(limiter, clock, {
      status: 429,
      headers: {
        "retry-after": "10",
        "x-ratelimit-limit-requests": "5",
        "x-ratelimit-remaining-requests": "0",
      },
    });
    expect(refused.startedAt).toBe(T0 + 5000);
    // Locally, with the learned limit of 5, two entries must leave first: T0 + 61 s.
    const d = granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 }));
    expect(d.startAt).toBe(T0 + 15_000);
  });

  it("a reset with nothing remaining frees the whole window at the reset", async () => {
    const { clock, limiter } = setup({ marginMs: 0 });
    limiter.configure("m", { requestsPerMinute: 3 });
    for (let i = 0; i < 3; i++) await call(limiter, clock);
    await limiter.learn("m", { limitRequests: 3, remainingRequests: 0, resetRequestsMs: 8000 });
    const ds = await Promise.all(
      [0, 1, 2].map(() => limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 })),
    );
    expect(ds.map((d) => granted(d).startAt)).toEqual([T0 + 8000, T0 + 8000, T0 + 8000]);
  });

  it("through the picker: a 10 s Retry-After is waited out on the primary, not turned into a 60 s wait and a fallback", async () => {
    const w = await startWorld({ [OPENAI]: { provider: "openai" }, [GEMINI]: { provider: "gemini" } });
    try {
      const llm = w.picker({
        primary: { model: w.openai(), limits: { requestsPerMinute: 6 } },
        maxWaitSeconds: 30,
      });
      for (let i = 0; i < 5; i++) await llm.invoke(`q${i}`);
      // The 6th fits the local log, but the provider refuses it: room in 10 s. Locally the next
      // slot would open when the first call leaves the minute, ~60 s away: over maxWaitSeconds.
      w.sim.enqueueFault(OPENAI, { kind: "rate_limit", retryAfterMs: 10_000 });
      const t0 = w.clock.now();
      const sixth = await llm.invoke("q5");
      const trail = sixth.response_metadata.autopicker as { model: string; waited_ms: number };
      expect(trail.model).toBe(OPENAI_NAME);
      expect(trail.model).not.toBe(GEMINI_NAME);
      expect(w.clock.now() - t0).toBe(10_000);
      expect(w.sim.stats(GEMINI).requests).toBe(0);
    } finally {
      await w.stop();
    }
  });
});
