import { parseRateLimitHeaders } from "../limits/headers";
import type { ProviderRateLimitState } from "../limits/types";
import { geminiDetails } from "./errorFields";

/** What the provider said about when to come back, and where it said it. */
export interface RetryHint {
  /** Milliseconds from now until a retry may succeed; absent when the provider gave no hint. */
  retryAfterMs?: number;
  source?: "retry-after" | "reset-header" | "gemini-retry-info" | "message";
  /** Rate-limit headers carried by the error, for the limiter to learn from. */
  state?: ProviderRateLimitState;
}

const MESSAGE_HINT =
  /(?:try again|retry) in\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b/i;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The most precise retry hint an error carries, in order: Retry-After / retry-after-ms headers,
 * the exhausted bucket's x-ratelimit-reset-*, the message's "retry in 9.98s" (more precise than
 * Gemini's RetryInfo, which Google rounds down to whole seconds), then RetryInfo.
 */
export function retryHintFromError(
  error: unknown,
  headers: Headers | undefined,
  message: string,
  now: number,
): RetryHint {
  const state = headers ? parseRateLimitHeaders(headers, { now }) : undefined;
  if (state?.retryAfterMs !== undefined)
    return { retryAfterMs: state.retryAfterMs, source: "retry-after", state };

  const exhausted = [
    state?.remainingRequests === 0 ? state.resetRequestsMs : undefined,
    state?.remainingTokens === 0 ? state.resetTokensMs : undefined,
  ].filter((v): v is number => v !== undefined);
  if (exhausted.length > 0) return { retryAfterMs: Math.max(...exhausted), source: "reset-header", state };

  const m = MESSAGE_HINT.exec(message);
  if (m) {
    const unit = m[2]!.toLowerCase();
    const scale = unit.startsWith("ms") || unit.startsWith("milli") ? 1 : (UNIT_MS[unit[0]!] ?? 1000);
    return { retryAfterMs: Math.ceil(Number(m[1]) * scale), source: "message", state };
  }
  const gemini = geminiDetails(error);
  if (gemini.retryDelayMs !== undefined)
    return { retryAfterMs: gemini.retryDelayMs, source: "gemini-retry-info", state };
  return { state };
}
