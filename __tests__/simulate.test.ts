import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AutoPickerConfigError } from "../src/errors";
import {
  type CliIo,
  renderHtmlReport,
  renderTextSummary,
  runCli,
  type SimulationConfig,
  type SimulationResult,
  simulate,
} from "../src/simulate";

const PRIMARY = "openai/gpt-4o-mini";
const FALLBACK = "gemini/gemini-2.5-flash";

/** 30 calls at once against 10 requests per minute: 2 minutes of waiting for wait-first. */
const config: SimulationConfig = {
  title: "test <run>",
  models: [
    { model: "gpt-4o-mini", limits: { requestsPerMinute: 10, tokensPerMinute: 20_000 }, latencyMs: 500 },
    { model: "gemini-2.5-flash", latencyMs: 700 },
  ],
  workload: { calls: 30, concurrency: 30, promptTokens: 100, outputTokens: 20 },
  settings: { jitter: "none" },
  compare: ["wait-first", "fallback-first"],
};

let result: SimulationResult;
beforeAll(async () => {
  result = await simulate(config);
});

const scenario = (name: string) => result.scenarios.find((s) => s.name === name)!;

describe("simulate()", () => {
  it("wait-first serves every call from the primary with zero provider 429s, waiting in 1-minute batches", () => {
    const s = scenario("wait-first");
    expect(s.calls).toBe(30);
    expect(s.failed).toBe(0);
    expect(s.primaryShare).toBe(1);
    expect(s.fallbackShare).toBe(0);
    expect(s.provider429s).toBe(0);
    expect(s.providerRequests).toBe(30);
    // Batches of 10: the first goes at once, the others wait about one and two minutes.
    expect(s.callsThatWaited).toBe(20);
    expect(s.wait.max).toBeGreaterThanOrEqual(120_000);
    expect(s.wait.max).toBeLessThan(125_000);
    expect(s.latency.p50).toBeGreaterThanOrEqual(60_000);
    expect(s.makespanMs).toBeGreaterThanOrEqual(120_500);
    const primary = s.models.find((m) => m.name === PRIMARY)!;
    expect(primary.served).toBe(30);
    expect(primary.arrivals).toHaveLength(30);
    // Never more than the limit in any 60 s span of arrivals.
    for (const t of primary.arrivals) {
      expect(primary.arrivals.filter((u) => u > t - 60_000 && u <= t).length).toBeLessThanOrEqual(10);
    }
    expect(s.costUsd).toBeGreaterThan(0);
  });

  it("fallback-first (10 s, no retries) falls back instead of waiting: fast, mostly on the fallback", () => {
    const s = scenario("fallback-first");
    expect(s.failed).toBe(0);
    expect(s.primaryShare).toBeCloseTo(10 / 30, 5);
    expect(s.fallbackShare).toBeCloseTo(20 / 30, 5);
    expect(s.fallbackReasons).toEqual({ rate_limit: 20 });
    expect(s.callsThatWaited).toBe(0);
    expect(s.provider429s).toBe(0);
    expect(s.models.find((m) => m.name === FALLBACK)!.served).toBe(20);
    expect(s.latency.p99).toBeLessThanOrEqual(700);
    expect(s.makespanMs).toBeLessThan(scenario("wait-first").makespanMs);
    // gemini-2.5-flash costs more per token than gpt-4o-mini in the bundled price data.
    expect(s.costUsd).toBeGreaterThan(scenario("wait-first").costUsd);
  });

  it("with limits hidden from the picker, it learns them from 429s and still serves from the primary", async () => {
    const r = await simulate({
      models: [
        { model: "gpt-4o-mini", limits: { requestsPerMinute: 5 }, knownToPicker: false },
        { model: "gemini-2.5-flash" },
      ],
      workload: { calls: 8, concurrency: 8, promptTokens: 50, outputTokens: 10 },
      settings: { jitter: "none" },
      compare: ["wait-first"],
    });
    const s = r.scenarios[0]!;
    expect(s.provider429s).toBeGreaterThan(0);
    expect(s.failed).toBe(0);
    expect(s.primaryShare).toBe(1);
  });

  it("rejects a config it cannot run, saying what to fix", async () => {
    await expect(simulate({ models: [], workload: { calls: 1 } })).rejects.toThrow(AutoPickerConfigError);
    await expect(
      simulate({
        models: [{ model: "gpt-4o-mini" }],
        workload: { calls: 1 },
        compare: ["nope" as "wait-first"],
      }),
    ).rejects.toThrow(/Unknown preset "nope"/);
  });
});

