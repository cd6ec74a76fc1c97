import { RateLimiter, type ReserveDecision } from "../src/limits";
import { startOfNextZonedDay, startOfZonedDay } from "../src/limits/calendar";
import { VirtualClock } from "../src/testing/virtualClock";

const LA = "America/Los_Angeles";
const at = (iso: string) => Date.parse(iso);

function startAt(d: ReserveDecision): number {
  if (d.kind !== "granted") throw new Error(`expected granted, got ${JSON.stringify(d)}`);
  return d.startAt;
}

describe("zoned day boundaries", () => {
  it.each([
    // [instant, start of its local day, start of the next one]
    ["2026-01-15T07:59:59.999Z", "2026-01-14T08:00:00.000Z", "2026-01-15T08:00:00.000Z"], // PST, 1 ms before midnight
    ["2026-01-15T08:00:00.000Z", "2026-01-15T08:00:00.000Z", "2026-01-16T08:00:00.000Z"], // PST midnight exactly
    ["2026-03-08T12:00:00.000Z", "2026-03-08T08:00:00.000Z", "2026-03-09T07:00:00.000Z"], // DST starts: a 23 h day
    ["2026-11-01T12:00:00.000Z", "2026-11-01T07:00:00.000Z", "2026-11-02T08:00:00.000Z"], // DST ends: a 25 h day
    ["2026-11-01T08:30:00.000Z", "2026-11-01T07:00:00.000Z", "2026-11-02T08:00:00.000Z"], // inside the repeated hour
  ])("%s is in the LA day starting %s", (t, start, next) => {
    const s = startOfZonedDay(at(t), LA);
    expect(new Date(s).toISOString()).toBe(start);
    expect(new Date(startOfNextZonedDay(s, LA)).toISOString()).toBe(next);
  });

  it("finds the day's first instant when midnight itself is skipped (Santiago, DST at 00:00)", () => {
    // 2026-09-06 00:00 -04 jumps to 01:00 -03: the day begins at 04:00Z.
    expect(new Date(startOfZonedDay(at("2026-09-06T12:00:00Z"), "America/Santiago")).toISOString()).toBe(
      "2026-09-06T04:00:00.000Z",
    );
  });
});

describe("per-day limits with a calendar reset", () => {
  function limiterAt(iso: string, limits: Parameters<RateLimiter["configure"]>[1]) {
    const clock = new VirtualClock({ startMs: at(iso), autoAdvance: false });
    const limiter = new RateLimiter({ clock, arrivalMarginMs: 0 });
    limiter.configure("gemini", limits);
    return { clock, limiter };
  }

  it("counts usage since local midnight and frees it exactly at the next midnight Pacific", async () => {
    const { clock, limiter } = limiterAt("2026-01-15T07:00:00Z", {
      requestsPerDay: 2,
      dailyResetTimeZone: LA,
    });
    startAt(await limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 0 })); // 23:00 PST
    startAt(await limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 0 }));
    const third = await limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 86_400_000 });
    expect(startAt(third)).toBe(at("2026-01-15T08:00:00Z"));
    // Past midnight the old day's calls no longer count: one more slot today (the third took one).
    await clock.setTime(at("2026-01-15T08:00:00Z"));
    expect((await limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 0 })).kind).toBe("granted");
    expect(await limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 0 })).toMatchObject({
      kind: "wait_too_long",
      dimension: "requests/day (America/Los_Angeles)",
      waitMs: 86_400_000,
    });
  });

  it("a rolling 24 h window (no time zone) waits a full day from the first call instead", async () => {
    const { limiter } = limiterAt("2026-01-15T07:00:00Z", { requestsPerDay: 1 });
    startAt(await limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 0 }));
    expect(startAt(await limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 1e9 }))).toBe(
      at("2026-01-16T07:00:00Z"),
    );
  });

  it("waits to the next midnight on the 23 h DST-start day and the 25 h DST-end day", async () => {
    const spring = limiterAt("2026-03-08T12:00:00Z", { requestsPerDay: 1, dailyResetTimeZone: LA });
    startAt(await spring.limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 0 }));
    expect(startAt(await spring.limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 1e9 }))).toBe(
      at("2026-03-09T07:00:00Z"),
    );
    const fall = limiterAt("2026-11-01T12:00:00Z", { requestsPerDay: 1, dailyResetTimeZone: LA });
    startAt(await fall.limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 0 }));
    expect(startAt(await fall.limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 1e9 }))).toBe(
      at("2026-11-02T08:00:00Z"),
    );
  });

  it("a wait past midnight beyond maxWaitMs is wait_too_long, so the caller can fall back", async () => {
    const { limiter } = limiterAt("2026-01-15T06:00:00Z", {
      requestsPerMinute: 15,
      requestsPerDay: 1,
      dailyResetTimeZone: LA,
    });
    startAt(await limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 0 }));
    expect(await limiter.reserve("gemini", { tokens: 0 }, { maxWaitMs: 60_000 })).toEqual({
      kind: "wait_too_long",
      waitMs: 2 * 3_600_000,
      dimension: "requests/day (America/Los_Angeles)",
    });
  });

  it("applies tokensPerDay on the calendar too and reports status for the current day", async () => {
    const { clock, limiter } = limiterAt("2026-01-15T07:30:00Z", {
      tokensPerDay: 1000,
      dailyResetTimeZone: LA,
    });
    startAt(await limiter.reserve("gemini", { tokens: 700 }, { maxWaitMs: 0 }));
    expect(startAt(await limiter.reserve("gemini", { tokens: 400 }, { maxWaitMs: 1e9 }))).toBe(
      at("2026-01-15T08:00:00Z"),
    );
    const before = (await limiter.status("gemini")).dimensions[0];
    expect(before).toMatchObject({ name: "tokens/day (America/Los_Angeles)", used: 700 });
    expect(before?.nextFreeAt).toBeUndefined();
    await clock.setTime(at("2026-01-15T09:00:00Z"));
    expect((await limiter.status("gemini")).dimensions[0]).toMatchObject({ used: 400 });
  });
});
