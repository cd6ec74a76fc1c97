import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { AutoPickerConfigError } from "../errors";
import { PRESETS } from "./config";
import { renderHtmlReport } from "./report";
import { simulate } from "./run";
import { renderTextSummary } from "./summary";
import type { PresetName, SimulatedModel, SimulationConfig } from "./types";

/** Where the CLI reads and writes; tests pass their own. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => Promise<string>;
  writeFile: (path: string, content: string) => Promise<void>;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (p) => readFile(p, "utf8"),
  writeFile: (p, c) => writeFile(p, c, "utf8"),
};

/** The `--compare` name of the configuration given by `--max-wait` / `--max-retries` themselves. */
const CUSTOM = "custom";

/** `autopicker --help`. */
export const USAGE = `Usage: autopicker simulate [--config sim.json] [options]

Runs a workload through the real AutoPickerChatModel against simulated providers in virtual time
and writes a self-contained HTML report plus a summary table. Nothing is sent to any provider.

  --config FILE         JSON SimulationConfig (models, workload, settings, compare); flags below override it
  --out FILE            HTML report (default: autopicker-simulation.html)
  --json FILE           also write the full result as JSON
  --calls N             calls in the workload (default 300)
  --concurrency N       calls in flight at most (default 10)
  --arrival-rate N      release N calls per minute instead of a concurrency cap
  --prompt-tokens N     prompt tokens per call (default 500)
  --output-tokens N     output tokens per answer (default 200)
  --primary MODEL       primary model id (default gpt-4o-mini)
  --rpm N / --tpm N / --rpd N   primary's limits (default --rpm 60 when none is given)
  --fallback MODELS     comma-separated fallback ids, or "none" (default gemini-2.5-flash)
  --fallback-rpm N / --fallback-tpm N   limits of every fallback (default unlimited)
  --limits-unknown      don't tell the picker the limits: it learns them from headers and 429s
  --max-wait S          maxWaitSeconds (presets in --compare keep their own)
  --max-retries N       maxRetries (presets in --compare keep their own)
  --compare LIST        comma-separated: ${Object.keys(PRESETS).join(", ")}, custom (= --max-wait/--max-retries)
`;

/** Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === "help") {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals[0] !== "simulate") {
    io.stderr(`Unknown command "${positionals[0] ?? ""}".\n\n${USAGE}`);
    return 2;
  }
  try {
    const base = values.config
      ? (JSON.parse(await io.readFile(values.config)) as SimulationConfig)
      : undefined;
    const config = applyFlags(base, values);
    const result = await simulate(config, {
      onScenario: (e) => {
        if (e.phase === "start") io.stderr(`simulating ${e.scenario} (${e.index + 1}/${e.total})...\n`);
      },
    });
    io.stdout(`${renderTextSummary(result)}\n`);
    const out = values.out ?? "autopicker-simulation.html";
    await io.writeFile(out, renderHtmlReport(result));
    io.stdout(`Report: ${out}\n`);
    if (values.json) {
      await io.writeFile(values.json, JSON.stringify(result, null, 2));
      io.stdout(`Result JSON: ${values.json}\n`);
    }
    return 0;
  } catch (error) {
    const message =
      error instanceof AutoPickerConfigError || error instanceof SyntaxError ? error.message : String(error);
    io.stderr(`autopicker simulate: ${message}\n`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      config: { type: "string" },
      out: { type: "string" },
      json: { type: "string" },
      calls: { type: "string" },
      concurrency: { type: "string" },
      "arrival-rate": { type: "string" },
      "prompt-tokens": { type: "string" },
      "output-tokens": { type: "string" },
      primary: { type: "string" },
      rpm: { type: "string" },
      tpm: { type: "string" },
      rpd: { type: "string" },
      fallback: { type: "string" },
      "fallback-rpm": { type: "string" },
      "fallback-tpm": { type: "string" },
      "limits-unknown": { type: "boolean" },
      "max-wait": { type: "string" },
      "max-retries": { type: "string" },
      compare: { type: "string" },
    },
  });
}

type Flags = ReturnType<typeof parse>["values"];

/** The config file (or the flags-only default world) with the flags applied on top. */
export function applyFlags(base: SimulationConfig | undefined, v: Flags): SimulationConfig {
  const config: SimulationConfig = base
    ? structuredClone(base)
    : { models: defaultModels(v), workload: { calls: 300 } };
  if (base && (v.primary || v.rpm || v.tpm || v.rpd || v.fallback)) {
    throw new AutoPickerConfigError(
      "--primary, --rpm, --tpm, --rpd and --fallback can't be combined with --config; edit its `models`.",
    );
  }
  const workload = { ...config.workload };
  setNum(v.calls, "--calls", (n) => (workload.calls = n));
  setNum(v.concurrency, "--concurrency", (n) => (workload.concurrency = n));
  setNum(v["arrival-rate"], "--arrival-rate", (n) => (workload.arrivalsPerMinute = n));
  setNum(v["prompt-tokens"], "--prompt-tokens", (n) => (workload.promptTokens = n));
  setNum(v["output-tokens"], "--output-tokens", (n) => (workload.outputTokens = n));
  config.workload = workload;
  const settings = { ...config.settings };
  setNum(v["max-wait"], "--max-wait", (n) => (settings.maxWaitSeconds = n));
  setNum(v["max-retries"], "--max-retries", (n) => (settings.maxRetries = n));
  config.settings = settings;
  if (v.compare) {
    const names = v.compare
      .split(",")
      .map((n) => n.trim())
      .filter(Boolean);
    for (const n of names) {
      if (!(n in PRESETS) && n !== CUSTOM) {
        throw new AutoPickerConfigError(
          `--compare: unknown configuration "${n}"; use ${[...Object.keys(PRESETS), CUSTOM].join(", ")}.`,
        );
      }
    }
    // Presets keep their own wait and retries; "custom" is exactly what --max-wait / --max-retries say.
    config.compare = names.map((n) => (n === CUSTOM ? { name: CUSTOM } : (n as PresetName)));
  }
  if (v["limits-unknown"]) config.models = config.models.map((m) => ({ ...m, knownToPicker: false }));
  return config;
}

function defaultModels(v: Flags): SimulatedModel[] {
  const limits = {
    ...(v.rpm ? { requestsPerMinute: num(v.rpm, "--rpm") } : {}),
    ...(v.tpm ? { tokensPerMinute: num(v.tpm, "--tpm") } : {}),
    ...(v.rpd ? { requestsPerDay: num(v.rpd, "--rpd") } : {}),
  };
  const primary: SimulatedModel = {
    model: v.primary ?? "gpt-4o-mini",
    limits: Object.keys(limits).length ? limits : { requestsPerMinute: 60 },
  };
  const fallbackIds = (v.fallback ?? "gemini-2.5-flash")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s && s !== "none");
  const fallbackLimits = {
    ...(v["fallback-rpm"] ? { requestsPerMinute: num(v["fallback-rpm"], "--fallback-rpm") } : {}),
    ...(v["fallback-tpm"] ? { tokensPerMinute: num(v["fallback-tpm"], "--fallback-tpm") } : {}),
  };
  return [primary, ...fallbackIds.map((model) => ({ model, limits: fallbackLimits }))];
}

function setNum(raw: string | undefined, flag: string, set: (n: number) => void): void {
  if (raw !== undefined) set(num(raw, flag));
}

function num(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new AutoPickerConfigError(`${flag} needs a number >= 0, got "${raw}".`);
  return n;
}
