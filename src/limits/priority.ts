/**
 * Where a call queues on a saturated model: its priority class and its tenant. The next free slot
 * goes to the highest class waiting; within a class, tenants share by weight (weighted fair
 * queueing on virtual finish tags), FIFO within a tenant.
 */

/** A call's class. `"interactive"` goes first, `"batch"` last; default `"normal"`. */
export type Priority = "interactive" | "normal" | "batch";

/** Every class, highest first: a class's rank is its index here. */
export const PRIORITIES = ["interactive", "normal", "batch"] as const satisfies readonly Priority[];

/** The tenant of calls that name none. */
export const NO_TENANT = "";

/** How a call queues on a model (see {@link Priority}). */
export interface QueuePlace {
  priority: Priority;
  /** Who the call is for; calls of one tenant keep their order. `""`: no tenant. */
  tenant: string;
  /** The tenant's share of its class, relative to the other tenants waiting (> 0). Default 1. */
  weight: number;
  /**
   * At most this fraction (0, 1] of any window of the model's limits goes to the tenant, even
   * when nobody else is waiting. Absent: no cap.
   */
  maxShare?: number;
  /**
   * Aging: once a call has waited this long it is no longer moved later by higher classes, which
   * bounds starvation. `Infinity`: it always yields to them.
   */
  agingMs: number;
}

/** The place of a call that names none. */
export const DEFAULT_PLACE: QueuePlace = Object.freeze({
  priority: "normal",
  tenant: NO_TENANT,
  weight: 1,
  agingMs: Number.POSITIVE_INFINITY,
});

/** A class's rank: 0 for `"interactive"`, 2 for `"batch"`. */
export function priorityRank(priority: Priority): number {
  return PRIORITIES.indexOf(priority);
}

/** The class of a rank a store reports (clamped into range). */
export function priorityOfRank(rank: number): Priority {
  return PRIORITIES[Math.min(PRIORITIES.length - 1, Math.max(0, Math.round(rank)))]!;
}

/** How many calls of one class and tenant are waiting for a slot of a model. */
export interface QueueDepth {
  priority: Priority;
  tenant: string;
  waiting: number;
}
