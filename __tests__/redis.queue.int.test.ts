/**
 * The priority and fair-share properties of `queueProperties` (the same ones the memory store is
 * held to in limits.queue.test.ts), run on RedisRateLimitStore: on the shared REDIS_URL under a
 * key prefix unique to this run (deleted afterwards), and on a private 3-node Redis Cluster, where
 * a script touching a key outside the model's `{hash-tag}` would fail with CROSSSLOT.
 */
import type { Cluster, Redis } from "ioredis";
import { RedisRateLimitStore } from "../src/redis";
import { VirtualClock } from "../src/testing/virtualClock";
import { closeClient, describeRedis, openClient, uniquePrefix } from "./redis.support";
import { queueProperties } from "./support/queueProperties";
import { describeRedisCluster, PrivateRedisCluster } from "./support/redisServer";

jest.setTimeout(120_000);

describeRedis("RedisRateLimitStore (REDIS_URL)", () => {
  let client: Redis;
  const prefix = uniquePrefix("queue");
  let run = 0;

  beforeAll(async () => {
    client = await openClient();
  });
  afterAll(() => closeClient(client, prefix));

  queueProperties("RedisRateLimitStore", async () => ({
    store: new RedisRateLimitStore({
      client,
      clock: new VirtualClock({ autoAdvance: false }),
      keyPrefix: `${prefix}${run++}:`,
      staleBookingMs: Number.POSITIVE_INFINITY,
      timeoutMs: 5000,
    }),
    key: "m",
  }));
});

describeRedisCluster("RedisRateLimitStore on a private 3-node Redis Cluster", () => {
  let cluster: PrivateRedisCluster;
  let client: Cluster;
  let run = 0;

  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start();
    client = await cluster.connect();
  });
  afterAll(() => cluster.stop());

  queueProperties(
    "RedisRateLimitStore on Cluster",
    async () => ({
      store: new RedisRateLimitStore({
        client,
        clock: new VirtualClock({ autoAdvance: false }),
        keyPrefix: `queue${run++}:`,
        staleBookingMs: Number.POSITIVE_INFINITY,
        timeoutMs: 5000,
      }),
      // A different model per run, so runs land on different nodes.
      key: `model-${run}`,
    }),
    30,
  );
});
