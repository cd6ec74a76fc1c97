import { type Clock, systemClock } from "../clock";
import type { FallbackReason } from "../retry/policy";

/** What every replica should know about one model right now. */
export interface SharedModelHealth {
  /** Skip the model until then (quota gone, key refused). */
  unavailable?: { until: number; reason: FallbackReason };
  /** A replica's circuit breaker opened: skip the model until then (then one replica probes). */
  circuitOpenUntil?: number;
}

/**
 * Model health shared between processes, so a model whose quota is gone or whose circuit opened
 * is skipped by every replica instead of each one paying for the discovery. Times are epoch ms of
 * the caller's clock (health spans are seconds to hours, so clock skew between hosts is harmless).
 */
export interface ModelHealthStore {
  /** Skip `model` until `untilMs` (kept if a later mark exists). */
  markUnavailable(model: string, untilMs: number, reason: FallbackReason): Promise<void>;
  /** A breaker opened: skip `model` until `retryAtMs` (kept if a later one exists). */
  openCircuit(model: string, retryAtMs: number): Promise<void>;
  /** A probe succeeded: the circuit is closed for everyone. */
  closeCircuit(model: string): Promise<void>;
  /** What is known now; expired marks are left out. */
  get(model: string): Promise<SharedModelHealth>;
}

interface HealthRecord {
  until: number;
  reason?: FallbackReason;
  circuit: number;
}

/** An in-process {@link ModelHealthStore} (one replica; also the fail-open fallback). */
export class MemoryModelHealthStore implements ModelHealthStore {
  private readonly records = new Map<string, HealthRecord>();

  constructor(private readonly clock: Clock = systemClock) {}

  async markUnavailable(model: string, untilMs: number, reason: FallbackReason): Promise<void> {
    const r = this.record(model);
    if (untilMs > r.until) {
      r.until = untilMs;
      r.reason = reason;
    }
  }

  async openCircuit(model: string, retryAtMs: number): Promise<void> {
    const r = this.record(model);
    r.circuit = Math.max(r.circuit, retryAtMs);
  }

  async closeCircuit(model: string): Promise<void> {
    this.record(model).circuit = 0;
  }

  async get(model: string): Promise<SharedModelHealth> {
    const r = this.records.get(model);
    return r ? snapshot(r.until, r.reason, r.circuit, this.clock.now()) : {};
  }

  private record(model: string): HealthRecord {
    let r = this.records.get(model);
    if (!r) {
      r = { until: 0, circuit: 0 };
      this.records.set(model, r);
    }
    return r;
  }
}

/** The health a record shows at `now`: expired marks are left out. */
export function snapshot(
  until: number,
  reason: FallbackReason | undefined,
  circuit: number,
  now: number,
): SharedModelHealth {
  const out: SharedModelHealth = {};
  if (until > now && reason) out.unavailable = { until, reason };
  if (circuit > now) out.circuitOpenUntil = circuit;
  return out;
}
