import { MemoryRateLimitStore } from "../limits/memoryStore";
import type {
  RateLimitStore,
  StoreBlockRequest,
  StoreCancelRequest,
  StoreCommitRequest,
  StoreConfirmRequest,
  StoreConfirmResult,
  StoreConstrainRequest,
  StoreReserveRequest,
  StoreReserveResult,
  StoreStatus,
  StoreTarget,
  WindowSpec,
} from "../limits/store";
import {
  defaultFaultLogger,
  type OnRedisUnavailable,
  OutageTracker,
  type RedisFaultLogger,
  RedisUnavailableError,
} from "./outage";

/** Options shared by the resilient stores. */
export interface ResilienceOptions {
  /**
   * `"fail-open"` (default): while Redis is unavailable, this process books against a local store
   * holding `failOpenShare` of each limit, so calls keep flowing. `"fail-closed"`: calls reject with
   * {@link RedisUnavailableError} (the limit is never at risk; availability is).
   */
  onUnavailable?: OnRedisUnavailable;
  /**
   * Share of each limit one process may use on its own while failing open. Default
   * `1 / expectedReplicas`, or 0.5 without it. With N replicas and share s, the fleet can reach
   * N * s of a limit during an outage: keep N * s <= 1 to stay within it.
   */
  failOpenShare?: number;
  /** How many processes share the limits; sets the default `failOpenShare`. */
  expectedReplicas?: number;
  /** During an outage, one call tries Redis again this often. Default 1000 ms. */
  retryIntervalMs?: number;
  /** Gets one warning per outage (and an `info` on recovery). Default `console.warn`. */
  logger?: RedisFaultLogger;
}

/** Options of {@link ResilientRateLimitStore}. */
export interface ResilientRateLimitStoreOptions extends ResilienceOptions {
  /** The shared store, normally a `RedisRateLimitStore`. */
  store: RateLimitStore;
  /** The local fallback. Default a new `MemoryRateLimitStore`. */
  local?: RateLimitStore;
}

/** Resolves the fail-open share from the options. */
export function resolveShare(options: ResilienceOptions): number {
  const share =
    options.failOpenShare ??
    (options.expectedReplicas !== undefined && options.expectedReplicas >= 1
      ? 1 / options.expectedReplicas
      : 0.5);
  if (!(share > 0 && share <= 1)) throw new RangeError(`failOpenShare must be in (0, 1], got ${share}.`);
  return share;
}

/**
 * A {@link RateLimitStore} that uses a shared store (Redis) while it answers and, when it fails or
 * times out, either falls back to a local store with a conservative share of each limit
 * (`"fail-open"`, logging one warning) or rejects (`"fail-closed"`). It goes back to the shared
 * store as soon as Redis answers a probe. Entry ids are tagged `r:`/`l:` so commits and cancels
 * reach the store that booked them; commits, cancels, header facts and retry hints never reject
 * (the call they belong to has already happened).
 *
 * Known gap: bookings made locally during an outage are not copied into Redis on recovery, so for
 * one window after it the fleet can exceed a limit by what the replicas booked locally.
 */
export class ResilientRateLimitStore implements RateLimitStore {
  private readonly shared: RateLimitStore;
  private readonly local: RateLimitStore;
  private readonly share: number;
  private readonly mode: OnRedisUnavailable;
  private readonly outage: OutageTracker;

  constructor(options: ResilientRateLimitStoreOptions) {
    this.shared = options.store;
    this.local = options.local ?? new MemoryRateLimitStore();
    this.share = resolveShare(options);
    this.mode = options.onUnavailable ?? "fail-open";
    this.outage = new OutageTracker(
      "Rate limits",
      options.logger ?? defaultFaultLogger,
      options.retryIntervalMs ?? 1000,
    );
  }

  /** Whether the shared store is currently considered unavailable. */
  get degraded(): boolean {
    return this.outage.isDown;
  }

  async reserve(req: StoreReserveRequest): Promise<StoreReserveResult> {
    const r = await this.route(
      () => this.shared.reserve(req),
      () => this.local.reserve({ ...req, windows: this.scaled(req.windows) }),
    );
    return r.value.kind === "granted" ? { ...r.value, entryId: `${r.via}:${r.value.entryId}` } : r.value;
  }

