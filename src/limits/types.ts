import type { QueueDepth } from "./priority";

/** What a limit counts: requests, or tokens (prompt + completion, as the provider counts them). */
export type LimitUnit = "requests" | "tokens";

/** One extra limit: at most `limit` of `unit` in any span of `intervalMs`. */
export interface LimitWindow {
  unit: LimitUnit;
  limit: number;
  intervalMs: number;
}

/**
 * The published (or negotiated) limits of one model. Every field is optional; a model with no
 * limits is never delayed by the limiter (a provider's retry hint still applies).
 */
export interface ModelLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  requestsPerDay?: number;
  tokensPerDay?: number;
  /** Extra windows, e.g. `{ unit: "requests", limit: 1000, intervalMs: 1000 }` for a per-second slice. */
  windows?: LimitWindow[];
  /**
   * Per-day limits reset at local midnight in this IANA zone (Gemini: `"America/Los_Angeles"`).
   * Absent: per-day limits are a rolling 24 h window.
   */
  dailyResetTimeZone?: string;
}

/** A reservation that holds a slot; pass it to `commit` once the response is back, or `cancel`. */
export interface ReservationTicket {
  readonly model: string;
  readonly id: string;
  /** The estimated tokens that were booked. */
  readonly tokens: number;
  /** Epoch ms at which the call may be sent. */
  readonly startAt: number;
}

/**
 * The limiter's answer to "may I send this call, and when?".
 * Only `granted` books anything; the other two leave the limiter untouched so the caller can fall back.
 */
export type ReserveDecision =
  | { kind: "granted"; waitMs: number; startAt: number; ticket: ReservationTicket }
  | { kind: "wait_too_long"; waitMs: number; dimension: string }
  | { kind: "never_fits"; dimension: string; requested: number; limit: number };

/**
 * The `dimension` of a `wait_too_long` for a call that higher classes (or fairer tenants) moved
 * past its `maxWaitMs` while it waited.
 */
export const PRIORITY_DIMENSION = "priority";

/** What a provider told us about its limits, from response headers; every field is optional. */
export interface ProviderRateLimitState {
  limitRequests?: number;
  remainingRequests?: number;
  /** Milliseconds from now until the request budget is full again. */
  resetRequestsMs?: number;
  limitTokens?: number;
  remainingTokens?: number;
  /** Milliseconds from now until the token budget is full again. */
  resetTokensMs?: number;
  /** Milliseconds the provider asked us to wait before the next request (Retry-After). */
  retryAfterMs?: number;
  /** The span the request figures describe; default one minute (Groq's request headers: one day). */
  requestsIntervalMs?: number;
  /** The span the token figures describe; default one minute. */
  tokensIntervalMs?: number;
}

/** One limit of a model as the limiter currently enforces it. */
export interface DimensionStatus {
  /** E.g. `"requests/min"`, `"tokens/day (America/Los_Angeles)"`. */
  name: string;
  unit: LimitUnit;
  limit: number;
  intervalMs: number;
  /** What a call starting now is counted against: the window's entries, including calls already granted. */
  used: number;
  /** When a one-unit call could start on this dimension, if not now. */
  nextFreeAt?: number;
}

/** A snapshot of one model's limiter state, for `getProviderStatus()`. */
export interface LimiterStatus {
  /** A provider's retry hint: nothing for this model starts before this instant. */
  blockedUntil?: number;
  dimensions: DimensionStatus[];
  /** Calls granted a slot and not sent yet, by class and tenant (highest class first). */
  queue: QueueDepth[];
}
