import { AutoPickerConfigError } from "../src/errors";
import { MemoryRateLimitStore, RateLimiter, type ReserveDecision } from "../src/limits";
import { VirtualClock } from "../src/testing/virtualClock";

const T0 = Date.UTC(2026, 0, 1);

function setup(autoAdvance = false) {
  const clock = new VirtualClock({ startMs: T0, autoAdvance });
  const limiter = new RateLimiter({ clock, arrivalMarginMs: 0 });
  return { clock, limiter };
}

function granted(d: ReserveDecision) {
  if (d.kind !== "granted") throw new Error(`expected granted, got ${JSON.stringify(d)}`);
  return d;
}

describe("RateLimiter.reserve", () => {
  it("queues a burst in batches of the limit: 120 calls at 20 per 6 s end at (ceil(120/20)-1)*6 s, one sleep each", async () => {
    const { limiter } = setup();
    limiter.configure("m", { windows: [{ unit: "requests", limit: 20, intervalMs: 6000 }] });
    const ds = await Promise.all(
      Array.from({ length: 120 }, () => limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 })),
    );
    const waits = ds.map((d) => granted(d).waitMs);
    // The i-th caller (in call order) goes in batch floor(i / 20).
    expect(waits).toEqual(Array.from({ length: 120 }, (_, i) => Math.floor(i / 20) * 6000));
    expect(Math.max(...waits)).toBe((Math.ceil(120 / 20) - 1) * 6000);
  });

  it("grants a model with no limits at once", async () => {
    const { limiter } = setup();
    const d = granted(await limiter.reserve("free-for-all", { tokens: 1e9 }, { maxWaitMs: 0 }));
    expect(d.waitMs).toBe(0);
    expect(d.startAt).toBe(T0);
    limiter.configure("cleared", { requestsPerMinute: 1 });
    limiter.configure("cleared", undefined);
    await limiter.reserve("cleared", { tokens: 0 }, { maxWaitMs: 0 });
    expect(granted(await limiter.reserve("cleared", { tokens: 0 }, { maxWaitMs: 0 })).waitMs).toBe(0);
  });

  it("answers wait_too_long with the binding dimension and books nothing", async () => {
    const { limiter } = setup();
    limiter.configure("m", { requestsPerMinute: 100, tokensPerMinute: 1000 });
    granted(await limiter.reserve("m", { tokens: 900 }, { maxWaitMs: 0 }));
    const refused = await limiter.reserve("m", { tokens: 200 }, { maxWaitMs: 59_999 });
    expect(refused).toEqual({ kind: "wait_too_long", waitMs: 60_000, dimension: "tokens/min" });
    // Nothing was booked: a small call still fits now, and the status shows only the first call.
    expect(granted(await limiter.reserve("m", { tokens: 100 }, { maxWaitMs: 0 })).waitMs).toBe(0);
    const status = await limiter.status("m");
    expect(status.dimensions.find((d) => d.name === "tokens/min")?.used).toBe(1000);
    expect(status.dimensions.find((d) => d.name === "requests/min")?.used).toBe(2);
  });

  it("answers never_fits at once for a cost above a limit, whatever the wait allowed", async () => {
    const { limiter } = setup();
    limiter.configure("m", { tokensPerMinute: 30_000, tokensPerDay: 20_000 });
    expect(await limiter.reserve("m", { tokens: 30_001 }, { maxWaitMs: Number.POSITIVE_INFINITY })).toEqual({
      kind: "never_fits",
      dimension: "tokens/min",
      requested: 30_001,
      limit: 30_000,
    });
    expect(await limiter.reserve("m", { tokens: 25_000 }, { maxWaitMs: 1e12 })).toMatchObject({
      kind: "never_fits",
      dimension: "tokens/day",
    });
    expect((await limiter.status("m")).dimensions.every((d) => d.used === 0)).toBe(true);
  });

  it("rejects invalid token counts", async () => {
    const { limiter } = setup();
    await expect(limiter.reserve("m", { tokens: -1 }, { maxWaitMs: 0 })).rejects.toThrow(
      AutoPickerConfigError,
    );
    await expect(limiter.reserve("m", { tokens: Number.NaN }, { maxWaitMs: 0 })).rejects.toThrow(
      AutoPickerConfigError,
    );
  });

  it("stays cheap and exact at 10k RPM with a full window", async () => {
    const { limiter, clock } = setup();
    limiter.configure("m", { requestsPerMinute: 10_000 });
    for (let i = 0; i < 10_000; i++) {
      granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 0 }));
      if (i % 1000 === 999) await clock.advance(1000);
    }
    // The window is full; the first entry (at T0) leaves at T0 + 60 s.
    const d = granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 }));
    expect(d.startAt).toBe(T0 + 60_000);
  });
});