describe("report", () => {
  it("is one self-contained HTML page with an SVG for every chart and the comparison table", () => {
    const html = renderHtmlReport(result);
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain("test &#60;run&#62;"); // escaped title
    const charts = [...html.matchAll(/<svg [^>]*data-chart="([^"]+)"/g)].map((m) => m[1]);
    // Overview: served-by + cost. wait-first: primary requests + tokens, wait histogram.
    // fallback-first: primary requests + tokens, fallback requests, wait histogram.
    expect(charts).toEqual([
      "served-by",
      "cost",
      "requests",
      "tokens",
      "wait-histogram",
      "requests",
      "tokens",
      "requests",
      "wait-histogram",
    ]);
    expect(html).toContain("limit 10 rpm");
    expect(html).toContain("limit 20000 tpm");
    const table = /<table id="comparison">([\s\S]*?)<\/table>/.exec(html)![1]!;
    expect(table).toContain("<th>primary share</th>");
    expect(table).toContain("<th>provider 429s</th>");
    expect(table).toMatch(/<th>wait-first<\/th><td>300 s<\/td><td>3<\/td><td>100.0%<\/td><td>0.0%<\/td>/);
    expect(table).toMatch(/<th>fallback-first<\/th><td>10 s<\/td><td>0<\/td><td>33.3%<\/td><td>66.7%<\/td>/);
  });

  it("the terminal summary is a plain-text table", () => {
    const text = renderTextSummary(result);
    expect(text).toMatch(/^configuration\s+max wait\s+retries\s+primary share\s+fallback share/m);
    expect(text).toMatch(/^wait-first\s+300 s\s+3\s+100\.0%\s+0\.0%/m);
    expect(text).toMatch(/^fallback-first\s+10 s\s+0\s+33\.3%\s+66\.7%/m);
    expect(text).toContain("openai/gpt-4o-mini (primary)");
  });

  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  const haveChromium = existsSync(chromium);
  if (!haveChromium) {
    console.log(
      `[simulate.test] SKIPPED the headless-Chromium render test: no browser at ${chromium}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
  }
  (haveChromium ? it : it.skip)("renders in headless Chromium with every chart drawn", async () => {
    const dir = await mkdtemp(join(tmpdir(), "autopicker-sim-"));
    try {
      // The probe measures what the browser actually laid out and writes it into the DOM it dumps.
      const probe = `<script>
        const charts = [...document.querySelectorAll("svg[data-chart]")].map((svg) => {
          const box = svg.getBoundingClientRect();
          const marks = [...svg.querySelectorAll("path.series, rect.bar")].filter((el) => {
            const b = el.getBBox();
            return b.width > 0 || b.height > 0;
          });
          return { kind: svg.dataset.chart, width: box.width, height: box.height, marks: marks.length };
        });
        document.body.setAttribute("data-probe", JSON.stringify(charts));
      </script></body>`;
      const file = join(dir, "report.html");
      await writeFile(file, renderHtmlReport(result).replace("</body>", probe));
      const { stdout } = await promisify(execFile)(
        chromium,
        [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--dump-dom",
          `file://${file}`,
        ],
        { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      );
      const attr = /data-probe="([^"]*)"/.exec(stdout)?.[1];
      expect(attr).toBeDefined();
      const drawn = JSON.parse(attr!.replace(/&quot;/g, '"').replace(/&amp;/g, "&")) as Array<{
        kind: string;
        width: number;
        height: number;
        marks: number;
      }>;
      expect(drawn).toHaveLength(9);
      for (const chart of drawn) {
        expect(chart.width).toBeGreaterThan(100);
        expect(chart.height).toBeGreaterThan(100);
        expect(chart.marks).toBeGreaterThan(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("autopicker simulate (CLI)", () => {
  const memoryIo = (files: Record<string, string> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      readFile: async (p) => {
        if (!(p in files)) throw new Error(`ENOENT ${p}`);
        return files[p]!;
      },
      writeFile: async (p, c) => {
        files[p] = c;
      },
    };
    return { io, files, out: () => out.join(""), err: () => err.join("") };
  };

  it("flags for the common case: compares presets, prints the table, writes the report", async () => {
    const m = memoryIo();
    const code = await runCli(
      [
        "simulate",
        "--calls",
        "12",
        "--concurrency",
        "12",
        "--rpm",
        "6",
        "--prompt-tokens",
        "50",
        "--output-tokens",
        "10",
        "--compare",
        "wait-first,fallback-first",
        "--out",
        "r.html",
      ],
      m.io,
    );
    expect(m.err()).toContain("simulating wait-first (1/2)");
    expect(code).toBe(0);
    expect(m.out()).toMatch(/^wait-first\s+300 s\s+3\s+100\.0%/m);
    expect(m.out()).toMatch(/^fallback-first\s+10 s\s+0\s+50\.0%\s+50\.0%/m);
    expect(m.files["r.html"]).toContain('<table id="comparison">');
  });

  it("reads --config and lets flags override the workload", async () => {
    const m = memoryIo({
      "sim.json": JSON.stringify({
        models: [{ model: "gpt-4o-mini", limits: { requestsPerMinute: 100 } }],
        workload: { calls: 1000, concurrency: 4 },
      }),
    });
    expect(await runCli(["simulate", "--config", "sim.json", "--calls", "4", "--out", "x.html"], m.io)).toBe(
      0,
    );
    expect(m.out()).toContain("4 calls, concurrency 4");
    expect(m.out()).toMatch(/^default\s+300 s\s+3\s+100\.0%/m);
  });

  it("explains bad input with a non-zero exit code", async () => {
    const m = memoryIo();
    expect(await runCli(["frobnicate"], m.io)).toBe(2);
    expect(m.err()).toContain('Unknown command "frobnicate"');
    expect(await runCli(["simulate", "--compare", "yolo"], m.io)).toBe(1);
    expect(m.err()).toContain('unknown configuration "yolo"');
    expect(await runCli(["simulate", "--config", "missing.json"], m.io)).toBe(1);
    expect(await runCli(["--help"], m.io)).toBe(0);
    expect(m.out()).toContain("Usage: autopicker simulate");
  });
});
