import { systemClock } from "../clock";
import { DAY_MS } from "./dimensions";
import type { ProviderRateLimitState } from "./types";

/** Header containers we accept: a fetch `Headers`, or a plain record (SDK errors, node:http). */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

const GO_UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const GO_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Go `time.Duration` string (`"1s"`, `"6m0s"`, `"20ms"`, `"4m12.172s"`, `"1h2m3s"`, `"0"`)
 * into milliseconds. Returns `undefined` for anything else, including negative durations.
 */
export function parseGoDuration(s: string): number | undefined {
  const text = s.trim();
  if (text === "0") return 0;
  if (text === "") return undefined;
  let ms = 0;
  GO_PART.lastIndex = 0;
  while (GO_PART.lastIndex < text.length) {
    const m = GO_PART.exec(text);
    if (!m) return undefined;
    ms += Number(m[1]) * GO_UNIT_MS[m[2]!]!;
  }
  return ms;
}

/**
 * Reads what a provider says about its rate limits from response headers (success or 429).
 *
 * - OpenAI (and OpenAI-compatible): `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, reset
 *   a Go duration; `retry-after-ms`, `retry-after` (seconds or an HTTP date).
 * - Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`,
 *   reset an RFC 3339 instant. Tokens come from the combined `tokens-*` headers when present,
 *   otherwise from whichever of input/output has less remaining.
 * - `provider: "groq"`: Groq's `*-requests` headers describe a per-day limit.
 *
 * Fields the headers do not give are absent. `now` (default: the system clock) turns absolute
 * instants into durations.
 */
export function parseRateLimitHeaders(
  headers: HeaderSource,
  options: { now?: number; provider?: "openai" | "anthropic" | "groq" } = {},
): ProviderRateLimitState {
  const now = options.now ?? systemClock.now();
  const get = headerGetter(headers);
  const out: ProviderRateLimitState = {};

  const count = (name: string): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  };
  const set = <K extends keyof ProviderRateLimitState>(k: K, v: number | undefined) => {
    if (v !== undefined) out[k] = v;
  };

  // OpenAI style.
  set("limitRequests", count("x-ratelimit-limit-requests"));
  set("remainingRequests", count("x-ratelimit-remaining-requests"));
  set("resetRequestsMs", durationHeader(get("x-ratelimit-reset-requests")));
  set("limitTokens", count("x-ratelimit-limit-tokens"));
  set("remainingTokens", count("x-ratelimit-remaining-tokens"));
  set("resetTokensMs", durationHeader(get("x-ratelimit-reset-tokens")));

  // Anthropic style.
  const instant = (name: string) => untilInstant(get(name), now);
  const family = (f: string) => ({
    limit: count(`anthropic-ratelimit-${f}-limit`),
    remaining: count(`anthropic-ratelimit-${f}-remaining`),
    reset: instant(`anthropic-ratelimit-${f}-reset`),
  });
  const present = (f: ReturnType<typeof family>) => f.limit !== undefined || f.remaining !== undefined;
  const requests = family("requests");
  if (present(requests)) {
    set("limitRequests", requests.limit);
    set("remainingRequests", requests.remaining);
    set("resetRequestsMs", requests.reset);
  }
  // The combined family when sent; else the tighter of input/output (least remaining).
  const combined = family("tokens");
  const tokens = present(combined)
    ? combined
    : [family("input-tokens"), family("output-tokens")]
        .filter(present)
        .sort(
          (a, b) => (a.remaining ?? Number.POSITIVE_INFINITY) - (b.remaining ?? Number.POSITIVE_INFINITY),
        )[0];
  if (tokens) {
    set("limitTokens", tokens.limit);
    set("remainingTokens", tokens.remaining);
    set("resetTokensMs", tokens.reset);
  }

  // Retry hints: the millisecond header is the more precise one.
  const retryMs = count("retry-after-ms");
  set("retryAfterMs", retryMs ?? retryAfter(get("retry-after"), now));

  if (
    options.provider === "groq" &&
    (out.limitRequests !== undefined || out.remainingRequests !== undefined)
  ) {
    out.requestsIntervalMs = DAY_MS;
  }
  return out;
}

function headerGetter(headers: HeaderSource): (name: string) => string | undefined {
  if (typeof (headers as Headers).get === "function") {
    const h = headers as Headers;
    return (name) => h.get(name)?.trim() ?? undefined;
  }
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined) lower.set(k.toLowerCase(), value.trim());
  }
  return (name) => lower.get(name);
}

/** A reset header: a Go duration, or plain seconds as some compatible servers send. */
function durationHeader(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  return parseGoDuration(v);
}

/** An RFC 3339 instant as milliseconds from `now` (never negative). */
function untilInstant(v: string | undefined, now: number): number | undefined {
  // Date.parse is lenient ("-3" is year -3): only hand it something shaped like a timestamp.
  if (v === undefined || !/^\d{4}-\d{2}-\d{2}[T ]/.test(v)) return undefined;
  return fromNow(Date.parse(v), now);
}

function fromNow(t: number, now: number): number | undefined {
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

/** `Retry-After`: delay-seconds or an HTTP date. */
function retryAfter(v: string | undefined, now: number): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  return /^[A-Za-z]{3}, .+ GMT$/.test(v) ? fromNow(Date.parse(v), now) : undefined;
}
