/**
 * Priority lanes and fair shares against FIFO: `npx tsx bench/priority.ts` (markdown on stdout,
 * progress on stderr; REDIS_URL, default redis://127.0.0.1:6379, for the 4-process runs).
 *
 * The real `RateLimiter` in real time, limit 20 requests per 500 ms: the memory store in this
 * process, then `RedisRateLimitStore` shared by 4 replicas (each runs every 4th call). Each run
 * drives the same calls through two models at once, side by side: FIFO (no `place`) and priority
 * (`place: { priority, tenant, weight, agingMs }`). Workloads (see `lib/priority.ts`):
 * 1. saturation: a batch backlog of more than 10 windows, an interactive call every 100 ms.
 *    Interactive p99 wait against the time to the next free slot at each arrival: the first
 *    instant the sliding window (500 ms plus the 25 ms transit allowance each slot stands later),
 *    counting every call sent before the arrival and the interactive calls that arrived before it,
 *    has room. Target: p99 wait <= 1.05 x p99 of that.
 * 2. tenants: two equal-weight tenants saturating; Jain's fairness index of their served counts
 *    over every span of 10 consecutive windows; target: the minimum >= 0.99.
 * 3. weights: weights 3:1; tenant a's share over every 10-window span; target 75% +- 3 points.
 * 4. throughput: calls served per window while everyone waits, priority over FIFO; target within
 *    2% (no slot left empty while anyone waits).
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { MemoryRateLimitStore, RateLimiter } from "../src/limits";
import {
  DURATION_MS,
  driveShare,
  LIMIT,
  MARGIN_MS,
  type RunSpec,
  type Sample,
  type Variant,
  WINDOW_MS,
  type WorkloadName,
  workloadCalls,
} from "./lib/priority";
import type { WorkerCommand, WorkerReply } from "./lib/priorityWorker";
import { deleteKeys } from "./lib/redisKeys";
import { percent, percentile, table } from "./lib/stats";

const WORKER = fileURLToPath(new URL("./lib/priorityWorker.ts", import.meta.url));
const WORKLOADS: readonly WorkloadName[] = [
  "saturation",
  "tenants",
  "weights",
  "tenantsBurst",
  "weightsBurst",
];
const SPAN_WINDOWS = 10;
/** Replicas start a run together this long after the parent tells them. */
const LEAD_MS = 300;

/** Options of {@link runPriorityBench}. */
export interface PriorityBenchOptions {
  /** Where the 4 replicas share their store. Default `REDIS_URL` or redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Progress lines (default stderr). */
  log?: (line: string) => void;
}

/** A way to run one share-split workload: in this process, or across replicas. */
interface Runner {
  label: string;
  run(workload: WorkloadName): Promise<Sample[]>;
  close(): Promise<void>;
}

/**
 * Runs the benchmark (about a minute) and returns its markdown: per store, a table of every
 * target with FIFO and priority side by side and PASS/FAIL for priority.
 */
export async function runPriorityBench(options: PriorityBenchOptions = {}): Promise<string> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const prefix = `autopicker-bench-priority:${process.pid}:`;
  const out: string[] = [
    `Limit ${LIMIT} requests per ${WINDOW_MS} ms (slots stand ${MARGIN_MS} ms later: the transit allowance), real time. ` +
      "FIFO and priority run at the same time on two models of one limiter, with the same calls.",
  ];

  const memory = new MemoryRateLimitStore();
  out.push(await section("Memory store, 1 process", memoryRunner(memory), log));

  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const reachable = await client.connect().then(
    () => client.ping().then(() => true),
    () => false,
  );
  if (!reachable) {
    client.disconnect();
    out.push(`### RedisRateLimitStore, 4 processes\n\nSkipped: no Redis answered at ${redisUrl}.`);
    return out.join("\n\n");
  }
  try {
    const fleet = await fleetRunner(redisUrl, `${prefix}fleet:`, 4);
    out.push(await section("RedisRateLimitStore, 4 processes", fleet, log));
  } finally {
    await deleteKeys(client, prefix);
    await client.quit();
  }
  return out.join("\n\n");
}

function memoryRunner(store: MemoryRateLimitStore): Runner {
  const limiter = new RateLimiter({ store });
  let n = 0;
  return {
    label: "memory",
    run: (workload) =>
      driveShare(limiter, {
        workload,
        model: `${workload}-${n++}`,
        t0: Date.now() + LEAD_MS,
        index: 0,
        of: 1,
      }),
    close: async () => undefined,
  };
}

