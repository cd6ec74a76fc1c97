/**
 * A scripted failure, served instead of the normal answer. Each kind is rendered the way the
 * model's real provider sends it (see the protocol modules for exact bodies and headers).
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
   * Streaming: two content chunks, then the socket is destroyed. Non-streaming: half a body.
   * Note: through `ChatGoogleGenerativeAI`, a cut Gemini stream also raises an unhandled promise
   * rejection (`@google/generative-ai` 0.24 tees the stream and never observes one branch); that
   * is the real client's behaviour, so tests must tolerate it.
   */
  | { kind: "stream_cut" }
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
      throw new RangeError(`times must be a positive integer, got ${times}`);
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
