import { MemoryRateLimitStore } from "../src/limits";
import { queueProperties } from "./support/queueProperties";

// The same properties run against RedisRateLimitStore in redis.queue.int.test.ts.
queueProperties("MemoryRateLimitStore", async () => ({
  store: new MemoryRateLimitStore({ staleBookingMs: Number.POSITIVE_INFINITY }),
  key: "m",
}));
