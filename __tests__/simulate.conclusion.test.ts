/**
 * The conclusion paragraph is derived from the numbers: on configurations whose answer is known in
 * advance, it must name the limit that binds, what falling back costs, and the change that helps.
 * Failures are broken down by reason in the result, the summary and the report.
 */
import {
  renderHtmlReport,
  renderTextSummary,
  type SimulationConfig,
  type SimulationResult,
  simulate,
} from "../src/simulate";

const BOTH = ["wait-first", "fallback-first"] as const;

describe("conclusion", () => {
  describe("requests per minute bind, the fallback is unlimited", () => {
    // 30 callers against 10 requests/min: 3 windows. The fallback takes everything at once, at a higher price.
    let r: SimulationResult;
    beforeAll(async () => {
      r = await simulate({
        models: [
          {
            model: "gpt-4o-mini",
            limits: { requestsPerMinute: 10, tokensPerMinute: 20_000 },
            latencyMs: 500,
          },
          { model: "gemini-2.5-flash", latencyMs: 700 },
        ],
        workload: { calls: 30, concurrency: 30, promptTokens: 100, outputTokens: 20 },
        compare: [...BOTH],
      });
    });

    it("names the binding limit and how many windows the calls need", () => {
      expect(r.conclusion).toContain(
        "The primary's 10 requests/min limit binds: 30 calls need 3 one-minute windows",
      );
      // The TPM limit (20,000 at ~120 tokens a call = 166 calls/min) does not bind and is not blamed.
      expect(r.conclusion).not.toContain("tokens/min limit binds");
    });

    it("says what falling back costs, from the measured runs", () => {
      expect(r.conclusion).toContain("Waiting (wait-first) serves all 30 calls from the primary in 2 min");
      expect(r.conclusion).toMatch(
        /Falling back \(fallback-first\) finishes in 700 ms but sends 67% of the calls to fallbacks at \d\.\d× the cost per answered call/,
      );
      const [wait, fall] = r.scenarios;
      expect(fall!.costUsd / fall!.succeeded).toBeGreaterThan(wait!.costUsd / wait!.succeeded);
      expect(r.conclusion).toContain(
        "Choose fallback-first if finishing sooner is worth the fallback's price",
      );
    });

    it("suggests the tier that fits and fewer callers", () => {
      // tier1 of gpt-4o-mini: 500 requests/min, 200,000 tokens/min (the catalog).
      expect(r.conclusion).toContain("raise gpt-4o-mini to tier1 (500 requests/min, 200,000 tokens/min)");
      // 10 calls a minute of 500 ms each keep one caller busy; 29 of the 30 only queue.
      expect(r.conclusion).toContain("lower concurrency to 1");
    });
  });

  describe("tokens per minute bind, the fallback's own limit fails calls", () => {
    let r: SimulationResult;
    beforeAll(async () => {
      r = await simulate({
        models: [
          {
            model: "gpt-4o-mini",
            limits: { requestsPerMinute: 100, tokensPerMinute: 2_000 },
            latencyMs: { median: 500, p99: 3_000 },
          },
          { model: "gemini-2.5-flash", limits: { requestsPerMinute: 5 } },
        ],
        workload: { calls: 40, concurrency: 8, promptTokens: 150, outputTokens: 50 },
        compare: [...BOTH],
      });
    });

    it("blames the token limit, at the tokens the provider books per call", () => {
      // OpenAI books prompt + max_tokens: ~150 + 50 = 200 tokens, so 2,000 tokens/min admit 10 calls.
      expect(r.conclusion).toContain(
        "The primary's 2,000 tokens/min limit binds: at ~200 tokens a call it admits 10 calls a minute, so 40 calls need 4 one-minute windows",
      );
    });

    it("breaks the failures down by reason and says which limit caused them", () => {
      const fall = r.scenarios[1]!;
      expect(fall.failed).toBeGreaterThan(0);
      expect(fall.failures).toEqual({ rate_limit: fall.failed });
      expect(fall.records.filter((c) => c.failure === "rate_limit")).toHaveLength(fall.failed);
      expect(r.conclusion).toContain(
        `fails ${fall.failed} (rate limits: gemini-2.5-flash's own 5 requests/min limit binds too)`,
      );
      expect(r.conclusion).toContain("Prefer wait-first if every call must be answered.");
      expect(r.scenarios[0]!.failed).toBe(0);
    });

    it("shows the breakdown in the summary and the report", () => {
      const fall = r.scenarios[1]!;
      const text = renderTextSummary(r);
      expect(text).toMatch(new RegExp(`^  on rate limits\\s+0\\s+${fall.failed}$`, "m"));
      expect(text).toContain(`fallback-first: makespan`);
      expect(text).toContain(`${fall.failed} failed: ${fall.failed} on rate limits`);
      const html = renderHtmlReport(r);
      expect(html).toContain(
        `<th scope="row" class="sub">on rate limits</th><td>0</td><td>${fall.failed}</td>`,
      );
      expect(html).toContain(`${fall.failed} failed: ${fall.failed} on rate limits`);
    });
  });

  it("says nothing binds when Poisson arrivals stay under the limit, and that nothing needs to change", async () => {
    const r = await simulate({
      models: [{ model: "gpt-4o-mini", limits: { requestsPerMinute: 60 } }, { model: "gemini-2.5-flash" }],
      workload: {
        calls: 60,
        arrivals: { pattern: "poisson", perMinute: 20 },
        promptTokens: 50,
        outputTokens: 10,
      },
      compare: [...BOTH],
    });
    expect(r.conclusion).toMatch(
      /^No limit binds: the workload peaks at \d+ calls a minute, within the 60 the primary admits \(60 requests\/min\)\./,
    );
    expect(r.conclusion).toContain("Every configuration serves all 60 calls from the primary");
    expect(r.conclusion).toContain("Nothing needs to change for this workload.");
    expect(r.conclusion).not.toContain("raise");
    for (const s of r.scenarios) expect(s.primaryShare).toBe(1);
  });

  it("a daily quota with no fallback: the quota binds, calls fail on it, add a fallback or raise the tier", async () => {
    const r = await simulate({
      models: [{ model: "gpt-4o-mini", limits: { requestsPerMinute: 100, requestsPerDay: 20 } }],
      workload: { calls: 30, concurrency: 5, promptTokens: 50, outputTokens: 10 },
    });
    const s = r.scenarios[0]!;
    expect(s.failures).toEqual({ quota_exhausted: 10 });
    expect(r.conclusion).toContain(
      "The primary's 20 requests/day quota binds: it covers 20 of the 30 calls, so 10 can only be answered by a fallback.",
    );
    expect(r.conclusion).toContain("and fails 10 (exhausted quotas)");
    expect(r.conclusion).toContain("add a fallback: with none, every call the primary can't take fails");
    expect(r.conclusion).toContain("raise gpt-4o-mini to tier1");
  });

  it("a lone fallback-first with no fallback: suggests waiting longer or adding a fallback", async () => {
    const r = await simulate({
      models: [{ model: "gpt-4o-mini", limits: { requestsPerMinute: 10 } }],
      workload: { calls: 30, concurrency: 10, promptTokens: 50, outputTokens: 10 },
      compare: ["fallback-first"],
    });
    expect(r.scenarios[0]!.failures).toEqual({ rate_limit: 20 });
    expect(r.conclusion).toContain("As configured, the picker serves 33% of the calls from the primary");
    expect(r.conclusion).toContain("raise maxWaitSeconds (now 10 s)");
    expect(r.conclusion).toContain("add a fallback");
  });

  it("a Gemini primary's token limit counts the prompt only, as Gemini does (and the picker books)", async () => {
    // Gemini counts the ~200 prompt tokens, not the 300-token output allowance: 15 calls a minute.
    const r = await simulate({
      models: [{ model: "gemini-2.5-flash", limits: { tokensPerMinute: 3_000 } }, { model: "gpt-4o-mini" }],
      workload: { calls: 30, concurrency: 5, promptTokens: 200, outputTokens: 300 },
      compare: ["wait-first"],
    });
    expect(r.conclusion).toMatch(/it admits 1[45] calls a minute, so 30 calls need [23] one-minute windows/);
    expect(r.conclusion).not.toContain("as the picker books them");
    // And that is what happened: at most three windows, all served by the primary.
    expect(r.scenarios[0]!.makespanMs).toBeLessThan(3 * 60_000);
    expect(r.scenarios[0]!.models[0]!.served).toBe(30);
  });

  it("bursts over the per-minute limit bind at peaks, not on average", async () => {
    const config: SimulationConfig = {
      models: [{ model: "gpt-4o-mini", limits: { requestsPerMinute: 20 } }, { model: "gemini-2.5-flash" }],
      workload: {
        calls: 60,
        arrivals: { pattern: "bursts", size: 30, everySeconds: 120 },
        promptTokens: 50,
        outputTokens: 10,
      },
      compare: [...BOTH],
    };
    const r = await simulate(config);
    expect(r.conclusion).toContain(
      "The primary's 20 requests/min limit binds at peaks: the busiest minute brings 30 calls against 20 admitted, though on average calls arrive at 15 a minute.",
    );
    // wait-first waits out the first burst's overflow of 10 calls (sent at ~61 s); those still hold
    // half the window when the second burst comes at 120 s, so 20 of that one wait: 30 in all.
    const wait = r.scenarios[0]!;
    expect(wait.callsThatWaited).toBe(30);
    expect(wait.records.filter((c) => c.releasedAt === 0 && c.waitMs > 0)).toHaveLength(10);
    // fallback-first never waits, so each burst finds a clear window: 10 of 30 fall back each time.
    expect(r.scenarios[1]!.fallbackShare).toBeCloseTo(20 / 60, 5);
  });
});