describe("RateLimiter.configure", () => {
  const { limiter } = setup();
  it.each([
    [{ requestsPerMinute: 0 }, /requestsPerMinute must be a positive finite number, got 0/],
    [{ tokensPerMinute: -1 }, /tokensPerMinute.*got -1.*Omit the field/],
    [{ requestsPerDay: Number.NaN }, /requestsPerDay.*NaN/],
    [{ tokensPerDay: Number.POSITIVE_INFINITY }, /tokensPerDay.*Infinity/],
    [{ windows: [{ unit: "calls", limit: 1, intervalMs: 1000 }] }, /windows\[0\]\.unit/],
    [{ windows: [{ unit: "requests", limit: 1, intervalMs: 0 }] }, /windows\[0\]\.intervalMs/],
    [{ dailyResetTimeZone: "Mars/Olympus" }, /not an IANA time zone/],
    [{ requestPerMinute: 5 }, /unknown field "requestPerMinute"/],
  ])("rejects %j", (limits, message) => {
    expect(() => limiter.configure("m", limits as never)).toThrow(AutoPickerConfigError);
    expect(() => limiter.configure("m", limits as never)).toThrow(message);
  });

  it("keeps the tighter of two limits on the same span", async () => {
    limiter.configure("m", {
      requestsPerMinute: 500,
      windows: [{ unit: "requests", limit: 400, intervalMs: 60_000 }],
    });
    const { dimensions } = await limiter.status("m");
    expect(dimensions).toEqual([expect.objectContaining({ name: "requests/min", limit: 400 })]);
  });
});

describe("RateLimiter.commit and cancel", () => {
  it("leaves the slot where it stands when the answer comes back: no re-stamp at response time", async () => {
    const { limiter, clock } = setup();
    limiter.configure("m", { requestsPerMinute: 1 });
    const a = granted(await limiter.acquire("m", { tokens: 0 }, { maxWaitMs: 0 }));
    // A 5-second answer: the provider counted the request when it arrived, not when it finished.
    await clock.advance(5000);
    await limiter.commit(a.ticket);
    expect(granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 })).startAt).toBe(T0 + 60_000);
  });

  it("refunds tokens when the actual use is below the estimate, and carries a debt above it", async () => {
    const { limiter } = setup();
    limiter.configure("m", { tokensPerMinute: 1000 });
    const a = granted(await limiter.reserve("m", { tokens: 800 }, { maxWaitMs: 0 }));
    await limiter.commit(a.ticket, 100);
    expect(granted(await limiter.reserve("m", { tokens: 800 }, { maxWaitMs: 0 })).waitMs).toBe(0);

    const { limiter: l2 } = setup();
    l2.configure("m", { tokensPerMinute: 1000 });
    const b = granted(await l2.reserve("m", { tokens: 100 }, { maxWaitMs: 0 }));
    await l2.commit(b.ticket, 900);
    expect(await l2.reserve("m", { tokens: 200 }, { maxWaitMs: 0 })).toMatchObject({ kind: "wait_too_long" });
    expect(granted(await l2.reserve("m", { tokens: 100 }, { maxWaitMs: 0 })).waitMs).toBe(0);
  });

  it("cancel refunds fully and lets the next caller take the slot; repeated or late calls are no-ops", async () => {
    const { limiter } = setup();
    limiter.configure("m", { requestsPerMinute: 1, tokensPerMinute: 500 });
    granted(await limiter.reserve("m", { tokens: 100 }, { maxWaitMs: 0 }));
    const queued = granted(await limiter.reserve("m", { tokens: 100 }, { maxWaitMs: 1e9 }));
    expect(queued.startAt).toBe(T0 + 60_000);
    await limiter.cancel(queued.ticket);
    await limiter.cancel(queued.ticket);
    await limiter.commit(queued.ticket, 400);
    const next = granted(await limiter.reserve("m", { tokens: 400 }, { maxWaitMs: 1e9 }));
    expect(next.startAt).toBe(T0 + 60_000);
    expect((await limiter.status("m")).dimensions.find((d) => d.unit === "tokens")?.used).toBe(500);
  });

  it("ignores tickets issued by another limiter", async () => {
    const store = new MemoryRateLimitStore();
    const clock = new VirtualClock({ startMs: T0, autoAdvance: false });
    const a = new RateLimiter({ store, clock, arrivalMarginMs: 0 });
    const b = new RateLimiter({ store, clock, arrivalMarginMs: 0 });
    a.configure("m", { requestsPerMinute: 1 });
    b.configure("m", { requestsPerMinute: 1 });
    const d = granted(await a.reserve("m", { tokens: 0 }, { maxWaitMs: 0 }));
    await b.cancel(d.ticket);
    expect(await a.reserve("m", { tokens: 0 }, { maxWaitMs: 0 })).toMatchObject({ kind: "wait_too_long" });
  });
});

