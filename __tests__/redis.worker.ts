/**
 * A replica for the multi-process Redis tests and the benchmark, run with `node --import tsx`.
 * Gets its job as JSON in argv[2], waits for "go" from the parent (so replicas start together),
 * does it, sends the result and exits on its own (proving nothing keeps the process alive).
 */
import { ChatOpenAI } from "@langchain/openai";
import { countTextTokens } from "../src/context";
import { BudgetManager } from "../src/cost/budgetManager";
import {
  RateLimiter,
  type ReservationTicket,
  rateLimitHeadersFetch,
  SendEvidence,
  withHeaderSink,
} from "../src/limits";
import type {
  StoreConfirmRequest,
  StoreConfirmResult,
  StoreReserveRequest,
  StoreReserveResult,
} from "../src/limits/store";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";
import {
  createRedisClient,
  RedisBudgetStore,
  RedisRateLimitStore,
  ResilientBudgetStore,
  ResilientRateLimitStore,
} from "../src/redis";

export type WorkerJob =
  | {
      kind: "chat";
      redisUrl: string;
      keyPrefix: string;
      baseURL: string;
      model: string;
      calls: number;
      limit: { limit: number; intervalMs: number };
      /** The limiter's `arrivalMarginMs` (default: the limiter's own). */
      arrivalMarginMs?: number;
      /** The limiter's `learnArrivalMargin` (default: the limiter's own). */
      learnArrivalMargin?: boolean;
      failOpenShare?: number;
      /** Pause between calls (ms), to spread a run over time. */
      spacingMs?: number;
      /** Each call's prompt is this plus its index (default "hello "): unique across replicas. */
      promptPrefix?: string;
      /** The picker's maxWaitSeconds (default its own). */
      maxWaitSeconds?: number;
    }
  | {
      kind: "budget";
      redisUrl: string;
      keyPrefix: string;
      dailyLimitUsd: number;
      estimateUsd: number;
      actualUsd: number;
      attempts: number;
    }
  | {
      kind: "reserve";
      redisUrl: string;
      keyPrefix: string;
      model: string;
      limit: { limit: number; intervalMs: number };
      durationMs: number;
    };

export interface WorkerResult {
  ok: number;
  failed: number;
  warnings: string[];
  errors: string[];
  /** budget: USD actually settled by this replica. reserve: epoch ms each call was sent (confirmed). */
  spentUsd?: number;
  starts?: number[];
  /** chat: per call, its confirmed send time minus its booked start (ms). */
  sendLagMs?: number[];
  /** chat: how many confirms answered "not yet" (a call queued behind one that left late). */
  confirmWaits?: number;
  /** chat: per call, [written, first byte, processing ms, simulator request seq] as the limiter saw them. */
  evidence?: Array<[number, number, number, number]>;
}

/** Records what each call's evidence showed. */
class EvidenceLimiter extends RateLimiter {
  constructor(
    options: ConstructorParameters<typeof RateLimiter>[0],
    private readonly seen: Array<[number, number, number, number]>,
  ) {
    super(options);
  }

  override async send<T>(
    ticket: ReservationTicket,
    fn: () => Promise<T>,
    evidence: SendEvidence = new SendEvidence(),
  ): Promise<T> {
    // The simulator's request id tells which of its arrivals this request was.
    let seq = -1;
    try {
      return await withHeaderSink(
        (h) => {
          seq = Number(/\d+$/.exec(h.get("x-request-id") ?? "")?.[0] ?? -1);
        },
        () => super.send(ticket, fn, evidence),
      );
    } finally {
      if (evidence.writtenAt !== undefined && evidence.respondedAt !== undefined) {
        this.seen.push([evidence.writtenAt, evidence.respondedAt, evidence.processingMs ?? 0, seq]);
      }
    }
  }
}

/** Records, per booking, when it was confirmed (sent) against when it was booked to start. */
class TimedStore extends ResilientRateLimitStore {
  readonly lags: number[] = [];
  waits = 0;
  private readonly booked = new Map<string, number>();

  override async reserve(req: StoreReserveRequest): Promise<StoreReserveResult> {
    const r = await super.reserve(req);
    if (r.kind === "granted") this.booked.set(r.entryId, r.startAt);
    return r;
  }

  override async confirm(req: StoreConfirmRequest): Promise<StoreConfirmResult> {
    const r = await super.confirm(req);
    const start = this.booked.get(req.entryId);
    if (!r.ok) this.waits++;
    else if (start !== undefined) {
      this.lags.push(Math.round(req.now - start));
      this.booked.delete(req.entryId);
    }
    return r;
  }
}

const job = JSON.parse(process.argv[2] ?? "{}") as WorkerJob;
const warnings: string[] = [];
const logger = { warn: (m: string) => warnings.push(m) };

