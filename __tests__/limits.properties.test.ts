import { MemoryRateLimitStore } from "../src/limits";
import { arrivalProperties, confirmProperties, limiterProperties } from "./support/limiterProperties";

// The same properties run against RedisRateLimitStore in redis.properties.test.ts.
limiterProperties(
  "MemoryRateLimitStore",
  () => new MemoryRateLimitStore({ staleBookingMs: Number.POSITIVE_INFINITY }),
);
confirmProperties(
  "MemoryRateLimitStore",
  () => new MemoryRateLimitStore({ staleBookingMs: Number.POSITIVE_INFINITY }),
);
arrivalProperties(
  "MemoryRateLimitStore",
  () => new MemoryRateLimitStore({ staleBookingMs: Number.POSITIVE_INFINITY }),
);
