/**
 * At the limit when answers take seconds: `npx tsx bench/latency.ts` (markdown on stdout,
 * progress on stderr). `BENCH_LONG=1` runs the full workload and every answer time.
 *
 * M calls at once against N requests per W, in real time, against the provider simulator in its
 * own process (it counts a request when it arrives). The simulator answers each call after its
 * answer time (a 429 at once): fixed 0 s, 3 s, 20 s, or a heavy-tailed lognormal mix drawn per
 * prompt, so every contender meets the same answer times. Contenders: this package (memory store;
 * Redis store in 1 process and, long run, 4 processes sharing it), a reference client that stamps
 * each slot at undici's body-sent event + 25 ms, `ChatOpenAI` with LangChain's default retries, and
 * `.withFallbacks([gemini])`.
 *
 * Minimum makespan: the calls, in the order they were released, admitted as fast as the limit
 * allows: max over calls i of (floor(i / N) x W + answer time of i). For a fixed answer time that
 * is (ceil(M / N) - 1) x W + one answer time. Utilisation: requests served per window over the
 * limit, across the span of the run (1.0 = every window full).
 */
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import type { BaseMessage } from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";
import { Redis } from "ioredis";
import { exits, startFleet } from "../__tests__/redis.fleet";
import { RateLimiter } from "../src/limits";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";
import { RedisRateLimitStore } from "../src/redis";
import { GEMINI, gemini, OPENAI, openai } from "./lib/clients";
import { answerTime, describeLatency, type LatencySpec } from "./lib/latency";
import { deleteKeys } from "./lib/redisKeys";
import { SendStampingClient } from "./lib/reference";
import { type RemoteSim, startRemoteSim } from "./lib/remoteSim";
import { ratio, seconds, sleep, table } from "./lib/stats";

type Model = Runnable<BaseLanguageModelInput, BaseMessage>;

const LONG = process.env.BENCH_LONG === "1";
const CALLS = LONG ? 120 : 60;
const LIMIT = 20;
const WINDOW_MS = 6000;
const LATENCIES: LatencySpec[] = LONG
  ? [
      { kind: "fixed", ms: 0 },
      { kind: "fixed", ms: 3000 },
      { kind: "fixed", ms: 20_000 },
      { kind: "lognormal", medianMs: 2000, p99Ms: 30_000 },
    ]
  : [
      { kind: "fixed", ms: 0 },
      { kind: "fixed", ms: 3000 },
    ];
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const windows = [{ unit: "requests" as const, limit: LIMIT, intervalMs: WINDOW_MS }];
const prompt = (i: number) => `Ticket ${i}: summarise the incident report in one line.`;

interface Outcome {
  ok: boolean;
  doneMs: number;
  error?: string;
}

interface Row {
  contender: string;
  rateLimited: number;
  served: number;
  makespanMs: number;
  minimumMs: number;
  utilisation: number;
  failures: string;
}

interface Contender {
  name: string;
  /** Runs the burst; resolves with each call's outcome (ms after the release). */
  run(sim: RemoteSim, latency: LatencySpec): Promise<Outcome[]>;
  long?: boolean;
  redis?: boolean;
}

async function burst(models: (i: number) => Promise<BaseMessage>): Promise<Outcome[]> {
  const released = Date.now();
  return Promise.all(
    Array.from({ length: CALLS }, (_, i) =>
      models(i).then(
        (): Outcome => ({ ok: true, doneMs: Date.now() - released }),
        (e: unknown): Outcome => ({
          ok: false,
          doneMs: Date.now() - released,
          error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        }),
      ),
    ),
  );
}

function picker(sim: RemoteSim, rateLimiter?: RateLimiter): AutoPickerChatModel {
  return new AutoPickerChatModel({
    // A plain ChatOpenAI: the package sees its requests through Node's fetch, no wrapper needed.
    primary: { model: openai(sim, {}), limits: { windows } },
    fallbacks: [gemini(sim)],
    maxWaitSeconds: 600,
    ...(rateLimiter ? { rateLimiter } : {}),
    logger: { warn: (m) => process.stderr.write(`[autopicker warn] ${m}\n`) },
  });
}

const CONTENDERS: Contender[] = [
  {
    name: "this package, memory store",
    run: (sim) => {
      const llm = picker(sim);
      return burst((i) => llm.invoke(prompt(i)));
    },
  },
  {
    name: "this package, Redis store, 1 process",
    redis: true,
    run: async (sim) => {
      const client = new Redis(REDIS_URL);
      const keyPrefix = `autopicker-bench:latency:${process.pid}:${Date.now()}:`;
      try {
        const llm = picker(sim, new RateLimiter({ store: new RedisRateLimitStore({ client, keyPrefix }) }));
        return await burst((i) => llm.invoke(prompt(i)));
      } finally {
        await deleteKeys(client, keyPrefix);
        await client.quit();
      }
    },
  },
  {
    name: "this package, Redis store, 4 processes",
    redis: true,
    long: true,
    run: async (sim) => {
      const keyPrefix = `autopicker-bench:latency4:${process.pid}:${Date.now()}:`;
      const per = CALLS / 4;
      const fleet = await startFleet(
        Array.from({ length: 4 }, (_, r) => ({
          kind: "chat" as const,
          redisUrl: REDIS_URL,
          keyPrefix,
          baseURL: sim.openaiBaseURL,
          model: OPENAI,
          calls: per,
          limit: { limit: LIMIT, intervalMs: WINDOW_MS },
          // Replica r sends calls r, r + 4, r + 8, ...: the same prompts as the other contenders.
          promptPrefix: `@${r}:`,
          maxWaitSeconds: 600,
        })),
      );
      const released = Date.now();
      const results = await fleet.run();
      const doneMs = Date.now() - released;
      await exits(fleet.children);
      const client = new Redis(REDIS_URL);
      await deleteKeys(client, keyPrefix);
      await client.quit();
      return results.flatMap((r) => [
        ...Array.from({ length: r.ok }, () => ({ ok: true, doneMs })),
        ...r.errors.map((error) => ({ ok: false, doneMs, error })),
      ]);
    },
  },
  {
    name: "reference: stamps at body sent + 25 ms",
    run: (sim) => {
      const client = new SendStampingClient(LIMIT, WINDOW_MS, 25);
      const model = openai(sim, { maxRetries: 0 });
      return burst((i) => client.run(() => model.invoke(prompt(i))));
    },
  },
  {
    name: "ChatOpenAI, default retries (6)",
    run: (sim) => {
      const model = openai(sim);
      return burst((i) => model.invoke(prompt(i)));
    },
  },
  {
    name: "ChatOpenAI (default retries).withFallbacks([gemini])",
    run: (sim) => {
      const model = openai(sim).withFallbacks([gemini(sim)]) as unknown as Model;
      return burst((i) => model.invoke(prompt(i)));
    },
  },
];

