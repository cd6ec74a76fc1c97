/**
 * Runs every benchmark and (re)writes BENCHMARKS.md: `npm run bench` (= `tsx bench/run.ts`).
 *
 * Each benchmark runs in its own child process, one after another: a fresh heap and JIT per
 * benchmark, no benchmark's timers or sockets disturbing the next, and a crash in one is reported
 * in its section instead of losing the others. Children print markdown on stdout (captured here)
 * and progress on stderr (passed through).
 */

import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { findGateway } from "./lib/portkey";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUTPUT = `${ROOT}BENCHMARKS.md`;
const LONG = process.env.BENCH_LONG === "1";
const COMMAND = LONG
  ? "BENCH_LONG=1 npm run bench   # = npx tsx bench/run.ts, the long runs"
  : "npm run bench   # = npx tsx bench/run.ts (BENCH_LONG=1 for the long runs)";

interface Section {
  title: string;
  script: string;
  /** Shown above the output: what is measured and how to read it. */
  intro: string;
  /** Wrap plain-text output in a code block (for scripts that print aligned text, not markdown). */
  plain?: boolean;
  /** Output mixes text lines and markdown tables: keep each text line a paragraph of its own. */
  textLines?: boolean;
  /** A reason to skip, decided before running. */
  skip?: () => Promise<string | undefined>;
}

interface Ran {
  stdout: string;
  code: number | null;
  ms: number;
}

function runScript(script: string): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ stdout, code, ms: Date.now() - started }));
  });
}

/** Whether a Redis server answers PING at `url` within a second. */
function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || "127.0.0.1", port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

const SECTIONS: Section[] = [
  {
    title: "At the limit when answers take seconds (bench/latency.ts)",
    script: "bench/latency.ts",
    intro:
      "Slots are stamped by evidence of when each request reached the provider (the body written to the socket " +
      "plus a transit allowance, capped by the first response byte minus the server's processing time), never " +
      "when its answer is complete. The same burst, in real time, against the simulator in its own process, " +
      "with answers that take seconds; beside LangChain's own answers and a reference client that stamps each " +
      "slot when undici reports the request body sent.",
  },
  {
    title: "Burst: waiting on known limits vs LangChain's retries and fallbacks",
    script: "bench/burst.ts",
    intro:
      "The same burst goes through the package and through LangChain's own answers to rate limits, in real time, " +
      "against the provider simulator (real `ChatOpenAI` / `ChatGoogleGenerativeAI` clients over HTTP; the simulator " +
      "runs in a separate process so its arrival stamps do not share the client's event loop).",
  },
  {
    title: "Cold burst (bench/coldBurst.ts)",
    script: "bench/coldBurst.ts",
    intro: "2,000 calls released at once by a process that has not made a single call yet.",
  },
  {
    title: "Redis failing under a fleet (bench/redisOutage.ts)",
    script: "bench/redisOutage.ts",
    intro:
      "Four processes share one limit through a private redis-server, which is killed and restarted, or paused, " +
      "mid-run (`ResilientRateLimitStore`, fail-open).",
  },
  {
    title: "Priority lanes and fair shares vs FIFO (bench/priority.ts)",
    script: "bench/priority.ts",
    intro:
      "The real `RateLimiter` in real time at 20 requests per 500 ms, the memory store in one process and " +
      "`RedisRateLimitStore` shared by 4 processes (skipped without Redis). Every workload runs FIFO (no `place`) " +
      "and priority (`place: { priority, tenant, weight, agingMs }`) at the same time on two models of one limiter. " +
      "How to read: the last column is PASS/FAIL of the priority column against the target; the FIFO column is the " +
      "baseline. Next free slot: the first instant the sliding window (500 ms plus the 25 ms a slot stands later), " +
      "counting every call sent before the interactive call arrived and the interactive calls ahead of it, has room.",
  },
  {
    title: "Wrapper overhead per call",
    script: "bench/overhead.ts",
    intro: "What the package adds to every call when there is nothing to wait for.",
  },
  {
    title: "Limiter reservation cost (bench/limiter.ts)",
    script: "bench/limiter.ts",
    plain: true,
    intro:
      "CPU cost of the in-memory limiter alone, on a simulated clock (no HTTP, no sleeping). How to read: " +
      "*reserve*/*commit* are per call with a full window in steady state; *burst reserve* is one booking while a " +
      "queue of a whole window's calls forms at one instant; *cancel queued* and *commit with queue behind* are the " +
      "costs when bookings behind the entry must shift. Nanoseconds per operation; the first line per RPM in the " +
      "script is a warm-up and is printed too.",
  },
  {
    title: "Context-fit decision time (bench/context.ts)",
    script: "bench/context.ts",
    textLines: true,
    intro:
      "Time to decide whether a prompt fits a model's context window, before every call. How to read: medians per " +
      "decision; *cold* = strings never seen, *turn* = previous history plus one new message (an agent step), " +
      "*warm* = the identical prompt again.",
  },
  {
    title: "Refusing an input that fits no window (bench/refusal.ts)",
    script: "bench/refusal.ts",
    intro:
      "Time to refuse a 5 MB prompt (ContextWindowExceededError) and the longest event-loop block while doing it, " +
      "before (exact tokenizer first) and after (a cheap lower bound first). How to read: the bound can only rule " +
      "out inputs that exceed every window by its margin; the rows show where it does and where it cannot.",
  },
  {
    title: "Run budgets: overhead per model call (bench/runBudget.ts)",
    script: "bench/runBudget.ts",
    intro:
      "The run-budget middleware's own work per model call (a handler that answers at once, against the handler " +
      "alone), and the envelope's reserve + settle the picker adds. Target: at most 50 µs per call.",
  },
  {
    title: "Portkey gateway against a real minute (bench/portkey.ts)",
    script: "bench/portkey.ts",
    intro:
      "The Portkey gateway (optional: `npm i --prefix /tmp/portkey --ignore-scripts @portkey-ai/gateway@1.15.2`, then " +
      "`PORTKEY_GATEWAY_DIR=/tmp/portkey npm run bench`), run on loopback with its retry and fallback config, against " +
      "the same simulator with an unscaled 60-second window, next to this package.",
    skip: async () => {
      const found = findGateway();
      return typeof found === "string" ? found : undefined;
    },
  },
  {
    title: "Redis store (bench/redis.ts)",
    script: "bench/redis.ts",
    plain: true,
    intro: `The shared limiter store against a real Redis (${REDIS_URL}).`,
    skip: async () => {
      if (!existsSync(`${ROOT}bench/redis.ts`)) return "bench/redis.ts does not exist yet.";
      if (!(await redisAnswers(REDIS_URL))) return `no Redis answered PING at ${REDIS_URL}.`;
      return undefined;
    },
  },
];

