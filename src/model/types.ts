import type { BaseChatModel, BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import type { Clock } from "../clock";
import type { AlertMonitor, BudgetManager } from "../cost";
import type { RunBudget, RunBudgetOptions } from "../cost/runBudget";
import type { AttemptRecord } from "../errors";
import type { ModelLimits, RateLimiter, Tier } from "../limits";
import type { Priority, QueueDepth } from "../limits/priority";
import type { JitterMode } from "../retry/backoff";
import type { CircuitState } from "../retry/circuitBreaker";
import type { ErrorKind } from "../retry/classify";
import type { FallbackReason } from "../retry/policy";
import type { ModelHealthStore } from "./healthStore";

/** How one call trades quality for cost. `balanced` keeps the configured order. */
export type Preference = "quality" | "balanced" | "cost";

/** A per-call choice: a preference, a model to try first, or a task named in the `tasks` option. */
export interface CallPreference {
  preference?: Preference;
  /** Entry name to try first, e.g. "openai/gpt-4o". */
  model?: string;
  /** A key of the `tasks` option. */
  task?: string;
}

/**
 * The `autopicker` call option (and the `autopicker_*` run metadata keys): routing for this call
 * and the budget of the run it belongs to.
 */
export interface AutoPickerCallSettings extends CallPreference {
  /**
   * The run's budget envelope: a `RunBudget` to share one explicitly, or its options, which open one
   * envelope per options object (pass a fresh object per run). Metadata key: `autopicker_run_budget`.
   */
  runBudget?: RunBudget | RunBudgetOptions;
  /**
   * The call's class when its model is saturated: `"interactive"` goes first, `"batch"` last.
   * Default `"normal"`. Metadata key: `autopicker_priority`.
   */
  priority?: Priority;
  /**
   * Who the call is for: tenants share each class by their `weight` (the `tenants` option; an
   * unknown tenant has weight 1), and calls of one tenant keep their order. A non-empty string.
   * Absent: the call belongs to no tenant. Metadata key: `autopicker_tenant`.
   */
  tenant?: string;
}

/** One tenant in the `tenants` option. */
export interface TenantOptions {
  /** The tenant's share of each class relative to the other tenants waiting: finite, > 0. Default 1. */
  weight?: number;
  /**
   * At most this fraction, in (0, 1], of any window of a model's limits goes to the tenant, even
   * when nobody else is waiting. Absent: no cap.
   */
  maxShare?: number;
}

/** One class in the `priorities` option. */
export interface PriorityOptions {
  /**
   * A call of this class whose wait would exceed this (for a slot, or a provider's retry hint)
   * falls back, or fails, exactly as with the picker's `maxWaitSeconds`; so does a call moved later
   * by higher classes while it waits. `>= 0`. Default: the picker's `maxWaitSeconds` (300).
   */
  maxWaitSeconds?: number;
  /**
   * Aging: once a call of this class has waited this long it is no longer moved later by higher
   * classes, which bounds its starvation. `> 0`; `Infinity`: it always yields. Defaults:
   * `interactive` Infinity (nothing is above it), `normal` 300, `batch` 900.
   */
  agingSeconds?: number;
}

/** What a task maps to: a preference, or the models to try first, in order. */
export type TaskRoute = Preference | { models: string[] };

/** Per-1M-token USD prices that override the built-in price data for one model. */
export interface EntryPricing {
  inputPer1M: number;
  outputPer1M: number;
  cachedInputPer1M?: number;
}

/** One model the picker may use, with what it knows about it. */
export interface ModelEntry {
  /** Any LangChain chat model (ChatOpenAI, ChatGoogleGenerativeAI, ChatAnthropic, ...). */
  model: BaseChatModel;
  /** Unique name used in stats, events and limits, e.g. "openai/gpt-4o-mini". Derived from the model when absent. */
  name?: string;
  /** Known limits. Absent: taken from the catalog when `tier` is set, else learned from response headers. */
  limits?: ModelLimits;
  /** Published tier whose limits the built-in catalog should use (overrides the picker-wide `tier`). */
  tier?: Tier;
  /** Context window in tokens, when the model's profile and the catalog don't know it. */
  maxInputTokens?: number;
  /** Price override, used by the cost handler and budget reservations. */
  pricing?: EntryPricing;
  /** Higher is better, for the per-call "quality" preference. Default: list order, primary highest. */
  quality?: number;
}

/** Where the input goes when it does not fit the primary's context window. */
export type ContextStrategy = "fallback" | "truncate" | "error";

/** Where warnings go. Defaults to `console.warn` with an `[autopicker]` prefix. */
export interface AutoPickerLogger {
  warn(message: string): void;
  debug?(message: string): void;
}

/** Given to `onAllFailed`: everything that was tried, to build a stand-in answer from. */
export interface AllFailedContext {
  messages: BaseMessage[];
  attempts: readonly AttemptRecord[];
  lastError: unknown;
}

export interface AutoPickerChatModelInput extends Omit<BaseChatModelParams, "maxRetries"> {
  /** The model to use whenever it can serve. A bare chat model or an entry. */
  primary: ModelEntry | BaseChatModel;
  /** Tried in order when the primary cannot serve. */
  fallbacks?: Array<ModelEntry | BaseChatModel>;
  /** A single wait (rate limit or backoff) longer than this falls back instead. Default 300. */
  maxWaitSeconds?: number;
  /** Retries on the same model, per error family (rate limits, transient errors). Default 3. */
  maxRetries?: number;
  /** Backoff growth factor between retries. Default 2. */
  backoffBase?: number;
  /** First backoff delay when the provider gave no hint, seconds. Default 1. */
  backoffInitialSeconds?: number;
  /** No backoff delay exceeds this, seconds. Default 60. */
  backoffMaxSeconds?: number;
  /** Jitter applied to backoff delays. Default "full". */
  jitter?: JitterMode;
  /** Where jitter draws from, in [0, 1). Default `Math.random`; a seeded one makes runs reproducible (simulations). */
  random?: () => number;
  /** What to do with input too long for the primary. Default "fallback". */
  contextStrategy?: ContextStrategy;
  /**
   * An answer the provider's safety system withheld (`finish_reason: "content_filter"`, Gemini
   * `SAFETY`, a blocked prompt): `"fallback"` (default) tries the next model; `"return"` returns it
   * as it is. In a stream already under way, `"fallback"` ends it with `ContentFilteredError`.
   */
  onContentFilter?: "fallback" | "return";
  /** Published tier for catalog limits of every entry without `limits`. */
  tier?: Tier;
  /** Circuit breaker per model. */
  circuitBreaker?: { failureThreshold?: number; cooldownSeconds?: number };
  /** How long a model whose quota is gone (billing, spend limit, auth) is skipped, seconds. Default 3600. Daily quotas are skipped until their reset. */
  quotaCooldownSeconds?: number;
  /** Share one limiter (and its store) between several pickers or processes. */
  rateLimiter?: RateLimiter;
  /** Time source; tests inject a virtual clock. */
  clock?: Clock;
  logger?: AutoPickerLogger;
  /** Graceful degradation: a stand-in answer when every model failed, instead of `AllModelsFailedError`. */
  onAllFailed?: (context: AllFailedContext) => AIMessage | string | Promise<AIMessage | string>;
  /** Reserve each call's estimated cost before sending it; `mode` decides what happens at the limit. */
  budget?: BudgetManager;
  /** Fed with every request and wait; raises fallback-rate and wait alerts. */
  alerts?: AlertMonitor;
  /** `"cheapest"`: try fallbacks cheapest-first for each call instead of in list order. Default "listed". */
  fallbackOrder?: "listed" | "cheapest";
  /** Named tasks for per-call routing: `{ classify: "cost", reasoning: { models: ["openai/gpt-4o"] } }`. */
  tasks?: Record<string, TaskRoute>;
  /** Output tokens assumed for budget reservations when the model sets no maxTokens. Default 1024. */
  defaultOutputTokens?: number;
  /**
   * Share model health (quota gone, key refused, circuit open) between processes, e.g. a
   * `RedisModelHealthStore` from `langchain-autopicker/redis`, so every replica skips a dead model.
   */
  healthStore?: ModelHealthStore;
  /** Leave the inner models' own retry settings alone. Default false: inner retries are set to 0 so they never stack with ours. */
  keepInnerRetries?: boolean;
  /**
   * Tenants by name, for calls that name one (`autopicker: { tenant: "acme" }`):
   * `{ acme: { weight: 3 }, free: { weight: 1, maxShare: 0.2 } }`. Tenants not listed get weight 1.
   */
  tenants?: Record<string, TenantOptions>;
  /** Per-class wait caps and aging: `{ batch: { maxWaitSeconds: 3600, agingSeconds: 1800 } }`. */
  priorities?: Partial<Record<Priority, PriorityOptions>>;
}

/**
 * Counters of `llm.stats`. The design documents' names map one to one: `total_requests` is
 * `totalRequests`, `rate_limit_waits` is `rateLimitWaits`, and so on (JavaScript objects are
 * camelCase; snake_case is kept for data inside LangChain messages and events).
 */
export interface AutoPickerStats {
  /** Calls that entered the picker. */
  totalRequests: number;
  /** Calls answered by the primary. */
  primaryRequests: number;
  /** Calls answered by a fallback. */
  fallbackRequests: number;
  /** Calls no model answered (`AllModelsFailedError`, or `onAllFailed`'s stand-in). */
  failedRequests: number;
  /** Sleeps before an attempt (limits, provider hints, backoff); a call that did not sleep is not counted. */
  rateLimitWaits: number;
  totalWaitSeconds: number;
  /** Every move from one model to the next, whatever the reason. */
  fallbacks: number;
  /** `fallbacks` by reason. */
  fallbacksByReason: Partial<Record<FallbackReason, number>>;
  /** Fallbacks because of a rate limit or a spent quota (the design documents' `rate_limit_fallbacks`). */
  rateLimitFallbacks: number;
  /** Fallbacks because the input did not fit (the design documents' `context_fallbacks`). */
  contextFallbacks: number;
  /** Per model entry name. */
  byModel: Record<string, ModelStats>;
  /** `rateLimitWaits` and `totalWaitSeconds` by the waiting call's class (every class listed). */
  waitsByPriority: Record<Priority, WaitStats>;
  /**
   * `rateLimitWaits` and `totalWaitSeconds` by the waiting call's tenant: every tenant of the
   * `tenants` option, and any other tenant once it waited. Calls that name no tenant are not listed.
   */
  waitsByTenant: Record<string, WaitStats>;
}

/** Waits of one class or tenant in {@link AutoPickerStats}. */
export interface WaitStats {
  rateLimitWaits: number;
  totalWaitSeconds: number;
}

/** One model's counters in {@link AutoPickerStats}. */
export interface ModelStats {
  /** Calls this model answered. */
  served: number;
  /** Requests sent to it (answered or not). */
  attempts: number;
  /** Failed attempts by kind. */
  errors: Partial<Record<ErrorKind, number>>;
  rateLimitWaits: number;
  totalWaitSeconds: number;
}

/** One model as `llm.models` lists it: what the picker resolved from its entry. */
export interface PickerModel {
  /** The entry name stats, events and limits use ("openai/gpt-4o-mini"). */
  name: string;
  /** The user's chat model, as given. */
  model: BaseChatModel;
  /** The provider's model id ("gpt-4o-mini"). */
  modelId: string;
  /** Input tokens it accepts (entry, model profile or catalog). */
  contextWindow: number;
  /** The limits it was configured with (given, or from the catalog tier); learned limits are not listed. */
  limits?: ModelLimits;
}

/** One model's health as `getProviderStatus()` reports it. */
export interface ProviderStatus {
  name: string;
  /** True when a call now would be attempted on this model without waiting on a known block. */
  available: boolean;
  /** Epoch ms until which the limiter will not start calls (a provider hint), if any. */
  rateLimitedUntil?: number;
  circuit: CircuitState;
  /** Epoch ms until which the model is skipped because its quota is gone or its key was refused. */
  quotaExhaustedUntil?: number;
  quotaReason?: FallbackReason;
  contextWindow?: number;
  /**
   * Calls granted a slot on this model and not sent yet, by class and tenant (highest class
   * first; `tenant: ""` for calls that name none). Empty when nobody waits.
   */
  queue: QueueDepth[];
}

/** One attempt in a {@link DecisionTrail} (snake_case: it travels inside the message). */
export interface TrailAttempt {
  model: string;
  /** `ok`, an error kind, or `skipped:<why>` when the model was passed over without a request. */
  outcome: string;
  /** Milliseconds waited before this attempt (rate limit or backoff). */
  waited_ms: number;
  /** A redacted, one-line description of the error, if any. */
  error?: string;
}

/** A price override as it travels in the trail (per 1M tokens, USD). */
export interface TrailPricing {
  input_per_1m: number;
  output_per_1m: number;
  cached_input_per_1m?: number;
}

/**
 * The decision trail of one call, in `response_metadata.autopicker` (read it with
 * `getDecisionTrail(message)`). Data inside a LangChain message, so snake_case all the way down.
 */
export interface DecisionTrail {
  /** Entry name of the model that served ("none" when `onAllFailed` answered). */
  model: string;
  /**
   * The call's class (`"normal"` unless the call or its run metadata named another). Always set by
   * the picker; absent only in trails written before classes existed.
   */
  priority?: Priority;
  /** The call's tenant, when it named one. */
  tenant?: string;
  attempts: TrailAttempt[];
  waited_ms: number;
  /** Set when the serving model is not the first candidate. */
  fallback_reason?: FallbackReason;
  fallback_from?: string;
  estimated_input_tokens?: number;
  /** Provider-qualified id the cost handler prices by ("openai/gpt-4o-mini"). */
  price_model?: string;
  pricing?: TrailPricing;
  /** Set when every model failed and `onAllFailed` supplied the answer (`model` is then "none"). */
  degraded?: boolean;
  /** Set when the provider reported no token usage: limits and budget were settled from the estimate. */
  usage_estimated?: boolean;
  /** The run's envelope after this call, when the call belongs to a budgeted run. */
  run_budget?: TrailRunBudget;
  /** Set on the final answer of a run whose budget was spent ("finish"): the limit that stopped it. */
  run_budget_exhausted?: "usd" | "tokens" | "model_calls";
}

/** A run's budget as the trail carries it. */
export interface TrailRunBudget {
  spent_usd: number;
  remaining_usd: number | null;
  tokens: number;
  model_calls: number;
  exhausted: boolean;
}
