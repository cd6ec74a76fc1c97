/**
 * Redis Cluster, for real: a private 3-node cluster (`--cluster-enabled yes` on free ports, joined
 * with `redis-cli --cluster create`) runs the limiter's property suites (never over a limit,
 * exact waits, FIFO, confirm, arrival-time stamping) and the differential suites of both stores,
 * through an ioredis `Cluster` client. Every key of a model shares its `{hash-tag}`; budget keys
 * share `{budget}`; a script that touched two slots would fail with CROSSSLOT.
 */
import type { Cluster } from "ioredis";
import { RedisBudgetStore, RedisRateLimitStore } from "../src/redis";
import { VirtualClock } from "../src/testing/virtualClock";
import { budgetDifferential, rateLimitDifferential } from "./redis.storeProperties";
import { arrivalProperties, confirmProperties, limiterProperties } from "./support/limiterProperties";
import { describeRedisCluster, PrivateRedisCluster } from "./support/redisServer";

jest.setTimeout(120_000);

describeRedisCluster("on a private 3-node Redis Cluster", () => {
  let cluster: PrivateRedisCluster;
  let client: Cluster;
  let run = 0;

  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start();
    client = await cluster.connect();
  });
  afterAll(() => cluster.stop());

  it("spreads models over the nodes (the test would prove nothing on one slot)", async () => {
    const store = new RedisRateLimitStore({ client, keyPrefix: "spread:", timeoutMs: 5000 });
    const windows = [
      {
        kind: "sliding" as const,
        name: "requests/min",
        unit: "requests" as const,
        limit: 5,
        intervalMs: 60_000,
      },
    ];
    const models = Array.from({ length: 12 }, (_, i) => `model-${i}`);
    for (const key of models) {
      await store.reserve({ key, windows, now: Date.now(), tokens: 1, maxWaitMs: 0 });
    }
    const owners = new Set<string>();
    for (const node of client.nodes("master")) {
      if ((await node.keys("spread:*")).length > 0) owners.add(`${node.options.port}`);
    }
    expect(owners.size).toBeGreaterThan(1);
  });

  const makeStore = (clock: VirtualClock, staleBookingMs = Number.POSITIVE_INFINITY) =>
    new RedisRateLimitStore({ client, clock, keyPrefix: `props${run++}:`, staleBookingMs, timeoutMs: 5000 });

  limiterProperties("RedisRateLimitStore on Cluster", (clock) => makeStore(clock), {
    sequential: 60,
    burst: 40,
  });
  confirmProperties(
    "RedisRateLimitStore on Cluster",
    () => makeStore(new VirtualClock({ autoAdvance: false })),
    60,
  );
  arrivalProperties("RedisRateLimitStore on Cluster", (clock) => makeStore(clock), 30);
  rateLimitDifferential("RedisRateLimitStore on Cluster", makeStore);
  budgetDifferential(
    "RedisBudgetStore on Cluster",
    () => new RedisBudgetStore({ client, keyPrefix: `budget${run++}:` }),
  );
});