function machine(loadBefore: number[]): string {
  const cpu = cpus();
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" / ");
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Node ${process.version}, ${platform()} ${release()}`,
    `- ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown CPU"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `- Load average (1/5/15 min) at start: ${load(loadBefore)}; at end: ${load(loadavg())}. The machine is shared,`,
    "  so absolute times move between runs; ratios measured side by side (interleaved) are the robust figures.",
  ].join("\n");
}

/** A blank line after every line that is not a table row, so markdown does not join them. */
function separateTextLines(text: string): string {
  return text
    .split("\n")
    .map((line) => (line.trim() === "" || line.startsWith("|") ? line : `${line}\n`))
    .join("\n");
}

function render(section: Section, body: string): string {
  return [`## ${section.title}`, "", section.intro, "", body.trim(), ""].join("\n");
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const parts: string[] = [];
  let failed = false;
  for (const section of SECTIONS) {
    const reason = await section.skip?.();
    if (reason) {
      process.stderr.write(`bench: skipping ${section.script}: ${reason}\n`);
      parts.push(render(section, `Skipped: ${reason}`));
      continue;
    }
    process.stderr.write(`bench: running ${section.script}\n`);
    const ran = await runScript(section.script);
    const output = section.plain
      ? `\`\`\`text\n${ran.stdout.trim()}\n\`\`\``
      : section.textLines
        ? separateTextLines(ran.stdout)
        : ran.stdout;
    const status =
      ran.code === 0
        ? `_Ran in ${(ran.ms / 1000).toFixed(1)} s._`
        : `**Failed: exit code ${ran.code} after ${(ran.ms / 1000).toFixed(1)} s; output so far above.**`;
    if (ran.code !== 0) failed = true;
    parts.push(render(section, `${output.trim()}\n\n${status}`));
  }

  const doc = [
    "# Benchmarks",
    "",
    "Generated by `bench/run.ts`; every number below comes from the run described here. Reproduce with:",
    "",
    "```sh",
    COMMAND,
    "```",
    "",
    machine(loadBefore),
    "",
    ...parts,
  ].join("\n");
  writeFileSync(OUTPUT, doc);
  process.stderr.write(`bench: wrote ${OUTPUT}\n`);
  if (failed) process.exitCode = 1;
}

void main();
