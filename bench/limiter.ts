/**
 * Reservation cost of the in-memory limiter with full windows. Run: `npx tsx bench/limiter.ts`.
 *
 * - steady: the window is full and time moves one slot per call, so every reserve prunes one
 *   entry, books one and (separately timed) commits it, re-stamping it at response time.
 * - burst: the window is full and N more calls arrive at once; each queues behind the previous.
 *   Then half are cancelled (front to back, the worst order) and the rest are committed in order.
 * Time is simulated (a clock we move by hand), so only CPU is measured.
 */
import type { Clock } from "../src/clock";
import { RateLimiter } from "../src/limits";

class ManualClock implements Clock {
  t = Date.UTC(2026, 0, 1);
  now(): number {
    return this.t;
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
  busy<T>(work: Promise<T>): Promise<T> {
    return work;
  }
}

const ns = () => process.hrtime.bigint();

async function bench(rpm: number, steadyOps: number): Promise<void> {
  const clock = new ManualClock();
  const limiter = new RateLimiter({ clock });
  limiter.configure("m", { requestsPerMinute: rpm, tokensPerMinute: rpm * 1000 });
  const step = 60_000 / rpm;

  // Fill the window: rpm calls spread over one minute, each committed with its actual tokens.
  for (let i = 0; i < rpm; i++) {
    const d = await limiter.reserve("m", { tokens: 800 }, { maxWaitMs: 0 });
    if (d.kind !== "granted") throw new Error(`fill: ${d.kind}`);
    await limiter.commit(d.ticket, 700);
    clock.t += step;
  }

  let reserveNs = 0n;
  let commitNs = 0n;
  let waited = 0;
  for (let i = 0; i < steadyOps; i++) {
    const a = ns();
    const d = await limiter.reserve("m", { tokens: 800 }, { maxWaitMs: 60_000 });
    const b = ns();
    if (d.kind !== "granted") throw new Error(`steady: ${d.kind}`);
    waited += d.waitMs;
    clock.t = Math.max(clock.t, d.startAt);
    const c = ns();
    await limiter.commit(d.ticket, 700);
    commitNs += ns() - c;
    reserveNs += b - a;
    clock.t += step;
  }

  // Burst: rpm calls at one instant on a full window; they queue over the next minute.
  const burst = [];
  const t0 = ns();
  for (let i = 0; i < rpm; i++)
    burst.push(await limiter.reserve("m", { tokens: 800 }, { maxWaitMs: 120_000 }));
  const burstNs = ns() - t0;
  const last = burst[burst.length - 1];
  if (last?.kind !== "granted") throw new Error("burst: not granted");
  // Cancel the second half (aborted while queued), then serve the first half in order: each
  // commit re-stamps an entry that still has the rest of the queue behind it.
  const half = Math.floor(rpm / 2);
  const t1 = ns();
  for (const d of burst.slice(half)) if (d.kind === "granted") await limiter.cancel(d.ticket);
  const cancelNs = ns() - t1;
  let drainNs = 0n;
  for (const d of burst.slice(0, half)) {
    if (d.kind !== "granted") continue;
    clock.t = Math.max(clock.t, d.startAt);
    const t = ns();
    await limiter.commit(d.ticket, 700);
    drainNs += ns() - t;
  }

  const per = (total: bigint, n: number) => (Number(total) / n).toFixed(0).padStart(7);
  console.log(
    `${String(rpm).padStart(6)} RPM | reserve ${per(reserveNs, steadyOps)} ns/op | commit ${per(commitNs, steadyOps)} ns/op` +
      ` | burst reserve ${per(burstNs, rpm)} ns/op (last waits ${(last.waitMs / 1000).toFixed(1)} s)` +
      ` | cancel queued ${per(cancelNs, rpm - half)} ns/op | commit with queue behind ${per(drainNs, half)} ns/op` +
      ` | mean steady wait ${(waited / steadyOps).toFixed(1)} ms`,
  );
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, in-memory store, requests + tokens per minute`);
  for (const rpm of [60, 10_000]) {
    await bench(rpm, 50_000); // warm-up
    await bench(rpm, 200_000);
  }
}

void main();