async function chat(j: Extract<WorkerJob, { kind: "chat" }>): Promise<() => Promise<WorkerResult>> {
  const evidence: Array<[number, number, number, number]> = [];
  const client = createRedisClient(j.redisUrl);
  await client.ping();
  // Loads the tokenizer ranks now: a cold first call blocks the event loop for a second or more.
  countTextTokens("warm up", j.model);
  const store = new TimedStore({
    store: new RedisRateLimitStore({ client, keyPrefix: j.keyPrefix, timeoutMs: 300 }),
    failOpenShare: j.failOpenShare ?? 0.25,
    retryIntervalMs: 300,
    logger,
  });
  const openai = (model: string) =>
    new ChatOpenAI({
      model,
      apiKey: "sk-test",
      configuration: { baseURL: j.baseURL, fetch: rateLimitHeadersFetch() },
    });
  const llm = new AutoPickerChatModel({
    primary: { model: openai(j.model), limits: { windows: [{ unit: "requests", ...j.limit }] } },
    ...(j.maxWaitSeconds === undefined ? {} : { maxWaitSeconds: j.maxWaitSeconds }),
    rateLimiter: new EvidenceLimiter(
      {
        store,
        ...(j.arrivalMarginMs === undefined ? {} : { arrivalMarginMs: j.arrivalMarginMs }),
        ...(j.learnArrivalMargin === undefined ? {} : { learnArrivalMargin: j.learnArrivalMargin }),
      },
      evidence,
    ),
    logger: { warn: (m) => warnings.push(m) },
  });
  return async () => {
    const out: WorkerResult = { ok: 0, failed: 0, warnings, errors: [], sendLagMs: store.lags, evidence };
    await Promise.all(
      Array.from({ length: j.calls }, async (_, i) => {
        if (j.spacingMs) await new Promise((r) => setTimeout(r, i * j.spacingMs!));
        try {
          await llm.invoke(`${j.promptPrefix ?? "hello "}${i}`);
          out.ok++;
        } catch (err) {
          out.failed++;
          out.errors.push(err instanceof Error ? err.message : String(err));
        }
      }),
    );
    await client.quit().catch(() => client.disconnect());
    out.confirmWaits = store.waits;
    return out;
  };
}

async function budget(j: Extract<WorkerJob, { kind: "budget" }>): Promise<() => Promise<WorkerResult>> {
  const client = createRedisClient(j.redisUrl);
  await client.ping();
  const manager = new BudgetManager({
    dailyLimitUsd: j.dailyLimitUsd,
    store: new ResilientBudgetStore({
      store: new RedisBudgetStore({ client, keyPrefix: j.keyPrefix }),
      logger,
    }),
    logger: { warn: () => undefined },
  });
  return async () => {
    const out: WorkerResult = { ok: 0, failed: 0, warnings, errors: [], spentUsd: 0 };
    // Several calls in flight at once, as a server would have.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < j.attempts / 8; i++) {
          const r = await manager.reserve(j.estimateUsd);
          if (r.kind !== "ok") {
            out.failed++;
            continue;
          }
          await new Promise((res) => setTimeout(res, Math.random() * 3));
          await manager.settle(r.ticket, j.actualUsd);
          out.ok++;
          out.spentUsd! += j.actualUsd;
        }
      }),
    );
    await client.quit();
    return out;
  };
}

/** Books as fast as the limit allows for `durationMs`, committing each booking at its start. */
async function reserve(j: Extract<WorkerJob, { kind: "reserve" }>): Promise<() => Promise<WorkerResult>> {
  const client = createRedisClient(j.redisUrl);
  await client.ping();
  const limiter = new RateLimiter({
    store: new RedisRateLimitStore({ client, keyPrefix: j.keyPrefix }),
  });
  limiter.configure(j.model, { windows: [{ unit: "requests", ...j.limit }] });
  return async () => {
    const out: WorkerResult = { ok: 0, failed: 0, warnings, errors: [], starts: [] };
    const end = Date.now() + j.durationMs;
    // A few callers in flight per replica, each one acquire + commit at a time.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < end) {
          const d = await limiter.acquire(j.model, { tokens: 1 }, { maxWaitMs: end - Date.now() });
          if (d.kind !== "granted") break;
          // The send instant (acquire confirmed the booking at the store just now), not the booked one.
          out.starts!.push(Date.now());
          out.ok++;
          await limiter.commit(d.ticket);
        }
      }),
    );
    await client.quit();
    return out;
  };
}

const prepared = job.kind === "chat" ? chat(job) : job.kind === "budget" ? budget(job) : reserve(job);
prepared.then(
  (work) => {
    process.once("message", async () => {
      let result: WorkerResult;
      try {
        result = await work();
      } catch (err) {
        result = { ok: 0, failed: 1, warnings, errors: [String(err)] };
      }
      process.send?.(result, () => process.disconnect());
    });
    process.send?.("ready");
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
    process.disconnect();
  },
);
