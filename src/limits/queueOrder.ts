/**
 * The order of a model's queue, shared by the stores (the Redis store's Lua mirrors it): which
 * waiting booking a new one goes ahead of, aging, weighted-fair-queueing costs and tenant caps.
 */
import { costOn, type StorePlace, type WindowSpec } from "./store";

/** What queue order looks at in a booking. */
export interface Queued {
  readonly seq: number;
  readonly start: number;
  readonly arrivedAt: number;
  readonly place: StorePlace;
  /** Its tenant's virtual finish tag in its class. */
  readonly tag: number;
}

/** The place of a booking whose request names none. */
export const DEFAULT_STORE_PLACE: StorePlace = Object.freeze({
  rank: 1,
  tenant: "",
  weight: 1,
  agingMs: Number.POSITIVE_INFINITY,
});

/** Aged past being moved: it keeps its start whatever arrives. */
export function pinned(b: Queued, now: number): boolean {
  return now - b.arrivedAt >= b.place.agingMs;
}

/** Queue order among waiting bookings: aged ones first (by start), then class, tag, booking order. */
export function compareQueue(x: Queued, y: Queued, now: number): number {
  const px = pinned(x, now);
  const py = pinned(y, now);
  if (px !== py) return px ? -1 : 1;
  if (px) return x.start - y.start || x.seq - y.seq;
  return x.place.rank - y.place.rank || x.tag - y.tag || x.seq - y.seq;
}

/** Whether the new booking `nb` goes before the waiting booking `b` (which is not aged). */
export function ahead(nb: Queued, b: Queued): boolean {
  return nb.place.rank < b.place.rank || (nb.place.rank === b.place.rank && nb.tag < b.tag);
}

/** A call's cost as a fraction of its tightest window: what fair shares are counted in. */
export function normalizedCost(windows: readonly WindowSpec[], tokens: number): number {
  let c = 0;
  for (const w of windows) c = Math.max(c, costOn(w.unit, tokens) / w.limit);
  return c;
}

/** A tenant's cap on `w`: whole units, rounded down (so the share is never exceeded). */
export function shareLimit(w: WindowSpec, maxShare: number): number {
  return Math.floor(w.limit * maxShare + 1e-9);
}

/** The name reported when a tenant's `maxShare` decides a start. */
export function shareDimension(w: WindowSpec): string {
  return `${w.name} (tenant share)`;
}
