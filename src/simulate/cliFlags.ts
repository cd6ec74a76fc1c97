/**
 * The `autopicker simulate` flags: what they are, how their values are checked (the config's own
 * field rules, so `--rpm` and `requestsPerMinute` say the same thing, but named as typed), and how
 * they turn into a `SimulationConfig`.
 */
import { parseArgs } from "node:util";
import type * as z from "zod";
import { didYouMean as suggest } from "../config/messages";
import { AutoPickerConfigError } from "../errors";
import { joinProblems } from "./issues";
import { PRESET_NAMES, rules, TIERS } from "./schema";
import type { Arrivals, LatencySpec, PresetName, SimulatedModel, SimulationConfig } from "./types";

/** A mistake in the command line itself (exit code 2), as opposed to the config or the run. */
export class UsageError extends AutoPickerConfigError {}

/** The `--compare` name of the configuration given by `--max-wait` / `--max-retries` themselves. */
const CUSTOM = "custom";
const PATTERNS = ["steady", "poisson", "bursts"] as const;

export const USAGE = `Usage: autopicker simulate [--config sim.json] [options]

Runs a workload through the real AutoPickerChatModel against simulated providers in virtual time,
prints what it found and a comparison table, and writes a self-contained HTML report. Nothing is
sent to any provider.

Files
  --config FILE         JSON SimulationConfig (models, workload, settings, compare, seed); the
                        workload and picker flags below override it
  --out FILE            HTML report (default: autopicker-simulation.html)
  --json FILE           also write the full result as JSON

Workload
  --calls N             calls in the workload (default 300)
  --concurrency N       callers back to back (default 10); with --arrivals, the in-flight cap
  --arrivals PATTERN    steady, poisson or bursts: calls arrive on a schedule instead
  --arrival-rate N      calls per minute for steady and poisson (alone: steady)
  --burst-size N        calls per burst (alone: bursts)
  --burst-every S       seconds between bursts
  --prompt-tokens N     prompt tokens per call (default 500)
  --output-tokens N     output tokens per answer (default 200)
  --seed N              seed of arrivals and answer times (default 1)

Models (without --config)
  --primary MODEL       primary model id (default gpt-4o-mini)
  --tier TIER           the primary's published tier: ${TIERS.join(", ")}
  --rpm N / --tpm N / --rpd N   the primary's limits (default --rpm 60 when no limit or tier is given)
  --fallback MODELS     comma-separated fallback ids, or "none" (default gemini-2.5-flash)
  --fallback-rpm N / --fallback-tpm N   limits of every fallback (default unlimited)
  --latency MS          answer time of every model (default 800)
  --latency-p99 MS      make answer times lognormal: median --latency, this 99th percentile

Picker
  --limits-unknown      don't tell the picker the limits: it learns them from headers and 429s
  --max-wait S          maxWaitSeconds (presets in --compare keep their own)
  --max-retries N       maxRetries (presets in --compare keep their own)
  --compare LIST        comma-separated: ${[...PRESET_NAMES, CUSTOM].join(", ")} (= --max-wait/--max-retries)
`;

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  config: { type: "string" },
  out: { type: "string" },
  json: { type: "string" },
  calls: { type: "string" },
  concurrency: { type: "string" },
  arrivals: { type: "string" },
  "arrival-rate": { type: "string" },
  "burst-size": { type: "string" },
  "burst-every": { type: "string" },
  "prompt-tokens": { type: "string" },
  "output-tokens": { type: "string" },
  seed: { type: "string" },
  primary: { type: "string" },
  tier: { type: "string" },
  rpm: { type: "string" },
  tpm: { type: "string" },
  rpd: { type: "string" },
  fallback: { type: "string" },
  "fallback-rpm": { type: "string" },
  "fallback-tpm": { type: "string" },
  latency: { type: "string" },
  "latency-p99": { type: "string" },
  "limits-unknown": { type: "boolean" },
  "max-wait": { type: "string" },
  "max-retries": { type: "string" },
  compare: { type: "string" },
} as const;

/** Flags that describe the models, so they can't be mixed with a config file's `models`. */
const MODEL_FLAGS = [
  "primary",
  "tier",
  "rpm",
  "tpm",
  "rpd",
  "fallback",
  "fallback-rpm",
  "fallback-tpm",
  "latency",
  "latency-p99",
] as const;

export type Flags = ReturnType<typeof parseFlags>["values"];