/** Forks `count` replicas sharing one Redis store and waits until each is connected. */
async function fleetRunner(redisUrl: string, keyPrefix: string, count: number): Promise<Runner> {
  const children: ChildProcess[] = Array.from({ length: count }, () =>
    fork(WORKER, [JSON.stringify({ redisUrl, keyPrefix })], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  const next = (child: ChildProcess) =>
    new Promise<WorkerReply>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`replica exited with ${code}`));
      child.once("exit", onExit);
      child.once("message", (m) => {
        child.off("exit", onExit);
        resolve(m as WorkerReply);
      });
    });
  await Promise.all(children.map(next));
  let n = 0;
  return {
    label: "redis",
    run: async (workload) => {
      const model = `${workload}-${n++}`;
      const t0 = Date.now() + LEAD_MS;
      const replies = await Promise.all(
        children.map((child, index) => {
          const reply = next(child);
          const spec: RunSpec = { workload, model, t0, index, of: count };
          child.send({ run: spec } satisfies WorkerCommand);
          return reply;
        }),
      );
      return replies.flatMap((r) => {
        if (typeof r === "object" && "samples" in r) return r.samples;
        throw new Error(`replica failed: ${JSON.stringify(r)}`);
      });
    },
    close: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              c.once("exit", () => resolve());
              c.send("exit" satisfies WorkerCommand);
            }),
        ),
      );
    },
  };
}

interface Measured {
  target: string;
  fifo: string;
  priority: string;
  pass: boolean;
}

async function section(title: string, runner: Runner, log: (l: string) => void): Promise<string> {
  const results = new Map<WorkloadName, Sample[]>();
  try {
    for (const w of WORKLOADS) {
      log(`bench/priority: ${runner.label}: ${w} (${(DURATION_MS[w] / 1000).toFixed(1)} s)`);
      results.set(w, await runner.run(w));
    }
  } finally {
    await runner.close();
  }
  const rows: string[][] = [];
  const add = (workload: string, measure: string, m: Measured) =>
    rows.push([workload, measure, m.target, m.fifo, m.priority, m.pass ? "PASS" : "FAIL"]);
  const sat = saturation(results.get("saturation")!);
  add("1. batch saturation", "interactive p50 wait", sat.p50);
  add("", "interactive p99 wait", sat.p99);
  add("", "p99 wait / p99 next free slot", sat.ratio);
  add("", "calls served late (refused or still waiting)", sat.unserved);
  add("2. equal tenants", "min Jain index, every 10 windows", jain(results.get("tenants")!, "tenants"));
  add("", "the same, 240-call bursts", jain(results.get("tenantsBurst")!, "tenantsBurst"));
  add("3. weights 3:1", "tenant a share, worst 10 windows", weighted(results.get("weights")!, "weights"));
  add("", "the same, 240-call bursts", weighted(results.get("weightsBurst")!, "weightsBurst"));
  for (const w of WORKLOADS) {
    add(w === "saturation" ? "4. throughput" : "", `served per window, ${w}`, throughput(results.get(w)!, w));
  }
  return [
    `### ${title}`,
    table(["workload", "measure", "target (priority)", "FIFO", "priority", "verdict"], rows),
  ].join("\n\n");
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : "-");

function byVariant(samples: readonly Sample[], v: Variant): Sample[] {
  return samples.filter((s) => s.variant === v);
}

/** Sends of the whole run (every class), sorted. */
function sendTimes(samples: readonly Sample[]): number[] {
  return samples
    .filter((s) => s.sentAt !== undefined)
    .map((s) => s.sentAt!)
    .sort((a, b) => a - b);
}

/**
 * The time from `arrival` to the first instant x where fewer than LIMIT of `occupied` lie in
 * (x - window, x], the window being 500 ms plus the transit allowance each slot stands later.
 */
function nextFreeSlot(arrival: number, occupied: readonly number[]): number {
  const span = WINDOW_MS + MARGIN_MS;
  let x = arrival;
  for (;;) {
    const inWindow = occupied.filter((o) => o > x - span && o <= x).sort((a, b) => a - b);
    if (inWindow.length < LIMIT) return x - arrival;
    x = inWindow[inWindow.length - LIMIT]! + span;
  }
}

function saturation(samples: readonly Sample[]) {
  const calls = workloadCalls("saturation");
  const per = (v: Variant) => {
    const all = byVariant(samples, v);
    const sends = sendTimes(all);
    const interactive = all
      .filter((s) => calls[s.call]!.place.priority === "interactive")
      .sort((a, b) => a.arrivedAt - b.arrivedAt);
    const served = interactive.filter((s) => s.sentAt !== undefined);
    const waits = served.map((s) => s.sentAt! - s.arrivedAt);
    const ideals = served.map((s) => {
      // Interactive calls that arrived earlier and were sent after this arrival are ahead of it too.
      const ahead = interactive
        .filter((o) => o.arrivedAt < s.arrivedAt && o.sentAt !== undefined && o.sentAt >= s.arrivedAt)
        .map((o) => o.sentAt!);
      return nextFreeSlot(s.arrivedAt, [...sends.filter((t) => t < s.arrivedAt), ...ahead]);
    });
    return {
      p50: percentile(waits, 50),
      p99: percentile(waits, 99),
      ideal99: percentile(ideals, 99),
      unserved: interactive.length - served.length,
      total: interactive.length,
    };
  };
  const f = per("fifo");
  const p = per("priority");
  const ratio = (r: typeof f) => r.p99 / Math.max(1, r.ideal99);
  return {
    p50: { target: "-", fifo: ms(f.p50), priority: ms(p.p50), pass: true },
    p99: {
      target: `<= next free slot p99 + 5%`,
      fifo: `${ms(f.p99)} (slot ${ms(f.ideal99)})`,
      priority: `${ms(p.p99)} (slot ${ms(p.ideal99)})`,
      pass: p.p99 <= 1.05 * p.ideal99,
    },
    ratio: {
      target: "<= 1.05",
      fifo: ratio(f).toFixed(2),
      priority: ratio(p).toFixed(2),
      pass: ratio(p) <= 1.05,
    },
    unserved: {
      target: "0",
      fifo: `${f.unserved} of ${f.total}`,
      priority: `${p.unserved} of ${p.total}`,
      pass: p.unserved === 0,
    },
  };
}

