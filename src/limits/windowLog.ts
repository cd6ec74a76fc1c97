/**
 * The log of one limit dimension: entries `(time, seq, cost)` kept sorted by `(time, seq)`, with
 * running sums so that "how much is booked after t" and "when has enough left the window" are
 * binary searches (O(log n)). Entries leave from the front as time passes (amortised O(1));
 * new bookings land at the back (O(1)). Moving or re-costing an entry touches only the entries
 * after it, which in practice are the calls booked after it that are still in the window.
 *
 * Costs must be >= 0 so the running sums are monotone.
 */
export class WindowLog {
  private times: number[] = [];
  private seqs: number[] = [];
  private costs: number[] = [];
  /** `cums[i]` = sum of `costs[head..i]` plus `base`. */
  private cums: number[] = [];
  /** Index of the first live entry; the slots before it are dropped lazily. */
  private head = 0;
  /** Running sum just before `head`. */
  private base = 0;

  /** Number of live entries. */
  get size(): number {
    return this.times.length - this.head;
  }

  /** Sum of every live entry's cost. */
  total(): number {
    const n = this.times.length;
    return n > this.head ? this.cums[n - 1]! - this.base : 0;
  }

  /** Sum of the costs of entries with time > `t`. */
  sumAfter(t: number): number {
    return this.sumFromIndex(this.upperBound(t));
  }

  /** Sum of the costs of entries with time >= `t`. */
  sumAtOrAfter(t: number): number {
    return this.sumFromIndex(this.lowerBoundTime(t));
  }

  /**
   * The earliest instant `x` at which the entries still inside a sliding window of `intervalMs`
   * (those with time > x - intervalMs) sum to at most `budget`; `-Infinity` if they already do.
   */
  earliestWithin(budget: number, intervalMs: number): number {
    const excess = this.total() - budget;
    if (excess <= 0) return Number.NEGATIVE_INFINITY;
    // Smallest j whose prefix (head..j) covers the excess: entry j is the last that must leave.
    let lo = this.head;
    let hi = this.times.length - 1;
    const target = this.base + excess;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cums[mid]! >= target) hi = mid;
      else lo = mid + 1;
    }
    return this.times[lo]! + intervalMs;
  }

  /**
   * Like {@link earliestWithin}, but only entries at or before `upTo` count (later ones are
   * bookings that will check themselves when they are sent): the earliest `x` at which entries
   * with time in `(x - intervalMs, upTo]` sum to at most `budget`; `-Infinity` if they do at `upTo`.
   */
  earliestWithinUpTo(budget: number, intervalMs: number, upTo: number): number {
    const end = this.upperBound(upTo);
    const start = this.upperBound(upTo - intervalMs);
    const excess = this.cumBefore(end) - this.cumBefore(start) - budget;
    if (end <= start || excess <= 0) return Number.NEGATIVE_INFINITY;
    let lo = start;
    let hi = end - 1;
    const target = this.cumBefore(start) + excess;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cums[mid]! >= target) hi = mid;
      else lo = mid + 1;
    }
    return this.times[lo]! + intervalMs;
  }

  /** Adds an entry. Zero-cost entries are not stored (they can never bind). */
  insert(time: number, seq: number, cost: number): void {
    if (cost <= 0) return;
    const n = this.times.length;
    if (n === this.head || this.before(n - 1, time, seq)) {
      this.times.push(time);
      this.seqs.push(seq);
      this.costs.push(cost);
      this.cums.push(this.cumBefore(n) + cost);
      return;
    }
    const at = this.lowerBound(time, seq);
    this.times.splice(at, 0, time);
    this.seqs.splice(at, 0, seq);
    this.costs.splice(at, 0, cost);
    this.cums.splice(at, 0, 0);
    this.recomputeFrom(at);
  }

  /** Removes the entry `(time, seq)`; returns its cost, or `undefined` if it is not in the log. */
  remove(time: number, seq: number): number | undefined {
    const at = this.lowerBound(time, seq);
    if (at >= this.times.length || this.times[at] !== time || this.seqs[at] !== seq) return undefined;
    const cost = this.costs[at]!;
    this.times.splice(at, 1);
    this.seqs.splice(at, 1);
    this.costs.splice(at, 1);
    this.cums.splice(at, 1);
    this.recomputeFrom(at);
    return cost;
  }

  /** Drops every entry with time <= `t` (they have left every window that matters). */
  dropThrough(t: number): void {
    this.dropFront(this.upperBound(t));
  }

  /** Drops every entry with time < `t`. */
  dropBefore(t: number): void {
    this.dropFront(this.lowerBoundTime(t));
  }

  private dropFront(end: number): void {
    if (end <= this.head) return;
    this.base = this.cums[end - 1]!;
    this.head = end;
    // Compact once the dead prefix outweighs the live part: amortised O(1) per entry.
    if (this.head >= 32 && this.head * 2 >= this.times.length) {
      this.times.splice(0, this.head);
      this.seqs.splice(0, this.head);
      this.costs.splice(0, this.head);
      this.cums.splice(0, this.head);
      this.head = 0;
      // Re-base the running sums so they never grow without bound.
      const base = this.base;
      for (let i = 0; i < this.cums.length; i++) this.cums[i] = this.cums[i]! - base;
      this.base = 0;
    }
  }

  private sumFromIndex(i: number): number {
    const n = this.times.length;
    return n > i ? this.cums[n - 1]! - this.cumBefore(i) : 0;
  }

  private cumBefore(i: number): number {
    return i > this.head ? this.cums[i - 1]! : this.base;
  }

  private recomputeFrom(at: number): void {
    for (let i = at; i < this.times.length; i++) this.cums[i] = this.cumBefore(i) + this.costs[i]!;
  }

  /** Whether entry `i` sorts strictly before `(time, seq)`. */
  private before(i: number, time: number, seq: number): boolean {
    const t = this.times[i]!;
    return t < time || (t === time && this.seqs[i]! < seq);
  }

  /** First index whose `(time, seq)` is >= the given pair. */
  private lowerBound(time: number, seq: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.before(mid, time, seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index with time >= `t`. */
  private lowerBoundTime(t: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index with time > `t`. */
  private upperBound(t: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
