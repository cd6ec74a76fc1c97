/**
 * Fast refusal: an input that cannot fit any model's window is refused on the cheap lower bound,
 * before any tokenizer runs and before any request. Speed itself is measured in bench/refusal.ts;
 * here "no tokenizer ran" is observed directly, by spying on the one function that runs BPE.
 */
import { HumanMessage } from "@langchain/core/messages";
import * as encoders from "../src/context/encoders";
import { ContextWindowExceededError } from "../src/errors";
import { GEMINI, OPENAI, startWorld } from "./support/picker";

/** ~5 MB of English-like prose: common words, some rare ones, commas and full stops. */
function prose(bytes: number): string {
  const common =
    "the of and to in a is that for it as was with be by on not he this are or his from at which".split(" ");
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const word = i % 11 === 0 ? `zq${(i * 7919) % 100_003}x` : common[(i * 31) % common.length]!;
    const part = word + (i % 17 === 0 ? ". " : i % 13 === 0 ? ", " : " ");
    parts.push(part);
    length += part.length;
  }
  return parts.join("");
}

const HUGE = prose(5_000_000);
let world: Awaited<ReturnType<typeof startWorld>>;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.stop());
afterEach(() => jest.restoreAllMocks());

test.each([
  ["gpt-4o-mini alone (128k)", false],
  ["gpt-4o-mini with a Gemini fallback (1M)", true],
])(
  "a 5 MB prompt, %s: ContextWindowExceededError with no tokenizing and no request",
  async (_name, withGemini) => {
    const bpe = jest.spyOn(encoders, "encodingTokens");
    const llm = world.picker(withGemini ? {} : { fallbacks: [] });
    const error = await llm.invoke([new HumanMessage(HUGE)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextWindowExceededError);
    const exceeded = error as ContextWindowExceededError;
    // Reported from the lower bound: above every window, below the true count.
    expect(exceeded.estimatedTokens).toBeGreaterThan(withGemini ? 1_048_576 : 128_000);
    expect(Object.keys(exceeded.windows)).toHaveLength(withGemini ? 2 : 1);
    expect(bpe).not.toHaveBeenCalledWith(HUGE, expect.anything());
    expect(world.sim.stats(OPENAI).requests + world.sim.stats(GEMINI).requests).toBe(0);
  },
);

test("5 MB of Chinese is refused on the ideograph bound for a 128k window, without tokenizing", async () => {
  let seed = 3;
  const chars: string[] = [];
  for (let i = 0; i < 1_700_000; i++) {
    seed = (seed * 48271) % 2147483647;
    chars.push(String.fromCharCode(0x4e00 + (seed % 3500)));
  }
  const text = chars.join("");
  const bpe = jest.spyOn(encoders, "encodingTokens");
  const error = await world
    .picker({ fallbacks: [] })
    .invoke([new HumanMessage(text)])
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ContextWindowExceededError);
  expect(bpe).not.toHaveBeenCalledWith(text, expect.anything());
});

test("where neither bound decides (CJK text near a window), the exact count does", async () => {
  // 150 KB of Chinese: above 128k by bytes (the upper bound), far below by the lower bound
  // (~1/20 of the tokens), so only BPE can tell; it fits, and is sent.
  const cjk = "大型语言模型的上下文窗口以令牌为单位计算。".repeat(2_500);
  const bpe = jest.spyOn(encoders, "encodingTokens");
  const reply = await world.picker({ fallbacks: [] }).invoke([new HumanMessage(cjk)]);
  expect(reply.content).toMatch(/^Simulated answer/);
  expect(bpe).toHaveBeenCalledWith(cjk, "o200k_base");
});
