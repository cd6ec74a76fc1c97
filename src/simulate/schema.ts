/**
 * The simulation config as a zod schema: what `simulate()` accepts and what `--config` reads, checked
 * before anything runs. Every object is strict, every number says its rule, and the checks that span
 * fields (model ids listed twice, tiers the catalog doesn't have, p99 below the median) are here too.
 */
import * as z from "zod";
import { catalogLimits, type Tier } from "../limits";
import { PRIORITIES, type Priority } from "../limits/priority";
import type { JitterMode } from "../retry/backoff";
import { enumField, numberField, parseOrThrow, show, strictObject } from "./issues";
import type { PresetName, SimulationConfig } from "./types";

/** Every published tier, in order; the type check below fails when `Tier` gains one. */
export const TIERS = ["free", "tier1", "tier2", "tier3", "tier4", "tier5"] as const;
export const PRESET_NAMES = ["wait-first", "fallback-first"] as const;
const JITTER = ["full", "equal", "none"] as const;

/** The field rules, shared with the CLI so a flag and its JSON key say the same thing. */
export const rules = {
  count: numberField({ whole: true, min: 1 }),
  retries: numberField({ whole: true, min: 0 }),
  /** A limit below one per window would never let a call through. */
  limit: numberField({ whole: true, min: 1 }),
  rate: numberField({ above: 0 }),
  seconds: numberField({ min: 0 }),
  positiveSeconds: numberField({ above: 0 }),
  ms: numberField({ min: 0 }),
  price: numberField({ min: 0 }),
  seed: numberField({ whole: true, min: 0 }),
};

const limits = strictObject({
  requestsPerMinute: rules.limit.optional(),
  tokensPerMinute: rules.limit.optional(),
  requestsPerDay: rules.limit.optional(),
});

const latency = z
  .union(
    [
      rules.ms,
      strictObject({ median: numberField({ above: 0 }), p99: numberField({ above: 0 }) }).refine(
        (l) => l.p99 >= l.median,
        {
          path: ["p99"],
          error: (issue) => {
            const l = issue.input as { median: number; p99: number };
            return `must be >= the median (${l.median}), got ${l.p99}`;
          },
        },
      ),
    ],
    {
      error: (issue) =>
        `must be milliseconds (a number) or { "median": ms, "p99": ms }, got ${show(issue.input)}`,
    },
  )
  .optional();

function modelIdMessage(issue: { input?: unknown }): string {
  const what = 'a model id such as "gpt-4o-mini"';
  return issue.input === undefined ? `is required: ${what}` : `must be ${what}, got ${show(issue.input)}`;
}

const model = strictObject({
  model: z.string({ error: modelIdMessage }).min(1, { error: modelIdMessage }),
  provider: enumField(["openai", "gemini"]).optional(),
  tier: enumField(TIERS).optional(),
  limits: limits.optional(),
  knownToPicker: z.boolean().optional(),
  latencyMs: latency,
  pricing: strictObject({
    inputPer1M: rules.price,
    outputPer1M: rules.price,
    cachedInputPer1M: rules.price.optional(),
  }).optional(),
});

const tenantSettings = strictObject({
  weight: numberField({ above: 0 }).optional(),
  maxShare: numberField({ above: 0, max: 1 }).optional(),
});

const prioritySettings = strictObject({
  maxWaitSeconds: rules.seconds.optional(),
  agingSeconds: rules.seconds.optional(),
});

const priority = enumField(PRIORITIES);

const settings = strictObject({
  maxWaitSeconds: rules.seconds.optional(),
  maxRetries: rules.retries.optional(),
  backoffBase: numberField({ min: 1 }).optional(),
  backoffInitialSeconds: rules.positiveSeconds.optional(),
  backoffMaxSeconds: rules.positiveSeconds.optional(),
  jitter: enumField(JITTER).optional(),
  fallbackOrder: enumField(["listed", "cheapest"]).optional(),
  tenants: z.record(z.string(), tenantSettings).optional(),
  priorities: strictObject({
    interactive: prioritySettings.optional(),
    normal: prioritySettings.optional(),
    batch: prioritySettings.optional(),
  }).optional(),
});

const arrivals = z.discriminatedUnion("pattern", [
  strictObject({ pattern: z.literal("steady"), perMinute: rules.rate }),
  strictObject({ pattern: z.literal("poisson"), perMinute: rules.rate }),
  strictObject({ pattern: z.literal("bursts"), size: rules.count, everySeconds: rules.positiveSeconds }),
]);

