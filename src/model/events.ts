import type { FallbackReason } from "../retry/policy";

/** LangChain custom event names this package dispatches (the design documents' names). */
export const RATE_LIMIT_FALLBACK = "rate_limit_fallback";
export const CONTEXT_LENGTH_FALLBACK = "context_length_fallback";
/** Dispatched before each sleep, so dashboards and progress displays can show waiting as it happens. */
export const RATE_LIMIT_WAIT = "rate_limit_wait";

/** Payload of `rate_limit_wait`. `cause`: the limiter's computed wait, or backoff after an error. */
export interface RateLimitWaitEvent {
  model: string;
  wait_ms: number;
  cause: "rate_limit" | "backoff";
}

/** Payload of `rate_limit_fallback`: any fallback that is not about context length. */
export interface RateLimitFallbackEvent {
  original_model: string;
  fallback_model: string;
  reason: Exclude<FallbackReason, "context_length">;
}

/** Payload of `context_length_fallback`. */
export interface ContextLengthFallbackEvent {
  original_model: string;
  fallback_model: string;
  estimated_tokens: number;
  original_max_context: number;
  fallback_max_context: number;
}

export type FallbackEvent =
  | { name: typeof RATE_LIMIT_FALLBACK; data: RateLimitFallbackEvent }
  | { name: typeof CONTEXT_LENGTH_FALLBACK; data: ContextLengthFallbackEvent };
