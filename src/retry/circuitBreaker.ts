import type { Clock } from "../clock";

/** The breaker's state, as `getProviderStatus()` shows it. */
export type CircuitState =
  | { state: "closed"; consecutiveFailures: number }
  | { state: "open"; openedAt: number; retryAt: number }
  | { state: "half_open"; probeInFlight: boolean };

export interface CircuitBreakerOptions {
  /** Consecutive transient failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before one probe is let through, ms. Default 30 000. */
  cooldownMs?: number;
  /** Told every change between closed, open and half-open (not failure counts within closed). */
  onStateChange?: (state: CircuitState) => void;
}

/** Whether a call may go: `probe` means it is the single half-open trial. */
export type CircuitPermit = { allowed: true; probe: boolean } | { allowed: false; retryAt: number };

/**
 * A per-model breaker: opens after N consecutive transient failures (never on 429s or 4xx, which
 * say nothing about the model's health), lets one probe through after the cooldown, closes on the
 * probe's success and re-opens on its failure.
 *
 * Written here rather than taken from cockatiel/opossum: both read the wall clock (our tests run in
 * virtual time) and keep state privately (the Redis issue shares model health across processes).
 */
export class CircuitBreaker {
  private current: CircuitState = { state: "closed", consecutiveFailures: 0 };
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly onStateChange: ((state: CircuitState) => void) | undefined;

  constructor(
    private readonly clock: Clock,
    options: CircuitBreakerOptions = {},
  ) {
    this.threshold = options.failureThreshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.onStateChange = options.onStateChange;
  }

  /** The state now (an open circuit whose cooldown has passed reads as half-open). */
  get state(): CircuitState {
    if (this.current.state === "open" && this.clock.now() >= this.current.retryAt) {
      this.set({ state: "half_open", probeInFlight: false });
    }
    return this.current;
  }

  /** Asks to send a call. In half-open state only the first asker gets through. */
  acquire(): CircuitPermit {
    const s = this.state;
    if (s.state === "closed") return { allowed: true, probe: false };
    if (s.state === "half_open" && !s.probeInFlight) {
      this.current = { state: "half_open", probeInFlight: true };
      return { allowed: true, probe: true };
    }
    return { allowed: false, retryAt: s.state === "open" ? s.retryAt : this.clock.now() + this.cooldownMs };
  }

  onSuccess(): void {
    this.set({ state: "closed", consecutiveFailures: 0 });
  }

  /** A transient failure (5xx, timeout, connection reset). */
  onFailure(): void {
    const s = this.state;
    if (s.state === "half_open" || (s.state === "closed" && s.consecutiveFailures + 1 >= this.threshold)) {
      const now = this.clock.now();
      this.set({ state: "open", openedAt: now, retryAt: now + this.cooldownMs });
    } else if (s.state === "closed") {
      this.current = { state: "closed", consecutiveFailures: s.consecutiveFailures + 1 };
    }
  }

  /** A probe that ended without telling anything about health (429, 4xx, abort): let another probe try. */
  onNeutral(probe: boolean): void {
    if (probe && this.current.state === "half_open")
      this.current = { state: "half_open", probeInFlight: false };
  }

  private set(next: CircuitState): void {
    const changed = next.state !== this.current.state;
    this.current = next;
    if (changed) this.onStateChange?.(next);
  }
}
