/**
 * The simulated world is less tidy than a fixed sleep and a steady stream: answer times follow a
 * seeded lognormal, arrivals can be Poisson or bursty. It stays reproducible (same seed, same run)
 * and fair to compare (every configuration sees the same arrivals and the same answer time for the
 * same call on the same model). And what it reads from the picker survives the event rename.
 */

import { type SimulationConfig, type SimulationResult, simulate } from "../src/simulate";
import { CallEvents, reasonOfOutcome } from "../src/simulate/callEvents";
import { percentile } from "../src/simulate/metrics";
import { arrivalTimes, meanLatency, sampleLatency, uniform } from "../src/simulate/random";

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe("random draws", () => {
  it("are uniform in (0, 1) and fixed by their coordinates", () => {
    const draws = Array.from({ length: 20_000 }, (_, i) => uniform(1, 2, i));
    expect(Math.min(...draws)).toBeGreaterThan(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    expect(mean).toBeCloseTo(0.5, 2);
    // Deciles within 1.5 points of 10% each.
    const counts = new Array(10).fill(0);
    for (const d of draws) counts[Math.floor(d * 10)]++;
    for (const c of counts) expect(Math.abs(c / draws.length - 0.1)).toBeLessThan(0.015);
    expect(uniform(1, 2, 7)).toBe(uniform(1, 2, 7));
    expect(uniform(1, 2, 7)).not.toBe(uniform(2, 2, 7));
    expect(uniform(1, 2, 7)).not.toBe(uniform(1, 3, 7));
  });

  it("lognormal answer times have the median and p99 they were given", () => {
    const spec = { median: 800, p99: 6_000 };
    const xs = sorted(Array.from({ length: 20_000 }, (_, i) => sampleLatency(spec, 1, 0, i)));
    expect(percentile(xs, 0.5) / 800).toBeGreaterThan(0.97);
    expect(percentile(xs, 0.5) / 800).toBeLessThan(1.03);
    expect(percentile(xs, 0.99) / 6_000).toBeGreaterThan(0.9);
    expect(percentile(xs, 0.99) / 6_000).toBeLessThan(1.1);
    // Heavy-tailed: the mean is above the median, as the closed form says.
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(mean / meanLatency(spec)).toBeCloseTo(1, 1);
    expect(meanLatency(spec)).toBeGreaterThan(800);
    // Fixed stays fixed; p99 = median is fixed too.
    expect(sampleLatency(500, 1, 0, 3)).toBe(500);
    expect(sampleLatency({ median: 500, p99: 500 }, 1, 0, 3)).toBe(500);
  });

  it("Poisson arrivals come at the given rate with Poisson-sized minutes", () => {
    const t = arrivalTimes({ pattern: "poisson", perMinute: 60 }, 6_000, 1);
    expect(t[0]).toBe(0);
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThanOrEqual(t[i - 1]!);
    const minutes = Math.floor(t.at(-1)! / 60_000);
    expect(6_000 / (t.at(-1)! / 60_000)).toBeCloseTo(60, -1);
    const perMinute = new Array(minutes).fill(0);
    for (const at of t) if (at < minutes * 60_000) perMinute[Math.floor(at / 60_000)]++;
    const mean = perMinute.reduce((s, v) => s + v, 0) / minutes;
    const variance = perMinute.reduce((s, v) => s + (v - mean) ** 2, 0) / minutes;
    // A Poisson count's variance equals its mean (a steady stream's would be 0).
    expect(variance / mean).toBeGreaterThan(0.6);
    expect(variance / mean).toBeLessThan(1.5);
  });

  it("steady and burst arrivals follow their schedule", () => {
    expect(arrivalTimes({ pattern: "steady", perMinute: 120 }, 4, 1)).toEqual([0, 500, 1000, 1500]);
    expect(arrivalTimes({ pattern: "bursts", size: 2, everySeconds: 30 }, 5, 1)).toEqual([
      0, 0, 30_000, 30_000, 60_000,
    ]);
  });
});

describe("a run", () => {
  const config: SimulationConfig = {
    models: [
      {
        model: "gpt-4o-mini",
        limits: { requestsPerMinute: 20, tokensPerMinute: 10_000 },
        latencyMs: { median: 500, p99: 3_000 },
      },
      {
        model: "gemini-2.5-flash",
        limits: { requestsPerMinute: 15 },
        latencyMs: { median: 900, p99: 6_000 },
      },
    ],
    workload: {
      calls: 60,
      arrivals: { pattern: "poisson", perMinute: 40 },
      concurrency: 10,
      promptTokens: 100,
      outputTokens: 30,
    },
    compare: ["wait-first", "fallback-first"],
  };
  const strip = (r: SimulationResult) => r.scenarios.map(({ wallMs: _wall, ...s }) => s);

  let first: SimulationResult;
  beforeAll(async () => {
    first = await simulate(config);
  });

  it("is the same run again with the same seed, and a different one with another seed", async () => {
    expect(strip(await simulate(config))).toEqual(strip(first));
    const other = await simulate({ ...config, seed: 2 });
    expect(other.seed).toBe(2);
    expect(other.scenarios[0]!.records.map((c) => c.releasedAt)).not.toEqual(
      first.scenarios[0]!.records.map((c) => c.releasedAt),
    );
  });

  it("gives every configuration the same arrivals and the same answer time per call and model", () => {
    const [wait, fall] = first.scenarios;
    expect(wait!.records.map((c) => c.releasedAt)).toEqual(fall!.records.map((c) => c.releasedAt));
    // A call answered by the same model without waiting or queueing takes the same time in both.
    let compared = 0;
    for (const a of wait!.records) {
      const b = fall!.records[a.index]!;
      if (a.servedBy !== b.servedBy || a.waitMs > 0 || b.waitMs > 0) continue;
      if (a.answeredAt! - a.releasedAt > 0 || b.answeredAt! - b.releasedAt > 0) continue;
      expect(a.finishedAt - a.answeredAt!).toBe(b.finishedAt - b.answeredAt!);
      compared++;
    }
    expect(compared).toBeGreaterThan(5);
  });

  it("answer times vary per call, and queueing for a slot counts in latency", () => {
    const wait = first.scenarios[0]!;
    const answerTimes = new Set(wait.records.map((c) => c.finishedAt - c.answeredAt!));
    expect(answerTimes.size).toBeGreaterThan(30);
    // With 10 slots and the primary admitting 20 a minute, some calls queue before the picker sees them.
    const queued = wait.records.filter((c) => c.answeredAt! - c.releasedAt > c.waitMs + 1);
    expect(queued.length).toBeGreaterThan(0);
    expect(wait.latency.p99).toBeGreaterThan(wait.wait.p99);
  });

  it("keeps the comparison meaningful: waiting serves from the primary, falling back is faster", () => {
    const [wait, fall] = first.scenarios;
    expect(wait!.primaryShare).toBeGreaterThan(fall!.primaryShare);
    expect(fall!.latency.p50).toBeLessThan(wait!.latency.p50);
    expect(wait!.failed).toBe(0);
  });
});

describe("reading the picker's events", () => {
  const events = () => new CallEvents();

  it("counts waits in either spelling of the payload", () => {
    const e = events();
    e.handleCustomEvent("rate_limit_wait", { model: "m", wait_ms: 1500, cause: "rate_limit" });
    e.handleCustomEvent("rate_limit_wait", { model: "m", waitMs: 500, cause: "backoff" });
    expect([e.waits, e.waitMs]).toEqual([2, 2000]);
  });

  it("counts a moved wait as the same wait, lengthened (or shortened) by what the move added", () => {
    const e = events();
    e.handleCustomEvent("rate_limit_wait", { model: "m", wait_ms: 5000, cause: "rate_limit" });
    e.handleCustomEvent("rate_limit_wait", { model: "m", wait_ms: 9000, cause: "moved", moved_by_ms: 5000 });
    e.handleCustomEvent("rate_limit_wait", { model: "m", wait_ms: 3000, cause: "moved", moved_by_ms: -1000 });
    expect([e.waits, e.waitMs]).toEqual([1, 9000]);
  });

  it("recognises any *_fallback event, by its reason or else its name", () => {
    const e = events();
    e.handleCustomEvent("rate_limit_fallback", {
      original_model: "a",
      fallback_model: "b",
      reason: "quota_exhausted",
    });
    e.handleCustomEvent("context_length_fallback", {
      original_model: "a",
      fallback_model: "b",
      estimated_tokens: 9,
    });
    e.handleCustomEvent("budget_fallback", { original_model: "a", fallback_model: "b", reason: "budget" });
    e.handleCustomEvent("error_fallback", {
      original_model: "a",
      fallback_model: "b",
      reason: "transient_error",
    });
    e.handleCustomEvent("something_else", { reason: "x" });
    expect(e.fallbackReasons).toEqual(["quota_exhausted", "context_length", "budget", "transient_error"]);
  });

  it("turns attempt outcomes into failure reasons", () => {
    expect(reasonOfOutcome("rate_limit")).toBe("rate_limit");
    expect(reasonOfOutcome("skipped:wait_too_long(61000ms on requests/min)")).toBe("rate_limit");
    expect(reasonOfOutcome("skipped:wait_too_long(5400000ms on requests/day)")).toBe("quota_exhausted");
    expect(reasonOfOutcome("skipped:quota_exhausted")).toBe("quota_exhausted");
    expect(reasonOfOutcome("skipped:context_length")).toBe("context_length");
    expect(reasonOfOutcome("skipped:budget")).toBe("budget");
    expect(reasonOfOutcome("transient")).toBe("error");
    expect(reasonOfOutcome("skipped:circuit_open")).toBe("error");
  });
});
