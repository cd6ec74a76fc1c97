import { LangfuseClient } from "@langfuse/client";
import { AutoPickerConfigError } from "../errors";
import { type FallbackEventName, RATE_LIMIT_WAIT, waitAdds } from "../model/events";
import { FALLBACK_EVENT_NAMES } from "./eventMetadata";

/** One observation as `GET /api/public/v2/observations` returns it (only the fields the report reads). */
export interface ObservationRecord {
  id: string;
  traceId: string | null;
  startTime: string;
  endTime: string | null;
  parentObservationId: string | null;
  type: string;
  name?: string | null;
  level?: string;
  metadata?: unknown;
  costDetails?: Record<string, number>;
  totalCost?: number | null;
}

/** Query parameters of `GET /api/public/v2/observations` that the report sends. */
export interface ObservationQuery {
  type?: string;
  name?: string;
  fromStartTime?: string;
  toStartTime?: string;
  fields?: string;
  limit?: number;
  cursor?: string;
}

/** Anything with Langfuse's observations API; a `LangfuseClient` from `@langfuse/client` fits. */
export interface ObservationSource {
  api: {
    observations: {
      getMany(
        request?: ObservationQuery,
      ): PromiseLike<{ data: ObservationRecord[]; meta: { cursor?: string } }>;
    };
  };
}

/** Options of {@link fallbackReport}. */
export interface FallbackReportOptions {
  /** Observations starting at or after this instant. */
  from: Date;
  /** Observations starting before this instant. */
  to: Date;
  /**
   * Default: `new LangfuseClient()` configured from `LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY` and
   * `LANGFUSE_BASE_URL`; without the two keys `fallbackReport` throws `AutoPickerConfigError`.
   */
  client?: ObservationSource;
  /** Page size (the API allows up to 1000). Default 1000. */
  pageSize?: number;
}

/** Fallbacks from one model to another, of one type. */
export interface FallbackPairStats {
  type: FallbackEventName;
  originalModel: string;
  fallbackModel: string;
  count: number;
  /** Fallbacks whose trace then has a generation without error ending at or after the event. */
  succeeded: number;
  successRate: number;
  /** Cost of the generations that fell back (the event's parent generation), in USD. */
  costUsd: number;
  avgCostUsd: number;
}

/** What {@link fallbackReport} returns: the design documents' queries over one time range. */
export interface FallbackReport {
  from: Date;
  to: Date;
  /** Generations in the range (all models, all chains). */
  generations: number;
  /**
   * Fallback events in the range: `rate_limit_fallback`, `context_length_fallback`,
   * `budget_fallback` and `error_fallback`.
   */
  fallbacks: number;
  /** fallbacks / generations; 0 when there were no generations. */
  fallbackRate: number;
  /** Fallback events by name, every name present (0 when none). */
  byType: Record<FallbackEventName, number>;
  /** Sorted by count, highest first. */
  byPair: FallbackPairStats[];
  succeeded: number;
  successRate: number;
  /** Cost of the generations that fell back, each counted once, in USD. */
  fallbackCostUsd: number;
  /** `rate_limit_wait` events in the range, and their summed `wait_ms`. */
  rateLimitWaits: { count: number; totalWaitMs: number };
}

/**
 * Reads fallback events and generations back from Langfuse (public API,
 * `GET /api/public/v2/observations`, cursor-paged) and computes what the design documents' SQL did:
 * counts by type and model pair, fallback rate, how often the fallback then succeeded, and the cost of
 * the generations that fell back.
 *
 * Requests: one paged query per event name (`type=EVENT&name=...`) and one for generations
 * (`type=GENERATION`), all with `fromStartTime`/`toStartTime`. Generation paging is linear in the
 * number of generations in the range; keep ranges to what you need (a day is typical).
 */
