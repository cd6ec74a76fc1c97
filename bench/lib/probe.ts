/**
 * Instruments the package from the outside (no change to src/) to explain a burst's timeline:
 * when each slot was booked for, and when each HTTP request actually left the process.
 */
import { RateLimiter, type ReserveDecision } from "../../src/limits";

/** A limiter that remembers the start instant of every booking it grants. */
export class RecordingLimiter extends RateLimiter {
  readonly bookedStarts: number[] = [];

  override async reserve(
    model: string,
    cost: { tokens: number },
    options: { maxWaitMs: number },
  ): Promise<ReserveDecision> {
    const decision = await super.reserve(model, cost, options);
    if (decision.kind === "granted") this.bookedStarts.push(decision.startAt);
    return decision;
  }
}

/** Wraps `fetch` to record when each request is handed to the HTTP stack. */
export function recordingFetch(sends: number[]): typeof fetch {
  return (input, init) => {
    sends.push(Date.now());
    return globalThis.fetch(input, init);
  };
}
