import type { Clock } from "../clock";
import type { FallbackReason } from "../retry/policy";
import type { ModelHealth } from "./health";
import type { ModelHealthStore } from "./healthStore";
import type { AutoPickerLogger } from "./types";

/** How long a replica trusts what it last read of shared health before asking again. */
const REFRESH_MS = 1000;

/**
 * Shares what one replica learns the hard way (quota gone, key refused, circuit open) with every
 * other replica through a {@link ModelHealthStore}, so each does not pay for the discovery. Shared
 * health is advisory: a failing store costs one warning, never a call.
 */
export class SharedHealthSync {
  private readonly lastPull = new Map<string, number>();
  private warned = false;

  constructor(
    private readonly store: ModelHealthStore | undefined,
    private readonly clock: Clock,
    private readonly logger: AutoPickerLogger,
  ) {}

  /** Applies other replicas' marks to the local health of `model` (at most once a second per model). */
  async pull(model: string, local: ModelHealth): Promise<void> {
    if (!this.store) return;
    const now = this.clock.now();
    if (now - (this.lastPull.get(model) ?? Number.NEGATIVE_INFINITY) < REFRESH_MS) return;
    this.lastPull.set(model, now);
    const shared = await this.guard(() => this.store!.get(model));
    if (shared?.unavailable) local.markUnavailable(shared.unavailable.until, shared.unavailable.reason);
    if (shared?.circuitOpenUntil && shared.circuitOpenUntil > now) {
      local.markUnavailable(shared.circuitOpenUntil, "circuit_open");
    }
  }

  markUnavailable(model: string, until: number, reason: FallbackReason): void {
    if (this.store) void this.guard(() => this.store!.markUnavailable(model, until, reason));
  }

  openCircuit(model: string, retryAt: number): void {
    if (this.store) void this.guard(() => this.store!.openCircuit(model, retryAt));
  }

  closeCircuit(model: string): void {
    if (this.store) void this.guard(() => this.store!.closeCircuit(model));
  }

  private async guard<T>(op: () => Promise<T>): Promise<T | undefined> {
    try {
      return await op();
    } catch (error) {
      if (!this.warned) {
        this.warned = true;
        this.logger.warn(
          `shared model health is unavailable (${String(error)}); going on with local health only.`,
        );
      }
      return undefined;
    }
  }
}
