import { type BackoffOptions, backoffDelay } from "./backoff";
import type { ClassifiedError } from "./classify";

/**
 * Why a call left a model for the next one: `reason` in fallback events, `fallback_reason` in the
 * decision trail. Each fallback event name covers a family of reasons (see `fallbackEventName`).
 */
export type FallbackReason =
  | "rate_limit"
  | "quota_exhausted"
  | "context_length"
  | "circuit_open"
  | "auth_error"
  | "transient_error"
  | "unknown_error"
  | "malformed_response"
  | "content_filter"
  | "client_rejected"
  | "budget";

/** What to do after a failed attempt on one model. */
export type AttemptDecision =
  /** Wait `delayMs`, then try the same model again. `blockModelUntil`: the provider's hint applies to every caller. */
  | { action: "retry"; delayMs: number; blockModelUntil?: number }
  | { action: "fallback"; reason: FallbackReason }
  /** The caller's fault: rethrow, a fallback would fail the same way. */
  | { action: "surface" };

export interface RetryPolicy {
  /** Retries on the same model per error family (rate limit, transient). */
  maxRetries: number;
  /** A single wait longer than this means fall back instead of sleeping. */
  maxWaitMs: number;
  backoff: BackoffOptions;
}

/** Per-model counters for one call; the policy increments them. */
export interface AttemptCounters {
  rateLimited: number;
  transient: number;
  unknown: number;
}

export const newCounters = (): AttemptCounters => ({ rateLimited: 0, transient: 0, unknown: 0 });

/**
 * The decision table, in the user's words: waiting is the primary strategy; fall back when the wait
 * is too long, retries are spent, quota is gone, the input is too long, or an error nobody
 * understands happens a second time.
 */
export function decideAfterError(
  error: ClassifiedError,
  counters: AttemptCounters,
  policy: RetryPolicy,
  now: number,
): AttemptDecision {
  switch (error.kind) {
    case "rate_limit": {
      const n = counters.rateLimited++;
      if (n >= policy.maxRetries) return { action: "fallback", reason: "rate_limit" };
      const hinted = error.hint.retryAfterMs;
      const delayMs = hinted ?? backoffDelay(n, policy.backoff);
      if (delayMs > policy.maxWaitMs) return { action: "fallback", reason: "rate_limit" };
      return hinted !== undefined
        ? { action: "retry", delayMs, blockModelUntil: now + hinted }
        : { action: "retry", delayMs };
    }
    case "transient": {
      const n = counters.transient++;
      if (n >= policy.maxRetries) return { action: "fallback", reason: "transient_error" };
      const delayMs = backoffDelay(n, policy.backoff);
      return delayMs > policy.maxWaitMs
        ? { action: "fallback", reason: "transient_error" }
        : { action: "retry", delayMs };
    }
    // Errors nobody understands (an unreadable answer among them) share one count: the second falls back.
    case "unknown":
    case "malformed_response": {
      const n = counters.unknown++;
      const reason: FallbackReason = error.kind === "unknown" ? "unknown_error" : "malformed_response";
      return n >= 1
        ? { action: "fallback", reason }
        : { action: "retry", delayMs: Math.min(backoffDelay(0, policy.backoff), policy.maxWaitMs) };
    }
    case "content_filter":
      return { action: "fallback", reason: "content_filter" };
    case "client_rejected":
      return { action: "fallback", reason: "client_rejected" };
    case "quota_exhausted":
      return { action: "fallback", reason: "quota_exhausted" };
    case "context_length":
      return { action: "fallback", reason: "context_length" };
    case "auth":
      return { action: "fallback", reason: "auth_error" };
    case "bad_request":
    case "aborted":
      return { action: "surface" };
  }
}
