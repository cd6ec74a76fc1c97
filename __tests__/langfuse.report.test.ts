import { LangfuseClient } from "@langfuse/client";
import { isAutoPickerError } from "../src/errors";
import { fallbackReport, type ObservationSource } from "../src/langfuse/report";
import { type FakeLangfuseServer, startFakeLangfuseServer } from "../src/testing/fakeLangfuseServer";

const at = (s: number) => new Date(Date.UTC(2026, 10, 1, 0, 0, s)).toISOString();
const gen = (id: string, trace: string, s: number, cost: number, level = "DEFAULT") => ({
  id,
  traceId: trace,
  startTime: at(s),
  endTime: at(s + 2),
  projectId: "p",
  parentObservationId: null,
  type: "GENERATION",
  name: "ChatOpenAI",
  level,
  costDetails: { total: cost },
  totalCost: cost,
});
const ev = (
  id: string,
  trace: string,
  s: number,
  name: string,
  parent: string | null,
  meta: Record<string, string>,
) => ({
  id,
  traceId: trace,
  startTime: at(s),
  endTime: at(s),
  projectId: "p",
  parentObservationId: parent,
  type: "EVENT",
  name,
  level: "WARNING",
  metadata: meta,
});
const pair = { original_model: "openai/gpt-4o-mini", fallback_model: "gemini/gemini-2.5-flash" };

let server: FakeLangfuseServer;
let client: LangfuseClient;
beforeEach(async () => {
  server = await startFakeLangfuseServer();
  client = new LangfuseClient({ publicKey: "pk", secretKey: "sk", baseUrl: server.baseUrl });
});
afterEach(() => server.close());

describe("fallbackReport over hand-made API pages", () => {
  it("counts all four fallback events by type and pair, success (later generation without error), cost once per generation, waits", async () => {
    server.addObservations([
      gen("g1", "t1", 1, 0.002),
      ev("e1", "t1", 2, "rate_limit_fallback", "g1", { ...pair, reason: "rate_limit" }),
      gen("g2", "t2", 10, 0.01, "ERROR"),
      ev("e2", "t2", 11, "context_length_fallback", "g2", {
        ...pair,
        reason: "context_length",
        estimated_tokens: "150000",
        original_max_context: "128000",
        fallback_max_context: "1048576",
      }),
      gen("g3", "t3", 20, 0.001),
      gen("g4", "t4", 30, 0.001),
      ev("w1", "t4", 30, "rate_limit_wait", "g4", {
        model: "openai/gpt-4o-mini",
        wait_ms: "1500",
        cause: "rate_limit",
      }),
      // The same call moved 700 ms later by a higher-class arrival: the same wait, longer.
      ev("w2", "t4", 31, "rate_limit_wait", "g4", {
        model: "openai/gpt-4o-mini",
        wait_ms: "2100",
        cause: "moved",
        moved_by_ms: "700",
      }),
      gen("g5", "t5", 40, 0.004),
      ev("e3", "t5", 41, "budget_fallback", "g5", { ...pair, reason: "budget" }),
      gen("g6", "t6", 50, 0.003),
      ev("e4", "t6", 51, "error_fallback", "g6", { ...pair, reason: "transient_error" }),
      ev("e-late", "t9", 5000, "rate_limit_fallback", null, pair), // outside the range
    ]);
    const report = await fallbackReport({
      from: new Date(at(0)),
      to: new Date(at(100)),
      client,
      pageSize: 2,
    });
    expect(report.generations).toBe(6);
    expect(report.fallbacks).toBe(4);
    expect(report.fallbackRate).toBeCloseTo(4 / 6, 12);
    expect(report.byType).toEqual({
      rate_limit_fallback: 1,
      context_length_fallback: 1,
      budget_fallback: 1,
      error_fallback: 1,
    });
    expect(report.succeeded).toBe(3); // t2's only generation errored
    expect(report.fallbackCostUsd).toBeCloseTo(0.002 + 0.01 + 0.004 + 0.003, 12);
    expect(report.rateLimitWaits).toEqual({ count: 1, totalWaitMs: 2200 });
    expect(report.byPair.find((p) => p.type === "context_length_fallback")).toMatchObject({
      succeeded: 0,
      successRate: 0,
    });
    expect(report.byPair.find((p) => p.type === "budget_fallback")).toMatchObject({
      count: 1,
      costUsd: 0.004,
    });
    const names = server.requests.filter((r) => r.query.type === "EVENT").map((r) => r.query.name);
    expect(new Set(names)).toEqual(
      new Set([
        "rate_limit_fallback",
        "context_length_fallback",
        "budget_fallback",
        "error_fallback",
        "rate_limit_wait",
      ]),
    );
  });

  it("a LangfuseClient is an ObservationSource (type check) and an empty range reports zeros, every type present", async () => {
    const source: ObservationSource = client;
    const report = await fallbackReport({ from: new Date(0), to: new Date(1), client: source });
    expect(report).toMatchObject({
      generations: 0,
      fallbacks: 0,
      fallbackRate: 0,
      successRate: 0,
      fallbackCostUsd: 0,
      byType: { rate_limit_fallback: 0, context_length_fallback: 0, budget_fallback: 0, error_fallback: 0 },
    });
  });
});

describe("fallbackReport refuses bad input before any request", () => {
  const range = { from: new Date(at(0)), to: new Date(at(100)) };
  const rejects = async (options: unknown, named: RegExp) => {
    const err = await fallbackReport(options as never).catch((e: unknown) => e);
    expect(isAutoPickerError(err) && err.code).toBe("config");
    expect((err as Error).message).toMatch(named);
  };

  it("no client and no Langfuse keys: a config error, not an anonymous query to the public cloud", async () => {
    const saved = { pk: process.env.LANGFUSE_PUBLIC_KEY, sk: process.env.LANGFUSE_SECRET_KEY };
    delete process.env.LANGFUSE_PUBLIC_KEY;
    delete process.env.LANGFUSE_SECRET_KEY;
    const fetchSpy = jest.spyOn(globalThis, "fetch");
    try {
      await rejects(range, /LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY/);
      process.env.LANGFUSE_PUBLIC_KEY = "pk-lf-only-half";
      await rejects(range, /LANGFUSE_SECRET_KEY/);
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
      if (saved.pk !== undefined) process.env.LANGFUSE_PUBLIC_KEY = saved.pk;
      else delete process.env.LANGFUSE_PUBLIC_KEY;
      if (saved.sk !== undefined) process.env.LANGFUSE_SECRET_KEY = saved.sk;
    }
  });

  it("bad dates, page size, client or an unknown option name the option", async () => {
    await rejects({ ...range, client, from: new Date("nope") }, /`from`/);
    await rejects({ ...range, client, to: "2026-11-01" }, /`to`/);
    await rejects({ client, from: range.to, to: range.from }, /`from` must not be after `to`/);
    await rejects({ ...range, client, pageSize: 5000 }, /pageSize/);
    await rejects({ ...range, client: {} }, /client/);
    await rejects({ ...range, client, pagesize: 10 }, /unknown option "pagesize"/);
    expect(server.requests).toEqual([]);
  });
});
