/**
 * A least-recently-used map bounded by entry count and by a total "weight" (string length for
 * text keys), so a few huge documents cannot pin unbounded memory. A `Map` keeps insertion order:
 * re-inserting on a hit makes the first key the least recently used one.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; weight: number }>();
  private totalWeight = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number,
  ) {}

  /** The cached value, refreshed as most recently used; `undefined` on a miss. */
  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, entry);
    return entry.value;
  }

  /** Stores `value`; entries heavier than the whole budget are not cached at all. */
  set(key: K, value: V, weight = 1): void {
    if (weight > this.maxWeight) return;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.totalWeight -= old.weight;
      this.map.delete(key);
    }
    this.map.set(key, { value, weight });
    this.totalWeight += weight;
    while (this.map.size > this.maxEntries || this.totalWeight > this.maxWeight) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.totalWeight -= this.map.get(oldest.value)?.weight ?? 0;
      this.map.delete(oldest.value);
    }
  }

  /** Number of cached entries. */
  get size(): number {
    return this.map.size;
  }
}
