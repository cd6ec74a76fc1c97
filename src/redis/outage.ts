import { AutoPickerError } from "../errors";
/** Where the resilient stores log. `info` is optional (recoveries are logged there). */
export interface RedisFaultLogger {
  warn(message: string): void;
  info?(message: string): void;
}

/** What to do while Redis is unreachable or slow. */
export type OnRedisUnavailable = "fail-open" | "fail-closed";

/** Thrown by a resilient store in `"fail-closed"` mode while Redis is unavailable. */
export class RedisUnavailableError extends AutoPickerError {
  readonly code = "redis_unavailable" as const;
  override name = "RedisUnavailableError";
}

export const defaultFaultLogger: RedisFaultLogger = {
  warn: (m) => console.warn(`[autopicker] ${m}`),
};

/**
 * Tracks whether Redis answers. After a failure every call goes local at once (no timeout paid per
 * call) and a single caller probes Redis again every `retryMs`; the first success ends the outage.
 * One warning per outage; the recovery goes to `logger.info`. Uses real time (`performance.now`):
 * Redis reachability has nothing to do with a virtual clock.
 */
export class OutageTracker {
  private down = false;
  private retryAt = 0;
  /** When the last outage ended (`performance.now()`). */
  private recoveredAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly what: string,
    private readonly logger: RedisFaultLogger,
    private readonly retryMs: number,
  ) {}

  /** Whether this caller should use Redis now (true for exactly one caller per retry interval during an outage). */
  shouldTry(): boolean {
    if (!this.down) return true;
    const now = performance.now();
    if (now < this.retryAt) return false;
    this.retryAt = now + this.retryMs;
    return true;
  }

  get isDown(): boolean {
    return this.down;
  }

  /** Redis answered. Returns true when this ends an outage. */
  succeeded(): boolean {
    if (!this.down) return false;
    this.down = false;
    this.recoveredAt = performance.now();
    safeLog(() => this.logger.info?.(`${this.what}: Redis answers again; shared state resumed.`));
    return true;
  }

  /**
   * Redis failed or timed out, for a call begun at `startedAt` (`performance.now()`). Returns true
   * when this starts an outage. A call begun before the last outage ended (one that waited out
   * the outage and times out after Redis answered again) starts none.
   */
  failed(err: unknown, fallback: string, startedAt: number): boolean {
    if (startedAt < this.recoveredAt) return false;
    this.retryAt = performance.now() + this.retryMs;
    if (this.down) return false;
    this.down = true;
    const why = err instanceof Error ? err.message : String(err);
    safeLog(() => this.logger.warn(`${this.what}: Redis unavailable (${why}); ${fallback}.`));
    return true;
  }
}

function safeLog(log: () => void): void {
  try {
    log();
  } catch {
    // A broken logger must not break a model call.
  }
}
