import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { LangfuseClient } from "@langfuse/client";
import { type FakeLangfuseServer, startFakeLangfuseServer } from "../src/langfuse/fakeLangfuseServer";
import { fallbackReport, type ObservationSource } from "../src/langfuse/report";
import { freePort } from "./support/net";
import { GEMINI, GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

const run = promisify(execFile);
const TSX = join(__dirname, "..", "node_modules", "tsx", "dist", "cli.mjs");

type World = Awaited<ReturnType<typeof startWorld>>;
let w: World;
let lf: FakeLangfuseServer;
beforeEach(async () => {
  w = await startWorld();
  lf = await startFakeLangfuseServer();
});
afterEach(async () => {
  await w.stop();
  await lf.close();
});

/** Runs `langfuse.child.ts` under tsx (see its header for why) and parses its one-line JSON report. */
async function runChild(env: Record<string, string>) {
  const { stdout } = await run(process.execPath, [TSX, join(__dirname, "langfuse.child.ts")], {
    env: { ...process.env, SIM_OPENAI: w.sim.openaiBaseURL, SIM_GEMINI: w.sim.geminiBaseUrl, ...env },
    timeout: 40_000,
  });
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as {
    ok: boolean;
    model: string;
    callMs: number[];
    shutdownMs: number;
    warnings: string[];
    unhandled: string[];
  };
}

describe("end to end: real LangfuseSpanProcessor exporting OTLP/HTTP to a local server", () => {
  it("exports the fallback event and the cost (gzip), and fallbackReport reads them back through LangfuseClient", async () => {
    const from = new Date(Date.now() - 1000);
    w.sim.enqueueFault(OPENAI, { kind: "context_length" }); // first call falls back, second is served by the primary
    const out = await runChild({
      LANGFUSE_BASE_URL: lf.baseUrl,
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "gzip",
    });
    expect(out).toMatchObject({ ok: true, model: OPENAI, warnings: [], unhandled: [] });

    const posts = lf.requests.filter((r) => r.path === "/api/public/otel/v1/traces");
    expect(posts.length).toBeGreaterThan(0);
    expect(posts[0]!.contentEncoding).toBe("gzip");
    expect(posts[0]!.authorization).toBe(`Basic ${Buffer.from("pk-lf-test:sk-lf-test").toString("base64")}`);
    const event = lf.observations.find((o) => o.name === "context_length_fallback");
    expect(event).toMatchObject({
      type: "EVENT",
      level: "WARNING",
      metadata: { original_model: OPENAI_NAME, fallback_model: GEMINI_NAME, original_max_context: "128000" },
    });
    const gens = lf.observations.filter((o) => o.type === "GENERATION");
    expect(gens).toHaveLength(2);
    for (const g of gens) {
      expect(g.costDetails!.total).toBeGreaterThan(0);
      expect(Number(g.metadata!.cost_usd)).toBeCloseTo(g.costDetails!.total!, 12);
      expect(g.usageDetails).toMatchObject({
        input: expect.any(Number),
        input_cache_read: 0,
        output: expect.any(Number),
      });
    }
    const fellBack = gens.find((g) => g.id === event!.parentObservationId)!;
    expect(fellBack.model).toBe(GEMINI);
    expect(event!.traceId).toBe(fellBack.traceId);

    // The public API, through the official client, against the same server.
    const client = new LangfuseClient({
      publicKey: "pk-lf-test",
      secretKey: "sk-lf-test",
      baseUrl: lf.baseUrl,
    });
    const report = await fallbackReport({ from, to: new Date(Date.now() + 1000), client, pageSize: 1 });
    expect(report).toMatchObject({
      generations: 2,
      fallbacks: 1,
      fallbackRate: 0.5,
      byType: { context_length_fallback: 1 },
      succeeded: 1,
      successRate: 1,
    });
    expect(report.byPair).toEqual([
      expect.objectContaining({
        originalModel: OPENAI_NAME,
        fallbackModel: GEMINI_NAME,
        count: 1,
        succeeded: 1,
      }),
    ]);
    expect(report.fallbackCostUsd).toBeCloseTo(fellBack.costDetails!.total!, 12);
    const gets = lf.requests.filter((r) => r.path === "/api/public/v2/observations");
    expect(gets.some((r) => r.query.type === "EVENT" && r.query.name === "context_length_fallback")).toBe(
      true,
    );
    expect(gets.some((r) => r.query.type === "GENERATION" && r.query.cursor)).toBe(true); // paged at 1 per page
    expect(gets.every((r) => r.query.fromStartTime === from.toISOString())).toBe(true);
  }, 60_000);

  it("Langfuse refusing connections costs the calls nothing: no throw, no unhandled rejection, one warning", async () => {
    const closedPort = await freePort();
    const out = await runChild({
      LANGFUSE_BASE_URL: `http://127.0.0.1:${closedPort}`,
      LANGFUSE_TIMEOUT_S: "1",
      FLUSH_TIMEOUT_MS: "1000",
    });
    expect(out.ok).toBe(true);
    expect(out.model).toBe(OPENAI);
    expect(out.unhandled).toEqual([]);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(/Langfuse (export|shutdown)/);
    // Calls never wait on the exporter. The first call also loads the tokenizer ranks, so judge the second.
    expect(out.callMs[1]).toBeLessThan(2000); // an awaited export would take the exporter's ~4.7 s of retries
    expect(out.shutdownMs).toBeLessThan(1500); // bounded by flushTimeoutMs, not the exporter's retries
  }, 60_000);
});

describe("fallbackReport over hand-made API pages", () => {
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

  it("counts by type and pair, success (later generation without error), cost once per generation, waits", async () => {
    const server = await startFakeLangfuseServer();
    try {
      server.addObservations([
        gen("g1", "t1", 1, 0.002),
        ev("e1", "t1", 2, "rate_limit_fallback", "g1", { ...pair, reason: "rate_limit" }),
        gen("g2", "t2", 10, 0.01, "ERROR"),
        ev("e2", "t2", 11, "context_length_fallback", "g2", {
          ...pair,
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
        ev("e-late", "t9", 5000, "rate_limit_fallback", null, pair), // outside the range
      ]);
      const client = new LangfuseClient({ publicKey: "pk", secretKey: "sk", baseUrl: server.baseUrl });
      const report = await fallbackReport({
        from: new Date(at(0)),
        to: new Date(at(100)),
        client,
        pageSize: 2,
      });
      expect(report.generations).toBe(4);
      expect(report.fallbacks).toBe(2);
      expect(report.fallbackRate).toBe(0.5);
      expect(report.byType).toEqual({ rate_limit_fallback: 1, context_length_fallback: 1 });
      expect(report.succeeded).toBe(1); // t2's only generation errored
      expect(report.fallbackCostUsd).toBeCloseTo(0.012, 12);
      expect(report.rateLimitWaits).toEqual({ count: 1, totalWaitMs: 1500 });
      expect(report.byPair.find((p) => p.type === "context_length_fallback")).toMatchObject({
        succeeded: 0,
        successRate: 0,
      });
    } finally {
      await server.close();
    }
  });

  it("a LangfuseClient is an ObservationSource (type check) and an empty range reports zeros", async () => {
    const server = await startFakeLangfuseServer();
    try {
      const client: ObservationSource = new LangfuseClient({
        publicKey: "pk",
        secretKey: "sk",
        baseUrl: server.baseUrl,
      });
      const report = await fallbackReport({ from: new Date(0), to: new Date(1), client });
      expect(report).toMatchObject({
        generations: 0,
        fallbacks: 0,
        fallbackRate: 0,
        successRate: 0,
        fallbackCostUsd: 0,
      });
    } finally {
      await server.close();
    }
  });
});
