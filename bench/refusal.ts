/**
 * Refusing an input that fits no window: `npx tsx bench/refusal.ts`.
 *
 * A caller sends a 5 MB prompt; no configured model can take it, so the picker must throw
 * `ContextWindowExceededError`. Measured per case: the time `invoke()` takes to refuse, and the
 * longest event-loop block while it does (`perf_hooks.monitorEventLoopDelay`: what every other
 * request in the process waits). "before" runs the same picker with the lower bound and the piece
 * memo disabled (it then tokenizes the prompt with js-tiktoken's own loop, as the router did before
 * either existed); "after" is the package as shipped. Real ChatOpenAI / ChatGoogleGenerativeAI against the simulator; no request
 * is ever sent. Every run uses a fresh prompt string, so no count is served from a cache.
 * Wall-clock numbers: rerun on a quiet machine before quoting them.
 */

import { monitorEventLoopDelay } from "node:perf_hooks";
import { HumanMessage } from "@langchain/core/messages";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import { preloadEncoder, TokenEstimator } from "../src/context";
import { pieceMemo } from "../src/context/encoders";
import { ContextWindowExceededError } from "../src/errors";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";
import { ProviderSimulator } from "../src/testing";

const RUNS = Number(process.env.RUNS ?? 3);
const BYTES = 5_000_000;

/** English-like prose: common words, ~1 in 11 rare, commas and full stops. `salt` makes it unique. */
function prose(bytes: number, salt: number): string {
  const common =
    "the of and to in a is that for it as was with be by on not he this are or his from at which".split(" ");
  const parts: string[] = [`run ${salt}: `];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const word = i % 11 === 0 ? `zq${(i * 7919 + salt) % 100_003}x` : common[(i * 31) % common.length]!;
    const part = word + (i % 17 === 0 ? ". " : i % 13 === 0 ? ", " : " ");
    parts.push(part);
    length += part.length;
  }
  return parts.join("");
}

/**
 * Chinese: the case the lower bound cannot rule out (see lowerBound.ts); the piece memo decides it.
 * Repetitive on purpose (one sentence), which flatters the memo: real CJK text repeats less.
 */
function cjk(bytes: number, salt: number): string {
  const sentence = "大型语言模型的上下文窗口以令牌为单位计算，我们需要先估计提示长度。";
  return `${salt}${sentence.repeat(Math.ceil(bytes / Buffer.byteLength(sentence)))}`;
}

/** Chinese that rarely repeats: random common characters, a comma or full stop every ~12. */
function cjkVaried(bytes: number, salt: number): string {
  let seed = salt * 7919 + 1;
  const next = () => {
    seed = (seed * 48271) % 2147483647;
    return seed;
  };
  const out: string[] = [];
  for (let length = 0; length < bytes; length += 3) {
    out.push(String.fromCharCode(0x4e00 + (next() % 3500)));
    if (next() % 12 === 0) out.push(next() % 2 ? "，" : "。");
  }
  return out.join("");
}

interface Sample {
  ms: number;
  blockMs: number;
}

async function refuse(llm: AutoPickerChatModel, text: string): Promise<Sample> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  await new Promise((r) => setTimeout(r, 20)); // the monitor's first sample must be armed before the work
  const began = performance.now();
  const error = await llm.invoke([new HumanMessage(text)]).catch((e: unknown) => e);
  const ms = performance.now() - began;
  // Let the monitor's timer observe the block that just ended.
  await new Promise((r) => setTimeout(r, 20));
  histogram.disable();
  if (!(error instanceof ContextWindowExceededError))
    throw new Error(`expected a refusal, got ${String(error)}`);
  return { ms, blockMs: histogram.max / 1e6 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const sim = new ProviderSimulator({
    models: { "gpt-4o-mini": { provider: "openai" }, "gemini-2.5-flash": { provider: "gemini" } },
  });
  await sim.start();
  const openai = () =>
    new ChatOpenAI({
      model: "gpt-4o-mini",
      apiKey: "sk-bench",
      configuration: { baseURL: sim.openaiBaseURL },
    });
  const gemini = () =>
    new ChatGoogleGenerativeAI({ model: "gemini-2.5-flash", apiKey: "bench", baseUrl: sim.geminiBaseUrl });
  const pickers = {
    "gpt-4o-mini alone (128k)": () => new AutoPickerChatModel({ primary: openai() }),
    "gpt-4o-mini + gemini-2.5-flash (1M)": () =>
      new AutoPickerChatModel({ primary: openai(), fallbacks: [gemini()] }),
  };
  preloadEncoder("gpt-4o-mini"); // building the encoder is a one-off cost, not part of a refusal

  const real = TokenEstimator.prototype.lowerBound;
  const rows: string[][] = [];
  let salt = 0;
  for (const [textName, make] of [
    ["English prose", prose],
    ["Chinese (one sentence repeated)", cjk],
    ["Chinese (varied)", cjkVaried],
  ] as const) {
    for (const [pickerName, picker] of Object.entries(pickers)) {
      const results: Record<string, Sample[]> = { before: [], after: [] };
      // Chinese takes ~20 s per exact count before: once is enough.
      for (let run = 0; run < (textName.startsWith("Chinese") ? 1 : RUNS); run++) {
        // "before": the bound never rules anything out, and js-tiktoken counts every piece.
        TokenEstimator.prototype.lowerBound = () => 0;
        pieceMemo.enabled = false;
        results.before!.push(await refuse(picker(), make(BYTES, ++salt)));
        TokenEstimator.prototype.lowerBound = real;
        pieceMemo.enabled = true;
        results.after!.push(await refuse(picker(), make(BYTES, ++salt)));
      }
      const before = results.before!;
      const after = results.after!;
      const ratio = median(before.map((s) => s.ms)) / median(after.map((s) => s.ms));
      rows.push([
        textName,
        pickerName,
        `${median(before.map((s) => s.ms)).toFixed(0)} ms / ${Math.max(...before.map((s) => s.blockMs)).toFixed(0)} ms`,
        `${median(after.map((s) => s.ms)).toFixed(0)} ms / ${Math.max(...after.map((s) => s.blockMs)).toFixed(0)} ms`,
        `${ratio.toFixed(1)}x`,
      ]);
    }
  }
  await sim.stop();
  const header = [
    "5 MB prompt",
    "picker",
    "before: refuse / longest block",
    "after: refuse / longest block",
    "speed-up",
  ];
  console.log(
    `Runs per cell: ${RUNS} for English, 1 for Chinese (median time; longest event-loop block over the runs).\n`,
  );
  console.log(`| ${header.join(" | ")} |`);
  console.log(`| ${header.map(() => "---").join(" | ")} |`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}

void main();
