/**
 * RedisRateLimitStore sends a model's concurrent reservations together: one script call per
 * burst (one re-slot of the queue instead of one per call), placed as if booked one by one; a
 * reservation that times out before it was sent is withdrawn, never booked, and one granted after
 * its caller gave up is cancelled.
 */
import type { Redis } from "ioredis";
import {
  MemoryRateLimitStore,
  type RateLimitStore,
  type StorePlace,
  type StoreReserveResult,
  type WindowSpec,
} from "../src/limits";
import { RedisRateLimitStore, type RedisScriptRunner, RedisTimeoutError } from "../src/redis";
import { ioredisScripts } from "../src/redis/scriptRunner";
import { VirtualClock } from "../src/testing/virtualClock";
import { closeClient, describeRedis, openClient, uniquePrefix } from "./redis.support";

const windows: WindowSpec[] = [
  { kind: "sliding", name: "requests/500ms", unit: "requests", limit: 20, intervalMs: 500 },
];
const NOW = 1_000_000;
const place = (tenant: string): StorePlace => ({
  rank: 1,
  tenant,
  weight: 1,
  agingMs: Number.POSITIVE_INFINITY,
});

/**
 * Records how many reservations each reserve script call carried, and which ops were sent and
 * answered; can hold calls until released.
 */