/** The answer time of each call, in release order (the fleet's replicas interleave their calls). */
function answerTimes(latency: LatencySpec, fleet: boolean): number[] {
  return Array.from({ length: CALLS }, (_, i) =>
    answerTime(latency, fleet ? `@${i % 4}:${Math.floor(i / 4)}` : prompt(i)),
  );
}

function minimumMs(times: readonly number[]): number {
  return Math.max(...times.map((t, i) => Math.floor(i / LIMIT) * WINDOW_MS + t));
}

async function runOne(contender: Contender, latency: LatencySpec): Promise<Row> {
  const sim = await startRemoteSim({
    [OPENAI]: { provider: "openai", windows, latency, sendRateLimitHeaders: false },
    [GEMINI]: { provider: "gemini", latency },
  });
  try {
    // Warm: the clients, the tokenizer, keep-alive sockets, the simulator's own tokenizer.
    await openai(sim).invoke("warm-up");
    await gemini(sim).invoke("warm-up");
    await picker(sim).invoke("warm-up");
    await sleep(200);
    await sim.reset();
    process.stderr.write(`latency: ${contender.name}, answers ${describeLatency(latency)}...`);
    const outcomes = await contender.run(sim, latency);
    const stats = await sim.stats(OPENAI);
    const fallback = await sim.stats(GEMINI);
    const makespanMs = Math.max(...outcomes.map((o) => o.doneMs));
    const first = Math.min(...stats.arrivals);
    const last = Math.max(...stats.arrivals);
    const failed = outcomes.filter((o) => !o.ok);
    process.stderr.write(` ${seconds(makespanMs)}\n`);
    return {
      contender: contender.name,
      rateLimited: stats.rateLimited,
      served: stats.served + fallback.served,
      makespanMs,
      minimumMs: minimumMs(answerTimes(latency, contender.name.includes("4 processes"))),
      utilisation: stats.served === 0 ? 0 : (stats.served * WINDOW_MS) / (LIMIT * (last - first + WINDOW_MS)),
      failures:
        failed.length === 0 ? "0" : `${failed.length} (${failed[0]!.error?.slice(0, 60) ?? "unknown"})`,
    };
  } finally {
    await sim.stop();
  }
}

async function redisAnswers(): Promise<boolean> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function main(): Promise<void> {
  const redis = await redisAnswers();
  const contenders = CONTENDERS.filter((c) => (LONG || !c.long) && (redis || !c.redis));
  const sections: string[] = [
    `### ${CALLS} calls at once vs ${LIMIT} requests per ${WINDOW_MS / 1000} s, answers that take seconds`,
    "",
    LONG
      ? "Long run (`BENCH_LONG=1`): the issue's workload and every answer time."
      : `Short run: ${CALLS} calls, answers of 0 s and 3 s. \`BENCH_LONG=1\` runs 120 calls, 20 s and a lognormal mix too, and the Redis store in 4 processes.`,
    redis ? "" : `(No Redis at ${REDIS_URL}: the Redis rows are skipped.)`,
    "",
  ];
  for (const latency of LATENCIES) {
    const rows: Row[] = [];
    for (const c of contenders) {
      // The fleet interleaves prompts differently; only fixed answer times compare as is.
      if (c.long && latency.kind !== "fixed") continue;
      rows.push(await runOne(c, latency));
    }
    sections.push(
      `#### Answers take ${describeLatency(latency)}`,
      "",
      table(
        [
          "contender",
          "provider 429s",
          "makespan",
          "minimum",
          "makespan / minimum",
          "utilisation",
          "failures",
        ],
        rows.map((r) => [
          r.contender,
          String(r.rateLimited),
          seconds(r.makespanMs),
          seconds(r.minimumMs),
          ratio(r.makespanMs / r.minimumMs),
          `${(r.utilisation * 100).toFixed(1)}%`,
          r.failures,
        ]),
      ),
      "",
    );
  }
  sections.push(
    "How to read: *provider 429s* are the simulator's refusals of the primary (a refused request does",
    "not count against its window: the lenient reading). *Minimum* is the limit's own schedule for the",
    "same calls and answer times, with no round trip; a perfect scheduler is a few ms above it.",
    "*Utilisation* is requests served per window over the limit across the run. The fallback",
    "(`gemini`, unlimited) is there for `.withFallbacks()`; the package only falls back when the wait",
    "would exceed `maxWaitSeconds` (600 s here).",
    "",
  );
  process.stdout.write(`${sections.join("\n")}\n`);
}

void main();