  async commit(req: StoreCommitRequest): Promise<void> {
    await this.settle(req, (store, entryId, windows) => store.commit({ ...req, entryId, windows }));
  }

  async cancel(req: StoreCancelRequest): Promise<void> {
    await this.settle(req, (store, entryId, windows) => store.cancel({ ...req, entryId, windows }));
  }

  /**
   * Confirms with the store that booked the call. A local (`l:`) booking asks the local store; a
   * Redis (`r:`) one asks Redis, and while Redis is unavailable answers `{ ok: true }` (fail-open:
   * the booking stands at its booked time, as without `confirm`) or, fail-closed, rejects.
   */
  async confirm(req: StoreConfirmRequest): Promise<StoreConfirmResult> {
    const via = req.entryId.slice(0, 2);
    const entryId = req.entryId.slice(2);
    if (via === "l:") {
      return this.local.confirm
        ? this.local.confirm({ ...req, entryId, windows: this.scaled(req.windows) })
        : { ok: true };
    }
    const confirm = this.shared.confirm?.bind(this.shared);
    if (via !== "r:" || !confirm) return { ok: true };
    return (
      await this.route(
        () => confirm({ ...req, entryId }),
        async () => ({ ok: true }) as const,
      )
    ).value;
  }

  async constrain(req: StoreConstrainRequest): Promise<void> {
    // The local store hears it too, so a fallback starts from what the provider last said.
    const [window] = this.scaled([req.window]);
    await this.local.constrain({ ...req, window: window! });
    await this.bestEffort(() => this.shared.constrain(req));
  }

  async block(req: StoreBlockRequest): Promise<void> {
    await this.local.block(req);
    await this.bestEffort(() => this.shared.block(req));
  }

  async status(req: StoreTarget): Promise<StoreStatus> {
    return (
      await this.route(
        () => this.shared.status(req),
        () => this.local.status({ ...req, windows: this.scaled(req.windows) }),
      )
    ).value;
  }

  /** The windows the local fallback enforces: `failOpenShare` of each limit, at least 1. */
  private scaled(windows: readonly WindowSpec[]): WindowSpec[] {
    return windows.map((w) => ({ ...w, limit: Math.max(1, Math.floor(w.limit * this.share)) }));
  }

  private async route<T>(
    shared: () => Promise<T>,
    local: () => Promise<T>,
  ): Promise<{ value: T; via: "r" | "l" }> {
    if (this.outage.shouldTry()) {
      try {
        const value = await shared();
        this.outage.succeeded();
        return { value, via: "r" };
      } catch (err) {
        this.outage.failed(err, this.fallbackText());
        if (this.mode === "fail-closed") throw unavailable(err);
      }
    } else if (this.mode === "fail-closed") {
      throw new RedisUnavailableError("Rate-limit store unavailable (fail-closed).");
    }
    return { value: await local(), via: "l" };
  }

  private async settle(
    req: StoreCommitRequest | StoreCancelRequest,
    apply: (store: RateLimitStore, entryId: string, windows: readonly WindowSpec[]) => Promise<void>,
  ): Promise<void> {
    const via = req.entryId.slice(0, 2);
    const entryId = req.entryId.slice(2);
    if (via === "l:") {
      await apply(this.local, entryId, this.scaled(req.windows));
    } else if (via === "r:") {
      // Lost while Redis is down: the booking then stays at its estimate and start, and expires.
      await this.bestEffort(() => apply(this.shared, entryId, req.windows));
    }
  }

  private async bestEffort(work: () => Promise<void>): Promise<void> {
    if (this.outage.isDown && !this.outage.shouldTry()) return;
    try {
      await work();
      this.outage.succeeded();
    } catch (err) {
      this.outage.failed(err, this.fallbackText());
    }
  }

  private fallbackText(): string {
    return this.mode === "fail-open"
      ? `failing open to a local limiter with ${Math.round(this.share * 100)}% of each limit`
      : "failing closed (calls are refused until it answers)";
  }
}

function unavailable(err: unknown): RedisUnavailableError {
  const e = new RedisUnavailableError(
    `Rate-limit store unavailable: ${err instanceof Error ? err.message : String(err)}`,
  );
  (e as { cause?: unknown }).cause = err;
  return e;
}
