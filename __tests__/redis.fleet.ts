/** Starts replicas (`redis.worker.ts` under `node --import tsx`) and collects their results. */
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import type { WorkerJob, WorkerResult } from "./redis.worker";

// From the repository root (jest and `npx tsx bench/redis.ts` both run there); `__dirname` does
// not exist when tsx loads this file as ESM, and `import.meta` does not compile under ts-jest.
const WORKER = path.resolve(process.cwd(), "__tests__/redis.worker.ts");

export interface Fleet {
  /** Sends "go" to every replica (they start together) and resolves with their results. */
  run(): Promise<WorkerResult[]>;
  children: ChildProcess[];
  kill(): void;
}

/** Forks one replica per job and waits until each has loaded (listening for "go"). */
export async function startFleet(jobs: WorkerJob[]): Promise<Fleet> {
  const children = jobs.map((job) =>
    fork(WORKER, [JSON.stringify(job)], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  const ready: Promise<void>[] = [];
  const results = children.map((child) => {
    let onReady: () => void = () => undefined;
    let onFail: (e: Error) => void = () => undefined;
    ready.push(
      new Promise<void>((resolve, reject) => {
        onReady = resolve;
        onFail = reject;
      }),
    );
    return new Promise<WorkerResult>((resolve, reject) => {
      child.on("message", (m) => (m === "ready" ? onReady() : resolve(m as WorkerResult)));
      child.once("exit", (code) => {
        const err = new Error(`replica exited with ${code} before reporting`);
        onFail(err);
        reject(err);
      });
    });
  });
  for (const r of results) r.catch(() => undefined);
  // Replicas load (tsx compiles on the fly) before anyone starts, so they start together.
  try {
    await Promise.all(ready);
  } catch (err) {
    for (const c of children) if (c.exitCode === null) c.kill();
    throw err;
  }
  return {
    children,
    run: async () => {
      for (const c of children) c.send("go");
      return Promise.all(results);
    },
    kill: () => {
      for (const c of children) if (c.exitCode === null) c.kill();
    },
  };
}

/** Exits of every child, resolved when all have exited (they must exit on their own). */
export function exits(children: ChildProcess[]): Promise<(number | null)[]> {
  return Promise.all(
    children.map((c) =>
      c.exitCode !== null
        ? Promise.resolve(c.exitCode)
        : new Promise<number | null>((r) => c.once("exit", r)),
    ),
  );
}

/** The most arrivals inside any span (t - intervalMs, t]. */
export function maxInWindow(arrivals: readonly number[], intervalMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[lo]! <= sorted[hi]! - intervalMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}