export async function fallbackReport(options: FallbackReportOptions): Promise<FallbackReport> {
  validateOptions(options);
  const client = options.client ?? defaultClient();
  const range = { fromStartTime: options.from.toISOString(), toStartTime: options.to.toISOString() };
  const limit = options.pageSize ?? 1000;
  const fetchAll = (query: ObservationQuery) => fetchPages(client, { ...range, limit, ...query });

  const [fallbackEvents, waitEvents, generations] = await Promise.all([
    Promise.all(
      FALLBACK_EVENT_NAMES.map(async (type) => {
        const events = await fetchAll({ type: "EVENT", name: type, fields: "core,basic,metadata" });
        return events.map((event) => ({ type, event }));
      }),
    ).then((lists) => lists.flat()),
    fetchAll({ type: "EVENT", name: RATE_LIMIT_WAIT, fields: "core,basic,metadata" }),
    fetchAll({ type: "GENERATION", fields: "core,basic,metadata,usage" }),
  ]);

  const genById = new Map(generations.map((g) => [g.id, g]));
  const genByTrace = new Map<string, ObservationRecord[]>();
  for (const g of generations) {
    if (!g.traceId) continue;
    const list = genByTrace.get(g.traceId) ?? [];
    list.push(g);
    genByTrace.set(g.traceId, list);
  }

  const byType = Object.fromEntries(FALLBACK_EVENT_NAMES.map((name) => [name, 0])) as Record<
    FallbackEventName,
    number
  >;
  const pairs = new Map<string, FallbackPairStats>();
  const costedGenerations = new Set<string>();
  let succeeded = 0;
  let fallbackCostUsd = 0;
  for (const { type, event } of fallbackEvents) {
    byType[type] += 1;
    const meta = metadataOf(event);
    const originalModel = String(meta.original_model ?? "unknown");
    const fallbackModel = String(meta.fallback_model ?? "unknown");
    const key = `${type}\u0000${originalModel}\u0000${fallbackModel}`;
    const pair = pairs.get(key) ?? {
      type,
      originalModel,
      fallbackModel,
      count: 0,
      succeeded: 0,
      successRate: 0,
      costUsd: 0,
      avgCostUsd: 0,
    };
    pairs.set(key, pair);
    pair.count += 1;

    const inTrace = event.traceId ? (genByTrace.get(event.traceId) ?? []) : [];
    const ok = inTrace.some((g) => g.level !== "ERROR" && (g.endTime ?? g.startTime) >= event.startTime);
    if (ok) {
      pair.succeeded += 1;
      succeeded += 1;
    }
    // AutoPickerLangfuseHandler parents the event to the generation that fell back; events recorded
    // without a parent fall back to the first later generation in the same trace.
    const served =
      (event.parentObservationId ? genById.get(event.parentObservationId) : undefined) ??
      inTrace.find((g) => g.startTime >= event.startTime);
    const cost = served ? costOf(served) : undefined;
    if (served && cost !== undefined) {
      pair.costUsd += cost;
      if (!costedGenerations.has(served.id)) {
        costedGenerations.add(served.id);
        fallbackCostUsd += cost;
      }
    }
  }
  const byPair = [...pairs.values()]
    .map((p) => ({ ...p, successRate: ratio(p.succeeded, p.count), avgCostUsd: ratio(p.costUsd, p.count) }))
    .sort((a, b) => b.count - a.count);

  return {
    from: options.from,
    to: options.to,
    generations: generations.length,
    fallbacks: fallbackEvents.length,
    fallbackRate: ratio(fallbackEvents.length, generations.length),
    byType,
    byPair,
    succeeded,
    successRate: ratio(succeeded, fallbackEvents.length),
    fallbackCostUsd,
    rateLimitWaits: waitEvents.reduce(
      (sum, e) => {
        const m = metadataOf(e);
        const { waits, ms } = waitAdds(m.cause, toNumber(m.wait_ms), toNumber(m.moved_by_ms));
        return { count: sum.count + waits, totalWaitMs: sum.totalWaitMs + ms };
      },
      { count: 0, totalWaitMs: 0 },
    ),
  };
}

async function fetchPages(client: ObservationSource, query: ObservationQuery): Promise<ObservationRecord[]> {
  const all: ObservationRecord[] = [];
  let cursor: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await client.api.observations.getMany({ ...query, ...(cursor ? { cursor } : {}) });
    all.push(...page.data);
    cursor = page.meta?.cursor;
    // A server that repeats a cursor would otherwise loop forever.
    if (cursor && seen.has(cursor)) break;
    if (cursor) seen.add(cursor);
  } while (cursor);
  return all;
}

/** Langfuse returns metadata as an object (values as sent, ours are strings or JSON strings). */
function metadataOf(o: ObservationRecord): Record<string, unknown> {
  const m = o.metadata;
  if (typeof m === "string") {
    try {
      return metadataOf({ ...o, metadata: JSON.parse(m) });
    } catch {
      return {};
    }
  }
  return typeof m === "object" && m !== null ? (m as Record<string, unknown>) : {};
}

/** Explicit cost first (what our handler sends), then Langfuse's own total, then our metadata. */
function costOf(g: ObservationRecord): number | undefined {
  return toNumber(g.costDetails?.total) ?? toNumber(g.totalCost) ?? toNumber(metadataOf(g).cost_usd);
}

function toNumber(value: unknown): number | undefined {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}

/** A client from the environment, or a config error: without keys it would query the public cloud anonymously. */
function defaultClient(): ObservationSource {
  if (!process.env.LANGFUSE_PUBLIC_KEY || !process.env.LANGFUSE_SECRET_KEY) {
    throw new AutoPickerConfigError(
      "fallbackReport: no Langfuse credentials. Set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY " +
        "(and LANGFUSE_BASE_URL unless you use https://cloud.langfuse.com), or pass `client: new LangfuseClient({ ... })`.",
    );
  }
  return new LangfuseClient();
}

const KNOWN_OPTIONS = new Set(["from", "to", "client", "pageSize"]);

function validateOptions(options: FallbackReportOptions): void {
  const fail = (text: string): never => {
    throw new AutoPickerConfigError(`fallbackReport: ${text}`);
  };
  if (typeof options !== "object" || options === null) fail("pass { from, to }.");
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) fail(`unknown option "${key}" (known: ${[...KNOWN_OPTIONS].join(", ")}).`);
  }
  const isDate = (d: unknown): d is Date => d instanceof Date && !Number.isNaN(d.getTime());
  if (!isDate(options.from)) fail("`from` must be a valid Date.");
  if (!isDate(options.to)) fail("`to` must be a valid Date.");
  if (options.from.getTime() > options.to.getTime()) fail("`from` must not be after `to`.");
  const { pageSize, client } = options;
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)) {
    fail(`pageSize must be a whole number from 1 to 1000 (the API's limit), got ${String(pageSize)}.`);
  }
  if (client !== undefined && typeof client?.api?.observations?.getMany !== "function") {
    fail("client must have api.observations.getMany (a LangfuseClient from @langfuse/client fits).");
  }
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}
