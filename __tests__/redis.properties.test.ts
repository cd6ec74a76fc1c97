/**
 * The limiter's properties, run on RedisRateLimitStore (client clock = the virtual clock), plus a
 * differential test: random operation sequences, including calendar windows, arrival margins,
 * send-time confirms, evidence stamps, provider-header phantoms and releases, records, retry-hint
 * blocks and status reads, must get the same answers from Redis as from MemoryRateLimitStore.
 * `DIFF_RUNS=20000` runs it long.
 */
import type { Redis } from "ioredis";
import { RedisRateLimitStore } from "../src/redis";
import { VirtualClock } from "../src/testing/virtualClock";
import { rateLimitDifferential } from "./redis.storeProperties";
import { closeClient, describeRedis, openClient, uniquePrefix } from "./redis.support";
import { arrivalProperties, confirmProperties, limiterProperties } from "./support/limiterProperties";

describeRedis("RedisRateLimitStore", () => {
  let client: Redis;
  const prefix = uniquePrefix("props");
  let run = 0;

  beforeAll(async () => {
    client = await openClient();
  });
  afterAll(() => closeClient(client, prefix));

  const makeStore = (clock: VirtualClock, staleBookingMs = Number.POSITIVE_INFINITY) =>
    new RedisRateLimitStore({
      client,
      clock,
      keyPrefix: `${prefix}${run++}:`,
      staleBookingMs,
      timeoutMs: 5000,
    });

  // The same properties and run counts as on the memory store (a run takes a few ms on loopback).
  limiterProperties("RedisRateLimitStore", (clock) => makeStore(clock));
  confirmProperties("RedisRateLimitStore", () => makeStore(new VirtualClock({ autoAdvance: false })));
  arrivalProperties("RedisRateLimitStore", (clock) => makeStore(clock));

  rateLimitDifferential("RedisRateLimitStore", makeStore);
});
