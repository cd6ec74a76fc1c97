/**
 * Mixed workloads in `autopicker simulate`: streams of classes and tenants, each on its own
 * schedule, checked by the config layer, driven through the real picker in virtual time, and
 * reported per class and per tenant (text and HTML).
 */
import { AutoPickerConfigError } from "../src/errors";
import {
  renderHtmlReport,
  renderTextSummary,
  type SimulationConfig,
  type SimulationResult,
  simulate,
} from "../src/simulate";
import { parseConfig } from "../src/simulate/schema";

const models: SimulationConfig["models"] = [
  { model: "gpt-4o-mini", limits: { requestsPerMinute: 10 }, latencyMs: 500 },
  { model: "gemini-2.5-flash", latencyMs: 700 },
];

/** A batch job drops 30 calls at once; a chat user asks every 20 s; two tenants share the batch. */
const config: SimulationConfig = {
  models,
  workload: {
    promptTokens: 100,
    outputTokens: 20,
    streams: [
      { priority: "interactive", calls: 3, arrivals: { pattern: "steady", perMinute: 3 } },
      {
        priority: "batch",
        tenant: "acme",
        calls: 20,
        arrivals: { pattern: "bursts", size: 20, everySeconds: 600 },
      },
      {
        priority: "batch",
        tenant: "free",
        calls: 10,
        arrivals: { pattern: "bursts", size: 10, everySeconds: 600 },
      },
    ],
  },
  settings: { jitter: "none", tenants: { acme: { weight: 3 }, free: { weight: 1, maxShare: 0.5 } } },
  compare: [{ name: "wait", settings: { maxWaitSeconds: 600 } }, "fallback-first"],
};

