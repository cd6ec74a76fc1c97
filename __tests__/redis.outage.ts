/**
 * Four replicas share one requests-per-second limit through a private redis-server while calls
 * keep coming; mid-run Redis is killed and restarted, or paused (`DEBUG SLEEP`, private server
 * only). Reports what the provider saw: 429s, the busiest window against the limit, calls lost.
 * Used by `redis.outage.int.test.ts` and `bench/redisOutage.ts`.
 */
import { ProviderSimulator } from "../src/testing/simulator";
import { exits, maxInWindow, startFleet } from "./redis.fleet";
import { rawCommand } from "./support/net";
import { PrivateRedis } from "./support/redisServer";

export type OutageKind = "none" | "kill" | "pause";

export interface OutageOptions {
  kind: OutageKind;
  replicas?: number;
  /** The shared limit, per `intervalMs`. */
  limit?: number;
  intervalMs?: number;
  /** Calls per replica, one every `spacingMs`: together well above the limit, so it binds. */
  callsPerReplica?: number;
  spacingMs?: number;
  /** When the outage starts (ms after the calls start) and how long it lasts. */
  outageAtMs?: number;
  outageMs?: number;
  /** Passed to every replica's limiter (experiments). */
  learnArrivalMargin?: boolean;
  arrivalMarginMs?: number;
}

export interface OutageResult {
  kind: OutageKind;
  replicas: number;
  limit: number;
  intervalMs: number;
  failOpenShare: number;
  calls: number;
  ok: number;
  failed: number;
  rateLimited: number;
  /** The most requests the provider saw in any window. */
  busiest: number;
  /** limit x (1 + fail-open share): the most an outage may cost. */
  allowed: number;
  elapsedMs: number;
  warnings: string[];
  errors: string[];
  /** Per request, the provider's arrival stamp minus the instant the replica saw it written (ms). */
  transitMs: number[];
  /** Every arrival at the provider, ms after the calls started. */
  arrivalsMs: number[];
}

const MODEL = "gpt-4o-mini";

export async function runOutage(options: OutageOptions): Promise<OutageResult> {
  const replicas = options.replicas ?? 4;
  const limit = options.limit ?? 20;
  const intervalMs = options.intervalMs ?? 1000;
  const callsPerReplica = options.callsPerReplica ?? 80;
  const spacingMs = options.spacingMs ?? 40;
  const outageAtMs = options.outageAtMs ?? 1500;
  const outageMs = options.outageMs ?? (options.kind === "pause" ? 5000 : 3000);
  const failOpenShare = 1 / replicas;
  const redis = await PrivateRedis.start();
  const sim = new ProviderSimulator({
    models: { [MODEL]: { provider: "openai", windows: [{ unit: "requests", limit, intervalMs }] } },
  });
  await sim.start();
  try {
    // The simulator's first request builds its tokenizer (~1 s of blocked event loop): every
    // request queued behind it would be stamped late. A provider is warm.
    await fetch(`${sim.openaiBaseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "warm-up" }] }),
    }).then((r) => r.text());
    sim.reset();
    const fleet = await startFleet(
      Array.from({ length: replicas }, () => ({
        kind: "chat" as const,
        redisUrl: redis.url,
        keyPrefix: "outage:",
        baseURL: sim.openaiBaseURL,
        model: MODEL,
        calls: callsPerReplica,
        limit: { limit, intervalMs },
        failOpenShare,
        spacingMs,
        ...(options.learnArrivalMargin === undefined
          ? {}
          : { learnArrivalMargin: options.learnArrivalMargin }),
        ...(options.arrivalMarginMs === undefined ? {} : { arrivalMarginMs: options.arrivalMarginMs }),
      })),
    );
    const began = Date.now();
    const running = fleet.run();
    const outage = (async () => {
      if (options.kind === "none") return;
      await sleep(outageAtMs);
      if (options.kind === "kill") {
        await redis.stop();
        await sleep(outageMs);
        await redis.start();
      } else {
        // The reply comes when the server wakes up; nothing waits for it.
        void rawCommand(redis.port, `DEBUG SLEEP ${outageMs / 1000}`);
        await sleep(outageMs);
      }
    })();
    const [results] = await Promise.all([running, outage]);
    const elapsedMs = Date.now() - began;
    await exits(fleet.children);
    const stats = sim.stats(MODEL);
    const ok = results.reduce((s, r) => s + r.ok, 0);
    return {
      kind: options.kind,
      replicas,
      limit,
      intervalMs,
      failOpenShare,
      calls: replicas * callsPerReplica,
      ok,
      failed: results.reduce((s, r) => s + r.failed, 0),
      rateLimited: stats.rateLimited,
      // Every request that reached the provider, refused ones included.
      busiest: maxInWindow(stats.arrivals, intervalMs),
      allowed: Math.floor(limit * (1 + failOpenShare)),
      elapsedMs,
      warnings: results.flatMap((r) => r.warnings),
      errors: results.flatMap((r) => r.errors),
      arrivalsMs: stats.arrivals.map((a) => a - began),
      transitMs: transits(
        results.flatMap((r) => r.evidence ?? []),
        stats.arrivals,
      ),
    };
  } finally {
    await sim.stop();
    await redis.stop();
  }
}

/** The provider's arrival stamp of each request minus the instant its replica saw it sent. */
function transits(evidence: Array<[number, number, number, number]>, arrivals: readonly number[]): number[] {
  const out: number[] = [];
  for (const [sent, , , seq] of evidence) {
    const arrival = arrivals[seq - 1];
    if (arrival !== undefined) out.push(arrival - sent);
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
