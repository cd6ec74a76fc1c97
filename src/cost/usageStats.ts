import type { CostRecord } from "./costRecord";
import { nanosToUsd, usdToNanos } from "./money";
import { utcDay, utcMonth } from "./periods";

/** Requests, dollars and tokens of a group of calls. */
export interface UsageTotals {
  requests: number;
  costUsd: number;
  /** Calls that could not be priced (unknown model or no usage reported); not in `costUsd`. */
  unpricedRequests: number;
  /** Calls answered from a LangChain cache (cost nothing). */
  cachedRequests: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

/** Totals of one top-level run (an agent or chain invocation with all its model calls). */
export interface RunUsage extends UsageTotals {
  rootRunId: string;
  /** The run's name, when we saw it start. */
  name?: string;
  /** False while the run is in progress. */
  finished: boolean;
}

/** What {@link UsageAggregator.snapshot} returns. Dollar amounts are exact sums of the calls. */
export interface UsageStats {
  total: UsageTotals;
  /** Keyed by served model name. */
  byModel: Record<string, UsageTotals>;
  /** Keyed by UTC day, `"2026-11-22"`. */
  byDay: Record<string, UsageTotals>;
  /** Keyed by UTC month, `"2026-11"`. */
  byMonth: Record<string, UsageTotals>;
  /** Keyed by root run id; finished runs beyond the cap are dropped (totals keep them). */
  byRun: Record<string, RunUsage>;
  /** `byMetadata.userId["u-42"]`: calls whose run metadata had that value. */
  byMetadata: Record<string, Record<string, UsageTotals>>;
}

/** Options of {@link UsageAggregator}. */
export interface UsageAggregatorOptions {
  /** Metadata keys to group by, e.g. `["userId", "tenant"]`. */
  groupByMetadata?: readonly string[];
  /** Finished top-level runs kept in `byRun`. Default 1000. */
  maxFinishedRuns?: number;
  /** In-progress runs kept; the oldest is dropped beyond it (a run whose end we never see). Default 10000. */
  maxOpenRuns?: number;
  /** Distinct values kept per metadata key; further values count under `"(other)"`. Default 10000. */
  maxMetadataValues?: number;
}

/** Where values past {@link UsageAggregatorOptions.maxMetadataValues} are counted. */
export const OTHER_METADATA_VALUE = "(other)";

/** Accumulates in integer nano-dollars so sums are exact (see money.ts). */
class Accumulator {
  requests = 0;
  costNanos = 0;
  unpricedRequests = 0;
  cachedRequests = 0;
  inputTokens = 0;
  cachedInputTokens = 0;
  outputTokens = 0;
  reasoningTokens = 0;

  add(record: CostRecord, costNanos: number): void {
    this.requests += 1;
    this.costNanos += costNanos;
    if (record.status === "unpriced") this.unpricedRequests += 1;
    if (record.status === "cached") this.cachedRequests += 1;
    const usage = record.usage;
    if (!usage) return;
    this.inputTokens += usage.inputTokens;
    this.cachedInputTokens += usage.cachedInputTokens;
    this.outputTokens += usage.outputTokens;
    this.reasoningTokens += usage.reasoningTokens;
  }

  toTotals(): UsageTotals {
    return {
      requests: this.requests,
      costUsd: nanosToUsd(this.costNanos),
      unpricedRequests: this.unpricedRequests,
      cachedRequests: this.cachedRequests,
      inputTokens: this.inputTokens,
      cachedInputTokens: this.cachedInputTokens,
      outputTokens: this.outputTokens,
      reasoningTokens: this.reasoningTokens,
    };
  }
}

interface RunEntry {
  acc: Accumulator;
  name?: string;
  finished: boolean;
}

/**
 * Aggregates {@link CostRecord}s like the design's `get_usage_stats()`: totals, by model, by UTC
 * day and month, by top-level run and by chosen metadata keys. Memory is bounded: per-run and
 * per-metadata-value maps are capped; totals are never dropped.
 */
export class UsageAggregator {
  private readonly total = new Accumulator();
  private readonly byModel = new Map<string, Accumulator>();
  private readonly byDay = new Map<string, Accumulator>();
  private readonly byMonth = new Map<string, Accumulator>();
  private readonly byMetadata = new Map<string, Map<string, Accumulator>>();
  // Insertion order doubles as age order for eviction.
  private readonly runs = new Map<string, RunEntry>();
  private readonly finishedRuns = new Set<string>();
  private readonly groupKeys: readonly string[];
  private readonly maxFinishedRuns: number;
  private readonly maxOpenRuns: number;
  private readonly maxMetadataValues: number;

