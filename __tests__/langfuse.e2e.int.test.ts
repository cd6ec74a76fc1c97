import { execFile } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { LangfuseClient } from "@langfuse/client";
import { fallbackReport } from "../src/langfuse/report";
import { type FakeLangfuseServer, startFakeLangfuseServer } from "../src/testing/fakeLangfuseServer";
import { loadedVersion } from "./langfuse.helpers";
import { freePort } from "./support/net";
import { GEMINI, GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

const run = promisify(execFile);
const TSX = join(__dirname, "..", "node_modules", "tsx", "dist", "cli.mjs");
// Under `npm run test:langfuse-oldest` the child resolves the same scratch install Jest maps in.
const OLDEST_ROOT = process.env.AUTOPICKER_LANGFUSE_ROOT;
const HOOK = pathToFileURL(join(__dirname, "langfuse.resolve-hook.mjs")).href;

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
    env: {
      ...process.env,
      SIM_OPENAI: w.sim.openaiBaseURL,
      SIM_GEMINI: w.sim.geminiBaseUrl,
      ...(OLDEST_ROOT ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${HOOK}`.trim() } : {}),
      ...env,
    },
    timeout: 40_000,
  });
  const line = stdout.trim().split("\n").at(-1) ?? "";
  const out = JSON.parse(line) as {
    ok: boolean;
    model: string;
    warnings: string[];
    unhandled: string[];
    versions: Record<string, string>;
  };
  // The child ran the same Langfuse and OpenTelemetry SDK versions as this process.
  for (const [pkg, version] of Object.entries(out.versions))
    expect({ pkg, version }).toEqual({ pkg, version: loadedVersion(pkg) });
  return out;
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
    expect(fellBack.name).toBe(GEMINI_NAME);
    expect(gens.find((g) => g !== fellBack)).toMatchObject({ model: OPENAI, name: OPENAI_NAME });
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
    expect(out).toMatchObject({ ok: true, model: OPENAI, unhandled: [] });
    expect(out.warnings).toEqual([
      expect.stringMatching(/^\[autopicker\] Langfuse shutdown (failed|did not finish)/),
    ]);
  }, 60_000);

  it("Langfuse accepting the export and never answering: shutdown gives up on it, with one warning", async () => {
    const stuck = await startFakeLangfuseServer({ ingestion: "hang" });
    try {
      // The exporter would wait 3 s for an answer; shutdown's bound is 1 s.
      const out = await runChild({
        LANGFUSE_BASE_URL: stuck.baseUrl,
        LANGFUSE_TIMEOUT_S: "3",
        FLUSH_TIMEOUT_MS: "1000",
      });
      expect(out).toMatchObject({ ok: true, model: OPENAI, unhandled: [] });
      expect(out.warnings).toEqual([
        expect.stringMatching(/^\[autopicker\] Langfuse shutdown did not finish within 1000 ms/),
      ]);
      // The export did start, and nothing ever answered it: shutdown resolved without it.
      expect(stuck.requests.filter((r) => r.path === "/api/public/otel/v1/traces").length).toBeGreaterThan(0);
      expect(stuck.observations).toEqual([]);
    } finally {
      await stuck.close();
    }
  }, 60_000);
});
