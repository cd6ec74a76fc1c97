import { AutoPickerConfigError } from "../errors";

/**
 * A scripted failure, served instead of the normal answer (before the context check and the rate
 * limiter, so it costs no quota). Each kind is rendered the way the model's real provider sends it
 * (see the protocol modules for exact bodies and headers). What the real `ChatOpenAI` and
 * `ChatGoogleGenerativeAI` make of each one is pinned down in the simulator tests.
 */
export type SimFault =
  /** 429 for a per-minute limit. `withHeaders: false` drops retry hints (OpenAI headers, Gemini RetryInfo). */
  | { kind: "rate_limit"; retryAfterMs?: number; withHeaders?: boolean }
  /** 429 for an exhausted daily quota (OpenAI RPD message; Gemini `PerDay` quotaId). */
  | { kind: "daily_quota"; retryAfterMs?: number }
  /** OpenAI 429 `insufficient_quota` (billing); Gemini: a per-day quota of 0. */
  | { kind: "insufficient_quota" }
  | { kind: "server_error"; status?: 500 | 502 | 503 | 529 }
  /** 400: the input is longer than the context window. */
  | { kind: "context_length" }
  /** Rejected credentials; OpenAI's message echoes part of the key. */
  | { kind: "auth" }
  | { kind: "bad_request" }
  /** A status and non-JSON body nobody can classify. */
  | { kind: "unknown"; status?: number }
  /**
   * Streaming: `afterChunks` content chunks (default 2), then the socket is destroyed mid-stream
   * (OpenAI sends its role chunk first, so the client sees `afterChunks + 1` chunks). Non-streaming:
   * headers and half a body. Note: through `ChatGoogleGenerativeAI`, a cut Gemini stream also raises
   * an unhandled promise rejection (`@google/generative-ai` 0.24 tees the stream and never observes
   * one branch; see the Gemini simulator tests); that is the real client's behaviour.
   */
  | { kind: "stream_cut"; afterChunks?: number }
  /**
   * HTTP 200 with no usable answer, as broken proxies and OpenAI-compatible hosts send them.
   * `shape` (default `"no_choices"`):
   * - `"no_choices"`: OpenAI `choices: []`, Gemini `candidates: []`; streamed, OpenAI sends only
   *   `data: [DONE]` and Gemini one event with no candidates.
   * - `"empty_object"`: the body (or the one streamed event) is `{}`; OpenAI streams then `[DONE]`.
   * - `"null_message"`: OpenAI `message: null` (streamed: a role chunk and a `stop` chunk with no
   *   content); Gemini a candidate with `finishReason: "STOP"` and no `content`.
   */
  | { kind: "empty_answer"; shape?: "no_choices" | "empty_object" | "null_message" }
  /** An HTML page (content-type text/html), e.g. a proxy's login or error page. Default status 200. */
  | { kind: "html_page"; status?: number }
  /**
   * A valid answer with no token usage: OpenAI sends no `usage` field (streamed: no usage chunk
   * even when `stream_options.include_usage` asked for one); Gemini no `usageMetadata`. Counted as
   * served in {@link SimStats}, with its tokens.
   */
  | { kind: "no_usage" }
  /**
   * The answer was stopped by the provider's content filter. OpenAI: `finish_reason:
   * "content_filter"`; Gemini: `finishReason: "SAFETY"` with `safetyRatings` (one category
   * `blocked`). With `partial` the first half of the answer's text comes first (streamed: as
   * chunks); otherwise there is no content at all (OpenAI `content: null`, Gemini no `content`).
   */
  | { kind: "content_filter"; partial?: boolean }
  /**
   * The prompt itself was refused. Gemini: HTTP 200 with `promptFeedback.blockReason: "SAFETY"`
   * and no candidates. OpenAI has no such answer; Azure OpenAI's 400 with `code: "content_filter"`
   * (its prompt filter) is served instead.
   */
  | { kind: "prompt_blocked" }
  /**
   * No answer until the client aborts or the simulator stops. Note: `ChatGoogleGenerativeAI.invoke`
   * (2.3) does not pass its AbortSignal to fetch, so only streaming Gemini calls can be aborted.
   */
  | { kind: "hang" };

/** Default wait hints for scripted quota faults. */
export const DEFAULT_RATE_LIMIT_RETRY_MS = 9_980;
export const DEFAULT_DAILY_QUOTA_RETRY_MS = 6 * 3_600_000;

interface Scripted {
  fault: SimFault;
  remaining: number;
}

/** FIFO queue of scripted faults for one model; each entry is served `times` times in a row. */
export class FaultQueue {
  private readonly queue: Scripted[] = [];

  push(fault: SimFault, times: number): void {
    if (!Number.isInteger(times) || times < 1)
      throw new AutoPickerConfigError(`times must be a positive integer, got ${times}`);
    if (fault.kind === "stream_cut" && fault.afterChunks !== undefined) {
      if (!Number.isInteger(fault.afterChunks) || fault.afterChunks < 0)
        throw new AutoPickerConfigError(
          `stream_cut afterChunks must be a whole number >= 0, got ${fault.afterChunks}`,
        );
    }
    this.queue.push({ fault, remaining: times });
  }

  /** The next fault to serve, consuming one use of it, or `undefined` to handle normally. */
  take(): SimFault | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    head.remaining--;
    if (head.remaining === 0) this.queue.shift();
    return head.fault;
  }

  get size(): number {
    return this.queue.reduce((sum, s) => sum + s.remaining, 0);
  }

  clear(): void {
    this.queue.length = 0;
  }
}
