import { catalogLimits, type Tier } from "../limits";
import { parseConfig, streamName } from "./schema";
import type {
  LatencySpec,
  PickerSettings,
  PresetName,
  ResolvedStream,
  ResolvedWorkload,
  ScenarioResult,
  ScenarioSpec,
  SimulatedLimits,
  SimulatedModel,
} from "./types";

/** Settings of the built-in presets (the design documents' two architectures). */
export const PRESETS: Readonly<Record<PresetName, Readonly<PickerSettings>>> = Object.freeze({
  "fallback-first": Object.freeze({ maxWaitSeconds: 10, maxRetries: 0 }),
  "wait-first": Object.freeze({ maxWaitSeconds: 300, maxRetries: 3 }),
});

/** Picker defaults (the same as `AutoPickerChatModel`'s). */
const DEFAULT_SETTINGS = { maxWaitSeconds: 300, maxRetries: 3, backoffBase: 2 } as const;
const DEFAULT_LATENCY_MS = 800;
const DEFAULT_SEED = 1;

/** A model with everything resolved. */
export interface ResolvedModel {
  name: string;
  model: string;
  provider: "openai" | "gemini";
  tier?: Tier;
  limits: SimulatedLimits;
  knownToPicker: boolean;
  latencyMs: LatencySpec;
  pricing?: SimulatedModel["pricing"];
}

/** A scenario with its final settings. */
export interface ResolvedScenario {
  name: string;
  settings: ScenarioResult["settings"];
}

/** The config with defaults applied and checked. */
export interface ResolvedConfig {
  title: string;
  models: ResolvedModel[];
  workload: ResolvedWorkload;
  scenarios: ResolvedScenario[];
  count429s: boolean;
  seed: number;
}

/** Validates (see `schema.ts`) and applies defaults; throws `AutoPickerConfigError` saying what to fix. */
export function resolveConfig(input: unknown, root = "config"): ResolvedConfig {
  const config = parseConfig(input, root);
  const w = config.workload;
  const streams = w.streams?.map(
    (st): ResolvedStream => ({
      name: streamName(st),
      priority: st.priority ?? "normal",
      ...(st.tenant ? { tenant: st.tenant } : {}),
      calls: st.calls,
      arrivals: st.arrivals,
    }),
  );
  const specs: ScenarioSpec[] = (config.compare?.length ? config.compare : [{ name: "default" }]).map((s) =>
    typeof s === "string" ? { name: s, preset: s } : s,
  );
  return {
    title: config.title ?? "AutoPicker capacity simulation",
    models: config.models.map(resolveModel),
    workload: {
      // The schema has checked that a workload without streams gives its calls.
      calls: streams ? streams.reduce((sum, st) => sum + st.calls, 0) : w.calls!,
      promptTokens: w.promptTokens ?? 500,
      outputTokens: w.outputTokens ?? 200,
      // Closed loop needs callers; open loop (arrivals or streams) queues only when a cap is given.
      ...(w.arrivals === undefined && !streams ? { concurrency: w.concurrency ?? 10 } : {}),
      ...((w.arrivals !== undefined || streams) && w.concurrency !== undefined
        ? { concurrency: w.concurrency }
        : {}),
      ...(w.arrivals !== undefined ? { arrivals: w.arrivals } : {}),
      ...(streams ? { streams } : {}),
    },
    scenarios: specs.map((spec) => ({
      name: spec.name,
      settings: {
        ...DEFAULT_SETTINGS,
        ...config.settings,
        ...(spec.preset ? PRESETS[spec.preset] : {}),
        ...spec.settings,
      },
    })),
    count429s: config.count429s ?? true,
    seed: config.seed ?? DEFAULT_SEED,
  };
}

function resolveModel(spec: SimulatedModel): ResolvedModel {
  const provider = spec.provider ?? (spec.model.startsWith("gemini") ? "gemini" : "openai");
  // The schema has checked that the catalog knows this model at this tier.
  const catalog = spec.tier ? catalogLimits(spec.model, spec.tier) : undefined;
  const limits = pickDefined({
    requestsPerMinute: spec.limits?.requestsPerMinute ?? catalog?.requestsPerMinute,
    tokensPerMinute: spec.limits?.tokensPerMinute ?? catalog?.tokensPerMinute,
    requestsPerDay: spec.limits?.requestsPerDay ?? catalog?.requestsPerDay,
  });
  return {
    name: `${provider}/${spec.model}`,
    model: spec.model,
    provider,
    ...(spec.tier ? { tier: spec.tier } : {}),
    limits,
    knownToPicker: spec.knownToPicker ?? true,
    latencyMs: spec.latencyMs ?? DEFAULT_LATENCY_MS,
    ...(spec.pricing ? { pricing: spec.pricing } : {}),
  };
}

function pickDefined(limits: SimulatedLimits): SimulatedLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as SimulatedLimits;
}
