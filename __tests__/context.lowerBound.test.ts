import {
  AIMessage,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from "@langchain/core/messages";
import fc from "fast-check";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";
import { TokenEstimator } from "../src/context";
import { encodingTokens } from "../src/context/encoders";
import { lowerBoundCounts, lowerBoundTokens, MAX_PER_TOKEN } from "../src/context/lowerBound";
import type { EncodingName } from "../src/context/tokenizerFamily";

// Plain js-tiktoken, without the estimator's long-run guard: the bound must hold for both.
const plain: Record<EncodingName, Tiktoken> = {
  o200k_base: new Tiktoken(o200k),
  cl100k_base: new Tiktoken(cl100k),
};
const ENCODINGS = ["o200k_base", "cl100k_base"] as const;
// The pre-tokenizer itself: the bound's proof is about its pieces (tokens >= pieces), so the
// property checks the bound against the pieces too, the tighter of the two.
const splitter: Record<EncodingName, RegExp> = {
  o200k_base: new RegExp(o200k.pat_str, "gu"),
  cl100k_base: new RegExp(cl100k.pat_str, "gu"),
};
const pieces = (s: string, encoding: EncodingName) => s.match(splitter[encoding])?.length ?? 0;

// Characters chosen to sit on every edge of the two pre-tokenizer patterns: contractions, case
// changes (Lu/Lt/Lm), marks, symbols before letters, \r\n and "/" tails, non-ASCII digits,
// non-ASCII spaces and symbols, surrogate pairs and lone surrogates, ASCII control characters.
const EDGES = [
  ..."aZst'  \t\n\r/.!(_-7093",
  "한",
  "ꀀ",
  "𠀀",
  "é",
  "\u0301",
  "ǅ",
  "ʰ",
  "的",
  "😊",
  "\ud800",
  "\udc00",
  "١",
  "１",
  "—",
  "€",
  "\u00a0",
  "\u3000",
  "\x1c",
  "\x00",
  "ß",
  "ก",
];
const text = fc.oneof(
  fc.string({ unit: fc.constantFrom(...EDGES), maxLength: 120 }),
  fc.string({ unit: "binary", maxLength: 120 }),
  fc.string({ unit: "grapheme", maxLength: 120 }),
  fc.string({ unit: fc.constantFrom(...EDGES), minLength: 60, maxLength: 400 }),
  // Long runs, cut by the guard at 64 characters.
  fc
    .tuple(fc.constantFrom("a", "!", " ", "的", "—", "'"), fc.integer({ min: 60, max: 200 }), fc.string())
    .map(([c, n, tail]) => c.repeat(n) + tail),
);

describe("lowerBoundTokens", () => {
  test.each(ENCODINGS)("is never above the exact count under %s (property)", (encoding) => {
    fc.assert(
      fc.property(text, (s) => {
        const bound = lowerBoundTokens(s, encoding);
        expect(lowerBoundCounts(s).pieces).toBeLessThanOrEqual(pieces(s, encoding));
        expect(bound).toBeLessThanOrEqual(encodingTokens(s, encoding));
        expect(bound).toBeLessThanOrEqual(plain[encoding].encode(s, [], []).length);
      }),
      { numRuns: 1500 },
    );
  });

  test.each([
    ["it's", 1],
    ["don't.", 2],
    ["'hello'", 2],
    ["1234567", 3],
    ["a, b", 3],
    ["x!!y", 3],
    ["f(x)", 3],
    ["", 0],
  ])("%j has at least %i pieces", (s, pieces) => {
    expect(lowerBoundTokens(s, "o200k_base")).toBe(pieces);
  });

  test.each(ENCODINGS)("MAX_PER_TOKEN[%s] holds the most bytes of each class in any token", (encoding) => {
    const ranks = encoding === "o200k_base" ? o200k : cl100k;
    const classes = {
      highBytes: [0x80, 0xff],
      ideographs: [0xe4, 0xe9],
      hangul: [0xea, 0xed],
      astral: [0xf0, 0xf4],
    } as const;
    const most = { highBytes: 0, ideographs: 0, hangul: 0, astral: 0 };
    for (const line of ranks.bpe_ranks.split("\n")) {
      for (const token of line.split(" ").slice(2)) {
        const bytes = Buffer.from(token, "base64");
        for (const [name, [lo, hi]] of Object.entries(classes) as [
          keyof typeof most,
          readonly [number, number],
        ][]) {
          let n = 0;
          for (const byte of bytes) if (byte >= lo && byte <= hi) n++;
          most[name] = Math.max(most[name], n);
        }
      }
    }
    expect(MAX_PER_TOKEN[encoding]).toEqual(most);
  });

  test("is a useful fraction of the exact count on prose, code and JSON; weak on CJK", () => {
    const prose =
      "Context windows are measured in tokens, not characters. A careful router estimates the prompt, adds " +
      "the output allowance, and only then decides which model can take the call.";
    const code = 'for (let i = 0; i < 10; i++) { console.log(i ** 2, i % 3 === 0 ? "fizz" : i); }';
    const json = JSON.stringify({ orders: [{ id: "ord_1", total: 13.37, items: ["a", "b"], paid: true }] });
    const cjk = "大型语言模型的上下文窗口以令牌为单位计算。在调用模型之前，我们需要估计提示的长度。";
    const ratio = (s: string) => lowerBoundTokens(s, "o200k_base") / encodingTokens(s, "o200k_base");
    expect(ratio(prose)).toBeGreaterThan(0.75);
    expect(ratio(code)).toBeGreaterThan(0.6);
    expect(ratio(json)).toBeGreaterThan(0.6);
    expect(ratio(cjk)).toBeLessThan(0.2);
  });
});

describe("TokenEstimator.lowerBound", () => {
  const toolCall = fc.record({
    id: fc.string(),
    name: text,
    args: fc.dictionary(fc.string(), fc.jsonValue()),
  });
  const message: fc.Arbitrary<BaseMessage> = fc.oneof(
    text.map((t) => new SystemMessage(t)),
    fc
      .tuple(text, fc.option(text, { nil: undefined }))
      .map(([t, name]) => new HumanMessage({ content: t, name })),
    fc
      .tuple(text, fc.array(toolCall, { maxLength: 3 }))
      .map(
        ([t, calls]) =>
          new AIMessage({ content: t, tool_calls: calls.map((c) => ({ ...c, type: "tool_call" as const })) }),
      ),
    fc.tuple(text, fc.string()).map(([t, id]) => new ToolMessage({ content: t, tool_call_id: id })),
    fc
      .array(
        fc.oneof(
          text.map((t) => ({ type: "text", text: t })),
          fc.constant({ type: "image_url", image_url: { url: "data:x" } }),
        ),
        { maxLength: 4 },
      )
      .map((blocks) => new HumanMessage({ content: blocks })),
  );
  const tools = fc.array(
    fc.record({
      type: fc.constant("function"),
      function: fc.record({ name: text, description: text, parameters: fc.jsonValue() }),
    }),
    { maxLength: 3 },
  );
  // Every family: exact OpenAI encodings and the scaled ones, with learned corrections either way.
  const model = fc.constantFrom("gpt-4o", "gpt-4", "gemini-2.5-flash", "claude-3-5-haiku", "mystery-7b");

  test("is never above estimate, whatever the family, tools and learned correction (property)", () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 6 }),
        tools,
        model,
        fc.option(fc.double({ min: 0.3, max: 3, noNaN: true }), { nil: undefined }),
        (messages, toolDefs, m, ratio) => {
          const estimator = new TokenEstimator();
          if (ratio !== undefined) for (let i = 0; i < 20; i++) estimator.learn(m, 1000, 1000 * ratio);
          const options = { model: m, tools: toolDefs };
          const estimate = estimator.estimate(messages, options);
          expect(estimator.lowerBound(messages, options)).toBeLessThanOrEqual(estimate);
          expect(estimator.upperBound(messages, options)).toBeGreaterThanOrEqual(estimate);
        },
      ),
      { numRuns: 400 },
    );
  });

  test("counts framing like estimate: an empty conversation is exact", () => {
    const estimator = new TokenEstimator();
    const messages = [new HumanMessage("")];
    expect(estimator.lowerBound(messages, { model: "gpt-4o" })).toBe(
      estimator.estimate(messages, { model: "gpt-4o" }),
    );
  });
});