function countingRunner(inner: RedisScriptRunner) {
  const calls: number[] = [];
  const sent: string[] = [];
  const answered: string[] = [];
  let gate: Promise<void> | undefined;
  const runner: RedisScriptRunner = {
    async run(name, script, keys, args) {
      if (args[0] === "reserve") calls.push((JSON.parse(args[1]!) as { items: unknown[] }).items.length);
      if (gate) await gate;
      sent.push(args[0]!);
      const out = await inner.run(name, script, keys, args);
      answered.push(args[0]!);
      return out;
    },
  };
  return {
    runner,
    calls,
    sent,
    answered,
    /** Resolves once `n` reservations have been answered (checked each macrotask). */
    untilAnswered(n: number): Promise<void> {
      return new Promise<void>((resolve) => {
        const poll = () =>
          answered.filter((op) => op === "reserve").length >= n ? resolve() : setImmediate(poll);
        poll();
      });
    },
    hold(): () => void {
      let release!: () => void;
      gate = new Promise<void>((r) => {
        release = r;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

/** Every booking's start after the calls, following the moves each grant reports. */
function starts(results: readonly StoreReserveResult[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of results) if (r.kind === "granted") out.set(r.entryId, r.startAt);
  for (const r of results) {
    if (r.kind !== "granted") continue;
    for (const m of r.moved ?? []) out.set(m.entryId, m.startAt);
  }
  return out;
}

describeRedis("RedisRateLimitStore: concurrent reservations", () => {
  let client: Redis;
  const prefix = uniquePrefix("batch");
  let n = 0;

  beforeAll(async () => {
    client = await openClient();
  });
  afterAll(() => closeClient(client, prefix));

  const redisStore = (runner: RedisScriptRunner, timeoutMs = 5000) =>
    new RedisRateLimitStore({
      client: runner,
      clock: new VirtualClock({ autoAdvance: false, startMs: NOW }),
      keyPrefix: `${prefix}${n++}:`,
      staleBookingMs: Number.POSITIVE_INFINITY,
      timeoutMs,
    });
  const reserve = (store: RateLimitStore, tenant: string, maxWaitMs = Number.POSITIVE_INFINITY) =>
    store.reserve({ key: "m", windows, now: NOW, tokens: 1, maxWaitMs, place: place(tenant) });

  it("a burst landing mid-queue is one script call, placed as if booked one by one", async () => {
    const counted = countingRunner(ioredisScripts(client));
    const redis = redisStore(counted.runner);
    const memory = new MemoryRateLimitStore();
    const results: StoreReserveResult[][] = [[], []];
    // Tenant a queues 100 calls one at a time (5 windows); then b's 40 come at once, each of
    // them due before most of a's.
    for (let i = 0; i < 100; i++) {
      results[0]!.push(await reserve(redis, "a"));
      results[1]!.push(await reserve(memory, "a"));
    }
    counted.calls.length = 0;
    results[0]!.push(...(await Promise.all(Array.from({ length: 40 }, () => reserve(redis, "b")))));
    for (let i = 0; i < 40; i++) results[1]!.push(await reserve(memory, "b"));
    // The first goes alone; the 39 made while it was in flight go together.
    expect(counted.calls).toEqual([1, 39]);
    // Entry ids differ between stores: compare the starts in booking order.
    const order = (r: StoreReserveResult[]) => {
      const s = starts(r);
      return r.map((x) => (x.kind === "granted" ? s.get(x.entryId) : x.kind));
    };
    const got = order(results[0]!);
    expect(got).toEqual(order(results[1]!));
    // And b's calls really went before most of a's: 10 of each per 500 ms window, so b's 40 are
    // all due within 4 windows (FIFO would start them after a's 5).
    expect(Math.max(...(got.slice(100) as number[]))).toBeLessThan(NOW + 4 * 500);
  });

  it("refuses, inside a burst, the calls the same calls one by one would be refused, and books nothing for them", async () => {
    const redis = redisStore(ioredisScripts(client));
    const memory = new MemoryRateLimitStore();
    for (let i = 0; i < 60; i++) {
      await reserve(redis, "a");
      await reserve(memory, "a");
    }
    // b may wait at most 700 ms: the current window's 20 are due now (never moved), the next
    // window can go to b (nothing of a was sent, so b's tags start below a's), later ones cannot.
    const burst = await Promise.all(Array.from({ length: 30 }, () => reserve(redis, "b", 700)));
    const oneByOne: StoreReserveResult[] = [];
    for (let i = 0; i < 30; i++) oneByOne.push(await reserve(memory, "b", 700));
    const kinds = (rs: StoreReserveResult[]) => rs.map((r) => r.kind);
    expect(kinds(burst)).toEqual(kinds(oneByOne));
    const granted = burst.filter((r) => r.kind === "granted").length;
    expect(granted).toBeGreaterThan(0);
    expect(granted).toBeLessThan(30);
    for (const r of burst) if (r.kind === "granted") expect(r.waitMs).toBeLessThanOrEqual(700);
    const status = await redis.status({ key: "m", windows, now: NOW });
    const waiting = Object.fromEntries(status.queue!.map((q) => [q.tenant, q.waiting]));
    expect(waiting).toEqual({ a: 60, b: granted });
  });

  it("withdraws a reservation that timed out before it was sent, and cancels one granted after its caller gave up", async () => {
    const counted = countingRunner(ioredisScripts(client));
    const redis = redisStore(counted.runner, 50);
    const release = counted.hold();
    const first = reserve(redis, "a");
    const second = reserve(redis, "a");
    // The first is in flight (held); the second waits behind it and times out there.
    await expect(second).rejects.toBeInstanceOf(RedisTimeoutError);
    await expect(first).rejects.toBeInstanceOf(RedisTimeoutError);
    release();
    // The held call does reach Redis and is granted; nobody waits for it any more, so the store
    // cancels it as the grant arrives (the cancel goes out before this macrotask runs). The
    // withdrawn one is never sent.
    await counted.untilAnswered(1);
    const status = await redis.status({ key: "m", windows, now: NOW });
    expect(counted.sent).toEqual(["reserve", "cancel", "status"]);
    expect(status.queue ?? []).toEqual([]);
    expect(counted.calls).toEqual([1]);
  });

  it("cancels a queued reservation granted after its own timeout ran out, before its script call's", async () => {
    const counted = countingRunner(ioredisScripts(client));
    const redis = redisStore(counted.runner, 1000);
    const releaseFirst = counted.hold();
    const first = reserve(redis, "a");
    const second = reserve(redis, "a");
    // The first is answered well within its time; the second, sent after it, is held past its
    // own timeout and granted then, 400 ms before its script call would have timed out.
    await new Promise((r) => setTimeout(r, 400));
    releaseFirst();
    const releaseSecond = counted.hold();
    await expect(first).resolves.toMatchObject({ kind: "granted" });
    await expect(second).rejects.toBeInstanceOf(RedisTimeoutError);
    releaseSecond();
    await counted.untilAnswered(2);
    const status = await redis.status({ key: "m", windows, now: NOW });
    expect(counted.sent).toEqual(["reserve", "reserve", "cancel", "status"]);
    expect(status.queue).toEqual([{ rank: 1, tenant: "a", waiting: 1 }]);
  });
});
