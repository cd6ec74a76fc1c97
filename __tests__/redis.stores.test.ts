/** RedisBudgetStore, RedisModelHealthStore and the rate-limit store's Redis specifics (keys, TTLs, NOSCRIPT, server time). */
import type { Redis } from "ioredis";
import { RateLimiter } from "../src/limits";
import { MemoryModelHealthStore } from "../src/model/healthStore";
import { RedisBudgetStore, RedisModelHealthStore, RedisRateLimitStore } from "../src/redis";
import { budgetDifferential } from "./redis.storeProperties";
import { closeClient, connect, describeRedis, openClient, uniquePrefix } from "./redis.support";
import { describeRedisServer, PrivateRedis } from "./support/redisServer";

describeRedis("Redis stores", () => {
  let client: Redis;
  const prefix = uniquePrefix("stores");
  let n = 0;
  const next = () => `${prefix}${n++}:`;

  beforeAll(async () => {
    client = await openClient();
  });
  afterAll(() => closeClient(client, prefix));

  describe("RedisRateLimitStore", () => {
    it("keeps every key of a model in one Cluster slot and lets idle keys expire", async () => {
      const keyPrefix = next();
      const limiter = new RateLimiter({ store: new RedisRateLimitStore({ client, keyPrefix }) });
      limiter.configure("openai/gpt-{4o}", { requestsPerMinute: 5, tokensPerMinute: 1000 });
      const d = await limiter.reserve("openai/gpt-{4o}", { tokens: 10 }, { maxWaitMs: 0 });
      expect(d.kind).toBe("granted");
      const keys = (await client.keys(`${keyPrefix}*`)).sort();
      expect(keys).toEqual(
        // Layout v3: meta, bookings, queue, waiting counts, and each window's log (an unnamed
        // call books no capped tenant, so the tenant logs do not exist).
        ["b", "d", "m", "q", "w:requests/min", "w:tokens/min"]
          .map((s) => `${keyPrefix}{openai/gpt-%7B4o%7D}:v3:${s}`)
          .sort(),
      );
      const slots = await Promise.all(
        keys.map((k) => client.call("CLUSTER", "KEYSLOT", k).catch(() => null)),
      );
      if (slots[0] !== null) expect(new Set(slots).size).toBe(1);
      for (const k of keys) {
        const ttl = await client.pttl(k);
        // A minute past the longest window, and no more.
        expect(ttl).toBeGreaterThan(100_000);
        expect(ttl).toBeLessThanOrEqual(125_000); // the limiter pads windows slightly
      }
    });

    it("in server time, returns starts, blocks and next-free instants in the caller's clock", async () => {
      // A caller whose clock is 10 minutes behind Redis still gets instants it can sleep towards.
      const store = new RedisRateLimitStore({ client, keyPrefix: next() });
      const windows = [
        {
          kind: "sliding" as const,
          name: "requests/min",
          unit: "requests" as const,
          limit: 1,
          intervalMs: 60_000,
        },
      ];
      // Each call passes the caller's clock as it is then, as the limiter does.
      const skewed = () => Date.now() - 600_000;
      const now = skewed();
      // Caller time since `now`: the mapping errs late by at most the round trips measured here
      // (a bound from what happened, not a fixed number of ms), never 10 minutes off.
      const began = performance.now();
      const elapsed = () => Math.ceil(performance.now() - began) + 1;
      const first = await store.reserve({ key: "m", windows, now, tokens: 1, maxWaitMs: 0 });
      expect(first).toMatchObject({ kind: "granted", waitMs: 0 });
      if (first.kind !== "granted") throw new Error();
      expect(first.startAt - now).toBeGreaterThanOrEqual(0);
      expect(first.startAt - now).toBeLessThanOrEqual(elapsed());
      const second = await store.reserve({ key: "m", windows, now: skewed(), tokens: 1, maxWaitMs: 120_000 });
      if (second.kind !== "granted") throw new Error(second.kind);
      // A window after the first start, which was no earlier than `now`: the mapping is never
      // early, except by Redis' TIME counting whole ms.
      expect(second.startAt - now).toBeGreaterThanOrEqual(60_000 - 1);
      expect(second.startAt - now).toBeLessThanOrEqual(60_000 + elapsed());
      const status = await store.status({ key: "m", windows, now: skewed() });
      expect(status.windows[0]!.nextFreeAt! - now).toBeGreaterThan(119_000);
    });

    it("in server time, confirm stamps at Redis' TIME and answers retryAt in the caller's clock", async () => {
      // Caller 10 minutes behind Redis: a confirm sent early (before the queued slot) must be told
      // to wait until the earlier call's window ends, in the caller's own clock.
      const store = new RedisRateLimitStore({ client, keyPrefix: next() });
      const windows = [
        {
          kind: "sliding" as const,
          name: "requests/min",
          unit: "requests" as const,
          limit: 1,
          intervalMs: 60_000,
        },
      ];
      const now = Date.now() - 600_000;
      const began = performance.now();
      const a = await store.reserve({ key: "m", windows, now, tokens: 1, maxWaitMs: 0 });
      const b = await store.reserve({
        key: "m",
        windows,
        now: Date.now() - 600_000,
        tokens: 1,
        maxWaitMs: 120_000,
      });
      if (a.kind !== "granted" || b.kind !== "granted") throw new Error("not granted");
      await new Promise((r) => setTimeout(r, 30));
      const later = Date.now() - 600_000; // the caller's clock at the confirm
      expect(await store.confirm({ key: "m", windows, now: later, entryId: a.entryId })).toEqual({
        ok: true,
      });
      const early = await store.confirm({ key: "m", windows, now: later, entryId: b.entryId });
      if (early.ok) throw new Error("confirmed early");
      // `a` was stamped after its booked start, so `b` waits at least the window from `now`, in the
      // caller's clock (a 10-minute skew would show), late by at most a round trip.
      expect(early.retryAt - now).toBeGreaterThanOrEqual(60_000);
      expect(early.retryAt - now).toBeLessThanOrEqual(60_000 + Math.ceil(performance.now() - began) + 1);
      expect(early.retryAt).toBeGreaterThan(b.startAt);
    });
  });

  describe("RedisBudgetStore", () => {
    budgetDifferential("RedisBudgetStore", () => new RedisBudgetStore({ client, keyPrefix: next() }));

    it("expires counters with their period and claims once across clients", async () => {
      const keyPrefix = next();
      const a = new RedisBudgetStore({ client, keyPrefix });
      const other = connect();
      await other.connect();
      try {
        const b = new RedisBudgetStore({ client: other, keyPrefix });
        await a.reserve([{ key: "day:y", expiresAt: Date.now() + 5000, limitMicros: 10 }], 7);
        const ttl = await client.pttl(`${keyPrefix}{budget}:day:y`);
        expect(ttl).toBeGreaterThan(4000);
        expect(ttl).toBeLessThanOrEqual(5000);
        expect(await b.reserve([{ key: "day:y", expiresAt: Date.now() + 5000, limitMicros: 10 }], 4)).toEqual(
          {
            ok: false,
            failedIndex: 0,
            usedMicros: [7],
          },
        );
        const claims = await Promise.all([a, b, a, b].map((s) => s.claimOnce("alert", Date.now() + 5000)));
        expect(claims.filter(Boolean)).toHaveLength(1);
      } finally {
        await other.quit();
      }
    });
  });

  describe("ModelHealthStore", () => {
    it.each([
      ["memory", () => new MemoryModelHealthStore()],
      ["redis", () => new RedisModelHealthStore({ client, keyPrefix: next() })],
    ])("%s: marks only extend, circuits open and close, expired marks vanish", async (_, make) => {
      const store = make();
      const now = Date.now();
      expect(await store.get("m")).toEqual({});
      await store.markUnavailable("m", now + 5000, "quota_exhausted");
      await store.markUnavailable("m", now + 1000, "auth_error");
      expect(await store.get("m")).toEqual({ unavailable: { until: now + 5000, reason: "quota_exhausted" } });
      await store.openCircuit("m", now + 3000);
      expect((await store.get("m")).circuitOpenUntil).toBe(now + 3000);
      await store.closeCircuit("m");
      expect((await store.get("m")).circuitOpenUntil).toBeUndefined();
      await store.markUnavailable("other", now - 1, "quota_exhausted");
      expect(await store.get("other")).toEqual({});
    });
  });
});

// SCRIPT FLUSH acts on the whole server: only on a private one, never on REDIS_URL.
describeRedisServer("RedisRateLimitStore on a private redis-server", () => {
  let server: PrivateRedis;
  let client: Redis;
  beforeAll(async () => {
    server = await PrivateRedis.start();
    client = connect(server.url);
    await client.connect();
  });
  afterAll(async () => {
    await client.quit();
    await server.stop();
  });

  it("reloads the script after SCRIPT FLUSH (NOSCRIPT) without failing the call", async () => {
    const limiter = new RateLimiter({ store: new RedisRateLimitStore({ client, keyPrefix: "flush:" }) });
    limiter.configure("m", { requestsPerMinute: 2 });
    expect((await limiter.reserve("m", { tokens: 1 }, { maxWaitMs: 0 })).kind).toBe("granted");
    await client.script("FLUSH");
    expect((await limiter.reserve("m", { tokens: 1 }, { maxWaitMs: 0 })).kind).toBe("granted");
    expect((await limiter.reserve("m", { tokens: 1 }, { maxWaitMs: 0 })).kind).toBe("wait_too_long");
  });
});
