/**
 * Priority classes and tenants through the picker: validated options and call settings, the place
 * each call takes in the limiter's queue, per-class wait caps, and where class and tenant show
 * (decision trail, wait events, stats, provider status). The scheduling itself is the limiter's
 * (limits.* tests); here the limiter and store are spied on, on a virtual clock.
 */
import { AIMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { AutoPickerConfigError } from "../src/errors";
import {
  MemoryRateLimitStore,
  type StoreConfirmRequest,
  type StoreConfirmResult,
  type StoreReserveRequest,
  type StoreReserveResult,
  type StoreStatus,
  type StoreTarget,
} from "../src/limits";
import type { Priority, QueuePlace } from "../src/limits/priority";
import { RateLimiter } from "../src/limits/rateLimiter";
import type { StorePlace } from "../src/limits/store";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";
import type { WaitEvent } from "../src/model/events";
import { getDecisionTrail } from "../src/model/trail";
import type { AutoPickerChatModelInput, ModelEntry } from "../src/model/types";
import { VirtualClock } from "../src/testing/virtualClock";
import { EventLog } from "./support/picker";

const A = "fake/a";
const B = "fake/b";

/** A fake model answering `n` calls, each with a fresh message naming it. */
function fake(name: string, limits?: ModelEntry["limits"], n = 20): ModelEntry {
  const model = fakeModel();
  for (let i = 0; i < n; i++) model.respond(() => new AIMessage(`from ${name}`));
  return { model, name, maxInputTokens: 10_000, ...(limits ? { limits } : {}) };
}

/** One request per 5 s on A: the second call in a window waits 5 s (plus the arrival margin). */
const ONE_PER_5S = { windows: [{ unit: "requests" as const, limit: 1, intervalMs: 5_000 }] };

/** Records what every `acquire` was asked for. */
class RecordingLimiter extends RateLimiter {
  readonly seen: Array<{ model: string; maxWaitMs: number; place: Partial<QueuePlace> | undefined }> = [];
  override acquire(...args: Parameters<RateLimiter["acquire"]>): ReturnType<RateLimiter["acquire"]> {
    const [model, , options] = args;
    this.seen.push({ model, maxWaitMs: options.maxWaitMs, place: options.place });
    return super.acquire(...args);
  }
}

/**
 * The in-process store, plus what a scheduling store reports: the place of every reservation, and
 * the bookings granted and not yet sent by class (rank) and tenant.
 */
class QueueReportingStore extends MemoryRateLimitStore {
  readonly places: StorePlace[] = [];
  private readonly open = new Map<string, StorePlace>();
  override async reserve(req: StoreReserveRequest): Promise<StoreReserveResult> {
    const r = await super.reserve(req);
    if (req.place) this.places.push(req.place);
    if (r.kind === "granted" && req.place) this.open.set(`${req.key}\0${r.entryId}`, req.place);
    return r;
  }
  override async confirm(req: StoreConfirmRequest): Promise<StoreConfirmResult> {
    const r = await super.confirm(req);
    if (r.ok) this.open.delete(`${req.key}\0${req.entryId}`);
    return r;
  }
  override async status(req: StoreTarget): Promise<StoreStatus> {
    const s = await super.status(req);
    const counts = new Map<string, { rank: number; tenant: string; waiting: number }>();
    for (const [k, p] of this.open) {
      if (!k.startsWith(`${req.key}\0`)) continue;
      const id = `${p.rank}\0${p.tenant}`;
      const c = counts.get(id) ?? { rank: p.rank, tenant: p.tenant, waiting: 0 };
      c.waiting++;
      counts.set(id, c);
    }
    return { ...s, queue: [...counts.values()] };
  }
}

function picker(options: Partial<AutoPickerChatModelInput> & { clock?: VirtualClock } = {}) {
  const clock = options.clock ?? new VirtualClock();
  const llm = new AutoPickerChatModel({
    primary: fake(A, ONE_PER_5S),
    fallbacks: [fake(B)],
    jitter: "none",
    logger: { warn: () => undefined },
    ...options,
    clock,
  });
  return { llm, clock };
}

const configError = (options: Partial<AutoPickerChatModelInput> & { clock?: VirtualClock }) => {
  try {
    picker(options);
  } catch (error) {
    expect(error).toBeInstanceOf(AutoPickerConfigError);
    return (error as Error).message;
  }
  throw new Error("expected an AutoPickerConfigError");
};

describe("options: tenants and priorities", () => {
  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("tenants.acme.weight %p is refused", (weight) => {
    expect(configError({ tenants: { acme: { weight } } })).toContain(
      `tenants.acme.weight must be a finite number > 0, got ${weight}.`,
    );
  });

  it.each([0, 1.5, -0.2, Number.NaN])("tenants.free.maxShare %p is refused", (maxShare) => {
    expect(configError({ tenants: { free: { maxShare } } })).toContain(
      `tenants.free.maxShare must be in (0, 1], got ${maxShare}.`,
    );
  });

  it("an unknown tenant option gets a did-you-mean; a tenant must be an object with a non-empty name", () => {
    expect(configError({ tenants: { acme: { wieght: 3 } as never } })).toContain(
      "tenants.acme.wieght: unknown option (did you mean weight?)",
    );
    expect(configError({ tenants: { acme: 3 as never } })).toContain("tenants.acme must be an object");
    expect(configError({ tenants: { "": { weight: 2 } } })).toContain(
      'tenants must name each tenant with a non-empty string (not ""), got an object.',
    );
    expect(configError({ tenants: [] as never })).toContain("tenants must be an object of tenants");
  });

  it("an unknown class in priorities is refused, with a did-you-mean", () => {
    expect(configError({ priorities: { btach: { maxWaitSeconds: 1 } } as never })).toContain(
      "priorities.btach: unknown option (did you mean batch?)",
    );
    expect(configError({ priorities: { urgent: {} } as never })).toContain(
      "priorities.urgent: unknown option (known: interactive, normal, batch)",
    );
    expect(configError({ priorities: { normal: { maxWait: 5 } } as never })).toContain(
      "priorities.normal.maxWait: unknown option (did you mean maxWaitSeconds?)",
    );
  });

  it("per-class maxWaitSeconds >= 0 and finite, agingSeconds > 0 (Infinity allowed)", () => {
    expect(configError({ priorities: { batch: { maxWaitSeconds: -1 } } })).toContain(
      "priorities.batch.maxWaitSeconds must be a finite number of seconds >= 0, got -1.",
    );
    expect(configError({ priorities: { batch: { maxWaitSeconds: Number.NaN } } })).toContain(
      "priorities.batch.maxWaitSeconds must be a finite number of seconds >= 0, got NaN.",
    );
    for (const agingSeconds of [0, -5, Number.NaN]) {
      expect(configError({ priorities: { normal: { agingSeconds } } })).toContain(
        `priorities.normal.agingSeconds must be a number of seconds > 0 (Infinity: never), got ${agingSeconds}.`,
      );
    }
    expect(() =>
      picker({
        priorities: { normal: { agingSeconds: Number.POSITIVE_INFINITY, maxWaitSeconds: 0 } },
        tenants: { acme: { weight: 0.5, maxShare: 1 } },
      }),
    ).not.toThrow();
  });
});

describe("call settings: autopicker.priority / .tenant and run metadata", () => {
  it("an unknown class in the call option is refused before anything is counted or sent", async () => {
    const { llm } = picker();
    const inner = llm.models[0]!.model as ReturnType<typeof fakeModel>;
    await expect(llm.invoke("hi", { autopicker: { priority: "urgent" as Priority } })).rejects.toThrow(
      new AutoPickerConfigError(
        'Invalid call options: autopicker.priority must be one of "interactive", "normal", "batch", got "urgent".',
      ),
    );
    await expect(llm.invoke("hi", { autopicker: { priority: "interactve" as Priority } })).rejects.toThrow(
      /autopicker\.priority .*got "interactve" \(did you mean "interactive"\?\)/,
    );
    expect(llm.stats.totalRequests).toBe(0);
    expect(inner.callCount).toBe(0);
  });

  it("an unknown class in run metadata is refused, naming metadata.autopicker_priority (invoke and stream)", async () => {
    const { llm } = picker();
    await expect(llm.invoke("hi", { metadata: { autopicker_priority: "Batch " } })).rejects.toThrow(
      /^Invalid run metadata: metadata\.autopicker_priority must be one of .*got "Batch " \(did you mean "batch"\?\)\.$/,
    );
    const stream = async () => {
      for await (const _ of await llm.stream("hi", { metadata: { autopicker_priority: "urgent" } })) {
        // nothing arrives
      }
    };
    await expect(stream()).rejects.toThrow(/metadata\.autopicker_priority must be one of/);
    await expect(stream()).rejects.toBeInstanceOf(AutoPickerConfigError);
    expect(llm.stats.totalRequests).toBe(0);
  });

  it("a tenant must be a non-empty string (call option and metadata)", async () => {
    const { llm } = picker();
    await expect(llm.invoke("hi", { autopicker: { tenant: "" } })).rejects.toThrow(
      'autopicker.tenant must be a non-empty string, got "".',
    );
    await expect(llm.invoke("hi", { autopicker: { tenant: 7 as unknown as string } })).rejects.toThrow(
      "autopicker.tenant must be a non-empty string, got 7.",
    );
    await expect(llm.invoke("hi", { metadata: { autopicker_tenant: 42 } })).rejects.toThrow(
      "metadata.autopicker_tenant must be a non-empty string, got 42.",
    );
    await expect(llm.invoke("hi", { metadata: { autopicker_tenant: "" } })).rejects.toBeInstanceOf(
      AutoPickerConfigError,
    );
  });
});

describe("the place each call takes in the limiter's queue", () => {
  it("class, tenant, weight, maxShare and aging reach limiter.acquire, with the class's maxWait", async () => {
    const clock = new VirtualClock();
    const limiter = new RecordingLimiter({ clock });
    const { llm } = picker({
      clock,
      rateLimiter: limiter,
      // 10 a minute: free's 20% share is 2 a minute (a share below one call would never fit).
      primary: fake(A, { requestsPerMinute: 10 }),
      maxWaitSeconds: 120,
      tenants: { acme: { weight: 3 }, free: { weight: 1, maxShare: 0.2 } },
      priorities: { batch: { maxWaitSeconds: 3600, agingSeconds: 60 } },
    });
    await llm.invoke("default");
    await llm.invoke("chat", { autopicker: { priority: "interactive", tenant: "acme" } });
    await llm.invoke("nightly", { autopicker: { priority: "batch", tenant: "free" } });
    await llm.invoke("stranger", { autopicker: { tenant: "zed" } }); // not configured: weight 1
    expect(limiter.seen).toEqual([
      {
        model: A,
        maxWaitMs: 120_000,
        place: { priority: "normal", tenant: "", weight: 1, agingMs: 300_000 },
      },
      {
        model: A,
        maxWaitMs: 120_000,
        place: { priority: "interactive", tenant: "acme", weight: 3, agingMs: Number.POSITIVE_INFINITY },
      },
      {
        model: A,
        maxWaitMs: 3_600_000,
        place: { priority: "batch", tenant: "free", weight: 1, maxShare: 0.2, agingMs: 60_000 },
      },
      {
        model: A,
        maxWaitMs: 120_000,
        place: { priority: "normal", tenant: "zed", weight: 1, agingMs: 300_000 },
      },
    ]);
  });

  it("run metadata sets class and tenant; the call option wins over it, field by field", async () => {
    const clock = new VirtualClock();
    const limiter = new RecordingLimiter({ clock });
    const { llm } = picker({ clock, rateLimiter: limiter, tenants: { acme: { weight: 2 } } });
    const metadata = { autopicker_priority: "batch", autopicker_tenant: "acme" };
    await llm.invoke("from an agent", { metadata });
    await llm.invoke("overridden", { metadata, autopicker: { priority: "interactive" } });
    expect(limiter.seen.map((s) => s.place)).toEqual([
      { priority: "batch", tenant: "acme", weight: 2, agingMs: 900_000 },
      { priority: "interactive", tenant: "acme", weight: 2, agingMs: Number.POSITIVE_INFINITY },
    ]);
  });

  it("the store gets the place as numbers (rank, tenant, weight, maxShare, aging)", async () => {
    const clock = new VirtualClock();
    const store = new QueueReportingStore();
    const { llm } = picker({
      clock,
      rateLimiter: new RateLimiter({ clock, store }),
      primary: fake(A, { requestsPerMinute: 10 }),
      tenants: { free: { maxShare: 0.5, weight: 2 } },
    });
    await llm.invoke("x", { autopicker: { priority: "batch", tenant: "free" } });
    expect(store.places).toEqual([{ rank: 2, tenant: "free", weight: 2, maxShare: 0.5, agingMs: 900_000 }]);
  });
});

describe("tenant shares", () => {
  it("a tenant whose maxShare of a limit is below one call is never sent to that model: the next model answers", async () => {
    // One call per 5 s: a 20% share is 0.2 calls, so "free" can never use the primary.
    const { llm } = picker({ tenants: { free: { maxShare: 0.2 } } });
    const answer = await llm.invoke("hi", { autopicker: { tenant: "free" } });
    const trail = getDecisionTrail(answer)!;
    expect(trail.model).toBe(B);
    expect(trail.attempts[0]!.outcome).toBe("skipped:never_fits(requests/5000ms (tenant share) 1>0)");
    // Other tenants still use it.
    expect(getDecisionTrail(await llm.invoke("hi", { autopicker: { tenant: "acme" } }))!.model).toBe(A);
  });
});

describe("per-class maxWaitSeconds", () => {
  it("a batch call capped at 1 s falls back from a 5 s wait, while a normal call waits it out", async () => {
    const { llm, clock } = picker({ priorities: { batch: { maxWaitSeconds: 1 } } });
    await llm.invoke("fills the window"); // A's one request per 5 s
    const t0 = clock.now();
    const batch = await llm.invoke("nightly", { autopicker: { priority: "batch" } });
    expect(getDecisionTrail(batch)).toMatchObject({
      model: B,
      priority: "batch",
      fallback_reason: "rate_limit",
      attempts: [
        { model: A, outcome: expect.stringMatching(/^skipped:wait_too_long\(5\d{3}ms/) },
        { model: B },
      ],
    });
    expect(clock.now()).toBe(t0); // refused at once, no sleep
    const normal = await llm.invoke("chat");
    expect(getDecisionTrail(normal)).toMatchObject({ model: A, priority: "normal" });
    expect(clock.now() - t0).toBeGreaterThanOrEqual(5_000);
    expect(llm.stats.fallbacksByReason).toEqual({ rate_limit: 1 });
  });

  it("the class's cap holds for a provider's retry hint too", async () => {
    const rateLimited = () =>
      Object.assign(new Error("Rate limit reached. Please try again in 3s."), { status: 429 });
    const primary = (): ModelEntry => {
      const model = fakeModel()
        .respond(rateLimited())
        .respond(() => new AIMessage("from a"));
      return { model, name: A, maxInputTokens: 10_000 };
    };
    const batchCapped = picker({ primary: primary(), priorities: { batch: { maxWaitSeconds: 2 } } });
    const batch = await batchCapped.llm.invoke("x", { autopicker: { priority: "batch" } });
    expect(getDecisionTrail(batch)).toMatchObject({ model: B, fallback_reason: "rate_limit" });

    const normalCall = picker({ primary: primary(), priorities: { batch: { maxWaitSeconds: 2 } } });
    const normal = await normalCall.llm.invoke("x");
    expect(getDecisionTrail(normal)).toMatchObject({ model: A, waited_ms: 3_000 });
  });
});

describe("class and tenant, visible", () => {
  it("the decision trail: priority always, tenant when named (served and degraded answers)", async () => {
    const { llm } = picker();
    const plain = getDecisionTrail(await llm.invoke("plain"))!;
    expect(plain.priority).toBe("normal");
    expect(plain).not.toHaveProperty("tenant");
    const named = getDecisionTrail(
      await llm.invoke("named", { autopicker: { priority: "interactive", tenant: "acme" } }),
    )!;
    expect(named).toMatchObject({ model: A, priority: "interactive", tenant: "acme" });
    // Once per call, not per attempt.
    expect(Object.keys(named.attempts[0]!)).toEqual(["model", "outcome", "waited_ms"]);

    const failing = picker({
      primary: { model: fakeModel().alwaysThrow(new Error("boom")), name: A, maxInputTokens: 10_000 },
      fallbacks: [],
      maxRetries: 0,
      onAllFailed: () => "stand-in",
    });
    const degraded = getDecisionTrail(
      await failing.llm.invoke("x", { metadata: { autopicker_priority: "batch", autopicker_tenant: "t1" } }),
    );
    expect(degraded).toMatchObject({ model: "none", degraded: true, priority: "batch", tenant: "t1" });
  });

  it("onWait, rate_limit_wait and llm.stats carry the waiting call's class and tenant", async () => {
    const { llm } = picker({ tenants: { acme: { weight: 3 }, free: { maxShare: 0.2 } } });
    const waits: WaitEvent[] = [];
    llm.onWait((e) => waits.push(e));
    const log = new EventLog();
    await llm.invoke("first"); // no wait
    await llm.invoke("chat", { callbacks: [log], autopicker: { priority: "interactive", tenant: "acme" } });
    await llm.invoke("job", { callbacks: [log], autopicker: { priority: "batch" } });

    expect(waits).toEqual([
      { model: A, waitMs: expect.any(Number), cause: "rate_limit", priority: "interactive", tenant: "acme" },
      { model: A, waitMs: expect.any(Number), cause: "rate_limit", priority: "batch" },
    ]);
    expect(log.named("rate_limit_wait")).toEqual([
      { model: A, wait_ms: expect.any(Number), cause: "rate_limit", priority: "interactive", tenant: "acme" },
      { model: A, wait_ms: expect.any(Number), cause: "rate_limit", priority: "batch" },
    ]);
    const [chat, job] = waits.map((w) => w.waitMs / 1000) as [number, number];
    expect(chat).toBeGreaterThan(4.9);
    const stats = llm.stats;
    expect(stats.waitsByPriority).toEqual({
      interactive: { rateLimitWaits: 1, totalWaitSeconds: chat },
      normal: { rateLimitWaits: 0, totalWaitSeconds: 0 },
      batch: { rateLimitWaits: 1, totalWaitSeconds: job },
    });
    // Configured tenants are listed from the start; calls naming none are not listed.
    expect(stats.waitsByTenant).toEqual({
      acme: { rateLimitWaits: 1, totalWaitSeconds: chat },
      free: { rateLimitWaits: 0, totalWaitSeconds: 0 },
    });
    expect(stats.rateLimitWaits).toBe(2);
  });

  it("a call moved later by a higher-class arrival says so (a `moved` wait), and stats count its wait once, at its full length", async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const { llm } = picker({ clock });
    const waits: WaitEvent[] = [];
    llm.onWait((e) => waits.push(e));
    const log = new EventLog();
    await llm.invoke("fills the window");
    const job = llm.invoke("job", { callbacks: [log], autopicker: { priority: "batch" } });
    while (clock.pendingTimers < 1) await new Promise((r) => setImmediate(r));
    const chat = llm.invoke("chat", { callbacks: [log], autopicker: { priority: "interactive" } });
    while (clock.pendingTimers < 2) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 3; i++) await clock.advance(6_000);
    const [jobReply] = await Promise.all([job, chat]);

    // The batch call's wait, then its move (told as the chat's reservation moved it), the chat's.
    expect(waits.map((w) => `${w.priority}:${w.cause}`)).toEqual([
      "batch:rate_limit",
      "batch:moved",
      "interactive:rate_limit",
    ]);
    const [first, moved, second] = waits as [WaitEvent, WaitEvent, WaitEvent];
    // The chat took the batch call's slot: the batch call sleeps on to the next one, 5 s later.
    expect(moved).toEqual({
      model: A,
      waitMs: first.waitMs + (moved.movedByMs ?? 0),
      cause: "moved",
      movedByMs: expect.any(Number),
      priority: "batch",
    });
    expect(moved.movedByMs).toBeGreaterThanOrEqual(5_000);
    expect(log.named("rate_limit_wait")).toEqual([
      { model: A, wait_ms: Math.round(first.waitMs), cause: "rate_limit", priority: "batch" },
      {
        model: A,
        wait_ms: Math.round(moved.waitMs),
        cause: "moved",
        moved_by_ms: Math.round(moved.movedByMs!),
        priority: "batch",
      },
      { model: A, wait_ms: Math.round(second.waitMs), cause: "rate_limit", priority: "interactive" },
    ]);
    // One wait for the batch call, as long as it really waited (what its decision trail says).
    const waited = getDecisionTrail(jobReply)!.attempts[0]!.waited_ms;
    expect(waited).toBe(Math.round(first.waitMs + moved.movedByMs!));
    expect(llm.stats.waitsByPriority.batch.rateLimitWaits).toBe(1);
    expect(llm.stats.waitsByPriority.batch.totalWaitSeconds * 1000).toBeCloseTo(waited, 0);
    expect(llm.stats.rateLimitWaits).toBe(2);
  });

  it("a move another replica made, learned only at send time, is told the same way", async () => {
    /** Says once, at send time, that a higher-class call elsewhere took the slot: 3 s later. */
    class MovedElsewhere extends MemoryRateLimitStore {
      moves = 0;
      override async confirm(req: StoreConfirmRequest): Promise<StoreConfirmResult> {
        if (this.moves++ === 1) return { ok: false, retryAt: req.now + 3_000, moved: true };
        return super.confirm(req);
      }
    }
    const clock = new VirtualClock();
    const { llm } = picker({ clock, rateLimiter: new RateLimiter({ clock, store: new MovedElsewhere() }) });
    const waits: WaitEvent[] = [];
    llm.onWait((e) => waits.push(e));
    await llm.invoke("fills the window");
    const reply = await llm.invoke("job", { autopicker: { priority: "batch" } });
    const [first, moved] = waits as [WaitEvent, WaitEvent];
    expect(waits.map((w) => w.cause)).toEqual(["rate_limit", "moved"]);
    expect(moved).toMatchObject({ waitMs: 3_000, movedByMs: 3_000, priority: "batch" });
    const waited = getDecisionTrail(reply)!.attempts[0]!.waited_ms;
    expect(waited).toBe(Math.round(first.waitMs + 3_000));
    expect(llm.stats.waitsByPriority.batch).toEqual({ rateLimitWaits: 1, totalWaitSeconds: waited / 1000 });

    // A call that was due at once and is moved is simply waiting: one plain wait.
    const store = new MovedElsewhere();
    store.moves = 1;
    const other = picker({ clock, rateLimiter: new RateLimiter({ clock, store }) }).llm;
    const told: WaitEvent[] = [];
    other.onWait((e) => told.push(e));
    await other.invoke("due at once");
    expect(told).toEqual([{ model: A, waitMs: 3_000, cause: "rate_limit", priority: "normal" }]);
    expect(other.stats.rateLimitWaits).toBe(1);
  });

  it("getProviderStatus() shows each model's queue by class and tenant", async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const store = new QueueReportingStore();
    const { llm } = picker({ clock, rateLimiter: new RateLimiter({ clock, store }) });
    await llm.invoke("fills the window");
    const status = async () =>
      Object.fromEntries((await llm.getProviderStatus()).map((s) => [s.name, s.queue]));
    expect(await status()).toEqual({ [A]: [], [B]: [] });

    const queued = [
      llm.invoke("a", { autopicker: { priority: "batch" } }),
      llm.invoke("b", { autopicker: { priority: "interactive", tenant: "acme" } }),
      llm.invoke("c", { autopicker: { priority: "interactive", tenant: "acme" } }),
    ];
    while (clock.pendingTimers < 3) await new Promise((r) => setImmediate(r));
    expect(await status()).toEqual({
      [A]: [
        { priority: "interactive", tenant: "acme", waiting: 2 },
        { priority: "batch", tenant: "", waiting: 1 },
      ],
      [B]: [],
    });
    for (let i = 0; i < 4; i++) await clock.advance(6_000);
    await Promise.all(queued);
    expect(await status()).toEqual({ [A]: [], [B]: [] });
  });
});