/** Parses argv; an unknown or malformed flag is a {@link UsageError} naming it. */
export function parseFlags(argv: readonly string[]) {
  const known = Object.keys(OPTIONS);
  for (const arg of argv) {
    if (arg === "--") break;
    if (!arg.startsWith("--")) continue;
    const name = arg.slice(2).split("=")[0]!;
    if (!known.includes(name)) {
      const hint = suggest(name, known);
      throw new UsageError(`Unknown option --${name}${hint ? ` (did you mean --${hint}?)` : ""}.`);
    }
  }
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The config file (or the flags-only default world) with the flags applied on top. */
export function applyFlags(base: SimulationConfig | undefined, v: Flags): SimulationConfig {
  const problems: string[] = [];
  const read = (flag: keyof Flags, rule: z.ZodType<number>): number | undefined => {
    const raw = v[flag];
    if (typeof raw !== "string") return undefined;
    const n = parseNumber(raw);
    if (rule.safeParse(n).success) return n;
    problems.push(`--${flag} must be ${rule.description ?? "a number"}, got ${JSON.stringify(raw)}`);
    return undefined;
  };
  if (base) {
    const used = MODEL_FLAGS.filter((f) => v[f] !== undefined).map((f) => `--${f}`);
    if (used.length) {
      problems.push(`${used.join(", ")} can't be combined with --config: edit the file's \`models\` instead`);
    }
  }
  const config: SimulationConfig = base
    ? structuredClone(base)
    : { models: defaultModels(v, read, problems), workload: { calls: 300 } };

  const workload = { ...config.workload };
  const set = <K extends keyof typeof workload>(key: K, value: (typeof workload)[K] | undefined) => {
    if (value !== undefined) workload[key] = value;
  };
  set("calls", read("calls", rules.count));
  set("concurrency", read("concurrency", rules.count));
  set("promptTokens", read("prompt-tokens", rules.count));
  set("outputTokens", read("output-tokens", rules.count));
  const arrivals = arrivalsFromFlags(workload.arrivals, v, read, problems);
  if (arrivals) workload.arrivals = arrivals;
  config.workload = workload;

  const seed = read("seed", rules.seed);
  if (seed !== undefined) config.seed = seed;
  const settings = { ...config.settings };
  const maxWait = read("max-wait", rules.seconds);
  if (maxWait !== undefined) settings.maxWaitSeconds = maxWait;
  const maxRetries = read("max-retries", rules.retries);
  if (maxRetries !== undefined) settings.maxRetries = maxRetries;
  config.settings = settings;

  if (v.compare !== undefined) {
    const names = v.compare
      .split(",")
      .map((n) => n.trim())
      .filter(Boolean);
    const allowed: string[] = [...PRESET_NAMES, CUSTOM];
    for (const n of names) {
      if (!allowed.includes(n)) {
        const hint = suggest(n, allowed);
        problems.push(
          `--compare: unknown configuration ${JSON.stringify(n)}${hint ? ` (did you mean ${hint}?)` : ""}; use ${allowed.join(", ")}`,
        );
      }
    }
    if (names.length === 0) problems.push(`--compare needs a comma-separated list of ${allowed.join(", ")}`);
    // Presets keep their own wait and retries; "custom" is exactly what --max-wait / --max-retries say.
    config.compare = names.map((n) => (n === CUSTOM ? { name: CUSTOM } : (n as PresetName)));
  }
  if (v["limits-unknown"]) config.models = config.models.map((m) => ({ ...m, knownToPicker: false }));
  if (problems.length) throw new UsageError(joinProblems(problems));
  return config;
}

type Read = (flag: keyof Flags, rule: z.ZodType<number>) => number | undefined;

function arrivalsFromFlags(
  base: Arrivals | undefined,
  v: Flags,
  read: Read,
  problems: string[],
): Arrivals | undefined {
  const rate = read("arrival-rate", rules.rate);
  const size = read("burst-size", rules.count);
  const every = read("burst-every", rules.positiveSeconds);
  let pattern: Arrivals["pattern"] | undefined;
  if (v.arrivals !== undefined) {
    if (!(PATTERNS as readonly string[]).includes(v.arrivals)) {
      const hint = suggest(v.arrivals, PATTERNS);
      problems.push(
        `--arrivals must be one of ${PATTERNS.join(", ")}, got ${JSON.stringify(v.arrivals)}${hint ? ` (did you mean ${hint}?)` : ""}`,
      );
      return undefined;
    }
    pattern = v.arrivals as Arrivals["pattern"];
  } else {
    const rated = v["arrival-rate"] !== undefined;
    const bursty = v["burst-size"] !== undefined || v["burst-every"] !== undefined;
    if (rated && bursty) {
      problems.push(
        "--arrival-rate (steady or poisson arrivals) and --burst-size/--burst-every (bursts) exclude each other",
      );
      return undefined;
    }
    if (rated) pattern = base?.pattern === "poisson" ? "poisson" : "steady";
    else if (bursty) pattern = "bursts";
  }
  if (!pattern) return undefined;
  if (pattern === "bursts") {
    if (v["arrival-rate"] !== undefined) {
      problems.push("--arrival-rate doesn't apply to bursts: give --burst-size and --burst-every");
    }
    const b = base?.pattern === "bursts" ? base : undefined;
    const s = size ?? b?.size;
    const e = every ?? b?.everySeconds;
    if (s === undefined && v["burst-size"] === undefined) problems.push("bursts need --burst-size N");
    if (e === undefined && v["burst-every"] === undefined) problems.push("bursts need --burst-every S");
    return s !== undefined && e !== undefined ? { pattern, size: s, everySeconds: e } : undefined;
  }
  if (v["burst-size"] !== undefined || v["burst-every"] !== undefined) {
    problems.push(`--burst-size and --burst-every apply to bursts, not ${pattern} arrivals`);
  }
  const perMinute = rate ?? (base && base.pattern !== "bursts" ? base.perMinute : undefined);
  if (perMinute === undefined) {
    if (v["arrival-rate"] === undefined) problems.push(`${pattern} arrivals need --arrival-rate N`);
    return undefined;
  }
  return { pattern, perMinute };
}

function defaultModels(v: Flags, read: Read, problems: string[]): SimulatedModel[] {
  const limits = {
    ...defined("requestsPerMinute", read("rpm", rules.limit)),
    ...defined("tokensPerMinute", read("tpm", rules.limit)),
    ...defined("requestsPerDay", read("rpd", rules.limit)),
  };
  let tier: SimulatedModel["tier"];
  if (v.tier !== undefined) {
    if ((TIERS as readonly string[]).includes(v.tier)) tier = v.tier as SimulatedModel["tier"];
    else {
      const hint = suggest(v.tier, TIERS);
      problems.push(
        `--tier must be one of ${TIERS.join(", ")}, got ${JSON.stringify(v.tier)}${hint ? ` (did you mean ${hint}?)` : ""}`,
      );
    }
  }
  const latency = latencyFromFlags(v, read, problems);
  const limitFlags = v.rpm !== undefined || v.tpm !== undefined || v.rpd !== undefined;
  const primary: SimulatedModel = {
    model: v.primary ?? "gpt-4o-mini",
    ...(tier ? { tier } : {}),
    // The default world's primary is limited; a tier or any limit flag replaces that default.
    ...(limitFlags ? { limits } : v.tier === undefined ? { limits: { requestsPerMinute: 60 } } : {}),
    ...(latency !== undefined ? { latencyMs: latency } : {}),
  };
  const fallbackIds = (v.fallback ?? "gemini-2.5-flash")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s && s !== "none");
  const fallbackLimits = {
    ...defined("requestsPerMinute", read("fallback-rpm", rules.limit)),
    ...defined("tokensPerMinute", read("fallback-tpm", rules.limit)),
  };
  return [
    primary,
    ...fallbackIds.map((model) => ({
      model,
      ...(Object.keys(fallbackLimits).length ? { limits: fallbackLimits } : {}),
      ...(latency !== undefined ? { latencyMs: latency } : {}),
    })),
  ];
}

function latencyFromFlags(v: Flags, read: Read, problems: string[]): LatencySpec | undefined {
  const median = read("latency", rules.ms);
  const p99 = read("latency-p99", rules.rate);
  if (v["latency-p99"] === undefined) return median;
  if (v.latency === undefined) {
    problems.push("--latency-p99 needs --latency (the median)");
    return undefined;
  }
  if (median === undefined || p99 === undefined) return undefined;
  if (!(median > 0) || p99 < median) {
    problems.push(
      `--latency-p99 must be >= --latency (${median}) and --latency > 0, got ${JSON.stringify(v["latency-p99"])}`,
    );
    return undefined;
  }
  return { median, p99 };
}

function defined<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** A decimal number as typed (`12`, `0.5`, `1e3`); anything else, including `""` and `0x10`, is NaN. */
function parseNumber(raw: string): number {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw.trim()) ? Number(raw) : Number.NaN;
}