function problem(input: unknown): string {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(AutoPickerConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

let result: SimulationResult;
beforeAll(async () => {
  result = await simulate(config);
});
const scenario = (name: string) => result.scenarios.find((s) => s.name === name)!;

describe("mixed workload config", () => {
  it("accepts streams, tenants and per-class settings", () => {
    expect(() =>
      parseConfig({
        ...config,
        settings: { priorities: { batch: { maxWaitSeconds: 900, agingSeconds: 120 }, interactive: {} } },
      }),
    ).not.toThrow();
  });

  it("names the field of every mistake, with did-you-mean for misspelt classes and keys", () => {
    const stream = { calls: 5, arrivals: { pattern: "steady", perMinute: 6 } };
    const withStreams = (streams: unknown[]) => ({ models, workload: { streams } });
    expect(problem(withStreams([{ ...stream, priority: "interactiv" }]))).toBe(
      'workload.streams[0].priority must be one of interactive, normal, batch, got "interactiv" (did you mean "interactive"?).',
    );
    expect(problem(withStreams([{ ...stream, tenat: "acme" }]))).toBe(
      'workload.streams[0] has unknown key "tenat": did you mean "tenant"?',
    );
    expect(problem(withStreams([{ calls: 5 }]))).toBe("workload.streams[0].arrivals is required.");
    expect(problem(withStreams([stream, stream]))).toBe(
      'workload.streams[1] has the same name "normal" as streams[0]; give one a `name`.',
    );
    expect(problem({ models, workload: { calls: 5, streams: [stream] } })).toBe(
      "workload.calls cannot be given with `streams`: give each stream its own calls.",
    );
    expect(problem({ models, workload: {} })).toBe(
      "workload.calls is required: a whole number >= 1 (or give `streams`, each with its own calls).",
    );
    expect(problem({ models, workload: { calls: 1 }, settings: { tenants: { acme: { weight: 0 } } } })).toBe(
      "settings.tenants.acme.weight must be a number > 0, got 0.",
    );
    expect(
      problem({ models, workload: { calls: 1 }, settings: { tenants: { acme: { maxShare: 1.5 } } } }),
    ).toBe("settings.tenants.acme.maxShare must be a number > 0 <= 1, got 1.5.");
    expect(problem({ models, workload: { calls: 1 }, settings: { priorities: { Batch: {} } } })).toBe(
      'settings.priorities has unknown key "Batch": did you mean "batch"?',
    );
  });
});

describe("simulate() with a mixed workload", () => {
  it("runs every stream's calls, each record carrying its stream, class and tenant", () => {
    const s = scenario("wait");
    expect(s.calls).toBe(33);
    expect(s.records.filter((r) => r.priority === "interactive")).toHaveLength(3);
    expect(s.records.filter((r) => r.tenant === "acme")).toHaveLength(20);
    expect(
      s.records.filter((r) => r.tenant === "free").every((r) => r.priority === "batch" && r.stream === 2),
    ).toBe(true);
    // The interactive stream arrives every 20 s from 0.
    const releases = s.records.filter((r) => r.stream === 0).map((r) => r.releasedAt);
    expect(releases).toEqual([0, 20_000, 40_000]);
  });

  it("reports waits and shares per class and per tenant", () => {
    const s = scenario("wait");
    expect(s.byClass!.map((g) => g.name)).toEqual(["interactive", "batch"]);
    expect(s.byTenant!.map((g) => g.name)).toEqual(["", "acme", "free"]);
    const served = s.succeeded;
    for (const groups of [s.byClass!, s.byTenant!]) {
      expect(groups.reduce((n, g) => n + g.calls, 0)).toBe(33);
      expect(groups.reduce((n, g) => n + g.servedShare, 0)).toBeCloseTo(1, 10);
      for (const g of groups) expect(g.servedShare).toBeCloseTo(g.served / served, 10);
    }
    const batch = s.byClass!.find((g) => g.name === "batch")!;
    const waits = s.records
      .filter((r) => r.priority === "batch")
      .map((r) => r.waitMs)
      .sort((a, b) => a - b);
    expect(batch.wait.p50).toBe(waits[Math.ceil(0.5 * waits.length) - 1]);
    // 30 batch calls against 10 a minute: the last waits about two minutes.
    expect(batch.wait.p99).toBeGreaterThanOrEqual(120_000);
  });

  it("falls back per class under fallback-first, as for any call", () => {
    const s = scenario("fallback-first");
    expect(s.failed).toBe(0);
    expect(s.byClass!.find((g) => g.name === "batch")!.wait.p99).toBeLessThanOrEqual(10_000);
  });

  it("shows per-class and per-tenant tables and rows in the text summary and the HTML report", () => {
    const text = renderTextSummary(result);
    expect(text).toContain("33 calls, in 3 streams (interactive, 3 arriving at 3/min (steady); batch acme,");
    expect(text).toMatch(/^class\s+calls\s+served\s+share of served\s+failed\s+p50 wait\s+p99 wait$/m);
    expect(text).toMatch(/^tenant\s+calls/m);
    expect(text).toMatch(/^\(no tenant\)\s+3\s+3\s+/m);
    expect(text).toMatch(/^ {2}interactive\s+\S/m);
    expect(text).toMatch(/^share served, acme\s+/m);
    const html = renderHtmlReport(result);
    expect(html).toContain('<table class="groups" data-by="class">');
    expect(html).toContain('<table class="groups" data-by="tenant">');
    expect(html).toContain('data-chart="class-wait"');
  });

  it("passes tenants to the picker: free's calls share the backlog with acme's, never above their maxShare", () => {
    const batch = scenario("wait")
      .records.filter((r) => r.priority === "batch" && r.answeredAt !== undefined)
      .sort((x, y) => x.answeredAt! - y.answeredAt! || x.index - y.index);
    expect(batch.length).toBe(30);
    // Queued behind acme's 20, FIFO would answer free only once acme was done; fair shares answer
    // free in the first minute it waits (acme had the whole first one).
    const firstFree = batch.find((r) => r.tenant === "free")!.answeredAt!;
    const lastAcme = batch.filter((r) => r.tenant === "acme").at(-1)!.answeredAt!;
    expect(firstFree).toBeLessThan(lastAcme);
    // maxShare 0.5 of 10 a minute: never more than 5 of free's calls answered in any minute.
    const free = batch.filter((r) => r.tenant === "free").map((r) => r.answeredAt!);
    for (const t of free) expect(free.filter((u) => u >= t && u < t + 60_000).length).toBeLessThanOrEqual(5);
  });

  it("leaves single-stream workloads as they were: no groups, no places", async () => {
    const plain = await simulate({
      models,
      workload: { calls: 3, concurrency: 3, promptTokens: 50, outputTokens: 10 },
    });
    expect(plain.scenarios[0]!.byClass).toBeUndefined();
    expect(plain.scenarios[0]!.records[0]!.priority).toBeUndefined();
  });
});
