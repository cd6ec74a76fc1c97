/**
 * The workloads of `bench/priority.ts` and the driver that runs one share of them against a real
 * `RateLimiter`, in real time. The same driver runs in the benchmark's process (memory store) and
 * in each of the 4 replicas (`priorityWorker.ts`, Redis store), so both see the same calls.
 *
 * Every run drives two models of the same limiter at once, side by side: `…:fifo` gets the calls
 * without a `place` (today's FIFO), `…:priority` the same calls with their class and tenant.
 */
import { setMaxListeners } from "node:events";
import type { RateLimiter } from "../../src/limits";
import type { Priority, QueuePlace } from "../../src/limits/priority";

/** The model's limit: 20 requests per 500 ms, so 10 windows pass in 5 s. */
export const LIMIT = 20;
export const WINDOW_MS = 500;
/** The limiter's transit allowance for a 500 ms window (1%, at least 25 ms): slots stand this much later. */
export const MARGIN_MS = 25;
/** Aging far beyond any run: a waiting batch call can always be moved later by interactive ones. */
const AGING_MS = 60_000;

export type WorkloadName = "saturation" | "tenants" | "weights" | "tenantsBurst" | "weightsBurst";
export type Variant = "fifo" | "priority";
export const VARIANTS: readonly Variant[] = ["fifo", "priority"];

/** One call of a workload: when it arrives (ms after the start) and where it queues. */
export interface BenchCall {
  at: number;
  place: QueuePlace;
  maxWaitMs: number;
}

/** How long each workload runs before what is still waiting is aborted, ms. */
export const DURATION_MS: Record<WorkloadName, number> = {
  // FIFO's last interactive call waits behind ~12 windows of batch: it is served by ~8.5 s.
  saturation: 10_000,
  // 13 windows: four spans of 10 consecutive windows.
  tenants: 13 * WINDOW_MS,
  weights: 13 * WINDOW_MS,
  tenantsBurst: 13 * WINDOW_MS,
  weightsBurst: 13 * WINDOW_MS,
};

const place = (priority: Priority, tenant: string, weight = 1): QueuePlace => ({
  priority,
  tenant,
  weight,
  agingMs: AGING_MS,
});

/**
 * The calls of a workload, in arrival order.
 * - saturation: 200 batch calls (10 windows) queued at once, 40 more a second for 2.5 s (the
 *   backlog stays above 10 windows), and an interactive call every 100 ms from 50 ms to 2.45 s.
 * - tenants: tenants `a` and `b` each send a call every 16 ms (31 per window, 1.5x the limit
 *   together), weight 1 each; the backlog grows by 11 calls a window.
 * - weights: the same arrivals, `a` weighing 3 and `b` 1.
 * - tenantsBurst / weightsBurst: tenant `a` queues 240 calls at once, tenant `b` 240 more 20 ms
 *   later, so each of b's calls lands in the middle of a's backlog (the costliest case: every one
 *   moves the calls of `a` queued behind it).
 * Both tenants have more than the run can serve, so both saturate the model throughout.
 */
export function workloadCalls(name: WorkloadName): BenchCall[] {
  const calls: BenchCall[] = [];
  if (name === "saturation") {
    for (let i = 0; i < 200; i++) calls.push({ at: 0, place: place("batch", "jobs"), maxWaitMs: 60_000 });
    for (let t = 25; t < 2500; t += 25)
      calls.push({ at: t, place: place("batch", "jobs"), maxWaitMs: 60_000 });
    for (let t = 50; t < 2500; t += 100)
      calls.push({ at: t, place: place("interactive", "chat"), maxWaitMs: 30_000 });
  } else {
    const weightA = name === "weights" || name === "weightsBurst" ? 3 : 1;
    if (name === "tenants" || name === "weights") {
      for (let t = 0; t < DURATION_MS[name]; t += 16) {
        calls.push({ at: t, place: place("normal", "a", weightA), maxWaitMs: 60_000 });
        calls.push({ at: t + 8, place: place("normal", "b", 1), maxWaitMs: 60_000 });
      }
    } else {
      for (let i = 0; i < 240; i++)
        calls.push({ at: 0, place: place("normal", "a", weightA), maxWaitMs: 60_000 });
      for (let i = 0; i < 240; i++) calls.push({ at: 20, place: place("normal", "b", 1), maxWaitMs: 60_000 });
    }
  }
  return calls.sort((x, y) => x.at - y.at);
}

/** What became of one call. Times are epoch ms. */
export interface Sample {
  /** Index into {@link workloadCalls}. */
  call: number;
  variant: Variant;
  arrivedAt: number;
  /** When acquire() let it go (confirmed at the store). Absent: refused or still waiting at the end. */
  sentAt?: number;
  outcome: "sent" | "refused" | "aborted" | "error";
}

/** One run of one share: calls `i` with `i % of === index`, starting at epoch `t0`. */
export interface RunSpec {
  workload: WorkloadName;
  /** A fresh model name per run, so runs never share a queue. */
  model: string;
  t0: number;
  index: number;
  of: number;
}

/** Model name of a variant. */
export const modelOf = (spec: RunSpec, variant: Variant) => `${spec.model}:${variant}`;

/**
 * Runs this share of the workload on both variants at once: each call sleeps to its arrival,
 * acquires (with its place for `priority`), records its send instant and commits. At the end of
 * the run everything still waiting is aborted (its slot refunded).
 */
export async function driveShare(limiter: RateLimiter, spec: RunSpec): Promise<Sample[]> {
  for (const v of VARIANTS) {
    limiter.configure(modelOf(spec, v), {
      windows: [{ unit: "requests", limit: LIMIT, intervalMs: WINDOW_MS }],
    });
  }
  const calls = workloadCalls(spec.workload);
  const stop = new AbortController();
  // Every waiting call listens on the one stop signal (hundreds at once).
  setMaxListeners(Number.POSITIVE_INFINITY, stop.signal);
  const stopTimer = setTimeout(() => stop.abort(), spec.t0 + DURATION_MS[spec.workload] - Date.now());
  const samples: Sample[] = [];
  const one = async (call: number, variant: Variant): Promise<void> => {
    const c = calls[call]!;
    const delay = spec.t0 + c.at - Date.now();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const arrivedAt = Date.now();
    try {
      const d = await limiter.acquire(
        modelOf(spec, variant),
        { tokens: 1 },
        {
          maxWaitMs: c.maxWaitMs,
          signal: stop.signal,
          ...(variant === "priority" ? { place: c.place } : {}),
        },
      );
      if (d.kind !== "granted") {
        samples.push({ call, variant, arrivedAt, outcome: "refused" });
        return;
      }
      samples.push({ call, variant, arrivedAt, sentAt: Date.now(), outcome: "sent" });
      await limiter.commit(d.ticket);
    } catch {
      samples.push({ call, variant, arrivedAt, outcome: stop.signal.aborted ? "aborted" : "error" });
    }
  };
  const mine = calls.map((_, i) => i).filter((i) => i % spec.of === spec.index);
  await Promise.all(mine.flatMap((i) => VARIANTS.map((v) => one(i, v))));
  clearTimeout(stopTimer);
  return samples;
}
