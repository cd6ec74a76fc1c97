import { backoffDelay } from "../src/retry/backoff";
import { CircuitBreaker } from "../src/retry/circuitBreaker";
import type { ClassifiedError } from "../src/retry/classify";
import { decideAfterError, newCounters, type RetryPolicy } from "../src/retry/policy";
import { VirtualClock } from "../src/testing/virtualClock";

const policy: RetryPolicy = {
  maxRetries: 3,
  maxWaitMs: 300_000,
  backoff: { baseMs: 1000, factor: 2, capMs: 60_000, jitter: "none" },
};
const rate = (retryAfterMs?: number): ClassifiedError => ({
  kind: "rate_limit",
  hint: { retryAfterMs },
  message: "429",
});

describe("backoffDelay", () => {
  it("grows by the factor and is capped", () => {
    const o = { baseMs: 1000, factor: 2, capMs: 5000, jitter: "none" as const };
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, o))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
  it("full jitter draws from [0, ceiling], equal jitter from [ceiling/2, ceiling]", () => {
    const o = { baseMs: 1000, factor: 2, capMs: 60_000 };
    expect(backoffDelay(2, { ...o, jitter: "full", random: () => 0 })).toBe(0);
    expect(backoffDelay(2, { ...o, jitter: "full", random: () => 0.5 })).toBe(2000);
    expect(backoffDelay(2, { ...o, jitter: "equal", random: () => 0 })).toBe(2000);
    expect(backoffDelay(2, { ...o, jitter: "equal", random: () => 0.999999 })).toBeCloseTo(4000, 0);
  });
});

describe("decideAfterError", () => {
  it("waits the provider's hint for every caller, then falls back when retries are spent", () => {
    const counters = newCounters();
    const decisions = [0, 1, 2, 3].map(() => decideAfterError(rate(5000), counters, policy, 1_000));
    expect(decisions.slice(0, 3)).toEqual(
      Array(3).fill({ action: "retry", delayMs: 5000, blockModelUntil: 6000 }),
    );
    expect(decisions[3]).toEqual({ action: "fallback", reason: "rate_limit" });
  });
  it("falls back at once when the hinted wait exceeds maxWaitSeconds", () => {
    expect(decideAfterError(rate(301_000), newCounters(), policy, 0)).toEqual({
      action: "fallback",
      reason: "rate_limit",
    });
  });
  it("backs off exponentially without a hint", () => {
    const counters = newCounters();
    expect([0, 1, 2].map(() => decideAfterError(rate(), counters, policy, 0))).toEqual([
      { action: "retry", delayMs: 1000 },
      { action: "retry", delayMs: 2000 },
      { action: "retry", delayMs: 4000 },
    ]);
  });
  it("retries an unknown error once and falls back on the second", () => {
    const counters = newCounters();
    const unknown: ClassifiedError = { kind: "unknown", message: "?" };
    expect(decideAfterError(unknown, counters, policy, 0).action).toBe("retry");
    expect(decideAfterError(unknown, counters, policy, 0)).toEqual({
      action: "fallback",
      reason: "unknown_error",
    });
  });
  it.each([
    [
      { kind: "quota_exhausted", scope: "day", hint: {}, message: "" },
      { action: "fallback", reason: "quota_exhausted" },
    ],
    [
      { kind: "context_length", message: "" },
      { action: "fallback", reason: "context_length" },
    ],
    [
      { kind: "auth", message: "" },
      { action: "fallback", reason: "auth_error" },
    ],
    [{ kind: "bad_request", message: "" }, { action: "surface" }],
  ] as Array<[ClassifiedError, unknown]>)("%o -> %o without retrying", (error, expected) => {
    expect(decideAfterError(error, newCounters(), policy, 0)).toEqual(expected);
  });
  it("retries transient errors with backoff, then falls back", () => {
    const counters = newCounters();
    const t: ClassifiedError = { kind: "transient", status: 503, message: "" };
    const d = [0, 1, 2, 3].map(() => decideAfterError(t, counters, policy, 0));
    expect(d.map((x) => x.action)).toEqual(["retry", "retry", "retry", "fallback"]);
  });
});

describe("CircuitBreaker", () => {
  it("opens after N consecutive failures, lets one probe through after the cooldown, closes on success", async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const b = new CircuitBreaker(clock, { failureThreshold: 3, cooldownMs: 10_000 });
    b.onFailure();
    b.onFailure();
    expect(b.acquire()).toEqual({ allowed: true, probe: false });
    b.onFailure();
    expect(b.state.state).toBe("open");
    expect(b.acquire().allowed).toBe(false);
    await clock.advance(10_000);
    expect(b.acquire()).toEqual({ allowed: true, probe: true });
    expect(b.acquire().allowed).toBe(false); // only one probe
    b.onSuccess();
    expect(b.state).toEqual({ state: "closed", consecutiveFailures: 0 });
  });
  it("re-opens when the probe fails, and a neutral probe frees the slot", async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const b = new CircuitBreaker(clock, { failureThreshold: 1, cooldownMs: 1000 });
    b.onFailure();
    await clock.advance(1000);
    expect(b.acquire().allowed).toBe(true);
    b.onNeutral(true);
    expect(b.acquire()).toEqual({ allowed: true, probe: true });
    b.onFailure();
    expect(b.state.state).toBe("open");
  });
  it("a success in between resets the consecutive count", () => {
    const b = new CircuitBreaker(new VirtualClock(), { failureThreshold: 2 });
    b.onFailure();
    b.onSuccess();
    b.onFailure();
    expect(b.state.state).toBe("closed");
  });
});