describe("RateLimiter.blockUntil", () => {
  it("starts nothing before the hint, also for a model without limits, and names it when too long", async () => {
    const { limiter } = setup();
    await limiter.blockUntil("m", T0 + 26_000);
    expect(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 25_999 })).toEqual({
      kind: "wait_too_long",
      waitMs: 26_000,
      dimension: "retry_after",
    });
    expect(granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 26_000 })).startAt).toBe(
      T0 + 26_000,
    );
    expect((await limiter.status("m")).blockedUntil).toBe(T0 + 26_000);
    // An earlier hint never shortens a later one.
    await limiter.blockUntil("m", T0 + 1000);
    expect((await limiter.status("m")).blockedUntil).toBe(T0 + 26_000);
  });

  it("combines with the limits: the later of block and window wins", async () => {
    const { limiter } = setup();
    limiter.configure("m", { requestsPerMinute: 1 });
    granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 0 }));
    await limiter.blockUntil("m", T0 + 10_000);
    expect(granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 })).startAt).toBe(T0 + 60_000);
  });
});

describe("RateLimiter.learn", () => {
  it("fills in a limit when none is configured and respects remaining until the reset", async () => {
    const { limiter } = setup();
    await limiter.learn("m", { limitRequests: 3, remainingRequests: 0, resetRequestsMs: 20_000 });
    expect(granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 })).startAt).toBe(T0 + 20_000);
    expect((await limiter.status("m")).dimensions).toEqual([
      expect.objectContaining({ name: "requests/min", limit: 3, intervalMs: 60_000 }),
    ]);
  });

  it("narrows a configured limit but never widens one", async () => {
    const { limiter } = setup();
    limiter.configure("m", { requestsPerMinute: 500, tokensPerMinute: 30_000 });
    await limiter.learn("m", { limitRequests: 400, limitTokens: 2_000_000 });
    const dims = (await limiter.status("m")).dimensions;
    expect(dims.find((d) => d.unit === "requests")?.limit).toBe(400);
    expect(dims.find((d) => d.unit === "tokens")?.limit).toBe(30_000);
    // A later, larger report does not undo the narrowing either.
    await limiter.learn("m", { limitRequests: 450 });
    expect((await limiter.status("m")).dimensions.find((d) => d.unit === "requests")?.limit).toBe(400);
  });

  it("books a phantom so local room never exceeds the provider's remaining, held until its reset", async () => {
    const { limiter } = setup();
    limiter.configure("m", { requestsPerMinute: 10 });
    for (let i = 0; i < 2; i++) granted(await limiter.acquire("m", { tokens: 0 }, { maxWaitMs: 0 }));
    // The provider has counted 7 (ours plus some we do not know about): 3 left, full again in 30 s.
    await limiter.learn("m", { limitRequests: 10, remainingRequests: 3, resetRequestsMs: 30_000 });
    await limiter.learn("m", { limitRequests: 10, remainingRequests: 3, resetRequestsMs: 30_000 });
    for (let i = 0; i < 3; i++)
      expect(granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 0 })).waitMs).toBe(0);
    // The 4th waits for the phantom to leave at the reset, not for a whole window.
    expect(granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 })).startAt).toBe(T0 + 30_000);
  });

  it("does not believe in more room than the local log when the provider reports more", async () => {
    const { limiter } = setup();
    limiter.configure("m", { requestsPerMinute: 2 });
    for (let i = 0; i < 2; i++) granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 0 }));
    await limiter.learn("m", { remainingRequests: 2, resetRequestsMs: 1 });
    expect(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 59_999 })).toMatchObject({
      kind: "wait_too_long",
    });
  });

  it("counts booked-but-unsent calls against the provider's remaining", async () => {
    const { limiter } = setup();
    limiter.configure("m", { requestsPerMinute: 2 });
    granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 0 }));
    granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 0 }));
    const queued = granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 }));
    // Provider saw our 2: remaining 0 for 60 s. The queued call (t=60 s) must not be pushed further,
    // and no phantom should appear because what was sent matches.
    await limiter.learn("m", { remainingRequests: 0, resetRequestsMs: 60_000 });
    expect(queued.startAt).toBe(T0 + 60_000);
    expect(granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 })).startAt).toBe(T0 + 60_000);
  });

  it("applies retryAfterMs as a block and Groq-style per-day request figures to a per-day dimension", async () => {
    const { limiter } = setup();
    await limiter.learn("m", { retryAfterMs: 9_980 });
    expect((await limiter.status("m")).blockedUntil).toBe(T0 + 9_980);
    await limiter.learn("g", {
      limitRequests: 14_400,
      remainingRequests: 0,
      resetRequestsMs: 120_000,
      requestsIntervalMs: 86_400_000,
    });
    expect((await limiter.status("g")).dimensions).toEqual([
      expect.objectContaining({
        name: "requests/day",
        limit: 14_400,
        used: 14_400,
        nextFreeAt: T0 + 120_000,
      }),
    ]);
  });
});

