import {
  MemoryRateLimitStore,
  PRIORITY_DIMENSION,
  type QueuePlace,
  RateLimiter,
  type ReserveDecision,
} from "../src/limits";
import { VirtualClock } from "../src/testing/virtualClock";

const T0 = Date.UTC(2026, 0, 1);
const WINDOW = { unit: "requests" as const, limit: 2, intervalMs: 1000 };

/** A virtual clock that counts the sleeps that ran to their end (a re-armed sleep is not one). */
class CountingClock extends VirtualClock {
  woken = 0;
  override async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    await super.sleep(ms, signal);
    this.woken++;
  }
}

function setup(store = new MemoryRateLimitStore()) {
  // Time jumps to the next sleeper once nothing runs: calls started in one turn queue together.
  const clock = new CountingClock({ startMs: T0 });
  const limiter = new RateLimiter({ clock, store, arrivalMarginMs: 0 });
  limiter.configure("m", { windows: [WINDOW] });
  return { clock, limiter, store };
}

/** Starts an acquire and records when (virtual ms after T0) and how it ended. */
function track(
  limiter: RateLimiter,
  clock: VirtualClock,
  place: Partial<QueuePlace>,
  opts: { maxWaitMs?: number; signal?: AbortSignal } = {},
) {
  const out: { at?: number; decision?: ReserveDecision; error?: unknown } = {};
  const p = limiter
    .acquire(
      "m",
      { tokens: 0 },
      { maxWaitMs: opts.maxWaitMs ?? 1e9, place, ...(opts.signal ? { signal: opts.signal } : {}) },
    )
    .then(
      async (d) => {
        out.at = clock.now() - T0;
        out.decision = d;
        // Sent and answered: until then a confirmed slot counts as "leaving now" (provisional).
        if (d.kind === "granted") await limiter.commit(d.ticket);
      },
      (e: unknown) => {
        out.at = clock.now() - T0;
        out.error = e;
      },
    );
  return Object.assign(out, { done: p });
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe("RateLimiter: priority lanes", () => {
  it("an interactive call behind a batch backlog takes the next free slot; each batch call sleeps once, to its new slot", async () => {
    const { clock, limiter } = setup();
    const batch = Array.from({ length: 8 }, () => track(limiter, clock, { priority: "batch" }));
    await flush();
    const interactive = track(limiter, clock, { priority: "interactive" });
    await flush();
    await Promise.all([...batch, interactive].map((t) => t.done));
    // Two per second: batch 0-1 were due at once; the interactive call takes the 1 s slot that
    // batch 2 had, and every later batch call moves one place later.
    expect(interactive.at).toBe(1000);
    expect(batch.map((b) => b.at)).toEqual([0, 0, 1000, 2000, 2000, 3000, 3000, 4000]);
    expect([...batch, interactive].every((t) => t.decision?.kind === "granted")).toBe(true);
    // One completed sleep per waiting call (batch 0-1 were due and did not sleep): the moved ones
    // were re-armed, not woken at their old slot.
    expect(clock.woken).toBe(7);
  });

  it("a call moved past its maxWaitMs gives its slot back and answers wait_too_long on priority", async () => {
    const { clock, limiter } = setup();
    const first = [
      track(limiter, clock, { priority: "batch" }),
      track(limiter, clock, { priority: "batch" }),
    ];
    const patient = track(limiter, clock, { priority: "batch" }, { maxWaitMs: 1500 });
    await flush();
    const urgent = [
      track(limiter, clock, { priority: "interactive" }),
      track(limiter, clock, { priority: "interactive" }),
    ];
    await flush();
    // Moved from 1 s to 2 s, beyond its 1.5 s: it answers now, without waiting for either slot.
    expect(patient.decision).toEqual({ kind: "wait_too_long", waitMs: 2000, dimension: PRIORITY_DIMENSION });
    expect(patient.at).toBe(0);
    expect((await limiter.status("m")).queue).toEqual([{ priority: "interactive", tenant: "", waiting: 2 }]);
    await Promise.all([...first, ...urgent].map((t) => t.done));
    expect(urgent.map((u) => u.at)).toEqual([1000, 1000]);
  });

  it("an abort during a re-armed sleep throws the signal's reason and frees the slot", async () => {
    const { clock, limiter } = setup();
    const ac = new AbortController();
    track(limiter, clock, { priority: "batch" });
    track(limiter, clock, { priority: "batch" });
    const victim = track(limiter, clock, { priority: "batch" }, { signal: ac.signal });
    await flush();
    track(limiter, clock, { priority: "interactive" });
    await flush();
    ac.abort(new Error("user left"));
    await victim.done;
    expect((victim.error as Error).message).toBe("user left");
    const queue = (await limiter.status("m")).queue;
    expect(queue).toEqual([{ priority: "interactive", tenant: "", waiting: 1 }]);
  });

  it("a call booked through another limiter on the same store learns of the move at its confirm and sleeps on once", async () => {
    const store = new MemoryRateLimitStore();
    const { clock, limiter: a } = setup(store);
    const b = new RateLimiter({ clock, store, arrivalMarginMs: 0 });
    b.configure("m", { windows: [WINDOW] });
    const batch = [0, 1, 2, 3].map(() => track(a, clock, { priority: "batch" }));
    await flush();
    const interactive = track(b, clock, { priority: "interactive" });
    await flush();
    await Promise.all([...batch, interactive].map((t) => t.done));
    expect(interactive.at).toBe(1000);
    // Batch 3 shared the 1 s slot with batch 2; limiter b's interactive call took it.
    expect(batch.map((t) => t.at)).toEqual([0, 0, 1000, 2000]);
    const last = batch[3]!.decision;
    expect(last?.kind === "granted" && last.waitMs).toBe(2000);
    // Limiter a never heard of the move: batch 3 woke at 1 s, confirmed, and slept on to 2 s
    // (batch 2, batch 3 twice, the interactive call: 4 sleeps; batch 0-1 were due at once).
    expect(clock.woken).toBe(4);
  });

  it("a call that has waited its aging time is no longer moved", async () => {
    const { clock, limiter } = setup();
    const batch = [0, 1, 2].map(() => track(limiter, clock, { priority: "batch", agingMs: 500 }));
    await flush();
    await clock.advance(600);
    const interactive = track(limiter, clock, { priority: "interactive" });
    await flush();
    await Promise.all([...batch, interactive].map((t) => t.done));
    // Batch 2 (slot 1 s) had waited 600 ms >= 500 ms: the interactive call goes with it, not before.
    expect(batch.map((t) => t.at)).toEqual([0, 0, 1000]);
    expect(interactive.at).toBe(1000);
  });
});

describe("RateLimiter: tenants", () => {
  it("weights 3:1 give the heavier tenant three slots for each of the other's", async () => {
    const { clock, limiter } = setup();
    const calls = [
      ...Array.from({ length: 12 }, () => ({
        tenant: "acme",
        t: track(limiter, clock, { tenant: "acme", weight: 3 }),
      })),
      ...Array.from({ length: 12 }, () => ({
        tenant: "free",
        t: track(limiter, clock, { tenant: "free", weight: 1 }),
      })),
    ];
    await flush();
    await Promise.all(calls.map((c) => c.t.done));
    // The first 8 slots (4 s at 2/s): 6 for acme, 2 for free.
    const early = calls.filter((c) => (c.t.at ?? Infinity) < 4000);
    expect(early.length).toBe(8);
    expect(early.filter((c) => c.tenant === "acme").length).toBe(6);
  });

  it("maxShare caps a tenant even alone, and others go in the slots it leaves", async () => {
    const { clock, limiter } = setup();
    const capped = Array.from({ length: 4 }, () => track(limiter, clock, { tenant: "free", maxShare: 0.5 }));
    await flush();
    const other = track(limiter, clock, { tenant: "acme" });
    await flush();
    await Promise.all([...capped, other].map((t) => t.done));
    // floor(2 * 0.5) = 1 per second for "free", although the limit is 2 and nobody else waits.
    expect(capped.map((t) => t.at)).toEqual([0, 1000, 2000, 3000]);
    // acme is not queued behind free's future slots.
    expect(other.at).toBe(0);
  });

  it("a tenant whose share can never hold the call is told at once", async () => {
    const { limiter } = setup();
    const d = await limiter.reserve(
      "m",
      { tokens: 0 },
      { maxWaitMs: 1e9, place: { tenant: "tiny", maxShare: 0.25 } },
    );
    expect(d).toEqual({
      kind: "never_fits",
      dimension: "requests/s (tenant share)",
      requested: 1,
      limit: 0,
    });
  });

  it("status shows the queue by class and tenant", async () => {
    const { clock, limiter } = setup();
    for (let i = 0; i < 4; i++) track(limiter, clock, { priority: "batch", tenant: "acme" });
    for (let i = 0; i < 3; i++) track(limiter, clock, { priority: "interactive", tenant: "free" });
    await flush();
    // Two batch calls went at once; the interactive ones took the next three slots.
    expect((await limiter.status("m")).queue).toEqual([
      { priority: "interactive", tenant: "free", waiting: 3 },
      { priority: "batch", tenant: "acme", waiting: 2 },
    ]);
  });
});
