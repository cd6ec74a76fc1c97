/**
 * Overhead of run budgets per model call: `npx tsx bench/runBudget.ts` (prints markdown).
 *
 * The middleware's `wrapModelCall` around a handler that answers at once (no model, no network),
 * against the handler alone, so the difference is the middleware's own work: with an
 * AutoPickerChatModel (the picker reserves per candidate; the middleware hands it the envelope) and
 * with a plain chat model (the middleware estimates and prices the call itself). Plus the envelope's
 * reserve + settle as the picker does it. Interleaved rounds, medians.
 */
import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { runBudgetMiddleware } from "../src/agents";
import { RunBudget, type RunBudgetTicket } from "../src/cost/runBudget";
import { median, table } from "./lib/stats";

const ROUNDS = 5;
const CALLS = 5_000;
const TARGET_MS = 0.05;

type Wrap = (request: unknown, handler: (r: unknown) => Promise<AIMessage>) => Promise<AIMessage>;

const answer = new AIMessage({
  content: "ok",
  usage_metadata: { input_tokens: 1200, output_tokens: 80, total_tokens: 1280 },
});
const handler = async () => answer;

/** An agent turn: a system prompt and a ten-message history. */
const history = Array.from({ length: 10 }, (_, i) =>
  i % 2 === 0
    ? new HumanMessage(`Question ${i}: what does the report say about item ${i}?`)
    : new AIMessage(`Item ${i} is fine.`),
);

function request(model: unknown, id: string) {
  return {
    model,
    messages: history,
    systemMessage: new SystemMessage("You are a careful research assistant."),
    tools: [],
    state: { messages: history, _autopickerRunBudgetId: id },
    runtime: {},
  };
}

async function perCallMs(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) await fn();
  return (performance.now() - start) / CALLS;
}

async function main(): Promise<void> {
  const middleware = runBudgetMiddleware({ maxUsd: 1e9, maxModelCalls: 1e12 }) as unknown as {
    beforeAgent: () => { _autopickerRunBudgetId: string };
    wrapModelCall: Wrap;
  };
  const { _autopickerRunBudgetId: id } = middleware.beforeAgent();
  const picker = { isAutoPicker: true };
  const plain = new ChatOpenAI({ model: "gpt-4o-mini", apiKey: "sk-bench" });
  const budget = new RunBudget({ maxUsd: 1e9 });

  const sides = {
    bare: () => handler(),
    picker: () => middleware.wrapModelCall(request(picker, id), handler),
    plain: () => middleware.wrapModelCall(request(plain, id), handler),
    envelope: async () => {
      const t = budget.reserve(0.001, 2000) as RunBudgetTicket;
      budget.settle(t, { usd: 0.0005, tokens: 1280 });
    },
  };
  for (const fn of Object.values(sides)) await perCallMs(fn); // warm-up

  const results: Record<keyof typeof sides, number[]> = { bare: [], picker: [], plain: [], envelope: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(sides) as Array<[keyof typeof sides, () => Promise<unknown>]>) {
      results[name].push(await perCallMs(fn));
    }
  }
  const bare = median(results.bare);
  const us = (ms: number) => `${(ms * 1000).toFixed(2)} µs`;
  const row = (what: string, ms: number) => [what, us(ms), ms <= TARGET_MS ? "yes" : "**no**"];
  process.stdout.write(
    [
      `### Run budget overhead per model call (${ROUNDS} rounds × ${CALLS} calls, medians)`,
      "",
      table(
        ["what", "overhead per call", `≤ ${TARGET_MS * 1000} µs`],
        [
          row(
            "middleware, AutoPickerChatModel (hands the envelope to the picker)",
            median(results.picker) - bare,
          ),
          row(
            "middleware, plain ChatOpenAI (estimates and prices the call itself)",
            median(results.plain) - bare,
          ),
          row("envelope reserve + settle (what the picker adds per call)", median(results.envelope)),
        ],
      ),
      "",
      "The plain-model row includes an exact token estimate of a 10-message history (cached per",
      "message after the first call, as in a real agent loop) and a price lookup.",
      "",
    ].join("\n"),
  );
}

void main();
