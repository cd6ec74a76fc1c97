import type { AutoPickerStats, ModelStats } from "./types";

/** Mutable counters behind `llm.stats`; reads return a copy so callers can't corrupt them. */
export class StatsRecorder {
  private readonly s: AutoPickerStats = {
    total_requests: 0,
    primary_requests: 0,
    fallback_requests: 0,
    rate_limit_waits: 0,
    total_wait_seconds: 0,
    rate_limit_fallbacks: 0,
    context_fallbacks: 0,
    failed_requests: 0,
    by_model: {},
  };

  constructor(names: readonly string[]) {
    for (const n of names)
      this.s.by_model[n] = { served: 0, attempts: 0, errors: {}, rate_limit_waits: 0, total_wait_seconds: 0 };
  }

  snapshot(): AutoPickerStats {
    return structuredClone(this.s);
  }

  request(): void {
    this.s.total_requests++;
  }

  served(model: string, isPrimary: boolean): void {
    this.m(model).served++;
    if (isPrimary) this.s.primary_requests++;
    else this.s.fallback_requests++;
  }

  failed(): void {
    this.s.failed_requests++;
  }

  attempt(model: string): void {
    this.m(model).attempts++;
  }

  error(model: string, kind: string): void {
    const errors = this.m(model).errors;
    errors[kind] = (errors[kind] ?? 0) + 1;
  }

  waited(model: string, ms: number): void {
    if (ms <= 0) return;
    const m = this.m(model);
    m.rate_limit_waits++;
    m.total_wait_seconds += ms / 1000;
    this.s.rate_limit_waits++;
    this.s.total_wait_seconds += ms / 1000;
  }

  fallback(kind: "context" | "other"): void {
    if (kind === "context") this.s.context_fallbacks++;
    else this.s.rate_limit_fallbacks++;
  }

  private m(model: string): ModelStats {
    let m = this.s.by_model[model];
    if (!m) {
      m = { served: 0, attempts: 0, errors: {}, rate_limit_waits: 0, total_wait_seconds: 0 };
      this.s.by_model[model] = m;
    }
    return m;
  }
}
