import { type Clock, systemClock } from "../clock";
import { AutoPickerConfigError } from "../errors";
import {
  type AlertListener,
  type AutoPickerAlert,
  consoleLogger,
  emitAlert,
  type WarningLogger,
} from "./alerts";

/** Options of {@link AlertMonitor}. Defaults follow the design notes. */
export interface AlertMonitorOptions {
  /** Sliding window for rates and for "once per window". Default 1 hour. */
  windowMs?: number;
  /** `fallback_rate_high` when more than this share of requests fell back. Default 0.2. */
  fallbackRateThreshold?: number;
  /** `rate_limit_waits_frequent` when more than this share of requests waited. Default 0.3. */
  waitRateThreshold?: number;
  /** Requests in the window before any rate is judged (a 1-of-2 fallback is not a trend). Default 20. */
  minSamples?: number;
  /** `rate_limit_wait_long` when a single wait exceeds this. Default 120 000 ms. */
  longWaitMs?: number;
  /** Window resolution: the window is kept as this many buckets. Default 60 (one minute per bucket at 1 h). */
  buckets?: number;
  clock?: Clock;
  onAlert?: AlertListener;
  /** Default: `console.warn`, prefixed `[autopicker]`. */
  logger?: WarningLogger;
}

/** Counts in the current window. */
export interface AlertMonitorSnapshot {
  requests: number;
  fallbacks: number;
  waits: number;
  fallbackRate: number;
  waitRate: number;
}

interface Bucket {
  /** Index of the bucket-sized slice of time this bucket counts; -1 when unused. */
  slot: number;
  requests: number;
  fallbacks: number;
  waits: number;
}

type MonitorAlertType = "fallback_rate_high" | "rate_limit_waits_frequent" | "rate_limit_wait_long";

/**
 * Watches what the model reports (requests, fallbacks, rate-limit waits) and raises
 * `fallback_rate_high`, `rate_limit_waits_frequent` and `rate_limit_wait_long`, each at most once
 * per window. Memory is constant: the window is a ring of buckets, so it slides in steps of
 * `windowMs / buckets`.
 */
export class AlertMonitor {
  private readonly windowMs: number;
  private readonly fallbackRateThreshold: number;
  private readonly waitRateThreshold: number;
  private readonly minSamples: number;
  private readonly longWaitMs: number;
  private readonly bucketMs: number;
  private readonly ring: Bucket[];
  private readonly clock: Clock;
  private readonly onAlert?: AlertListener;
  private readonly logger: WarningLogger;
  private readonly lastRaised = new Map<MonitorAlertType, number>();

  constructor(options: AlertMonitorOptions = {}) {
    this.windowMs = positive(options.windowMs ?? 3_600_000, "windowMs");
    this.fallbackRateThreshold = share(options.fallbackRateThreshold ?? 0.2, "fallbackRateThreshold");
    this.waitRateThreshold = share(options.waitRateThreshold ?? 0.3, "waitRateThreshold");
    this.minSamples = Math.max(1, Math.floor(options.minSamples ?? 20));
    this.longWaitMs = positive(options.longWaitMs ?? 120_000, "longWaitMs");
    const buckets = Math.max(1, Math.floor(options.buckets ?? 60));
    this.bucketMs = this.windowMs / buckets;
    this.ring = Array.from({ length: buckets }, () => ({ slot: -1, requests: 0, fallbacks: 0, waits: 0 }));
    this.clock = options.clock ?? systemClock;
    if (options.onAlert) this.onAlert = options.onAlert;
    this.logger = options.logger ?? consoleLogger;
  }

  /** One request was answered; `fallback` when a model other than the primary served it. */
  recordRequest(request: { model: string; fallback: boolean }): void {
    const bucket = this.current();
    bucket.requests += 1;
    if (request.fallback) bucket.fallbacks += 1;
    this.checkRates();
  }

  /** A request waited `ms` for a rate limit before it was sent. Call once per wait. */
  recordWait(ms: number): void {
    if (!(ms > 0)) return;
    this.current().waits += 1;
    if (ms > this.longWaitMs) {
      this.raise("rate_limit_wait_long", (at) => ({
        type: "rate_limit_wait_long",
        waitMs: ms,
        thresholdMs: this.longWaitMs,
        windowMs: this.windowMs,
        at,
        message: `A request waited ${(ms / 1000).toFixed(1)} s for a rate limit (threshold ${this.longWaitMs / 1000} s); consider a higher tier.`,
      }));
    }
    this.checkRates();
  }

  /** Counts and rates over the current window. */
  snapshot(): AlertMonitorSnapshot {
    const nowSlot = this.slotOf(this.clock.now());
    let requests = 0;
    let fallbacks = 0;
    let waits = 0;
    for (const b of this.ring) {
      if (b.slot < 0 || nowSlot - b.slot >= this.ring.length) continue;
      requests += b.requests;
      fallbacks += b.fallbacks;
      waits += b.waits;
    }
    return {
      requests,
      fallbacks,
      waits,
      fallbackRate: requests === 0 ? 0 : fallbacks / requests,
      // A request may wait before it is recorded, so cap the share at 1.
      waitRate: requests === 0 ? 0 : Math.min(1, waits / requests),
    };
  }

  private checkRates(): void {
    const s = this.snapshot();
    if (s.requests < this.minSamples) return;
    const windowText = `${Math.round(this.windowMs / 60_000)} min`;
    if (s.fallbackRate > this.fallbackRateThreshold) {
      this.raise("fallback_rate_high", (at) => ({
        type: "fallback_rate_high",
        rate: s.fallbackRate,
        threshold: this.fallbackRateThreshold,
        fallbacks: s.fallbacks,
        requests: s.requests,
        windowMs: this.windowMs,
        at,
        message: `${pct(s.fallbackRate)} of requests fell back in the last ${windowText} (${s.fallbacks}/${s.requests}; threshold ${pct(this.fallbackRateThreshold)}).`,
      }));
    }
    if (s.waitRate > this.waitRateThreshold) {
      this.raise("rate_limit_waits_frequent", (at) => ({
        type: "rate_limit_waits_frequent",
        rate: s.waitRate,
        threshold: this.waitRateThreshold,
        waits: s.waits,
        requests: s.requests,
        windowMs: this.windowMs,
        at,
        message: `${pct(s.waitRate)} of requests waited for a rate limit in the last ${windowText} (threshold ${pct(this.waitRateThreshold)}); consider a higher tier.`,
      }));
    }
  }

  private raise(type: MonitorAlertType, build: (at: number) => AutoPickerAlert): void {
    const now = this.clock.now();
    const last = this.lastRaised.get(type);
    if (last !== undefined && now - last < this.windowMs) return;
    this.lastRaised.set(type, now);
    emitAlert(build(now), this.logger, this.onAlert);
  }

  private current(): Bucket {
    const slot = this.slotOf(this.clock.now());
    const bucket = this.ring[slot % this.ring.length] as Bucket;
    if (bucket.slot !== slot) Object.assign(bucket, { slot, requests: 0, fallbacks: 0, waits: 0 });
    return bucket;
  }

  private slotOf(epochMs: number): number {
    return Math.floor(epochMs / this.bucketMs);
  }
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0))
    throw new AutoPickerConfigError(`AlertMonitor ${name} must be > 0, got ${value}.`);
  return value;
}

function share(value: number, name: string): number {
  if (!(value >= 0 && value <= 1))
    throw new AutoPickerConfigError(`AlertMonitor ${name} must be in [0, 1], got ${value}.`);
  return value;
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}
