/**
 * The log of one limit dimension: entries `(time, seq, cost)` kept sorted by `(time, seq)`, with
 * running sums so that "how much is booked after t" and "when has enough left the window" are
 * binary searches (O(log n)). Entries leave from the front as time passes (amortised O(1));
 * new bookings land at the back (O(1)). An entry is found again by its `seq` (a booking is
 * re-stamped when evidence of its arrival comes in); moving or re-costing it touches only the
 * entries after it, which in practice are the few calls booked after it still in the window.
 *
 * Costs must be >= 0 so the running sums are monotone. Zero-cost entries are not stored.
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
  /** seq -> time of every live entry. */
  private readonly at = new Map<number, number>();

  /** Number of live entries. */
  get size(): number {
    return this.times.length - this.head;
  }

  /** Sum of every live entry's cost. */
  total(): number {
    const n = this.times.length;
    return n > this.head ? this.cums[n - 1]! - this.base : 0;
  }

  /** The time of entry `seq`, if it is in the log. */
  timeOf(seq: number): number | undefined {
    return this.at.get(seq);
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

  /** Adds an entry (`seq` must not be in the log). Zero-cost entries are not stored. */
  insert(time: number, seq: number, cost: number): void {
    if (cost <= 0) return;
    this.at.set(seq, time);
    const n = this.times.length;
    if (n === this.head || this.before(n - 1, time, seq)) {
      this.times.push(time);
      this.seqs.push(seq);
      this.costs.push(cost);
      this.cums.push(this.cumBefore(n) + cost);
      return;
    }
    const i = this.lowerBound(time, seq);
    this.times.splice(i, 0, time);
    this.seqs.splice(i, 0, seq);
    this.costs.splice(i, 0, cost);
    this.cums.splice(i, 0, 0);
    this.recomputeFrom(i);
  }

  /** Removes entry `seq`; returns its cost, or `undefined` if it is not in the log. */
  remove(seq: number): number | undefined {
    const time = this.at.get(seq);
    if (time === undefined) return undefined;
    const i = this.lowerBound(time, seq);
    const cost = this.costs[i]!;
    this.at.delete(seq);
    this.times.splice(i, 1);
    this.seqs.splice(i, 1);
    this.costs.splice(i, 1);
    this.cums.splice(i, 1);
    this.recomputeFrom(i);
    return cost;
  }

  /** Moves entry `seq` to `time` (nothing if it is not in the log). */
  move(seq: number, time: number): void {
    const old = this.at.get(seq);
    if (old === undefined || old === time) return;
    const cost = this.remove(seq)!;
    this.insert(time, seq, cost);
  }

  /** Puts entry `seq` at `time` with `cost`, wherever it was before (0 removes it). */
  put(seq: number, time: number, cost: number): void {
    if (this.at.has(seq)) this.remove(seq);
    this.insert(time, seq, cost);
  }

  /** Sets the cost of entry `seq`, adding it at `time` if it is not in the log (0 removes it). */
  set(seq: number, time: number, cost: number): void {
    const old = this.at.get(seq);
    if (old !== undefined) this.remove(seq);
    this.insert(old ?? time, seq, cost);
  }

  /**
   * Moves the oldest entries with time in `(to, upTo]` to `to`, front first, until their costs
   * sum to at least `needed` (or every such entry moved). Returns the seqs moved.
   */
  ageTo(to: number, upTo: number, needed: number): number[] {
    const moved: number[] = [];
    let sum = 0;
    for (let i = this.upperBound(to); i < this.times.length && sum < needed; i++) {
      if (this.times[i]! > upTo) break;
      moved.push(this.seqs[i]!);
      sum += this.costs[i]!;
    }
    for (const seq of moved) this.move(seq, to);
    return moved;
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
    for (let i = this.head; i < end; i++) this.at.delete(this.seqs[i]!);
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

  private recomputeFrom(from: number): void {
    for (let i = from; i < this.times.length; i++) this.cums[i] = this.cumBefore(i) + this.costs[i]!;
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
