import type { Clock } from "../clock";
import { CircuitBreaker, type CircuitBreakerOptions } from "../retry/circuitBreaker";
import type { FallbackReason } from "../retry/policy";

/** What the picker remembers about one model between calls: its breaker and any known outage. */
export class ModelHealth {
  readonly breaker: CircuitBreaker;
  private unavailableUntil = 0;
  private unavailableReason: FallbackReason | undefined;

  constructor(
    private readonly clock: Clock,
    breaker: CircuitBreakerOptions,
  ) {
    this.breaker = new CircuitBreaker(clock, breaker);
  }

  /** Skips the model until `untilMs` (quota gone, key refused). */
  markUnavailable(untilMs: number, reason: FallbackReason): void {
    if (untilMs > this.unavailableUntil) {
      this.unavailableUntil = untilMs;
      this.unavailableReason = reason;
    }
  }

  /** The reason to skip the model now, if any. */
  blockedReason(): FallbackReason | undefined {
    return this.clock.now() < this.unavailableUntil ? this.unavailableReason : undefined;
  }

  get unavailable(): { until: number; reason: FallbackReason } | undefined {
    const reason = this.blockedReason();
    return reason ? { until: this.unavailableUntil, reason } : undefined;
  }
}
