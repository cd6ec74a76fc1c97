import type { AttemptRecord, RunBudgetExceededError } from "../errors";
import type { Priority } from "../limits/priority";
import type { CircuitState } from "../retry/circuitBreaker";
import type { ErrorKind } from "../retry/classify";
import type { FallbackReason } from "../retry/policy";

/*
 * Two faces of one stream of events. Inside JavaScript, typed objects in camelCase, delivered to
 * `llm.onWait(...)`, `llm.onFallback(...)` and friends. Inside LangChain (custom events through the
 * run's callbacks, hence Langfuse and LangSmith), the design documents' snake_case payloads below.
 */

// ---- LangChain custom events: names and snake_case payloads -------------------------------

/** Before each sleep: `{ model, wait_ms, cause, priority, tenant? }`. */
export const RATE_LIMIT_WAIT = "rate_limit_wait";
/** A fallback because of a rate limit or a spent quota (the design documents' event). */
export const RATE_LIMIT_FALLBACK = "rate_limit_fallback";
/** A fallback because the input does not fit the model's context window. */
export const CONTEXT_LENGTH_FALLBACK = "context_length_fallback";
/** A budget in "downgrade" mode moved the call to a cheaper model. */
export const BUDGET_FALLBACK = "budget_fallback";
/** A fallback because of an error: transient, auth, unknown, malformed answer, content filter, circuit open, refused input. */
export const ERROR_FALLBACK = "error_fallback";
/** A call of a budgeted run did not fit the run's envelope. */
export const RUN_BUDGET_EXHAUSTED = "run_budget_exhausted";

/** Every custom event the picker dispatches, for handlers that record them all. */
export const AUTOPICKER_EVENT_NAMES = [
  RATE_LIMIT_WAIT,
  RATE_LIMIT_FALLBACK,
  CONTEXT_LENGTH_FALLBACK,
  BUDGET_FALLBACK,
  ERROR_FALLBACK,
  RUN_BUDGET_EXHAUSTED,
] as const;

export type AutoPickerEventName = (typeof AUTOPICKER_EVENT_NAMES)[number];

/** The fallback event names, one per family of reasons. */
export type FallbackEventName =
  | typeof RATE_LIMIT_FALLBACK
  | typeof CONTEXT_LENGTH_FALLBACK
  | typeof BUDGET_FALLBACK
  | typeof ERROR_FALLBACK;

/** Which custom event announces a fallback for `reason`. */
export function fallbackEventName(reason: FallbackReason): FallbackEventName {
  switch (reason) {
    case "rate_limit":
    case "quota_exhausted":
      return RATE_LIMIT_FALLBACK;
    case "context_length":
      return CONTEXT_LENGTH_FALLBACK;
    case "budget":
      return BUDGET_FALLBACK;
    default:
      return ERROR_FALLBACK;
  }
}

/** Payload of `rate_limit_wait`. `cause`: the limiter's computed wait, or backoff after an error. */
export interface RateLimitWaitPayload {
  model: string;
  wait_ms: number;
  cause: WaitCause;
  /** `moved` only: how far the slot moved (> 0 later, < 0 earlier). */
  moved_by_ms?: number;
  /** The waiting call's class. */
  priority: Priority;
  /** The waiting call's tenant, when it named one. */
  tenant?: string;
}

/** Payload of `rate_limit_fallback`, `budget_fallback` and `error_fallback`. */
export interface FallbackPayload {
  original_model: string;
  fallback_model: string;
  reason: FallbackReason;
}

/** Payload of `context_length_fallback` (the design documents' keys). */
export interface ContextLengthFallbackPayload extends FallbackPayload {
  reason: "context_length";
  estimated_tokens: number;
  original_max_context: number;
  fallback_max_context: number;
}

/** Payload of `run_budget_exhausted`: the limit the call would break and the run so far. */
export interface RunBudgetExhaustedPayload {
  model: string;
  dimension: "usd" | "tokens" | "model_calls";
  needed: number | null;
  remaining: number;
  spent_usd: number;
  tokens: number;
  model_calls: number;
}

// ---- JavaScript events: `llm.onX(listener)` -------------------------------------------------

/**
 * Why a call sleeps: the limiter's computed wait (limits, provider hints), backoff after an error,
 * or `moved`: the queue moved its slot (a higher-class arrival took it, or a re-slot found an
 * earlier gap) and it sleeps on to the new one (one more event for the same wait, not a new wait).
 */
export type WaitCause = "rate_limit" | "backoff" | "moved";

/**
 * What one wait event adds to a count of waits and their total time: a `moved` event is the same
 * wait, lengthened (or shortened) by `movedByMs`; any other is a wait of `waitMs`. The one rule
 * for `llm.stats`, `autopicker simulate` and `fallbackReport()`.
 */
export function waitAdds(
  cause: unknown,
  waitMs: number | undefined,
  movedByMs: number | undefined,
): { waits: 0 | 1; ms: number } {
  return cause === "moved" ? { waits: 0, ms: movedByMs ?? 0 } : { waits: 1, ms: waitMs ?? 0 };
}

/** A call is about to sleep before trying `model`. */
export interface WaitEvent {
  model: string;
  /** How long the call is about to sleep, from now. */
  waitMs: number;
  cause: WaitCause;
  /**
   * `moved` only: how far the slot moved since the wait last told (> 0 later, behind a
   * higher-class arrival; < 0 earlier, when a re-slot found a gap): what the move added.
   */
  movedByMs?: number;
  /** The waiting call's class. */
  priority: Priority;
  /** The waiting call's tenant, when it named one. */
  tenant?: string;
}

/** A call leaves `from` for `to`. */
export interface FallbackEvent {
  from: string;
  to: string;
  reason: FallbackReason;
  /** Context fallbacks only: the input estimate and both windows. */
  context?: { estimatedTokens: number; fromWindow: number; toWindow: number };
}

/** One attempt on one model failed (the call may still be retried or fall back). */
export interface AttemptFailedEvent {
  model: string;
  kind: ErrorKind;
  /** Redacted one-line description: no prompt text, no keys. */
  message: string;
}

/** A model's circuit breaker changed state. */
export interface CircuitStateChangeEvent {
  model: string;
  state: CircuitState;
}

/** A call got its answer from `model`. */
export interface ServedEvent {
  model: string;
  /** Whether `model` is the primary. */
  primary: boolean;
  attempts: readonly AttemptRecord[];
  waitedMs: number;
  fallbackReason?: FallbackReason;
}

/** Every model was tried or skipped and none answered. */
export interface FailedEvent {
  attempts: readonly AttemptRecord[];
}

/** A call of a budgeted run did not fit the run's envelope (it stops, or downgrades). */
export interface RunBudgetExhaustedEvent {
  model: string;
  error: RunBudgetExceededError;
}

/** What `llm.onX(...)` returns: call `dispose()` to stop listening. */
export interface Disposable {
  dispose(): void;
}

/** Listener lists by event, with the typed subscription methods the model exposes. */
export interface AutoPickerEvents {
  wait: WaitEvent;
  fallback: FallbackEvent;
  attemptFailed: AttemptFailedEvent;
  circuitStateChange: CircuitStateChangeEvent;
  served: ServedEvent;
  failed: FailedEvent;
  runBudgetExhausted: RunBudgetExhaustedEvent;
}
