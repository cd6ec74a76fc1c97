/**
 * RedisRateLimitStore on loopback. Run: `npx tsx bench/redis.ts` (REDIS_URL, default
 * redis://127.0.0.1:6379).
 *
 * 1. Latency: one process, sequential `reserve` calls (each one Lua script, server time) with the
 *    window (a) empty enough to grant at once, (b) full of 1000 entries so every call queues
 *    behind the previous one and scans the window; then `confirm` (at once, so in (b) before the
 *    booked start: the "not yet" path) and `commit`.
 * 2. Throughput: 4 processes (tsx) each run 4 callers that acquire -> commit as fast as one shared
 *    limit allows for 6 s; reports send instants as a fraction of what the limit permits in that
 *    span, and the most starts found in any window (must be <= the limit).
 * 3. A higher-class call landing at the head of a batch backlog: every waiting booking behind it
 *    moves one slot, so its reservation costs O(backlog). Reserve time of 10 interactive calls
 *    against backlogs of 500, 2500 and 10000 waiting batch calls (500 requests/min), Redis and
 *    the memory store side by side.
 */
import { Redis } from "ioredis";
import { exits, maxInWindow, startFleet } from "../__tests__/redis.fleet";
import { MemoryRateLimitStore, type RateLimitStore, type WindowSpec } from "../src/limits";
import { RedisRateLimitStore } from "../src/redis";
import { deleteKeys } from "./lib/redisKeys";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `autopicker-bench:${process.pid}:`;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function latency(store: RateLimitStore, key: string, windows: WindowSpec[], n: number) {
  const reserve: number[] = [];
  const confirm: number[] = [];
  const commit: number[] = [];
  for (let i = 0; i < n; i++) {
    const now = Date.now();
    let t = performance.now();
    const r = await store.reserve({ key, windows, now, tokens: 100, maxWaitMs: Number.POSITIVE_INFINITY });
    reserve.push(performance.now() - t);
    if (r.kind !== "granted") throw new Error(r.kind);
    t = performance.now();
    await store.confirm?.({ key, windows, now: Date.now(), entryId: r.entryId });
    confirm.push(performance.now() - t);
    t = performance.now();
    await store.commit({ key, windows, now, entryId: r.entryId });
    commit.push(performance.now() - t);
  }
  for (const xs of [reserve, confirm, commit]) xs.sort((a, b) => a - b);
  return { reserve, confirm, commit };
}