describe("RateLimiter.acquire", () => {
  it("sleeps until the slot in virtual time and reports the total wait", async () => {
    const { limiter } = setup(true);
    limiter.configure("m", { requestsPerMinute: 1 });
    const first = granted(await limiter.acquire("m", { tokens: 0 }, { maxWaitMs: 0 }));
    await limiter.send(first.ticket, async () => undefined);
    const d = granted(await limiter.acquire("m", { tokens: 0 }, { maxWaitMs: 120_000 }));
    expect(d.waitMs).toBe(60_000);
  });

  it("a slot acquired but not yet sent counts as leaving now, until send() or commit() settles it", async () => {
    const { limiter, clock } = setup(true);
    limiter.configure("m", { requestsPerMinute: 1 });
    const first = granted(await limiter.acquire("m", { tokens: 0 }, { maxWaitMs: 0 }));
    // Nobody has seen its request leave: 90 s later it still holds the window from "now".
    await clock.sleep(90_000);
    expect(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 0 })).toMatchObject({
      kind: "wait_too_long",
    });
    await limiter.commit(first.ticket);
    const d = granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 }));
    expect(d.startAt).toBe(T0 + 150_000);
  });

  it("refunds the slot and rethrows when aborted while waiting", async () => {
    const { limiter, clock } = setup(false);
    limiter.configure("m", { requestsPerMinute: 1 });
    granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 0 }));
    const ac = new AbortController();
    const pending = limiter.acquire("m", { tokens: 0 }, { maxWaitMs: 1e9, signal: ac.signal });
    await clock.advance(1000);
    ac.abort(new Error("user gave up"));
    await expect(pending).rejects.toThrow("user gave up");
    // The refunded slot (t=60 s) is free again for the next caller.
    expect(granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 1e9 })).startAt).toBe(T0 + 60_000);
  });

  it("re-queues behind a retry hint that arrived while it slept", async () => {
    const { limiter, clock } = setup(false);
    limiter.configure("m", { requestsPerMinute: 1 });
    granted(await limiter.reserve("m", { tokens: 0 }, { maxWaitMs: 0 }));
    const pending = limiter.acquire("m", { tokens: 0 }, { maxWaitMs: 1e9 });
    while (clock.pendingTimers < 1) await new Promise((r) => setImmediate(r)); // asleep for its slot
    await clock.advance(1000);
    await limiter.blockUntil("m", T0 + 90_000);
    await clock.advance(200_000);
    const d = granted(await pending);
    expect(d.startAt).toBe(T0 + 90_000);
    expect(d.waitMs).toBe(90_000);
  });

  describe("RateLimiter.acquire: waits told", () => {
    it("tells a move exactly once, by the right amount, also one that lands while its wait is being told", async () => {
      const { limiter, clock } = setup(false);
      limiter.configure("m", { requestsPerMinute: 1 });
      // Sent at T0 (committed: a confirmed booking not yet seen on the wire holds its window open).
      await limiter.commit(granted(await limiter.acquire("m", { tokens: 0 }, { maxWaitMs: 0 })).ticket);
      const told: Array<[number, number | undefined]> = [];
      let cut: Promise<ReserveDecision> | undefined;
      const job = limiter.acquire(
        "m",
        { tokens: 0 },
        {
          maxWaitMs: 1e9,
          place: { priority: "batch" },
          onWait: async (waitMs, movedByMs) => {
            told.push([waitMs, movedByMs]);
            // While the first wait is being told (no sleep armed yet), an interactive call takes
            // the slot: the job must still hear of the move before it sleeps.
            if (told.length === 1) {
              cut = limiter.acquire(
                "m",
                { tokens: 0 },
                { maxWaitMs: 1e9, place: { priority: "interactive" } },
              );
              while (clock.pendingTimers < 1) await new Promise((r) => setImmediate(r));
            }
          },
        },
      );
      while (clock.pendingTimers < 2) await new Promise((r) => setImmediate(r));
      await clock.advance(61_000);
      await limiter.commit(granted(await cut!).ticket);
      await clock.advance(200_000);
      const d = granted(await job);
      expect(told).toEqual([
        [60_000, undefined],
        [120_000, 60_000],
      ]);
      expect(d.startAt).toBe(T0 + 120_000);
      expect(d.waitMs).toBe(120_000);
    });

    it("tells a slot moved earlier with a negative movedByMs", async () => {
      const { limiter, clock } = setup(false);
      limiter.configure("m", { tokensPerMinute: 1000 });
      granted(await limiter.reserve("m", { tokens: 1000 }, { maxWaitMs: 0 }));
      const b = granted(await limiter.reserve("m", { tokens: 1000 }, { maxWaitMs: 1e9 }));
      const told: Array<[number, number | undefined]> = [];
      const job = limiter.acquire(
        "m",
        { tokens: 10 },
        { maxWaitMs: 1e9, place: { priority: "batch" }, onWait: (w, m) => void told.push([w, m]) },
      );
      while (clock.pendingTimers < 1) await new Promise((r) => setImmediate(r));
      // The 1000-token booking ahead is given back; a higher-class arrival re-slots the queue,
      // and the job finds the gap a minute earlier.
      await limiter.cancel(b.ticket);
      const cut = limiter.acquire(
        "m",
        { tokens: 10 },
        { maxWaitMs: 1e9, place: { priority: "interactive" } },
      );
      while (clock.pendingTimers < 2) await new Promise((r) => setImmediate(r));
      await clock.advance(200_000);
      await cut;
      const d = granted(await job);
      expect(told[0]).toEqual([120_000, undefined]);
      expect(told[1]![1]).toBeLessThan(0);
      expect(told[0]![0] + told[1]![1]!).toBe(d.waitMs);
    });
  });
});
