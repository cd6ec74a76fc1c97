/** How a backoff delay is randomised. `full` does the least total work under contention (AWS's study). */
export type JitterMode = "full" | "equal" | "none";

export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  baseMs: number;
  /** Growth per retry (the design documents' `backoffBase`). */
  factor: number;
  /** No single delay exceeds this, ms. */
  capMs: number;
  jitter: JitterMode;
  /** Injectable for deterministic tests; returns [0, 1). */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (0-based): `min(cap, base * factor^attempt)`, then jittered.
 * Full jitter draws uniformly from [0, d]; equal jitter from [d/2, d].
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.capMs, options.baseMs * options.factor ** Math.max(0, attempt));
  const random = options.random ?? Math.random;
  switch (options.jitter) {
    case "none":
      return ceiling;
    case "equal":
      return ceiling / 2 + random() * (ceiling / 2);
    case "full":
      return random() * ceiling;
  }
}
