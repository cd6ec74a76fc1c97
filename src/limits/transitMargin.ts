/**
 * The transit allowance of one model at one endpoint: how long after its request was written to
 * the socket the provider may stamp it. A slot is booked at `sent + margin`; the margin starts at
 * the limiter's `arrivalMarginMs` ("base") and is learned from what the provider shows:
 *
 * - every response bounds the transit from above: `(first response byte - server processing time)
 *   - written`. While the provider's `x-ratelimit-remaining-*` keeps agreeing with the local log
 *   (no phantom needed, four responses in a row), the margin narrows to the largest recent bound
 *   (x1.5, +2 ms), never above the base. Without such headers it stays at the base: a bound alone
 *   says nothing about the next request's transit (measured: 20 ms spikes on loopback under load).
 * - a 429 the local log did not predict (the call was granted, so locally it fit) doubles a
 *   widening factor, up to 8x, and restarts the narrowing.
 * - agreeing headers ease the factor back towards 1; disagreeing ones stop the narrowing.
 */
export class TransitMargin {
  private readonly bounds = new Float64Array(SAMPLES);
  private count = 0;
  private next = 0;
  private factor = 1;
  /** Header responses in a row whose remaining-* agreed with the local log. */
  private agreeing = 0;

  /** The margin to book with, given the limiter's base allowance for this model. */
  value(base: number): number {
    let m = base;
    if (this.agreeing >= MIN_SAMPLES && this.count >= MIN_SAMPLES) {
      let max = 0;
      const n = Math.min(this.count, SAMPLES);
      for (let i = 0; i < n; i++) if (this.bounds[i]! > max) max = this.bounds[i]!;
      m = Math.min(base, Math.ceil(max * 1.5) + 2);
    }
    return Math.min(m * this.factor, base * MAX_FACTOR);
  }

  /** A response showed the request reached the provider at most `ms` after it was sent. */
  bound(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.bounds[this.next] = Math.max(0, ms);
    this.next = (this.next + 1) % SAMPLES;
    this.count++;
  }

  /** A 429 the local log did not predict: the bounds so far may have flattered the transit. */
  widen(): void {
    this.factor = Math.min(MAX_FACTOR, this.factor * 2);
    this.agreeing = 0;
  }

  /** A response's remaining-* headers agreed (`true`) or disagreed with the local log. */
  headers(agree: boolean): void {
    this.agreeing = agree ? this.agreeing + 1 : 0;
    if (agree && this.factor > 1) this.factor = Math.max(1, this.factor * 0.8);
  }
}

const SAMPLES = 16;
const MIN_SAMPLES = 4;
const MAX_FACTOR = 8;
