import { AutoPickerConfigError } from "../errors";
import { catalogLimits } from "../limits";
import type {
  PickerSettings,
  PresetName,
  ScenarioResult,
  ScenarioSpec,
  SimulatedLimits,
  SimulatedModel,
  SimulationConfig,
  SimulationResult,
} from "./types";

/** Settings of the built-in presets (the seeds' two architectures). */
export const PRESETS: Readonly<Record<PresetName, PickerSettings>> = {
  "fallback-first": { maxWaitSeconds: 10, maxRetries: 0 },
  "wait-first": { maxWaitSeconds: 300, maxRetries: 3 },
};

/** Picker defaults (the same as `AutoPickerChatModel`'s). */
const DEFAULT_SETTINGS = { maxWaitSeconds: 300, maxRetries: 3, backoffBase: 2 } as const;

/** A model with everything resolved. */
export interface ResolvedModel {
  name: string;
  model: string;
  provider: "openai" | "gemini";
  limits: SimulatedLimits;
  knownToPicker: boolean;
  latencyMs: number;
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
  workload: SimulationResult["workload"];
  scenarios: ResolvedScenario[];
  count429s: boolean;
}

/** Applies defaults and validates; throws `AutoPickerConfigError` saying what to fix. */
export function resolveConfig(config: SimulationConfig): ResolvedConfig {
  if (!config || !Array.isArray(config.models) || config.models.length === 0) {
    throw new AutoPickerConfigError("Simulation config needs `models`: the primary first, then fallbacks.");
  }
  const models = config.models.map(resolveModel);
  const ids = new Set<string>();
  for (const m of models) {
    // The simulator serves each model id once, whichever protocol asks for it.
    if (ids.has(m.model)) throw new AutoPickerConfigError(`Model "${m.model}" is listed twice.`);
    ids.add(m.model);
  }
  const w = config.workload;
  if (!w || !isPositiveInt(w.calls)) {
    throw new AutoPickerConfigError("workload.calls must be a whole number >= 1.");
  }
  if (w.arrivalsPerMinute !== undefined && !(w.arrivalsPerMinute > 0)) {
    throw new AutoPickerConfigError("workload.arrivalsPerMinute must be > 0.");
  }
  const concurrency = w.arrivalsPerMinute === undefined ? (w.concurrency ?? 10) : w.concurrency;
  if (concurrency !== undefined && !isPositiveInt(concurrency)) {
    throw new AutoPickerConfigError("workload.concurrency must be a whole number >= 1.");
  }
  const promptTokens = w.promptTokens ?? 500;
  const outputTokens = w.outputTokens ?? 200;
  if (!isPositiveInt(promptTokens) || !isPositiveInt(outputTokens)) {
    throw new AutoPickerConfigError(
      "workload.promptTokens and workload.outputTokens must be whole numbers >= 1.",
    );
  }
  const specs = (config.compare?.length ? config.compare : [{ name: "default" }]).map(toSpec);
  const scenarios = specs.map((spec) => ({
    name: spec.name,
    settings: {
      ...DEFAULT_SETTINGS,
      ...config.settings,
      ...(spec.preset ? PRESETS[spec.preset] : {}),
      ...spec.settings,
    },
  }));
  return {
    title: config.title ?? "AutoPicker capacity simulation",
    models,
    workload: {
      calls: w.calls,
      promptTokens,
      outputTokens,
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(w.arrivalsPerMinute !== undefined ? { arrivalsPerMinute: w.arrivalsPerMinute } : {}),
    },
    scenarios,
    count429s: config.count429s ?? true,
  };
}

function resolveModel(spec: SimulatedModel, index: number): ResolvedModel {
  if (!spec || typeof spec.model !== "string" || spec.model === "") {
    throw new AutoPickerConfigError(`models[${index}] needs a \`model\` id such as "gpt-4o-mini".`);
  }
  const provider = spec.provider ?? (spec.model.startsWith("gemini") ? "gemini" : "openai");
  if (provider !== "openai" && provider !== "gemini") {
    throw new AutoPickerConfigError(`models[${index}].provider must be "openai" or "gemini".`);
  }
  let limits: SimulatedLimits = spec.limits ?? {};
  if (!spec.limits && spec.tier) {
    const cat = catalogLimits(spec.model, spec.tier);
    if (!cat) {
      throw new AutoPickerConfigError(
        `No catalog limits for "${spec.model}" at tier "${spec.tier}"; give \`limits\` explicitly.`,
      );
    }
    limits = pickDefined({
      requestsPerMinute: cat.requestsPerMinute,
      tokensPerMinute: cat.tokensPerMinute,
      requestsPerDay: cat.requestsPerDay,
    });
  }
  for (const [key, value] of Object.entries(limits)) {
    if (value !== undefined && !isPositiveInt(value)) {
      throw new AutoPickerConfigError(`models[${index}].limits.${key} must be a whole number >= 1.`);
    }
  }
  const latencyMs = spec.latencyMs ?? 800;
  if (!(latencyMs >= 0)) throw new AutoPickerConfigError(`models[${index}].latencyMs must be >= 0.`);
  return {
    name: `${provider}/${spec.model}`,
    model: spec.model,
    provider,
    limits,
    knownToPicker: spec.knownToPicker ?? true,
    latencyMs,
    ...(spec.pricing ? { pricing: spec.pricing } : {}),
  };
}

function toSpec(item: ScenarioSpec | PresetName): ScenarioSpec {
  if (typeof item === "string") {
    if (!(item in PRESETS)) {
      throw new AutoPickerConfigError(
        `Unknown preset "${item}"; use ${Object.keys(PRESETS).join(" or ")}, or { name, settings }.`,
      );
    }
    return { name: item, preset: item };
  }
  if (!item || typeof item.name !== "string" || item.name === "") {
    throw new AutoPickerConfigError("Every entry of `compare` needs a `name`.");
  }
  if (item.preset !== undefined && !(item.preset in PRESETS)) {
    throw new AutoPickerConfigError(`Unknown preset "${item.preset}" in scenario "${item.name}".`);
  }
  return item;
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1;
}

function pickDefined(limits: SimulatedLimits): SimulatedLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as SimulatedLimits;
}
