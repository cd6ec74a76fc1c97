import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AutoPickerConfigError } from "../src/errors";
import {
  renderHtmlReport,
  renderTextSummary,
  type SimulationConfig,
  type SimulationResult,
  simulate,
} from "../src/simulate";
import { type CliIo, runCli } from "../src/simulate/cliMain";
import { niceScale, timeScale } from "../src/simulate/svg";

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
    expect(s.failures).toEqual({});
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

  it("rejects a config it cannot run before simulating anything, naming the path", async () => {
    await expect(simulate({ models: [], workload: { calls: 1 } })).rejects.toThrow(AutoPickerConfigError);
    await expect(
      simulate({
        models: [{ model: "gpt-4o-mini" }],
        workload: { calls: 1 },
        compare: ["nope" as "wait-first"],
      }),
    ).rejects.toThrow('compare[0] must be one of wait-first, fallback-first, got "nope"');
  });

  it("exposes the inputs it ran with: resolved workload, seed and the conclusion", () => {
    expect(result.workload).toEqual({ calls: 30, concurrency: 30, promptTokens: 100, outputTokens: 20 });
    expect(result.seed).toBe(1);
    expect(result.conclusion).toMatch(
      /^The primary's 10 requests\/min limit binds: 30 calls need 3 one-minute windows/,
    );
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
    // One column per configuration, one row per measure.
    const table = /<table id="comparison">([\s\S]*?)<\/table>/.exec(html)![1]!;
    expect(table).toContain('<th scope="col">wait-first</th><th scope="col">fallback-first</th>');
    expect(table).toContain('<th scope="row">served by primary</th><td>100.0%</td><td>33.3%</td>');
    expect(table).toContain('<th scope="row">served by fallbacks</th><td>0.0%</td><td>66.7%</td>');
    expect(table).toContain('<th scope="row">provider 429s</th><td>0</td><td>0</td>');
    // The conclusion comes first, in words.
    const conclusion = /<p id="conclusion">([^<]*)<\/p>/.exec(html)![1]!;
    expect(html.indexOf('id="conclusion"')).toBeLessThan(html.indexOf('id="comparison"'));
    expect(conclusion).toContain("10 requests/min limit binds");
  });

  it("puts axis ticks at round values", () => {
    const html = renderHtmlReport(result);
    const wait = /<section class="scenario" data-scenario="wait-first">([\s\S]*?)<\/section>/.exec(html)![1]!;
    const requests = /<svg [^>]*data-chart="requests"[\s\S]*?<\/svg>/.exec(wait)![0];
    const ticks = [...requests.matchAll(/<text class="tick"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    // wait-first runs ~2 min; the request count peaks at 10 with a limit of 10.
    expect(ticks).toEqual(["0", "5", "10", "15", "0", "0:30", "1:00", "1:30", "2:00", "2:30"]);
  });

  it("scales: ticks from 0 in steps of 1, 2 or 5 x 10^k (or a round time step) up to the first at or above the max", () => {
    for (const max of [0.3, 1, 7, 11, 57, 99, 101, 1234, 40_000, 44_000, 2_000_000]) {
      const { top, ticks } = niceScale(max);
      const step = ticks[1]! - ticks[0]!;
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
      expect([1, 2, 5]).toContainEqual(Number(mantissa.toPrecision(6)));
      expect(ticks[0]).toBe(0);
      expect(top).toBeGreaterThanOrEqual(max);
      expect(top - step).toBeLessThan(max);
      expect(ticks.length - 1).toBeLessThanOrEqual(5);
    }
    expect(timeScale(45_000).ticks.map(timeScale(45_000).format)).toEqual([
      "0",
      "10 s",
      "20 s",
      "30 s",
      "40 s",
      "50 s",
    ]);
    expect(timeScale(310_000).ticks.map(timeScale(310_000).format)).toEqual([
      "0",
      "1 min",
      "2 min",
      "3 min",
      "4 min",
      "5 min",
      "6 min",
    ]);
    expect(timeScale(5 * 3_600_000).ticks.map(timeScale(5 * 3_600_000).format)).toEqual([
      "0",
      "1 h",
      "2 h",
      "3 h",
      "4 h",
      "5 h",
    ]);
  });

  it("the terminal summary opens with the conclusion, then a plain-text table", () => {
    const text = renderTextSummary(result);
    expect(text).toMatch(/^The primary's 10 requests\/min limit binds/m);
    expect(text).toMatch(/^\s+wait-first\s+fallback-first$/m);
    expect(text).toMatch(/^served by primary\s+100\.0%\s+33\.3%$/m);
    expect(text).toMatch(/^served by fallbacks\s+0\.0%\s+66\.7%$/m);
    expect(text).toMatch(/^failed\s+0\s+0$/m);
    expect(text).toContain("openai/gpt-4o-mini (primary)");
    for (const line of text.split("\n")) expect(line.length).toBeLessThanOrEqual(100);
  });

  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  const haveChromium = existsSync(chromium);
  if (!haveChromium) {
    console.log(
      `[simulate.test] SKIPPED the headless-Chromium render test: no browser at ${chromium}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
  }
  /** What the browser laid out, measured by a probe script added to a copy of the report. */
  interface Layout {
    viewport: number;
    page: { scrollWidth: number; clientWidth: number };
    table: { scrollWidth: number; clientWidth: number; right: number };
    charts: Array<{
      kind: string;
      width: number;
      height: number;
      marks: number;
      ticks: number;
      /** Text elements whose box sticks out of the chart, with how far. */
      outside: string[];
    }>;
  }

  async function layoutAt(width: number): Promise<Layout> {
    const dir = await mkdtemp(join(tmpdir(), "autopicker-sim-"));
    try {
      const probe = `<script>
        const within = (inner, outer) =>
          inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5 &&
          inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
        const charts = [...document.querySelectorAll("svg[data-chart]")].map((svg) => {
          const box = svg.getBoundingClientRect();
          const marks = [...svg.querySelectorAll("path.series, rect.bar")].filter((el) => {
            const b = el.getBBox();
            return b.width > 0 || b.height > 0;
          });
          const outside = [...svg.querySelectorAll("text")]
            .filter((t) => !within(t.getBoundingClientRect(), box))
            .map((t) => t.textContent + " " + JSON.stringify(t.getBoundingClientRect()));
          return {
            kind: svg.dataset.chart, width: box.width, height: box.height, marks: marks.length,
            ticks: svg.querySelectorAll("text.tick").length, outside,
          };
        });
        const wrap = document.getElementById("comparison").parentElement;
        const root = document.documentElement;
        document.body.setAttribute("data-probe", JSON.stringify({
          viewport: window.innerWidth,
          page: { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth },
          table: {
            scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth,
            right: document.getElementById("comparison").getBoundingClientRect().right,
          },
          charts,
        }));
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
          "--hide-scrollbars",
          `--window-size=${width},1200`,
          "--dump-dom",
          `file://${file}`,
        ],
        { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      );
      const attr = /data-probe="([^"]*)"/.exec(stdout)?.[1];
      expect(attr).toBeDefined();
      return JSON.parse(attr!.replace(/&quot;/g, '"').replace(/&amp;/g, "&")) as Layout;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  (haveChromium ? it : it.skip)("renders in headless Chromium with every chart drawn", async () => {
    const layout = await layoutAt(1280);
    expect(layout.viewport).toBe(1280);
    expect(layout.charts).toHaveLength(9);
    for (const chart of layout.charts) {
      expect(chart.width).toBeGreaterThan(100);
      expect(chart.height).toBeGreaterThan(100);
      expect(chart.marks).toBeGreaterThan(0);
      expect(chart.ticks).toBeGreaterThan(0);
      expect(chart.outside).toEqual([]);
    }
  });

  (haveChromium ? it : it.skip)(
    "reads at 600 px: nothing scrolls sideways, the table fits, no chart label is clipped",
    async () => {
      const layout = await layoutAt(600);
      expect(layout.viewport).toBe(600);
      expect(layout.page.scrollWidth).toBeLessThanOrEqual(layout.page.clientWidth);
      expect(layout.table.scrollWidth).toBeLessThanOrEqual(layout.table.clientWidth);
      expect(layout.table.right).toBeLessThanOrEqual(600);
      expect(layout.charts).toHaveLength(9);
      for (const chart of layout.charts) {
        expect(chart.width).toBeLessThanOrEqual(600);
        expect(chart.marks).toBeGreaterThan(0);
        // Tick labels (and every other label) lie inside their chart.
        expect(chart.outside).toEqual([]);
      }
    },
  );
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
    expect(m.out()).toMatch(/^\s+wait-first\s+fallback-first$/m);
    expect(m.out()).toMatch(/^max wait\s+300 s\s+10 s$/m);
    expect(m.out()).toMatch(/^served by primary\s+100\.0%\s+50\.0%$/m);
    expect(m.out()).toContain("The primary's 6 requests/min limit binds: 12 calls need 2 one-minute windows");
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
    expect(m.out()).toContain("4 calls, 4 callers back to back");
    expect(m.out()).toMatch(/^\s+default$/m);
    expect(m.out()).toMatch(/^served by primary\s+100\.0%$/m);
  });

  it("explains bad input with a non-zero exit code", async () => {
    const m = memoryIo();
    expect(await runCli(["frobnicate"], m.io)).toBe(2);
    expect(m.err()).toContain('Unknown command "frobnicate"');
    expect(await runCli(["simulate", "--config", "missing.json"], m.io)).toBe(1);
    expect(m.err()).toContain("can't read --config missing.json: ENOENT missing.json");
    expect(await runCli(["--help"], m.io)).toBe(0);
    expect(m.out()).toContain("Usage: autopicker simulate");
  });
});
