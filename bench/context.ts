/**
 * Context-fit decision time: `npx tsx bench/context.ts`.
 *
 * A decision answers "does this prompt (plus output allowance) fit the candidate windows?" before
 * every call. Compared: the upper-bound short-circuit (estimate only when the bound does not fit),
 * estimate() with its caches, and exact counting of every string each time (no caches).
 * "cold" = message objects and strings never seen before; "turn" = the previous history (seen) plus
 * one new message, which is what an agent sends every step; "warm" = the very same prompt again.
 */
import {
  AIMessage,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from "@langchain/core/messages";
import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";

const MODEL = "openai/gpt-4o-mini";
const WINDOW = 128_000;
const MAX_OUTPUT = 4_096;

const PROSE =
  "The deployment finished after the database migration, but the cache warmed slowly and p95 latency rose. ";
const CODE = "function add(a: number, b: number): number {\n  return a + b; // hot path\n}\n";
const JSONISH = '{"id":42,"status":"ok","items":[{"sku":"A-1","qty":3},{"sku":"B-7","qty":1}],"total":19.99}';
const CJK = "大型语言模型的上下文窗口以令牌为单位计算，我们需要先估计提示长度。";

/** An agent conversation of roughly `rounds` tool rounds; `salt` makes every string unique. */
function conversation(rounds: number, salt: string): BaseMessage[] {
  const out: BaseMessage[] = [
    new SystemMessage(`You are an operations agent. ${PROSE.repeat(3)} ${salt}`),
    new HumanMessage(`Investigate the latency regression. ${salt}`),
  ];
  for (let i = 0; i < rounds; i++) {
    const id = `call_${salt}_${i}`;
    out.push(
      new AIMessage({ content: "", tool_calls: [{ id, name: "read_logs", args: { page: i, salt } }] }),
    );
    out.push(
      new ToolMessage({
        tool_call_id: id,
        content: `${salt} ${i}\n${PROSE.repeat(8)}${CODE.repeat(2)}${JSONISH.repeat(3)}${CJK.repeat(2)}`,
      }),
    );
  }
  out.push(new AIMessage(`Summary so far: ${PROSE.repeat(2)} ${salt}`));
  return out;
}

async function main(): Promise<void> {
  let t = performance.now();
  const { TokenEstimator } = await import("../src/context");
  const importMs = performance.now() - t;

  const estimator = new TokenEstimator();
  const options = { model: MODEL };
  const small = conversation(3, "first");
  t = performance.now();
  const firstEstimate = estimator.estimate(small, options);
  const firstCallMs = performance.now() - t;

  const sizes = { "2k": 5, "150k": 390 } as const;
  const exactEncoder = new Tiktoken(o200k); // a separate encoder: no caches of the estimator involved
  const exactCount = (messages: BaseMessage[]) => {
    let total = 3;
    for (const m of messages) {
      total += 4 + exactEncoder.encode(typeof m.content === "string" ? m.content : "", [], []).length;
      for (const c of (m as AIMessage).tool_calls ?? [])
        total +=
          3 +
          exactEncoder.encode(c.name, [], []).length +
          exactEncoder.encode(JSON.stringify(c.args), [], []).length;
    }
    return total;
  };

  const strategies: Record<string, (m: BaseMessage[]) => boolean> = {
    "upperBound short-circuit": (m) =>
      estimator.upperBound(m, options) + MAX_OUTPUT <= WINDOW ||
      estimator.estimate(m, options) + MAX_OUTPUT <= WINDOW,
    "estimate() with cache": (m) => estimator.estimate(m, options) + MAX_OUTPUT <= WINDOW,
    "exact, no cache": (m) => exactCount(m) + MAX_OUTPUT <= WINDOW,
  };

  /** Runs `run` on fresh inputs up to `n` times or for ~1.5 s (at least 3), timing only `run`. */
  const sample = (n: number, input: () => BaseMessage[], run: (m: BaseMessage[]) => boolean) => {
    const times: number[] = [];
    const deadline = performance.now() + 1500;
    while (times.length < n && (times.length < 3 || performance.now() < deadline)) {
      const m = input();
      const start = performance.now();
      run(m);
      times.push(performance.now() - start);
    }
    return times;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(1)} ms`);
  const rows: string[] = [];
  const tokens: Record<string, number> = {};
  let salt = 0;
  for (const [name, run] of Object.entries(strategies)) {
    const cells: string[] = [];
    for (const [size, rounds] of Object.entries(sizes)) {
      tokens[size] = estimator.estimate(conversation(rounds, "probe"), options);
      const iterations =
        size === "2k" ? { cold: 200, turn: 500, warm: 5000 } : { cold: 5, turn: 50, warm: 200 };
      // cold: every run sees new objects and new strings
      const cold = sample(iterations.cold, () => conversation(rounds, `s${salt++}`), run);
      // turn: the history is known, one new message arrives each step
      const history = conversation(rounds, `s${salt++}`);
      run(history);
      const turn = sample(
        iterations.turn,
        () => [...history, new HumanMessage(`follow-up ${PROSE} s${salt++}`)],
        run,
      );
      // warm: the identical prompt again
      const warm = sample(iterations.warm, () => history, run);
      cells.push(fmt(median(cold)), fmt(median(turn)), fmt(median(warm)));
    }
    rows.push(`| ${name} | ${cells.join(" | ")} |`);
  }

  console.log(`Node ${process.version}; model ${MODEL}, window ${WINDOW}, output allowance ${MAX_OUTPUT}`);
  console.log(`prompt sizes (estimate): 2k = ${tokens["2k"]} tokens, 150k = ${tokens["150k"]} tokens`);
  console.log(`import of src/context (both rank tables): ${fmt(importMs)}`);
  console.log(
    `first estimate in the process (o200k encoder build + ${firstEstimate} tokens): ${fmt(firstCallMs)}\n`,
  );
  console.log("| strategy (median) | 2k cold | 2k turn | 2k warm | 150k cold | 150k turn | 150k warm |");
  console.log("|---|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);

  // Where cold time goes: js-tiktoken throughput per kind of text (fresh strings, encoder warm).
  const kinds = { prose: PROSE, code: CODE, json: JSONISH, cjk: CJK };
  const perToken = Object.entries(kinds).map(([kind, text]) => {
    const body = text.repeat(Math.ceil(20_000 / text.length));
    const start = performance.now();
    const n = exactEncoder.encode(`${body} ${salt++}`, [], []).length;
    return `${kind} ${((1000 * (performance.now() - start)) / n).toFixed(2)} µs/token`;
  });
  console.log(`\njs-tiktoken o200k throughput: ${perToken.join(", ")}`);
}

void main();