  constructor(options: UsageAggregatorOptions = {}) {
    this.groupKeys = options.groupByMetadata ?? [];
    this.maxFinishedRuns = options.maxFinishedRuns ?? 1000;
    this.maxOpenRuns = options.maxOpenRuns ?? 10_000;
    this.maxMetadataValues = options.maxMetadataValues ?? 10_000;
  }

  /** A top-level run started; its calls will be summed under `rootRunId`. */
  openRun(rootRunId: string, name?: string): void {
    if (this.runs.has(rootRunId)) return;
    this.runs.set(rootRunId, { acc: new Accumulator(), finished: false, ...(name ? { name } : {}) });
    this.evictOpenRuns();
  }

  /** A top-level run ended; it becomes eligible for eviction. */
  finishRun(rootRunId: string): void {
    const entry = this.runs.get(rootRunId);
    if (!entry) return;
    entry.finished = true;
    this.finishedRuns.delete(rootRunId);
    this.finishedRuns.add(rootRunId);
    while (this.finishedRuns.size > this.maxFinishedRuns) {
      const oldest = this.finishedRuns.values().next().value as string;
      this.finishedRuns.delete(oldest);
      this.runs.delete(oldest);
    }
  }

  /** Adds one call. */
  add(record: CostRecord): void {
    const nanos = record.costUsd === null ? 0 : usdToNanos(record.costUsd);
    this.total.add(record, nanos);
    bucket(this.byModel, record.model ?? "(unknown)").add(record, nanos);
    bucket(this.byDay, utcDay(record.at)).add(record, nanos);
    bucket(this.byMonth, utcMonth(record.at)).add(record, nanos);
    for (const key of this.groupKeys) {
      const raw = record.metadata[key];
      if (raw === undefined || raw === null) continue;
      const values = this.byMetadata.get(key) ?? new Map<string, Accumulator>();
      this.byMetadata.set(key, values);
      const value = typeof raw === "string" ? raw : JSON.stringify(raw);
      const slot = values.has(value) || values.size < this.maxMetadataValues ? value : OTHER_METADATA_VALUE;
      bucket(values, slot).add(record, nanos);
    }
    if (!this.runs.has(record.rootRunId)) this.openRun(record.rootRunId);
    this.runs.get(record.rootRunId)?.acc.add(record, nanos);
  }

  /** A copy of everything aggregated so far. */
  snapshot(): UsageStats {
    const byRun: Record<string, RunUsage> = {};
    for (const [rootRunId, entry] of this.runs) {
      byRun[rootRunId] = {
        rootRunId,
        ...(entry.name ? { name: entry.name } : {}),
        finished: entry.finished,
        ...entry.acc.toTotals(),
      };
    }
    const byMetadata: Record<string, Record<string, UsageTotals>> = {};
    for (const [key, values] of this.byMetadata) byMetadata[key] = totalsOf(values);
    return {
      total: this.total.toTotals(),
      byModel: totalsOf(this.byModel),
      byDay: totalsOf(this.byDay),
      byMonth: totalsOf(this.byMonth),
      byRun,
      byMetadata,
    };
  }

  private evictOpenRuns(): void {
    let open = this.runs.size - this.finishedRuns.size;
    if (open <= this.maxOpenRuns) return;
    for (const [id, entry] of this.runs) {
      if (open <= this.maxOpenRuns) break;
      if (entry.finished) continue;
      this.runs.delete(id);
      open -= 1;
    }
  }
}

function bucket(map: Map<string, Accumulator>, key: string): Accumulator {
  let acc = map.get(key);
  if (!acc) {
    acc = new Accumulator();
    map.set(key, acc);
  }
  return acc;
}

function totalsOf(map: Map<string, Accumulator>): Record<string, UsageTotals> {
  const out: Record<string, UsageTotals> = {};
  for (const [key, acc] of map) out[key] = acc.toTotals();
  return out;
}
