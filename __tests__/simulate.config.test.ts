/**
 * Every input a user writes for `autopicker simulate` — the config (from code or a JSON file) and
 * the flags — is checked before anything runs, and a mistake names where it is and what to write.
 */

import { editDistance, didYouMean as suggest } from "../src/config/messages";
import { AutoPickerConfigError } from "../src/errors";
import { type SimulationConfig, simulate } from "../src/simulate";
import { type CliIo, runCli } from "../src/simulate/cliMain";
import { parseConfig } from "../src/simulate/schema";

const ok: SimulationConfig = {
  models: [{ model: "gpt-4o-mini", limits: { requestsPerMinute: 60 } }, { model: "gemini-2.5-flash" }],
  workload: { calls: 10 },
};

/** The message `parseConfig` throws for `config` (fails the test if it doesn't throw). */
function problem(config: unknown, root?: string): string {
  try {
    parseConfig(config, root);
  } catch (error) {
    expect(error).toBeInstanceOf(AutoPickerConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

describe("simulation config", () => {
  it("accepts every documented option", () => {
    const full: SimulationConfig = {
      title: "t",
      models: [
        {
          model: "gpt-4o-mini",
          provider: "openai",
          tier: "tier1",
          limits: { requestsPerMinute: 60, tokensPerMinute: 40_000, requestsPerDay: 1000 },
          knownToPicker: false,
          latencyMs: { median: 800, p99: 4000 },
          pricing: { inputPer1M: 0.15, outputPer1M: 0.6, cachedInputPer1M: 0.075 },
        },
        { model: "gemini-2.5-flash", latencyMs: 1200 },
      ],
      workload: {
        calls: 300,
        concurrency: 50,
        arrivals: { pattern: "bursts", size: 100, everySeconds: 60 },
        promptTokens: 500,
        outputTokens: 200,
      },
      settings: {
        maxWaitSeconds: 60,
        maxRetries: 2,
        backoffBase: 2,
        backoffInitialSeconds: 1,
        backoffMaxSeconds: 30,
        jitter: "full",
        fallbackOrder: "cheapest",
      },
      compare: ["wait-first", { name: "x", preset: "fallback-first", settings: { maxRetries: 1 } }],
      count429s: false,
      seed: 7,
    };
    expect(parseConfig(full)).toEqual(full);
    for (const arrivals of [
      { pattern: "steady", perMinute: 30 },
      { pattern: "poisson", perMinute: 0.5 },
    ] as const) {
      expect(parseConfig({ ...ok, workload: { calls: 3, arrivals } }).workload.arrivals).toEqual(arrivals);
    }
  });

  it("rejects wrong types with the option's path and what it got", () => {
    expect(problem({ ...ok, workload: { calls: "abc" } })).toBe(
      'workload.calls must be a whole number >= 1, got "abc".',
    );
    expect(problem({ ...ok, models: [{ model: 42 }] })).toBe(
      'models[0].model must be a model id such as "gpt-4o-mini", got 42.',
    );
    expect(problem({ ...ok, models: "gpt-4o-mini" })).toBe('models must be a list, got "gpt-4o-mini".');
    expect(problem({ ...ok, count429s: "yes" })).toBe('count429s must be true or false, got "yes".');
    expect(problem({ ...ok, models: [{ model: "gpt-4o-mini", latencyMs: "fast" }] })).toBe(
      'models[0].latencyMs must be milliseconds (a number) or { "median": ms, "p99": ms }, got "fast".',
    );
    expect(problem(null)).toBe("config must be an object, got null.");
    expect(problem({ models: [{}] }, "sim.json")).toBe(
      '2 problems:\n  - models[0].model is required: a model id such as "gpt-4o-mini"\n  - workload is required',
    );
  });

  it("rejects non-finite numbers", () => {
    expect(problem({ ...ok, workload: { calls: Number.POSITIVE_INFINITY } })).toBe(
      "workload.calls must be a whole number >= 1, got Infinity.",
    );
    expect(problem({ ...ok, settings: { maxWaitSeconds: Number.NaN } })).toBe(
      "settings.maxWaitSeconds must be a number >= 0, got NaN.",
    );
    expect(
      problem({ ...ok, workload: { calls: 3, arrivals: { pattern: "poisson", perMinute: -Infinity } } }),
    ).toBe("workload.arrivals.perMinute must be a number > 0, got -Infinity.");
  });

  it("rejects unknown keys, suggesting the closest known one or listing them", () => {
    expect(problem({ ...ok, settings: { maxWait: 10 } })).toBe(
      'settings has unknown key "maxWait": did you mean "maxWaitSeconds"?',
    );
    expect(problem({ ...ok, compare: [{ name: "a", settings: { max_wait_seconds: 10 } }] })).toBe(
      'compare[0].settings has unknown key "max_wait_seconds": did you mean "maxWaitSeconds"?',
    );
    expect(problem({ ...ok, titel: "x" })).toBe('config has unknown key "titel": did you mean "title"?');
    expect(problem({ ...ok, models: [{ model: "gpt-4o-mini", limits: { rpm: 60 } }] })).toBe(
      'models[0].limits has unknown key "rpm"; known keys: requestsPerMinute, tokensPerMinute, requestsPerDay.',
    );
    // The open-loop option of earlier versions is a different shape now: the message says which keys exist.
    expect(problem({ ...ok, workload: { calls: 3, arrivalsPerMinute: 60 } })).toBe(
      'workload has unknown key "arrivalsPerMinute": did you mean "arrivals"?',
    );
  });

  it("rejects unknown tiers, presets and patterns, listing the known ones", () => {
    expect(problem({ ...ok, models: [{ model: "gpt-4o-mini", tier: "teir1" }] })).toBe(
      'models[0].tier must be one of free, tier1, tier2, tier3, tier4, tier5, got "teir1" (did you mean "tier1"?).',
    );
    expect(problem({ ...ok, models: [{ model: "gpt-4o-mini", tier: "gold" }] })).toBe(
      'models[0].tier must be one of free, tier1, tier2, tier3, tier4, tier5, got "gold".',
    );
    expect(problem({ ...ok, compare: ["wait-frist"] })).toBe(
      'compare[0] must be one of wait-first, fallback-first, got "wait-frist" (did you mean "wait-first"?).',
    );
    expect(problem({ ...ok, workload: { calls: 3, arrivals: { pattern: "poison", perMinute: 3 } } })).toBe(
      'workload.arrivals.pattern must be one of steady, poisson, bursts, got "poison" (did you mean "poisson"?).',
    );
    // A real tier the catalog has no numbers for, for this model.
    expect(problem({ ...ok, models: [{ model: "gpt-4o", tier: "free" }] })).toBe(
      'models[0].tier has no published limits for "gpt-4o" at "free" (the catalog knows tier1, tier2, tier3, tier4, tier5 for it); give `limits`.',
    );
    expect(problem({ ...ok, models: [{ model: "my-model", tier: "tier1" }] })).toMatch(
      /the catalog doesn't know this model\); give `limits` instead/,
    );
  });

  it("rejects limits below one per window, and other out-of-range numbers", () => {
    expect(problem({ ...ok, models: [{ model: "gpt-4o-mini", limits: { requestsPerMinute: 0 } }] })).toBe(
      "models[0].limits.requestsPerMinute must be a whole number >= 1, got 0.",
    );
    expect(problem({ ...ok, models: [{ model: "gpt-4o-mini", limits: { tokensPerMinute: 0.5 } }] })).toBe(
      "models[0].limits.tokensPerMinute must be a whole number >= 1, got 0.5.",
    );
    expect(problem({ ...ok, models: [{ model: "gpt-4o-mini", latencyMs: { median: 800, p99: 500 } }] })).toBe(
      "models[0].latencyMs.p99 must be >= the median (800), got 500.",
    );
    expect(problem({ ...ok, compare: [{ name: "a", settings: { backoffBase: 0.5 } }] })).toBe(
      "compare[0].settings.backoffBase must be a number >= 1, got 0.5.",
    );
    expect(problem({ ...ok, models: [] })).toBe("models needs at least 1 entry.");
  });

  it("rejects what only makes sense across fields: a model listed twice, two configurations with one name", () => {
    expect(problem({ ...ok, models: [{ model: "gpt-4o-mini" }, { model: "gpt-4o-mini" }] })).toBe(
      'models[1].model lists "gpt-4o-mini" again (models[0] is the same id); list each model once.',
    );
    expect(problem({ ...ok, compare: ["wait-first", { name: "wait-first" }] })).toBe(
      'compare[1].name repeats the name "wait-first" of compare[0]; give each configuration its own name.',
    );
  });

  it("lists every problem at once", () => {
    const message = problem({
      models: [{ model: "gpt-4o-mini", limits: { requestsPerMinute: -1 }, latency: 5 }],
      workload: { calls: 0 },
      seed: 1.5,
    });
    expect(message.split("\n")).toEqual([
      "4 problems:",
      "  - models[0].limits.requestsPerMinute must be a whole number >= 1, got -1",
      '  - models[0] has unknown key "latency": did you mean "latencyMs"?',
      "  - workload.calls must be a whole number >= 1, got 0",
      "  - seed must be a whole number >= 0, got 1.5",
    ]);
  });

  it("simulate() validates before it starts anything", async () => {
    await expect(simulate({ ...ok, workload: { calls: 0 } })).rejects.toThrow(
      "workload.calls must be a whole number >= 1, got 0.",
    );
  });
});

describe("suggestions", () => {
  it("finds case and separator variants, prefixes and typos, and nothing for unrelated words", () => {
    const keys = ["maxWaitSeconds", "maxRetries", "backoffBase", "jitter"];
    expect(suggest("max_wait_seconds", keys)).toBe("maxWaitSeconds");
    expect(suggest("maxWait", keys)).toBe("maxWaitSeconds");
    expect(suggest("maxRetires", keys)).toBe("maxRetries");
    expect(suggest("jiter", keys)).toBe("jitter");
    expect(suggest("colour", keys)).toBeUndefined();
    expect(editDistance("ab", "ba")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });
});

describe("autopicker simulate flags", () => {
  const io = (files: Record<string, string> = {}) => {
    const err: string[] = [];
    const out: string[] = [];
    const cli: CliIo = {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      readFile: async (p) => {
        if (!(p in files)) throw new Error(`ENOENT: no such file, open '${p}'`);
        return files[p]!;
      },
      writeFile: async (p, c) => {
        files[p] = c;
      },
    };
    return { cli, files, err: () => err.join(""), out: () => out.join("") };
  };

  async function usage(...argv: string[]): Promise<string> {
    const m = io();
    expect(await runCli(["simulate", ...argv], m.cli)).toBe(2);
    expect(m.out()).toBe("");
    const first = m.err().split("\n");
    expect(first.at(-2)).toBe("Run `autopicker simulate --help` for the options.");
    return first.slice(0, -2).join("\n");
  }

  it("name the flag as typed and the value as typed", async () => {
    expect(await usage("--rpm", "abc")).toBe(
      'autopicker simulate: --rpm must be a whole number >= 1, got "abc".',
    );
    expect(await usage("--rpm", "0")).toBe(
      'autopicker simulate: --rpm must be a whole number >= 1, got "0".',
    );
    expect(await usage("--calls", "2.5")).toBe(
      'autopicker simulate: --calls must be a whole number >= 1, got "2.5".',
    );
    expect(await usage("--arrival-rate", "")).toBe(
      'autopicker simulate: --arrival-rate must be a number > 0, got "".',
    );
    expect(await usage("--max-wait", "0x10")).toBe(
      'autopicker simulate: --max-wait must be a number >= 0, got "0x10".',
    );
    expect(await usage("--tier", "teir1")).toBe(
      'autopicker simulate: --tier must be one of free, tier1, tier2, tier3, tier4, tier5, got "teir1" (did you mean tier1?).',
    );
    expect(await usage("--compare", "wait-first,yolo")).toBe(
      'autopicker simulate: --compare: unknown configuration "yolo"; use wait-first, fallback-first, custom.',
    );
    expect(await usage("--arrivals", "poison", "--arrival-rate", "5")).toBe(
      'autopicker simulate: --arrivals must be one of steady, poisson, bursts, got "poison" (did you mean poisson?).',
    );
  });

  it("say which flag is unknown and which one was meant", async () => {
    expect(await usage("--rmp", "5")).toBe(
      "autopicker simulate: Unknown option --rmp (did you mean --rpm?).",
    );
    expect(await usage("--max-wait-seconds=5")).toBe(
      "autopicker simulate: Unknown option --max-wait-seconds (did you mean --max-wait?).",
    );
    expect(await usage("--colour")).toBe("autopicker simulate: Unknown option --colour.");
  });

  it("explain flags that need each other or exclude each other", async () => {
    expect(await usage("--arrivals", "poisson")).toBe(
      "autopicker simulate: poisson arrivals need --arrival-rate N.",
    );
    expect(await usage("--arrivals", "bursts", "--burst-size", "5")).toBe(
      "autopicker simulate: bursts need --burst-every S.",
    );
    expect(await usage("--burst-size", "5", "--burst-every", "10", "--arrival-rate", "3")).toBe(
      "autopicker simulate: --arrival-rate (steady or poisson arrivals) and --burst-size/--burst-every (bursts) exclude each other.",
    );
    expect(
      await usage("--arrivals", "bursts", "--burst-size", "5", "--burst-every", "10", "--arrival-rate", "3"),
    ).toBe(
      "autopicker simulate: --arrival-rate doesn't apply to bursts: give --burst-size and --burst-every.",
    );
    expect(await usage("--latency-p99", "4000")).toBe(
      "autopicker simulate: --latency-p99 needs --latency (the median).",
    );
    expect(await usage("--rpm", "x", "--calls", "0")).toBe(
      'autopicker simulate: 2 problems:\n  - --rpm must be a whole number >= 1, got "x"\n  - --calls must be a whole number >= 1, got "0"',
    );
  });

  it("can't mix model flags with --config, and name the file's own mistakes by their path", async () => {
    const m = io({ "sim.json": JSON.stringify({ ...ok, workload: { calls: 3, concurrency: 0 } }) });
    expect(await runCli(["simulate", "--config", "sim.json"], m.cli)).toBe(1);
    expect(m.err()).toBe(
      "autopicker simulate: in sim.json: workload.concurrency must be a whole number >= 1, got 0.\n",
    );

    const both = io({ "sim.json": JSON.stringify(ok) });
    expect(
      await runCli(["simulate", "--config", "sim.json", "--rpm", "5", "--primary", "gpt-4o"], both.cli),
    ).toBe(2);
    expect(both.err()).toContain(
      "--primary, --rpm can't be combined with --config: edit the file's `models` instead.",
    );

    const broken = io({ "sim.json": "{ models: [] }" });
    expect(await runCli(["simulate", "--config", "sim.json"], broken.cli)).toBe(1);
    expect(broken.err()).toMatch(/^autopicker simulate: sim\.json is not valid JSON: /);
  });

  it("turn into the config they describe", async () => {
    const m = io();
    const argv = [
      "simulate",
      "--calls",
      "6",
      "--arrivals",
      "poisson",
      "--arrival-rate",
      "30",
      "--concurrency",
      "3",
      "--primary",
      "gpt-4o-mini",
      "--tier",
      "free",
      "--fallback",
      "none",
      "--latency",
      "500",
      "--latency-p99",
      "2000",
      "--prompt-tokens",
      "20",
      "--output-tokens",
      "5",
      "--seed",
      "3",
      "--json",
      "r.json",
      "--out",
      "r.html",
    ];
    expect(await runCli(argv, m.cli)).toBe(0);
    const result = JSON.parse(m.files["r.json"]!);
    expect(result.workload).toEqual({
      calls: 6,
      concurrency: 3,
      arrivals: { pattern: "poisson", perMinute: 30 },
      promptTokens: 20,
      outputTokens: 5,
    });
    expect(result.seed).toBe(3);
    const primary = result.scenarios[0].models[0];
    expect(primary).toMatchObject({
      name: "openai/gpt-4o-mini",
      tier: "free",
      // The catalog's free tier for gpt-4o-mini.
      limits: { requestsPerMinute: 3, tokensPerMinute: 40_000, requestsPerDay: 200 },
      latencyMs: { median: 500, p99: 2000 },
    });
    expect(result.scenarios[0].models).toHaveLength(1);
  });
});
