/**
 * A cold burst: `npx tsx bench/coldBurst.ts` (markdown on stdout). A fresh process releases 2,000
 * calls at once against 500 requests per 2 s; nothing in it is warm (LangChain, the tokenizer,
 * undici's sockets), so the first round of requests leaves up to seconds after its slots were
 * decided. The simulator runs in its own (warm) process and counts requests when they arrive.
 */

import { maxInWindow } from "../__tests__/redis.fleet";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";
import { GEMINI, gemini, OPENAI, openai } from "./lib/clients";
import { startRemoteSim } from "./lib/remoteSim";
import { percentile, ratio, seconds, table } from "./lib/stats";

const CALLS = 2000;
const LIMIT = 500;
const WINDOW_MS = 2000;

async function main(): Promise<void> {
  const windows = [{ unit: "requests" as const, limit: LIMIT, intervalMs: WINDOW_MS }];
  const sim = await startRemoteSim({
    [OPENAI]: { provider: "openai", windows, sendRateLimitHeaders: false },
    [GEMINI]: { provider: "gemini" },
  });
  try {
    const llm = new AutoPickerChatModel({
      primary: { model: openai(sim), limits: { windows } },
      fallbacks: [gemini(sim)],
      maxWaitSeconds: 120,
      logger: { warn: (m) => process.stderr.write(`[autopicker warn] ${m}\n`) },
    });
    process.stderr.write(`coldBurst: ${CALLS} calls from a cold process...`);
    const released = Date.now();
    const done = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        llm.invoke(`Ticket ${i}: summarise the incident report in one line.`).then(
          () => Date.now() - released,
          () => Number.NaN,
        ),
      ),
    );
    const makespan = Math.max(...done.filter(Number.isFinite));
    process.stderr.write(` ${seconds(makespan)}\n`);
    const primary = await sim.stats(OPENAI);
    const fallback = await sim.stats(GEMINI);
    const firstArrival = Math.min(...primary.arrivals) - released;
    const minimum = (Math.ceil(CALLS / LIMIT) - 1) * WINDOW_MS;
    process.stdout.write(
      [
        `### Cold burst: ${CALLS} calls at once from a fresh process vs ${LIMIT} requests per ${WINDOW_MS / 1000} s`,
        "",
        table(
          [
            "provider 429s",
            "busiest window (limit)",
            "first request arrived",
            "makespan",
            "makespan / minimum",
            "p50 latency",
            "served by primary",
            "fallbacks",
            "failed",
          ],
          [
            [
              String(primary.rateLimited),
              `${maxInWindow(primary.arrivals, WINDOW_MS)} (${LIMIT})`,
              seconds(firstArrival),
              seconds(makespan),
              ratio(makespan / minimum),
              seconds(percentile(done.filter(Number.isFinite), 50)),
              `${primary.served} of ${CALLS}`,
              String(fallback.served),
              String(done.filter((d) => !Number.isFinite(d)).length),
            ],
          ],
        ),
        "",
        `How to read: the first request reached the simulator ${seconds(firstArrival)} after the release (the`,
        "process loads LangChain's clients and the tokenizer inside the burst), so the first round of slots was",
        "decided long before its requests left. Stamped from evidence of the real send, the second round waits",
        `for the first round's real window. Minimum: (ceil(${CALLS}/${LIMIT}) - 1) x ${WINDOW_MS / 1000} s = ${seconds(minimum)}.`,
        "",
      ].join("\n"),
    );
  } finally {
    await sim.stop();
  }
}

void main();
