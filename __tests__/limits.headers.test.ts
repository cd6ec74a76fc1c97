import { parseGoDuration, parseRateLimitHeaders } from "../src/limits";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("parseGoDuration", () => {
  it.each([
    ["1s", 1000],
    ["6m0s", 360_000],
    ["20ms", 20],
    ["4m12.172s", 252_172],
    ["1h2m3s", 3_723_000],
    ["1.5h", 5_400_000],
    ["0", 0],
    ["0s", 0],
    ["500us", 0.5],
    ["250µs", 0.25],
    ["1000000ns", 1],
    [".5s", 500],
  ])("%s -> %d ms", (s, ms) => {
    expect(parseGoDuration(s)).toBeCloseTo(ms, 9);
  });

  it.each(["", "abc", "1x", "-1s", "1s2", "s", "1 s", "1e3s"])("rejects %j", (s) => {
    expect(parseGoDuration(s)).toBeUndefined();
  });
});

describe("parseRateLimitHeaders", () => {
  it("reads OpenAI headers from a fetch Headers object", () => {
    const h = new Headers({
      "x-ratelimit-limit-requests": "500",
      "x-ratelimit-remaining-requests": "499",
      "x-ratelimit-reset-requests": "120ms",
      "x-ratelimit-limit-tokens": "30000",
      "x-ratelimit-remaining-tokens": "29000",
      "x-ratelimit-reset-tokens": "2s",
    });
    expect(parseRateLimitHeaders(h, { now: NOW })).toEqual({
      limitRequests: 500,
      remainingRequests: 499,
      resetRequestsMs: 120,
      limitTokens: 30_000,
      remainingTokens: 29_000,
      resetTokensMs: 2000,
    });
  });

  it("reads a plain record with mixed case, arrays and undefined values", () => {
    const state = parseRateLimitHeaders(
      {
        "X-RateLimit-Remaining-Requests": ["0", "5"],
        "x-ratelimit-reset-requests": "4m12.172s",
        "x-ratelimit-limit-tokens": undefined,
        "Retry-After": "7",
      },
      { now: NOW },
    );
    expect(state).toEqual({ remainingRequests: 0, resetRequestsMs: 252_172, retryAfterMs: 7000 });
  });

  it("prefers retry-after-ms over retry-after and reads an HTTP-date retry-after", () => {
    expect(
      parseRateLimitHeaders({ "retry-after-ms": "1500.5", "retry-after": "2" }, { now: NOW }).retryAfterMs,
    ).toBe(1500.5);
    const date = new Date(NOW + 30_000).toUTCString(); // "Thu, 01 Jan 2026 12:00:30 GMT" (contains a comma)
    expect(parseRateLimitHeaders(new Headers({ "retry-after": date }), { now: NOW }).retryAfterMs).toBe(
      30_000,
    );
    // A date in the past means "now", never a negative wait.
    expect(
      parseRateLimitHeaders({ "retry-after": new Date(NOW - 5000).toUTCString() }, { now: NOW }).retryAfterMs,
    ).toBe(0);
  });

  it("takes plain seconds in reset headers (OpenAI-compatible servers)", () => {
    expect(parseRateLimitHeaders({ "x-ratelimit-reset-tokens": "1.5" }, { now: NOW }).resetTokensMs).toBe(
      1500,
    );
  });

  it("reads Anthropic headers, turning RFC 3339 resets into ms from now", () => {
    const state = parseRateLimitHeaders(
      {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-requests-reset": "2026-01-01T12:00:01Z",
        "anthropic-ratelimit-tokens-limit": "40000",
        "anthropic-ratelimit-tokens-remaining": "39000",
        "anthropic-ratelimit-tokens-reset": "2026-01-01T12:00:06.500Z",
        "anthropic-ratelimit-input-tokens-remaining": "1000",
      },
      { now: NOW, provider: "anthropic" },
    );
    expect(state).toEqual({
      limitRequests: 50,
      remainingRequests: 49,
      resetRequestsMs: 1000,
      limitTokens: 40_000,
      remainingTokens: 39_000,
      resetTokensMs: 6500,
    });
  });

  it("without combined Anthropic token headers, takes the tighter of input and output", () => {
    const state = parseRateLimitHeaders(
      {
        "anthropic-ratelimit-input-tokens-limit": "20000",
        "anthropic-ratelimit-input-tokens-remaining": "15000",
        "anthropic-ratelimit-input-tokens-reset": "2026-01-01T12:00:03Z",
        "anthropic-ratelimit-output-tokens-limit": "4000",
        "anthropic-ratelimit-output-tokens-remaining": "100",
        "anthropic-ratelimit-output-tokens-reset": "2026-01-01T12:00:10Z",
      },
      { now: NOW },
    );
    expect(state).toEqual({ limitTokens: 4000, remainingTokens: 100, resetTokensMs: 10_000 });
  });

  it("marks Groq's request figures as per day, tokens stay per minute", () => {
    const state = parseRateLimitHeaders(
      {
        "x-ratelimit-limit-requests": "14400",
        "x-ratelimit-remaining-requests": "14370",
        "x-ratelimit-reset-requests": "2m59.56s",
        "x-ratelimit-limit-tokens": "18000",
        "x-ratelimit-remaining-tokens": "17997",
        "x-ratelimit-reset-tokens": "7.66s",
      },
      { now: NOW, provider: "groq" },
    );
    expect(state.requestsIntervalMs).toBe(86_400_000);
    expect(state.tokensIntervalMs).toBeUndefined();
    expect(state.resetRequestsMs).toBeCloseTo(179_560, 6);
    expect(state.resetTokensMs).toBeCloseTo(7660, 6);
  });

  it("ignores absent and malformed values", () => {
    expect(parseRateLimitHeaders(new Headers({ "content-type": "application/json" }), { now: NOW })).toEqual(
      {},
    );
    expect(
      parseRateLimitHeaders(
        {
          "x-ratelimit-remaining-requests": "lots",
          "x-ratelimit-reset-requests": "soon",
          "retry-after": "-3",
        },
        { now: NOW },
      ),
    ).toEqual({});
  });
});
