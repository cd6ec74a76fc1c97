import { catalogLimits, RateLimiter, type Tier } from "../src/limits";

const TIERS: Tier[] = ["free", "tier1", "tier2", "tier3", "tier4", "tier5"];

describe("catalogLimits", () => {
  it("uses the seeds' numbers where they give them", () => {
    expect(catalogLimits("gpt-4o", "tier1")).toEqual({
      requestsPerMinute: 500,
      tokensPerMinute: 30_000,
      requestsPerDay: 10_000,
    });
    expect(catalogLimits("gpt-4o", "tier2")).toEqual({
      requestsPerMinute: 5_000,
      tokensPerMinute: 450_000,
      requestsPerDay: 10_000,
    });
    expect(catalogLimits("gpt-4o-mini", "tier1")).toEqual({
      requestsPerMinute: 500,
      tokensPerMinute: 200_000,
      requestsPerDay: 10_000,
    });
    expect(catalogLimits("gemini-2.5-flash-lite", "free")).toEqual({
      requestsPerMinute: 15,
      tokensPerMinute: 250_000,
      requestsPerDay: 1_000,
      dailyResetTimeZone: "America/Los_Angeles",
    });
  });

  it("accepts provider prefixes, case and dated snapshots, without confusing gpt-4o with gpt-4o-mini", () => {
    expect(catalogLimits("openai/gpt-4o-mini", "tier1")).toEqual(catalogLimits("gpt-4o-mini", "tier1"));
    expect(catalogLimits("gemini/gemini-2.5-pro", "free")).toEqual(catalogLimits("gemini-2.5-pro", "free"));
    expect(catalogLimits("models/Gemini-2.5-Flash", "tier1")).toEqual(
      catalogLimits("gemini-2.5-flash", "tier1"),
    );
    expect(catalogLimits("gpt-4o-mini-2024-07-18", "tier1")?.tokensPerMinute).toBe(200_000);
    expect(catalogLimits("gpt-4o-2024-08-06", "tier1")?.tokensPerMinute).toBe(30_000);
    expect(catalogLimits("gemini-2.0-flash-001", "free")?.requestsPerMinute).toBe(15);
  });

  it("returns undefined for unknown models, look-alikes and tiers that do not serve a model", () => {
    expect(catalogLimits("claude-3-5-sonnet", "tier1")).toBeUndefined();
    expect(catalogLimits("o3-mini", "tier1")).toBeUndefined();
    expect(catalogLimits("gpt-4o", "free")).toBeUndefined();
    expect(catalogLimits("o4-mini", "free")).toBeUndefined();
  });

  it("maps tier4/tier5 to Gemini's highest tier and keeps Gemini daily limits on Pacific midnight", () => {
    expect(catalogLimits("gemini-2.5-flash", "tier5")).toEqual(catalogLimits("gemini-2.5-flash", "tier3"));
    expect(catalogLimits("gemini-2.5-pro", "tier1")?.dailyResetTimeZone).toBe("America/Los_Angeles");
    expect(catalogLimits("gpt-4o-mini", "tier1")?.dailyResetTimeZone).toBeUndefined();
  });

  it("covers the listed model families and every entry passes the limiter's validation", () => {
    const limiter = new RateLimiter({ arrivalMarginMs: 0 });
    const models = [
      "gpt-4o",
      "gpt-4o-mini",
      "gpt-4.1",
      "gpt-4.1-mini",
      "gpt-4.1-nano",
      "o3",
      "o4-mini",
      "gemini-2.0-flash",
      "gemini-2.0-flash-lite",
      "gemini-2.5-flash",
      "gemini-2.5-flash-lite",
      "gemini-2.5-pro",
    ];
    for (const m of models) {
      expect(catalogLimits(m, "tier1")).toBeDefined();
      const known = TIERS.map((t) => catalogLimits(m, t)).filter((l) => l !== undefined);
      expect(known.length).toBeGreaterThan(0);
      for (const l of known) expect(() => limiter.configure(m, l)).not.toThrow();
    }
  });
});