async function main(): Promise<void> {
  const client = new Redis(url);
  const rows: string[] = [];
  const windows = (limit: number): WindowSpec[] => [
    { kind: "sliding", name: "requests/min", unit: "requests", limit, intervalMs: 60_000 },
    { kind: "sliding", name: "tokens/min", unit: "tokens", limit: limit * 1000, intervalMs: 60_000 },
  ];
  const cases: [string, RateLimitStore, number][] = [
    ["Redis, window with room", new RedisRateLimitStore({ client, keyPrefix: `${prefix}a:` }), 1_000_000],
    [
      "Redis, full window (1000 entries), every call queues",
      new RedisRateLimitStore({ client, keyPrefix: `${prefix}b:` }),
      1000,
    ],
    ["Memory (reference), full window", new MemoryRateLimitStore(), 1000],
  ];
  for (const [name, store, limit] of cases) {
    await latency(store, "warm", windows(limit), 200);
    if (limit === 1000) await latency(store, "m", windows(limit), 1000); // fill the window
    const { reserve, confirm, commit } = await latency(store, "m", windows(limit), 2000);
    const cells = [reserve, confirm, commit].flatMap((xs) => [pct(xs, 50), pct(xs, 99)]);
    rows.push(`| ${name} | ${cells.map((x) => x.toFixed(3)).join(" | ")} |`);
  }
  console.log("\n### Reservation latency (ms, 2000 sequential calls, loopback)\n");
  console.log("| case | reserve p50 | reserve p99 | confirm p50 | confirm p99 | commit p50 | commit p99 |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);

  const limit = { limit: 40, intervalMs: 1000 };
  const durationMs = 6000;
  const fleet = await startFleet(
    Array.from({ length: 4 }, () => ({
      kind: "reserve" as const,
      redisUrl: url,
      keyPrefix: `${prefix}fleet:`,
      model: "m",
      limit,
      durationMs,
    })),
  );
  const results = await fleet.run();
  await exits(fleet.children);
  const starts = results.flatMap((r) => r.starts ?? []).sort((a, b) => a - b);
  const t0 = starts[0] ?? 0;
  const inSpan = starts.filter((s) => s < t0 + durationMs - limit.intervalMs).length;
  const allowed = (limit.limit * (durationMs - limit.intervalMs)) / limit.intervalMs;
  const worst = maxInWindow(starts, limit.intervalMs);
  console.log(
    `\n### 4 processes sharing ${limit.limit} requests per ${limit.intervalMs} ms for ${durationMs / 1000} s\n`,
  );
  console.log(
    "| granted | in first " +
      (durationMs - limit.intervalMs) / 1000 +
      " s | limit allows | fraction | max in any window | over limit |",
  );
  console.log("|---|---|---|---|---|---|");
  console.log(
    `| ${starts.length} | ${inSpan} | ${allowed} | ${((100 * inSpan) / allowed).toFixed(1)}% | ${worst} | ${worst > limit.limit ? "YES" : "0"} |`,
  );
  console.log(
    "\nStarts are send instants: acquire() confirmed each booking at the store (check-and-stamp) right before. Each slot stands at its send instant plus the transit allowance (25 ms for a 1 s window), so a window lasts 1.025 s for the next caller, and a batch that leaves late pushes the next one back by as much: over long runs throughput stays below ~97.6% of the limit.",
  );

  await backlog(client);
  await deleteKeys(client, prefix);
  await client.quit();
}

/** Part 3: what one higher-class arrival costs as the backlog it moves grows. */
async function backlog(client: Redis): Promise<void> {
  const windows: WindowSpec[] = [
    { kind: "sliding", name: "requests/min", unit: "requests", limit: 500, intervalMs: 60_000 },
  ];
  const place = (rank: number) => ({ rank, tenant: "", weight: 1, agingMs: Number.POSITIVE_INFINITY });
  const rows: string[] = [];
  for (const waiting of [500, 2500, 10_000]) {
    const cells: string[] = [];
    for (const kind of ["redis", "memory"] as const) {
      const store =
        kind === "redis"
          ? new RedisRateLimitStore({ client, keyPrefix: `${prefix}backlog:${waiting}:`, timeoutMs: 60_000 })
          : new MemoryRateLimitStore();
      // Calls 1 ms apart, as the Redis store's server clock sees them (about one per round trip):
      // the waiting calls' slots are distinct instants, so each really moves.
      const base = Date.now();
      let n = 0;
      const reserve = (rank: number) =>
        store.reserve({
          key: "m",
          windows,
          now: base + n++,
          tokens: 1,
          maxWaitMs: Number.POSITIVE_INFINITY,
          place: place(rank),
        });
      // The first window's 500 are due at once; the rest wait, in the batch class.
      let lastBatch = 0;
      for (let i = 0; i < 500 + waiting; i++) {
        const r = await reserve(2);
        if (r.kind === "granted") lastBatch = r.startAt;
      }
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        const r = await reserve(0);
        times.push(performance.now() - t);
        // It goes ahead of the backlog, which moves behind it.
        if (r.kind !== "granted" || r.startAt >= lastBatch) throw new Error(`${kind}: no cut (${r.kind})`);
      }
      times.sort((a, b) => a - b);
      cells.push(pct(times, 50).toFixed(2), (times.at(-1) ?? 0).toFixed(2));
    }
    rows.push(`| ${waiting} | ${cells.join(" | ")} |`);
  }
  console.log("\n### An interactive call ahead of a batch backlog (ms per reserve, 10 calls, loopback)\n");
  console.log("| batch calls waiting | Redis p50 | Redis max | memory p50 | memory max |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) console.log(r);
  console.log(
    "\nEvery booking behind the cut moves one slot later, so the cost grows with the backlog. In Redis the script blocks the server (every replica, every model) for that long, and past the store's timeoutMs (250 ms by default) the interactive call goes to the local share instead. Keep a model's backlog bounded: the batch class's maxWaitSeconds caps it at about limit x maxWait.",
  );
}

void main();