const stream = strictObject({
  name: z.string().min(1).optional(),
  priority: priority.optional(),
  tenant: z.string().min(1).optional(),
  calls: rules.count,
  arrivals,
});

const workload = strictObject({
  calls: rules.count.optional(),
  concurrency: rules.count.optional(),
  arrivals: arrivals.optional(),
  streams: z.array(stream).min(1).optional(),
  promptTokens: rules.count.optional(),
  outputTokens: rules.count.optional(),
}).superRefine((w, ctx) => {
  if (w.streams === undefined) {
    if (w.calls === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["calls"],
        message: "is required: a whole number >= 1 (or give `streams`, each with its own calls)",
      });
    }
    return;
  }
  // A mixed workload says its calls and schedules per stream; one total beside them would be ambiguous.
  for (const key of ["calls", "arrivals"] as const) {
    if (w[key] !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `cannot be given with \`streams\`: give each stream its own ${key}`,
      });
    }
  }
  const names = new Map<string, number>();
  w.streams.forEach((s, i) => {
    const name = streamName(s);
    const first = names.get(name);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["streams", i, ...(s.name === undefined ? [] : ["name"])],
        message: `has the same name ${JSON.stringify(name)} as streams[${first}]; give one a \`name\``,
      });
    }
    names.set(name, i);
  });
});

/** A stream's label: its name, or its class and tenant (`"batch acme"`). */
export function streamName(s: { name?: string; priority?: Priority; tenant?: string }): string {
  return s.name ?? [s.priority ?? "normal", s.tenant].filter(Boolean).join(" ");
}

const preset = enumField(PRESET_NAMES);

const scenario = z.union(
  [
    preset,
    strictObject({ name: z.string().min(1), preset: preset.optional(), settings: settings.optional() }),
  ],
  {
    error: (issue) =>
      `must be a preset name (${PRESET_NAMES.join(", ")}) or { "name", "preset"?, "settings"? }, got ${show(issue.input)}`,
  },
);

const config = strictObject({
  title: z.string().optional(),
  models: z.array(model).min(1),
  workload,
  settings: settings.optional(),
  compare: z.array(scenario).optional(),
  count429s: z.boolean().optional(),
  seed: rules.seed.optional(),
}).superRefine((c, ctx) => {
  const seen = new Map<string, number>();
  c.models.forEach((m, i) => {
    // The simulator serves each model id once, whichever protocol asks for it.
    const first = seen.get(m.model);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["models", i, "model"],
        message: `lists ${JSON.stringify(m.model)} again (models[${first}] is the same id); list each model once`,
      });
    }
    seen.set(m.model, i);
    if (m.tier && !catalogLimits(m.model, m.tier)) {
      const known = TIERS.filter((t) => catalogLimits(m.model, t));
      ctx.addIssue({
        code: "custom",
        path: ["models", i, "tier"],
        message:
          `has no published limits for ${JSON.stringify(m.model)} at ${JSON.stringify(m.tier)} ` +
          (known.length
            ? `(the catalog knows ${known.join(", ")} for it); give \`limits\``
            : "(the catalog doesn't know this model); give `limits` instead"),
      });
    }
  });
  const names = new Map<string, number>();
  (c.compare ?? []).forEach((s, i) => {
    const name = typeof s === "string" ? s : s.name;
    const first = names.get(name);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["compare", i, ...(typeof s === "string" ? [] : ["name"])],
        message: `repeats the name ${JSON.stringify(name)} of compare[${first}]; give each configuration its own name`,
      });
    }
    names.set(name, i);
  });
});

/**
 * Checks a config (from code or parsed JSON) against the schema; throws one `AutoPickerConfigError`
 * naming every problem by its path, `root` standing for the whole input (e.g. a file name).
 */
export function parseConfig(input: unknown, root = "config"): SimulationConfig {
  return parseOrThrow(config, input, root) as SimulationConfig;
}

// Compile-time: the schema accepts exactly the documented types (and every tier and preset).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typesMatch: [
  Same<z.output<typeof config>, SimulationConfig>,
  Same<(typeof TIERS)[number], Tier>,
  Same<(typeof PRESET_NAMES)[number], PresetName>,
  Same<(typeof JITTER)[number], JitterMode>,
] = [true, true, true, true];
void typesMatch;
