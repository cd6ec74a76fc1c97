import { PRIORITIES } from "../limits/priority";
import type { EventHub } from "./eventHub";
import { fallbackEventName, RATE_LIMIT_FALLBACK, waitAdds } from "./events";
import type { AutoPickerStats, ModelStats, WaitStats } from "./types";

const emptyModel = (): ModelStats => ({
  served: 0,
  attempts: 0,
  errors: {},
  rateLimitWaits: 0,
  totalWaitSeconds: 0,
});

const emptyWaits = (): WaitStats => ({ rateLimitWaits: 0, totalWaitSeconds: 0 });

/** Distinct tenants `waitsByTenant` lists; the waits of further tenants count under {@link OTHER_TENANTS}. */
export const MAX_TENANTS_IN_STATS = 10_000;
/** Where `waitsByTenant` counts tenants beyond {@link MAX_TENANTS_IN_STATS}. */
export const OTHER_TENANTS = "(other)";

/** The counters behind `llm.stats`, fed by the picker's event stream; reads return a copy. */
export class StatsRecorder {
  private readonly s: AutoPickerStats = {
    totalRequests: 0,
    primaryRequests: 0,
    fallbackRequests: 0,
    failedRequests: 0,
    rateLimitWaits: 0,
    totalWaitSeconds: 0,
    fallbacks: 0,
    fallbacksByReason: {},
    rateLimitFallbacks: 0,
    contextFallbacks: 0,
    byModel: {},
    waitsByPriority: Object.fromEntries(
      PRIORITIES.map((p) => [p, emptyWaits()]),
    ) as AutoPickerStats["waitsByPriority"],
    // No prototype: tenant names come from callers ("__proto__" is a name like any other).
    waitsByTenant: Object.create(null) as Record<string, WaitStats>,
  };
  private tenantCount = 0;

  /** `tenants`: the tenants of the `tenants` option, listed from the start. */
  constructor(names: readonly string[], hub: EventHub, tenants: readonly string[] = []) {
    for (const n of names) this.s.byModel[n] = emptyModel();
    for (const t of tenants) this.tenant(t);
    hub.on("request", () => void this.s.totalRequests++);
    hub.on("served", (e) => {
      const m = this.model(e.model);
      m.served++;
      m.attempts++;
      if (e.primary) this.s.primaryRequests++;
      else this.s.fallbackRequests++;
    });
    hub.on("failed", () => void this.s.failedRequests++);
    hub.on("attemptFailed", (e) => {
      const m = this.model(e.model);
      m.attempts++;
      m.errors[e.kind] = (m.errors[e.kind] ?? 0) + 1;
    });
    hub.on("wait", (e) => {
      const { waits: n, ms } = waitAdds(e.cause, e.waitMs, e.movedByMs);
      const seconds = ms / 1000;
      const m = this.model(e.model);
      m.rateLimitWaits += n;
      m.totalWaitSeconds += seconds;
      this.s.rateLimitWaits += n;
      this.s.totalWaitSeconds += seconds;
      const byClass = this.s.waitsByPriority[e.priority];
      byClass.rateLimitWaits += n;
      byClass.totalWaitSeconds += seconds;
      if (e.tenant !== undefined) {
        const byTenant = this.tenant(e.tenant);
        byTenant.rateLimitWaits += n;
        byTenant.totalWaitSeconds += seconds;
      }
    });
    hub.on("fallback", (e) => {
      this.s.fallbacks++;
      this.s.fallbacksByReason[e.reason] = (this.s.fallbacksByReason[e.reason] ?? 0) + 1;
      if (e.reason === "context_length") this.s.contextFallbacks++;
      else if (fallbackEventName(e.reason) === RATE_LIMIT_FALLBACK) this.s.rateLimitFallbacks++;
    });
  }

  snapshot(): AutoPickerStats {
    return structuredClone(this.s);
  }

  private tenant(name: string): WaitStats {
    const by = this.s.waitsByTenant;
    const known = by[name];
    if (known) return known;
    const key = this.tenantCount < MAX_TENANTS_IN_STATS ? name : OTHER_TENANTS;
    if (key === name) this.tenantCount++;
    by[key] ??= emptyWaits();
    return by[key];
  }

  private model(name: string): ModelStats {
    let m = this.s.byModel[name];
    if (!m) {
      m = emptyModel();
      this.s.byModel[name] = m;
    }
    return m;
  }
}