/**
 * Served calls per window of the run, by tenant, for the windows inside the run in which every
 * tenant was waiting: a window that began before a tenant's first call arrived is not a share
 * it was denied (tenant b arrives 20 ms after a, whose first 20 calls left at once).
 */
function windowCounts(samples: readonly Sample[], workload: WorkloadName): Map<string, number[]> {
  const calls = workloadCalls(workload);
  const start = Math.min(...samples.map((s) => s.arrivedAt));
  const firstArrival = new Map<string, number>();
  for (const s of samples) {
    const tenant = calls[s.call]!.place.tenant;
    firstArrival.set(tenant, Math.min(firstArrival.get(tenant) ?? Number.POSITIVE_INFINITY, s.arrivedAt));
  }
  const allWaiting = Math.max(...firstArrival.values());
  const skip = workload === "saturation" ? 0 : Math.ceil((allWaiting - start) / WINDOW_MS);
  const windows = Math.floor(DURATION_MS[workload] / WINDOW_MS) - skip;
  const counts = new Map<string, number[]>();
  for (const s of samples) {
    const tenant = calls[s.call]!.place.tenant;
    if (!counts.has(tenant)) counts.set(tenant, new Array(windows).fill(0));
    if (s.sentAt === undefined) continue;
    const w = Math.floor((s.sentAt - start) / WINDOW_MS) - skip;
    if (w >= 0 && w < windows) counts.get(tenant)![w]!++;
  }
  return counts;
}

/** Each span of 10 consecutive windows: the tenants' served counts in it. */
function spans(counts: Map<string, number[]>): number[][] {
  const series = [...counts.values()];
  const windows = series[0]?.length ?? 0;
  const out: number[][] = [];
  for (let k = 0; k + SPAN_WINDOWS <= windows; k++) {
    out.push(series.map((c) => c.slice(k, k + SPAN_WINDOWS).reduce((a, b) => a + b, 0)));
  }
  return out;
}

/** Jain's fairness index: (sum x)^2 / (n sum x^2); 1 when all are equal, 1/n when one takes all. */
function jainIndex(xs: readonly number[]): number {
  const sum = xs.reduce((a, b) => a + b, 0);
  const squares = xs.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (xs.length * squares);
}

function jain(samples: readonly Sample[], workload: WorkloadName): Measured {
  const min = (v: Variant) =>
    Math.min(...spans(windowCounts(byVariant(samples, v), workload)).map(jainIndex));
  const f = min("fifo");
  const p = min("priority");
  return { target: ">= 0.99", fifo: f.toFixed(3), priority: p.toFixed(3), pass: p >= 0.99 };
}

function weighted(samples: readonly Sample[], workload: WorkloadName): Measured {
  const worst = (v: Variant) => {
    const counts = windowCounts(byVariant(samples, v), workload);
    const a = [...counts.keys()].indexOf("a");
    const shares = spans(counts).map(
      (x) =>
        x[a]! /
        Math.max(
          1,
          x.reduce((s, y) => s + y, 0),
        ),
    );
    return shares.reduce((w, s) => (Math.abs(s - 0.75) > Math.abs(w - 0.75) ? s : w), 0.75);
  };
  const f = worst("fifo");
  const p = worst("priority");
  return { target: "75% +- 3", fifo: percent(f), priority: percent(p), pass: Math.abs(p - 0.75) <= 0.03 };
}

/** Calls served per window, over the windows the run saturated. */
function throughput(samples: readonly Sample[], workload: WorkloadName): Measured {
  const per = (v: Variant) => {
    const counts = [...windowCounts(byVariant(samples, v), workload).values()];
    const windows = counts[0]?.length ?? 1;
    // The saturation run's backlog drains before its end: count the windows it kept full of waiters.
    const used = workload === "saturation" ? Math.floor(5000 / WINDOW_MS) : windows;
    const total = counts.reduce((s, c) => s + c.slice(0, used).reduce((a, b) => a + b, 0), 0);
    return total / used;
  };
  const f = per("fifo");
  const p = per("priority");
  return {
    target: "FIFO +- 2%",
    fifo: `${f.toFixed(2)} (${percent(f / LIMIT)} of ${LIMIT})`,
    priority: `${p.toFixed(2)} (${percent(p / LIMIT)})`,
    pass: Math.abs(p / f - 1) <= 0.02,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runPriorityBench().then(
    (markdown) => console.log(markdown),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
