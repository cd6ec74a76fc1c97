import type { Pricing } from "../cost/pricing";
import type { Tier } from "../limits";
import type { Priority } from "../limits/priority";
import type { JitterMode } from "../retry/backoff";

/** The limits a simulated provider enforces (and, unless hidden, the picker is told). */
export interface SimulatedLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  requestsPerDay?: number;
}

/**
 * How long a model takes to answer, in virtual milliseconds: a fixed time, or a lognormal
 * distribution given by its median and 99th percentile (real answer times are heavy-tailed).
 * Draws are seeded (see {@link SimulationConfig.seed}): the same call on the same model takes the
 * same time in every scenario, so scenarios differ only by what the picker decided.
 */
export type LatencySpec = number | { median: number; p99: number };

/** One model of the simulated world. The first model listed is the primary, the rest fallbacks in order. */
export interface SimulatedModel {
  /** Provider model id, e.g. `"gpt-4o-mini"` or `"gemini-2.5-flash"`. */
  model: string;
  /** Wire protocol. Default: `"gemini"` when the id starts with `gemini`, else `"openai"`. */
  provider?: "openai" | "gemini";
  /** Published tier: the catalog's limits for this model at this tier apply (`limits` overrides them one by one). */
  tier?: Tier;
  /** Limits enforced by the simulated provider. Absent (and no `tier`): unlimited. */
  limits?: SimulatedLimits;
  /**
   * Whether the picker is given the limits up front. Default true. False: the picker learns them from
   * response headers and 429s, as it would in production without configuration.
   */
  knownToPicker?: boolean;
  /** Virtual time an answer takes (the caller's concurrency slot stays taken). Default 800. */
  latencyMs?: LatencySpec;
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
  /**
   * Tenants' weights and caps, passed to the picker's `tenants` option: within a class, waiting
   * tenants share the slots by weight (unknown tenants weigh 1); `maxShare` caps a tenant's share of
   * every window even when nobody else waits.
   */
  tenants?: Record<string, TenantSettings>;
  /** Per-class settings, passed to the picker's `priorities` option. */
  priorities?: Partial<Record<Priority, PrioritySettings>>;
}

/** One tenant's share (see {@link PickerSettings.tenants}). */
export interface TenantSettings {
  /** Share of its class relative to the other tenants waiting, > 0. Default 1. */
  weight?: number;
  /** At most this fraction (0, 1] of any window of a model's limits. Default: no cap. */
  maxShare?: number;
}

/** One class's settings (see {@link PickerSettings.priorities}). */
export interface PrioritySettings {
  /** The longest wait for a slot before this class falls back. Default the picker's `maxWaitSeconds`. */
  maxWaitSeconds?: number;
  /** Once a call of this class has waited this long, higher classes no longer move it later. */
  agingSeconds?: number;
}

/** Built-in settings: the seeds' "fallback-first" (10 s, no retries) and "wait-first" (300 s, 3 retries). */
export type PresetName = "wait-first" | "fallback-first";

/** A named configuration to compare; `preset` settings are applied first, then `settings`. */
export interface ScenarioSpec {
  name: string;
  preset?: PresetName;
  settings?: PickerSettings;
}

/**
 * When calls arrive (open loop: they come whatever is in flight), in virtual time from the start.
 * - `steady`: evenly spaced, `perMinute` a minute.
 * - `poisson`: independent arrivals at an average of `perMinute` a minute (seeded), so some minutes
 *   bring noticeably more than the average, as real traffic does.
 * - `bursts`: `size` calls at once every `everySeconds` (batch jobs, cron, a queue draining).
 */
export type Arrivals =
  | { pattern: "steady"; perMinute: number }
  | { pattern: "poisson"; perMinute: number }
  | { pattern: "bursts"; size: number; everySeconds: number };

/**
 * One stream of a mixed workload: calls of one class and tenant arriving on their own schedule,
 * e.g. chat users at 30 a minute beside a batch job that drops 2,000 calls at once.
 */
export interface WorkloadStream {
  /** Label in the report. Default: the class, then the tenant (`"batch acme"`). */
  name?: string;
  /** The calls' class. Default `"normal"`. */
  priority?: Priority;
  /** Who the calls are for (see {@link PickerSettings.tenants}). Default: no tenant. */
  tenant?: string;
  /** Calls in this stream. */
  calls: number;
  /** When they arrive. */
  arrivals: Arrivals;
}

/**
 * What the callers do: `concurrency` callers back to back (closed loop), `arrivals` (open loop), or
 * `streams` (a mixed open-loop workload: classes and tenants with their own arrival schedules).
 */
