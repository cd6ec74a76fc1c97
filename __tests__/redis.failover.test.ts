/**
 * ResilientRateLimitStore hand-overs (no Redis needed: the shared store is a memory store that can
 * be switched off): the local share starts from what this process sent through Redis; calls Redis
 * had booked re-book in the local share when they are due during an outage; at recovery the local
 * sends are recorded into Redis before anything is granted there, and local bookings still queued
 * re-book in Redis.
 */
import { MemoryRateLimitStore, type RateLimitStore, type WindowSpec } from "../src/limits";
import { ResilientRateLimitStore } from "../src/redis";

function flaky(): { store: RateLimitStore; inner: MemoryRateLimitStore; set(down: boolean): void } {
  const inner = new MemoryRateLimitStore();
  let down = false;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) =>
        down ? Promise.reject(new Error("connection lost")) : v.apply(target, args);
    },
  });
  return { store, inner, set: (d) => (down = d) };
}

const windows: WindowSpec[] = [
  { kind: "sliding", name: "requests/s", unit: "requests", limit: 4, intervalMs: 1000 },
];
const t = (now: number) => ({ key: "m", windows, now });

function setup() {
  const shared = flaky();
  const warnings: string[] = [];
  const store = new ResilientRateLimitStore({
    store: shared.store,
    failOpenShare: 0.5,
    // Probes happen only when a test says so (real time, which the test does not wait for).
    retryIntervalMs: 60_000,
    logger: { warn: (m) => warnings.push(m) },
  });
  const book = async (now: number) => {
    const r = await store.reserve({ ...t(now), tokens: 0, maxWaitMs: 1e9 });
    if (r.kind !== "granted") throw new Error(r.kind);
    return r;
  };
  const send = async (now: number) => {
    const r = await book(now);
    expect(await store.confirm({ ...t(Math.max(now, r.startAt)), entryId: r.entryId })).toEqual({ ok: true });
    return r;
  };
  return { shared, store, warnings, book, send };
}

describe("ResilientRateLimitStore hand-overs", () => {
  it("an outage's local share starts from the calls this process sent through Redis in the window", async () => {
    const { shared, store, send, book } = setup();
    await send(0);
    await send(100);
    shared.set(true);
    // The local share is 2 per second and both were used at 0 and 100 (through Redis).
    const r = await book(200);
    expect(r.entryId.startsWith("l:")).toBe(true);
    expect(r.startAt).toBe(1000);
    expect(store.degraded).toBe(true);
  });

  it("Redis-booked calls due during an outage re-book in the local share and wait there", async () => {
    const { shared, store, book } = setup();
    const queued = [await book(0), await book(0), await book(0), await book(0)];
    expect(queued.map((q) => q.entryId.slice(0, 2))).toEqual(["r:", "r:", "r:", "r:"]);
    shared.set(true);
    const answers = [];
    for (const q of queued) answers.push(await store.confirm({ ...t(0), entryId: q.entryId }));
    // Two fit the local share now; the other two wait for it instead of going on top of it.
    expect(answers).toEqual([
      { ok: true },
      { ok: true },
      { ok: false, retryAt: 1000 },
      { ok: false, retryAt: 1000 },
    ]);
    expect(await store.confirm({ ...t(1000), entryId: queued[2]!.entryId })).toEqual({ ok: true });
    // Commits and cancels reach the booking where it lives now.
    for (const q of queued) await store.commit({ ...t(1000), entryId: q.entryId });
    // The local log at 1000: the two sent at 0 have left; the other two stand at 1000.
    const status = await store.status(t(1000));
    expect(status.windows[0]!.used).toBe(2);
  });

  it("at recovery the local sends reach Redis first; the hand-over stays on the local share and records into Redis", async () => {
    const { shared, store, book, send } = setup();
    shared.set(true);
    await send(0);
    await send(0);
    const queuedLocally = await book(0);
    expect(queuedLocally.startAt).toBe(1000);
    shared.set(false);
    // Force the probe now (the interval is long): the next operation tries Redis again.
    (store as unknown as { outage: { retryAt: number } }).outage.retryAt = 0;
    // The probe records the two local sends into Redis. Then, for the longest window plus one
    // retry interval plus 2 s (1 s + 60 s + 2 s here), this process keeps to its local share...
    const during = await store.reserve({ ...t(10), tokens: 0, maxWaitMs: 1e9 });
    expect(store.degraded).toBe(false);
    expect((await shared.inner.status(t(10))).windows[0]!.used).toBe(2);
    expect(during).toMatchObject({ kind: "granted", startAt: 1000 });
    expect((during as { entryId: string }).entryId.startsWith("l:")).toBe(true);
    // ...and what it sends is recorded into Redis as it goes.
    expect(await store.confirm({ ...t(1000), entryId: queuedLocally.entryId })).toEqual({ ok: true });
    expect((await shared.inner.status(t(1000))).windows[0]!.used).toBe(1);
    // After the hand-over, a local booking still queued re-books in Redis when it is due.
    const late = await book(1000);
    expect(late.entryId.startsWith("l:")).toBe(true);
    expect(await store.confirm({ ...t(80_000), entryId: late.entryId })).toEqual({ ok: true });
    expect((await shared.inner.status(t(80_000))).windows[0]!.used).toBe(1);
    const fresh = await book(80_000);
    expect(fresh.entryId.startsWith("r:")).toBe(true);
  });
});

describe("ResilientRateLimitStore and queue places", () => {
  const batch = { rank: 2, tenant: "", weight: 1, agingMs: Number.POSITIVE_INFINITY };
  const interactive = { ...batch, rank: 0 };

  it("reports the bookings a higher class moved by their tickets' ids, through Redis and locally", async () => {
    const { shared, store } = setup();
    const reserve = (now: number, place: typeof batch) =>
      store.reserve({ ...t(now), tokens: 0, maxWaitMs: 1e9, place });
    const tickets: string[] = [];
    // 4 per second: 4 at 0, 4 at 1000, 2 at 2000.
    for (let i = 0; i < 10; i++) {
      const r = await reserve(0, batch);
      if (r.kind === "granted") tickets.push(r.entryId);
    }
    const r = await reserve(0, interactive);
    // It goes at 1000; the last batch call of 1000 moves to 2000.
    expect(r.kind === "granted" && r.startAt).toBe(1000);
    expect(r.kind === "granted" && r.moved).toEqual([{ entryId: tickets[7], startAt: 2000 }]);
    expect((await store.status(t(0))).queue).toEqual([
      { rank: 2, tenant: "", waiting: 10 },
      { rank: 0, tenant: "", waiting: 1 },
    ]);
    // A moved booking confirmed at its old start is told where it went.
    const moved = r.kind === "granted" ? r.moved![0]! : undefined;
    expect(await store.confirm({ ...t(1000), entryId: moved!.entryId })).toEqual({
      ok: false,
      retryAt: moved!.startAt,
      moved: true,
    });

    // During an outage the local share (2 per second) queues by place too.
    shared.set(true);
    const local: string[] = [];
    for (let i = 0; i < 5; i++) {
      const b = await reserve(5000, batch);
      if (b.kind === "granted") local.push(b.entryId);
    }
    const l = await reserve(5000, interactive);
    expect(l.kind === "granted" && l.entryId.startsWith("l:")).toBe(true);
    expect(l.kind === "granted" && l.moved).toEqual([{ entryId: local[3], startAt: 7000 }]);
  });
});
