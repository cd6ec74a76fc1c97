/**
 * Redis failing under a fleet: 4 processes share 20 requests/s through a private redis-server
 * that is killed and restarted, or paused (DEBUG SLEEP), mid-run. Fail-open keeps every call
 * flowing, and the provider never sees more than the limit x (1 + fail-open share) in a window.
 */
import { runOutage } from "./redis.outage";
import { describeRedisServer } from "./support/redisServer";

jest.setTimeout(120_000);

describeRedisServer("four processes while Redis fails", () => {
  it.each(["kill", "pause"] as const)(
    "Redis %s mid-run: no call lost, the busiest window within limit x (1 + share)",
    async (kind) => {
      // A wider transit allowance than the default 25 ms: under CI load the simulator (sharing
      // 2 cores with four replicas) stamps arrivals unevenly late by up to ~150 ms, which alone
      // can put a few extra arrivals into one window. Fixed, not learned (learning
      // narrows it between stalls). The outage's cost is what is measured here.
      const r = await runOutage({ kind, arrivalMarginMs: 150, learnArrivalMargin: false });
      if (process.env.DEBUG_FLEET) console.log(JSON.stringify(r));
      expect(r.errors).toEqual([]);
      expect(r.ok).toBe(r.calls);
      expect(r.busiest).toBeLessThanOrEqual(r.allowed);
      // One warning per replica per outage, at most.
      expect(r.warnings.length).toBeLessThanOrEqual(r.replicas);
    },
  );
});
