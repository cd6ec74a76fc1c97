import type { Pricing } from "../cost/pricing";
import type { Tier } from "../limits";
import type { JitterMode } from "../retry/backoff";

/** The limits a simulated provider enforces (and, unless hidden, the picker is told). */
export interface SimulatedLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  requestsPerDay?: number;
}

/** One model of the simulated world. The first model listed is the primary, the rest fallbacks in order. */
export interface SimulatedModel {
  /** Provider model id, e.g. `"gpt-4o-mini"` or `"gemini-2.5-flash"`. */
  model: string;
  /** Wire protocol. Default: `"gemini"` when the id starts with `gemini`, else `"openai"`. */
  provider?: "openai" | "gemini";
  /** Limits enforced by the simulated provider. Absent: taken from the catalog for `tier`, else unlimited. */
  limits?: SimulatedLimits;
  /** Published tier whose catalog limits apply when `limits` is absent. */
  tier?: Tier;
  /**
   * Whether the picker is given the limits up front. Default true. False: the picker learns them from
   * response headers and 429s, as it would in production without configuration.
   */
  knownToPicker?: boolean;
  /** Virtual milliseconds a successful answer takes (holds the caller's concurrency slot). Default 800. */
  latencyMs?: number;
  /** Price override in USD per 1M tokens; default: the bundled price catalog. */
  pricing?: Pricing;
}

/** The picker settings a scenario varies (see `AutoPickerChatModelInput`). */
export interface PickerSettings {
  maxWaitSeconds?: number;
  maxRetries?: number;
  backoffBase?: number;
  backoffInitialSeconds?: number;
  backoffMaxSeconds?: number;
  jitter?: JitterMode;
  fallbackOrder?: "listed" | "cheapest";
}

/** Built-in settings: the seeds' "fallback-first" (10 s, no retries) and "wait-first" (300 s, 3 retries). */
export type PresetName = "wait-first" | "fallback-first";

/** A named configuration to compare; `preset` settings are applied first, then `settings`. */
export interface ScenarioSpec {
  name: string;
  preset?: PresetName;
  settings?: PickerSettings;
}

/** What the callers do. Give `concurrency` (closed loop) or `arrivalsPerMinute` (open loop). */
export interface Workload {
  /** Total calls. */
  calls: number;
  /** At most this many calls in flight (each caller starts its next call when one finishes). Default 10. */
  concurrency?: number;
  /** Release calls at this steady rate instead, whatever is in flight (`concurrency` is then ignored). */
  arrivalsPerMinute?: number;
  /** Approximate prompt tokens per call. Default 500. */
  promptTokens?: number;
  /** Output tokens per answer (also sent as `max_tokens`). Default 200. */
  outputTokens?: number;
}

/** Input of {@link simulate}; also the JSON file the CLI reads with `--config`. */
export interface SimulationConfig {
  /** Report title. */
  title?: string;
  /** Primary first, then fallbacks in order. */
  models: SimulatedModel[];
  workload: Workload;
  /** Settings shared by every scenario. */
  settings?: PickerSettings;
  /** Configurations to run side by side; preset names are accepted as shorthand. Default: one run of `settings`. */
  compare?: Array<ScenarioSpec | PresetName>;
  /** Count 429s against the provider's request window, as real OpenAI does. Default true. */
  count429s?: boolean;
}

/** How one call went. Times are virtual milliseconds since the simulation started. */
export interface CallRecord {
  index: number;
  releasedAt: number;
  finishedAt: number;
  /** When the provider's answer came back (before the model's latency is added); absent when the call failed. */
  answeredAt?: number;
  /** Entry name of the model that served, e.g. `"openai/gpt-4o-mini"`; absent when the call failed. */
  servedBy?: string;
  error?: string;
  /** Release to answer, including waits and model latency. */
  latencyMs: number;
  /** Sum of `rate_limit_wait` events of this call. */
  waitMs: number;
  waits: number;
  /** `rate_limit_fallback` events of this call (a call may fall back more than once). */
  fallbacks: number;
  fallbackReasons: string[];
  /** Tokens billed for the answer (0 when it failed). */
  tokens: number;
}

/** What happened on one model during one scenario. */
export interface ModelOutcome {
  /** Entry name, `provider/model`. */
  name: string;
  provider: "openai" | "gemini";
  isPrimary: boolean;
  limits: SimulatedLimits;
  knownToPicker: boolean;
  /** Calls this model answered. */
  served: number;
  /** HTTP requests that reached the simulated provider, answered or rejected. */
  providerRequests: number;
  /** 429s the provider sent. */
  provider429s: number;
  /** Virtual ms (since start) at which each request reached the provider. */
  arrivals: number[];
  /** `[virtual ms, tokens]` of each answered call, for the token-rate chart. */
  tokenArrivals: Array<[number, number]>;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
}

/** Summary statistics of a set of durations, in milliseconds. */
export interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The outcome of one named configuration. */
export interface ScenarioResult {
  name: string;
  settings: Required<Pick<PickerSettings, "maxWaitSeconds" | "maxRetries" | "backoffBase">> & PickerSettings;
  calls: number;
  succeeded: number;
  failed: number;
  /** Failed calls by error class, e.g. `{ AllModelsFailedError: 3 }`. */
  errors: Record<string, number>;
  /** Share of all calls answered by the primary (0..1). */
  primaryShare: number;
  /** Share of all calls answered by a fallback (0..1). */
  fallbackShare: number;
  fallbackEvents: number;
  fallbackReasons: Record<string, number>;
  /** Release-to-answer latency of successful calls. */
  latency: Distribution;
  /** Total wait per call, every call (0 for calls that never waited). */
  wait: Distribution;
  /** Calls that waited at least once. */
  callsThatWaited: number;
  provider429s: number;
  providerRequests: number;
  costUsd: number;
  /** Calls the price catalog could not price (not in `costUsd`). */
  unpricedCalls: number;
  /** Virtual ms from the first release to the last answer. */
  makespanMs: number;
  /** Real ms the scenario took to simulate. */
  wallMs: number;
  models: ModelOutcome[];
  records: CallRecord[];
}

/** Output of {@link simulate}. */
export interface SimulationResult {
  title: string;
  workload: Required<Omit<Workload, "arrivalsPerMinute" | "concurrency">> &
    Pick<Workload, "arrivalsPerMinute" | "concurrency">;
  scenarios: ScenarioResult[];
  /** ISO time the simulation ran (real clock). */
  generatedAt: string;
}
