import { GoogleGenerativeAIFetchError } from "@google/generative-ai";
import OpenAI from "openai";
import { classifyError } from "../src/retry/classify";

const NOW = Date.UTC(2026, 10, 22, 12);

function openaiError(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return OpenAI.APIError.generate(status, { error: body }, undefined, new Headers(headers));
}

function geminiError(message: string, details: unknown[]) {
  return new GoogleGenerativeAIFetchError(
    `[GoogleGenerativeAI Error]: ${message}`,
    429,
    "Too Many Requests",
    details as never,
  );
}

const help = { "@type": "type.googleapis.com/google.rpc.Help", links: [{ url: "https://ai.google.dev" }] };
const quota = (quotaId: string) => ({
  "@type": "type.googleapis.com/google.rpc.QuotaFailure",
  violations: [{ quotaMetric: "generativelanguage.googleapis.com/generate_content_requests", quotaId }],
});
const retryInfo = (delay: string) => ({
  "@type": "type.googleapis.com/google.rpc.RetryInfo",
  retryDelay: delay,
});

describe("classifyError", () => {
  it("reads an OpenAI 429 rate_limit_exceeded with retry-after-ms as a rate limit with an exact hint", () => {
    const err = openaiError(
      429,
      {
        code: "rate_limit_exceeded",
        type: "requests",
        message:
          "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 60. Please try again in 1s.",
      },
      {
        "retry-after": "1",
        "retry-after-ms": "850",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1s",
      },
    );
    const c = classifyError(err, NOW);
    expect(c.kind).toBe("rate_limit");
    if (c.kind !== "rate_limit") throw new Error("unreachable");
    expect(c.hint.retryAfterMs).toBe(850);
    expect(c.hint.state?.remainingRequests).toBe(0);
  });

  it("falls back to the exhausted bucket's reset header, then to the message", () => {
    const viaReset = classifyError(
      openaiError(
        429,
        { code: "rate_limit_exceeded", message: "Rate limit reached" },
        {
          "x-ratelimit-remaining-tokens": "0",
          "x-ratelimit-reset-tokens": "6m0s",
          "x-ratelimit-remaining-requests": "10",
          "x-ratelimit-reset-requests": "20ms",
        },
      ),
      NOW,
    );
    expect(viaReset.kind === "rate_limit" && viaReset.hint).toMatchObject({
      retryAfterMs: 360_000,
      source: "reset-header",
    });
    const viaMessage = classifyError(
      openaiError(429, {
        code: "rate_limit_exceeded",
        message: "Rate limit reached. Please try again in 2.5s.",
      }),
      NOW,
    );
    expect(viaMessage.kind === "rate_limit" && viaMessage.hint).toMatchObject({
      retryAfterMs: 2500,
      source: "message",
    });
  });

  it("never retries insufficient_quota (billing)", () => {
    const c = classifyError(
      openaiError(429, {
        code: "insufficient_quota",
        message: "You exceeded your current quota, please check your plan and billing details.",
      }),
      NOW,
    );
    expect(c).toMatchObject({ kind: "quota_exhausted", scope: "billing" });
  });

  it("tells a Gemini per-minute 429 from a per-day one by quotaId, whatever the message says", () => {
    const msg =
      "You exceeded your current quota, please check your plan and billing details. Please retry in 9.98s.";
    const perMinute = classifyError(
      geminiError(msg, [
        quota("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"),
        help,
        retryInfo("9s"),
      ]),
      NOW,
    );
    expect(perMinute.kind).toBe("rate_limit");
    // The message's 9.98 s is more precise than RetryInfo's whole seconds.
    expect(perMinute.kind === "rate_limit" && perMinute.hint.retryAfterMs).toBe(9980);
    const perDay = classifyError(
      geminiError(msg, [quota("GenerateRequestsPerDayPerProjectPerModel-FreeTier"), help, retryInfo("26s")]),
      NOW,
    );
    expect(perDay).toMatchObject({ kind: "quota_exhausted", scope: "day" });
  });

  it("reads Gemini RetryInfo by @type when the message has no hint", () => {
    const c = classifyError(
      geminiError("Resource has been exhausted (e.g. check quota).", [
        help,
        retryInfo("26s"),
        quota("GenerateRequestsPerMinutePerProjectPerModel"),
      ]),
      NOW,
    );
    expect(c.kind === "rate_limit" && c.hint).toMatchObject({
      retryAfterMs: 26_000,
      source: "gemini-retry-info",
    });
  });

  it("recognises context overflow from OpenAI code and Gemini's plain 400", () => {
    expect(
      classifyError(
        openaiError(400, {
          code: "context_length_exceeded",
          message: "This model's maximum context length is 128000 tokens.",
        }),
        NOW,
      ).kind,
    ).toBe("context_length");
    const gemini = new GoogleGenerativeAIFetchError(
      "[GoogleGenerativeAI Error]: The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
      400,
      "Bad Request",
    );
    expect(classifyError(gemini, NOW).kind).toBe("context_length");
  });

  it.each([
    [500, "transient"],
    [502, "transient"],
    [503, "transient"],
    [529, "transient"],
    [401, "auth"],
    [403, "auth"],
    [400, "bad_request"],
    [422, "bad_request"],
    [418, "unknown"],
  ])("maps HTTP %i to %s", (status, kind) => {
    expect(classifyError(openaiError(status, { message: "something" }), NOW).kind).toBe(kind);
  });

  it("treats connection failures and timeouts as transient", () => {
    expect(classifyError(new OpenAI.APIConnectionError({ message: "Connection error." }), NOW).kind).toBe(
      "transient",
    );
    expect(classifyError(new OpenAI.APIConnectionTimeoutError(), NOW).kind).toBe("transient");
    const reset = Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
    });
    expect(classifyError(reset, NOW).kind).toBe("transient");
  });

  it("reads Gemini's 400 API_KEY_INVALID as auth, not as the caller's bad request", () => {
    const err = new GoogleGenerativeAIFetchError(
      "[GoogleGenerativeAI Error]: API key not valid. Please pass a valid API key.",
      400,
      "Bad Request",
      [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
        },
      ] as never,
    );
    expect(classifyError(err, NOW).kind).toBe("auth");
  });

  it("recognises aborts", () => {
    expect(classifyError(new DOMException("This operation was aborted", "AbortError"), NOW).kind).toBe(
      "aborted",
    );
  });

  it("calls an unrecognisable error unknown, and never leaks an API key in the message", () => {
    const c = classifyError(
      openaiError(401, {
        message: "Incorrect API key provided: sk-proj-abcdef123456. You can find your API key at ...",
      }),
      NOW,
    );
    expect(c.kind).toBe("auth");
    expect(c.message).not.toContain("sk-proj-abcdef123456");
    expect(classifyError(new Error("the flux capacitor is misaligned"), NOW).kind).toBe("unknown");
  });
});