export interface Workload {
  /** Total calls. Required unless `streams` is given (then each stream says its own). */
  calls?: number;
  /**
   * At most this many calls in flight. Without `arrivals`: that many callers, each starting its next
   * call when one finishes (default 10). With `arrivals`: arriving calls queue for a free slot
   * (default: no cap), and the queueing counts in their latency.
   */
  concurrency?: number;
  /** Release calls on this schedule instead of back to back. */
  arrivals?: Arrivals;
  /**
   * A mixed workload instead of `calls` and `arrivals`: every stream's calls arrive on its own
   * schedule, each call carrying its stream's `autopicker: { priority, tenant }`. The report then
   * shows waits and shares per class and per tenant.
   */
  streams?: WorkloadStream[];
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
  /** Seed of every random draw (arrivals, latencies): the same seed gives the same run. Default 1. */
  seed?: number;
}

/**
 * Why a call got no answer: why the last model tried gave up on it. `rate_limit`: waits longer than
 * `maxWaitSeconds` or 429s past `maxRetries`; `quota_exhausted`: a daily or billing quota is gone;
 * `context_length`: the input fits no model; `budget`: a budget blocked it; `error`: anything else
 * (server errors, auth, an open circuit, a rejected request).
 */
export type FailureReason = "rate_limit" | "quota_exhausted" | "context_length" | "budget" | "error";

/** How one call went. Times are virtual milliseconds since the simulation started. */
export interface CallRecord {
  index: number;
  /** When the call arrived (it may then queue for a concurrency slot). */
  releasedAt: number;
  finishedAt: number;
  /** When the provider's answer came back (before the model's latency is added); absent when the call failed. */
  answeredAt?: number;
  /** Entry name of the model that served, e.g. `"openai/gpt-4o-mini"`; absent when the call failed. */
  servedBy?: string;
  /** Why the call failed; absent when it was answered. */
  failure?: FailureReason;
  /** The error the call failed with, `Name: message`. */
  error?: string;
  /** Release to answer, including queueing, waits and model latency. */
  latencyMs: number;
  /** Sum of the picker's waits (rate limits and backoff) during this call. */
  waitMs: number;
  waits: number;
  /** The reason of every fallback of this call, in order (a call may fall back more than once). */
  fallbackReasons: string[];
  /** Tokens billed for the answer (0 when it failed). */
  tokens: number;
  /** Mixed workloads: the call's stream (index into `workload.streams`), class and tenant. */
  stream?: number;
  priority?: Priority;
  tenant?: string;
}

/** How one class or one tenant of a mixed workload fared in a scenario. */
export interface GroupOutcome {
  /** The class (`"interactive"`), or the tenant's name (`""` for calls that named none). */
  name: string;
  calls: number;
  served: number;
  failed: number;
  /** This group's share of every call served in the scenario (0..1). */
  servedShare: number;
  /** Total wait per call of this group (0 for calls that never waited). */
  wait: Distribution;
}

/** What happened on one model during one scenario. */
export interface ModelOutcome {
  /** Entry name, `provider/model`. */
  name: string;
  /** Provider model id. */
  model: string;
  provider: "openai" | "gemini";
  isPrimary: boolean;
  /** The tier its limits came from, if any. */
  tier?: Tier;
  limits: SimulatedLimits;
  knownToPicker: boolean;
  latencyMs: LatencySpec;
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
  /** Failed calls by reason, e.g. `{ rate_limit: 3 }` (reasons with no failures are left out). */
  failures: Partial<Record<FailureReason, number>>;
  /** Share of all calls answered by the primary (0..1). */
  primaryShare: number;
  /** Share of all calls answered by a fallback (0..1). */
  fallbackShare: number;
  /** Fallbacks, by reason (a call may fall back more than once). */
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
  /** Mixed workloads: waits and shares per class, highest class first. */
  byClass?: GroupOutcome[];
  /** Mixed workloads that name tenants: waits and shares per tenant, in the order they appear. */
  byTenant?: GroupOutcome[];
}

/** A stream with its defaults applied. */
export interface ResolvedStream {
  name: string;
  priority: Priority;
  /** Absent: the calls name no tenant. */
  tenant?: string;
  calls: number;
  arrivals: Arrivals;
}

/** The workload with its defaults applied (`calls` is the total of every stream). */
export type ResolvedWorkload = Required<Pick<Workload, "promptTokens" | "outputTokens">> &
  Pick<Workload, "concurrency" | "arrivals"> & {
    calls: number;
    streams?: ResolvedStream[];
  };

/** Output of {@link simulate}. */
export interface SimulationResult {
  title: string;
  workload: ResolvedWorkload;
  seed: number;
  scenarios: ScenarioResult[];
  /**
   * What the numbers say, in a paragraph: which limit binds, what falling back costs, and what to
   * change. The HTML report and the text summary open with it.
   */
  conclusion: string;
  /** ISO time the simulation ran (real clock). */
  generatedAt: string;
}
