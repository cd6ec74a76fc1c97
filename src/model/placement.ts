import { NO_TENANT, PRIORITIES, type Priority, type QueuePlace } from "../limits/priority";
import type { PriorityOptions, TenantOptions } from "./types";

/** Default aging per class, seconds: nothing is above `interactive`, so it never needs to age. */
export const DEFAULT_AGING_SECONDS: Readonly<Record<Priority, number>> = Object.freeze({
  interactive: Number.POSITIVE_INFINITY,
  normal: 300,
  batch: 900,
});

/** Where one call queues, and how long it may wait for its slot. */
export interface CallPlace {
  place: QueuePlace;
  /** The class's `maxWaitSeconds`, in ms. */
  maxWaitMs: number;
}

/**
 * Turns a call's class and tenant (already validated) into its place in the limiter's queue,
 * from the `tenants` and `priorities` options: the tenant's weight and share cap, the class's
 * aging and wait cap.
 */
export class Placement {
  private readonly classes: Readonly<Record<Priority, { agingMs: number; maxWaitMs: number }>>;

  constructor(
    private readonly tenants: Readonly<Record<string, TenantOptions>>,
    priorities: Readonly<Partial<Record<Priority, PriorityOptions>>>,
    maxWaitSeconds: number,
  ) {
    this.classes = Object.fromEntries(
      PRIORITIES.map((p) => {
        const o = priorities[p] ?? {};
        return [
          p,
          {
            agingMs: (o.agingSeconds ?? DEFAULT_AGING_SECONDS[p]) * 1000,
            maxWaitMs: (o.maxWaitSeconds ?? maxWaitSeconds) * 1000,
          },
        ];
      }),
    ) as Record<Priority, { agingMs: number; maxWaitMs: number }>;
  }

  /** The tenants named in the options. */
  get tenantNames(): string[] {
    return Object.keys(this.tenants);
  }

  resolve(call: { priority?: Priority; tenant?: string }): CallPlace {
    const priority = call.priority ?? "normal";
    const tenant = call.tenant ?? NO_TENANT;
    const t = Object.hasOwn(this.tenants, tenant) ? this.tenants[tenant]! : {};
    const c = this.classes[priority];
    return {
      place: {
        priority,
        tenant,
        weight: t.weight ?? 1,
        ...(t.maxShare !== undefined ? { maxShare: t.maxShare } : {}),
        agingMs: c.agingMs,
      },
      maxWaitMs: c.maxWaitMs,
    };
  }
}
