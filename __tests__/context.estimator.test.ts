import {
  AIMessage,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import fc from "fast-check";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";
import { z } from "zod";
import {
  countTextTokens,
  IMAGE_TOKENS,
  LOW_DETAIL_IMAGE_TOKENS,
  MAX_CORRECTION,
  preloadEncoder,
  TOOLS_OVERHEAD_TOKENS,
  TokenEstimator,
} from "../src/context";
import { AutoPickerConfigError } from "../src/errors";

// The reference is built here, independently of src: plain js-tiktoken and OpenAI's chat formula
// (3 per message + role + content, +1 and the name for a name, +3 reply priming).
const refEncoders = { o200k: new Tiktoken(o200k), cl100k: new Tiktoken(cl100k) };
const ROLE: Record<string, string> = { human: "user", ai: "assistant", system: "system", tool: "tool" };
function reference(messages: BaseMessage[], enc: Tiktoken): number {
  const n = (s: string) => enc.encode(s, [], []).length;
  let total = 3;
  for (const m of messages) {
    total += 3 + n(ROLE[m.type]!) + n(m.content as string);
    if (m.name) total += 1 + n(m.name);
  }
  return total;
}

const CORPUS: Record<string, string> = {
  prose:
    "Context windows are measured in tokens, not characters. A careful router estimates the prompt, adds the output " +
    "allowance, and only then decides which model can take the call. Overestimating costs a little quality; " +
    "underestimating costs a failed request and a retry.",
  code: `export function debounce<T extends (...args: unknown[]) => void>(fn: T, ms = 250) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: Parameters<T>) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
for (let i = 0; i < 10; i++) { console.log(i ** 2, i % 3 === 0 ? "fizz" : i); }`,
  json: JSON.stringify({
    orders: Array.from({ length: 25 }, (_, i) => ({
      id: `ord_${i}`,
      total: i * 13.37,
      items: ["a", "b"],
      paid: i % 2 === 0,
    })),
  }),
  chinese:
    "大型语言模型的上下文窗口以令牌为单位计算。在调用模型之前，我们需要估计提示的长度，并加上输出的预留量，" +
    "然后选择一个能够容纳整个请求的模型。如果估计过低，请求就会失败。",
  arabic:
    "تُقاس نافذة السياق في النماذج اللغوية الكبيرة بالرموز وليس بالأحرف. يجب تقدير طول الطلب قبل إرساله واختيار النموذج المناسب.",
  emoji: "Deploy went fine 🎉🚀 — tests green ✅, latency down 📉, on-call happy 😊👍🏽 👨‍👩‍👧‍👦 🇫🇷",
  mixed:
    "Résumé: naïve café, Straße, Ελληνικά, русский текст, हिन्दी, 日本語のテキスト, 한국어 — <|endoftext|> stays text.",
};

function conversation(text: string): BaseMessage[] {
  return [
    new SystemMessage("You are a precise assistant."),
    new HumanMessage({ content: text, name: "alice" }),
    new AIMessage(text.split("").reverse().join("")),
    new HumanMessage(`Again, shorter: ${text.slice(0, 80)}`),
  ];
}

describe("TokenEstimator.estimate accuracy (OpenAI formula)", () => {
  const estimator = new TokenEstimator();

  test.each(Object.entries(CORPUS))("%s on gpt-4o-mini matches o200k exactly", (_, text) => {
    const messages = conversation(text);
    expect(estimator.estimate(messages, { model: "openai/gpt-4o-mini" })).toBe(
      reference(messages, refEncoders.o200k),
    );
  });

  test.each(Object.entries(CORPUS))("%s on gpt-4 matches cl100k exactly", (_, text) => {
    const messages = conversation(text);
    expect(estimator.estimate(messages, { model: "gpt-4-0613" })).toBe(
      reference(messages, refEncoders.cl100k),
    );
  });

  test("pathological long runs are chunked: never under, at most one token per cut over", () => {
    preloadEncoder("gpt-4o");
    const runs = [
      "的".repeat(10) + "大型语言模型上下文窗口令牌估计".repeat(40), // 610 CJK characters, no punctuation
      "a".repeat(900),
      "=".repeat(700) + "\n" + " ".repeat(500) + "end",
    ];
    // What BPE is handed decides the cost (O(n²) per piece: an unchunked 900-letter run takes ~0.35 s
    // to ~1 s): no encode call may receive a run of one class longer than 64 characters.
    const LONG = /[\p{L}\p{M}]{65,}|[^\s\p{L}\p{N}]{65,}|\s{65,}/u;
    for (const text of runs) {
      const messages = [new HumanMessage(text)];
      const exact = reference(messages, refEncoders.o200k);
      const encode = jest.spyOn(Tiktoken.prototype, "encode");
      const estimate = new TokenEstimator().estimate(messages, { model: "gpt-4o" });
      const inputs = encode.mock.calls.map((c) => String(c[0]));
      encode.mockRestore();
      expect(inputs.length).toBeGreaterThan(1);
      expect(inputs.filter((t) => LONG.test(t))).toEqual([]);
      expect(estimate).toBeGreaterThanOrEqual(exact);
      expect(estimate - exact).toBeLessThanOrEqual(Math.ceil(text.length / 64));
    }
    const cjk = [new HumanMessage(runs[0]!)];
    const exact = reference(cjk, refEncoders.o200k);
    expect(new TokenEstimator().estimate(cjk, { model: "gpt-4o" }) / exact).toBeLessThan(1.02);
  });

  test("non-OpenAI families are o200k counts scaled by their documented default", () => {
    const messages = conversation(CORPUS.prose!);
    const exact = reference(messages, refEncoders.o200k);
    expect(estimator.estimate(messages, { model: "gemini/gemini-2.5-flash" })).toBe(Math.ceil(exact * 1.1));
    expect(estimator.estimate(messages, { model: "anthropic/claude-sonnet-4-5" })).toBe(
      Math.ceil(exact * 1.25),
    );
    expect(estimator.estimate(messages, { model: "some-unknown-model" })).toBe(Math.ceil(exact * 1.2));
  });

  test("countTextTokens is exact for OpenAI and scaled for other families", () => {
    const text = CORPUS.code!;
    const exact = refEncoders.o200k.encode(text, [], []).length;
    expect(countTextTokens(text, "gpt-4o")).toBe(exact);
    expect(countTextTokens(text, "claude-3-5-haiku")).toBe(Math.ceil(exact * 1.25));
    expect(countTextTokens("", "gpt-4o")).toBe(0);
  });
});

describe("TokenEstimator: tools, tool calls, media", () => {
  const estimator = new TokenEstimator();
  const enc = refEncoders.o200k;
  const n = (s: string) => enc.encode(s, [], []).length;
  const base = [new HumanMessage("What is the weather in Paris?")];

  test("tool definitions add their JSON schema and a fixed overhead", () => {
    const weather = tool(async () => "sunny", {
      name: "get_weather",
      description: "Current weather for a city",
      schema: z.object({ city: z.string().describe("City name"), unit: z.enum(["c", "f"]).optional() }),
    });
    const dict = {
      type: "function",
      function: {
        name: "lookup",
        description: "Look up a record",
        parameters: { type: "object", properties: {} },
      },
    };
    const without = estimator.estimate(base, { model: "gpt-4o" });
    const withDict = estimator.estimate(base, { model: "gpt-4o", tools: [dict] });
    expect(withDict - without).toBe(TOOLS_OVERHEAD_TOKENS + n(JSON.stringify(dict.function)));
    const withBoth = estimator.estimate(base, { model: "gpt-4o", tools: [dict, weather] });
    // The zod schema is converted to JSON schema: its field names and descriptions are counted.
    expect(withBoth - withDict).toBeGreaterThan(
      n("get_weather Current weather for a city city City name unit"),
    );
  });

  test("AI tool calls count name and JSON arguments; tool results count their content", () => {
    const call = new AIMessage({
      content: "",
      tool_calls: [
        { id: "call_1", name: "get_weather", args: { city: "Paris", unit: "c" }, type: "tool_call" },
      ],
    });
    const result = new ToolMessage({ content: "18°C, light rain", tool_call_id: "call_1" });
    const plain = estimator.estimate(base, { model: "gpt-4o" });
    const withCall = estimator.estimate([...base, call], { model: "gpt-4o" });
    expect(withCall - plain).toBe(
      3 + n("assistant") + 3 + n("get_weather") + n('{"city":"Paris","unit":"c"}'),
    );
    const withResult = estimator.estimate([...base, call, result], { model: "gpt-4o" });
    expect(withResult - withCall).toBe(3 + n("tool") + n("18°C, light rain"));
  });

  test("images cost a flat amount and base64 payloads are never tokenized", () => {
    const huge = `data:image/png;base64,${"iVBORw0KGgo".repeat(50_000)}`;
    const msg = (detail?: string) =>
      new HumanMessage({
        content: [
          { type: "text", text: "Describe this." },
          { type: "image_url", image_url: detail ? { url: huge, detail } : { url: huge } },
        ],
      });
    const textOnly = estimator.estimate(
      [new HumanMessage({ content: [{ type: "text", text: "Describe this." }] })],
      {
        model: "gpt-4o",
      },
    );
    expect(estimator.estimate([msg()], { model: "gpt-4o" }) - textOnly).toBe(IMAGE_TOKENS);
    expect(estimator.estimate([msg("low")], { model: "gpt-4o" }) - textOnly).toBe(LOW_DETAIL_IMAGE_TOKENS);
  });
});

describe("TokenEstimator caching", () => {
  test("a growing conversation only tokenizes the new message", () => {
    const estimator = new TokenEstimator();
    const history: BaseMessage[] = [new SystemMessage("You are terse.")];
    for (let i = 0; i < 20; i++)
      history.push(new HumanMessage(`question number ${i} about tokens ${"x ".repeat(i)}`));
    estimator.estimate(history, { model: "gpt-4o" });
    const spy = jest.spyOn(Tiktoken.prototype, "encode");
    try {
      history.push(new AIMessage("A brand new answer that was never seen before, unique-marker-42."));
      const first = estimator.estimate(history, { model: "gpt-4o" });
      const encodedTexts = spy.mock.calls.map((c) => c[0]);
      expect(encodedTexts).toEqual(
        expect.arrayContaining(["A brand new answer that was never seen before, unique-marker-42."]),
      );
      expect(encodedTexts.some((t) => t.includes("question number"))).toBe(false);
      spy.mockClear();
      expect(estimator.estimate(history, { model: "gpt-4o" })).toBe(first);
      expect(spy).not.toHaveBeenCalled();
      // Fresh message objects with known content hit the per-string cache instead.
      estimator.estimate(
        history.map((m) => new HumanMessage(m.content as string)),
        { model: "gpt-4o" },
      );
      expect(spy.mock.calls.every((c) => c[0].length < 16)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  test("a message whose content is replaced is recounted", () => {
    const estimator = new TokenEstimator();
    const message = new HumanMessage("short");
    const before = estimator.estimate([message], { model: "gpt-4o" });
    message.content = "a considerably longer content than before, with many more tokens in it";
    expect(estimator.estimate([message], { model: "gpt-4o" })).toBe(reference([message], refEncoders.o200k));
    expect(estimator.estimate([message], { model: "gpt-4o" })).toBeGreaterThan(before);
  });
});

describe("TokenEstimator.learn", () => {
  const messages = [new HumanMessage(CORPUS.prose!.repeat(30))]; // ~1,500 tokens: rounding noise < 0.1%

  test("converges to the observed ratio", () => {
    const estimator = new TokenEstimator();
    const raw = estimator.estimate(messages, { model: "openai/gpt-4o" });
    for (let i = 0; i < 40; i++) {
      const estimated = estimator.estimate(messages, { model: "openai/gpt-4o" });
      estimator.learn("openai/gpt-4o", estimated, Math.round(raw * 1.3));
    }
    expect(estimator.correction("openai/gpt-4o")).toBeCloseTo(1.3, 2);
    expect(estimator.estimate(messages, { model: "openai/gpt-4o" })).toBeGreaterThanOrEqual(
      Math.round(raw * 1.3) - 1,
    );
    // Learned per entry name: the same id under another name is untouched.
    expect(estimator.correction("azure/gpt-4o")).toBe(1);
  });

  test("starts from the family default and moves down for a tokenizer denser than assumed", () => {
    const estimator = new TokenEstimator();
    const model = "gemini/gemini-2.5-flash";
    expect(estimator.correction(model)).toBe(1.1);
    const raw = new TokenEstimator({ corrections: { [model]: 1 } }).estimate(messages, { model });
    for (let i = 0; i < 40; i++)
      estimator.learn(model, estimator.estimate(messages, { model }), Math.round(raw * 0.9));
    expect(estimator.correction(model)).toBeCloseTo(0.9, 2);
  });

  test("is clamped and ignores nonsense", () => {
    const estimator = new TokenEstimator();
    for (let i = 0; i < 50; i++) estimator.learn("gpt-4o", 1000, 1_000_000);
    expect(estimator.correction("gpt-4o")).toBe(MAX_CORRECTION);
    const other = new TokenEstimator();
    other.learn("gpt-4o", 1000, Number.NaN);
    other.learn("gpt-4o", 10, 5000); // tiny prompt: framing noise
    other.learn("gpt-4o", 1000, 0);
    expect(other.correction("gpt-4o")).toBe(1);
    for (let i = 0; i < 50; i++) other.learn("gpt-4o", 1000, 1);
    expect(other.correction("gpt-4o")).toBe(0.5);
  });

  test("configured corrections replace family defaults and are validated", () => {
    const estimator = new TokenEstimator({ corrections: { "claude-sonnet-4-5": 1.4 } });
    expect(estimator.correction("anthropic/claude-sonnet-4-5")).toBe(1.4);
    expect(() => new TokenEstimator({ corrections: { x: 0 } })).toThrow(AutoPickerConfigError);
    expect(() => new TokenEstimator({ corrections: { x: Number.NaN } })).toThrow(AutoPickerConfigError);
  });
});

describe("TokenEstimator.upperBound", () => {
  const text = fc.oneof(
    fc.string({ unit: "binary", maxLength: 200 }), // any UTF-16 code unit, lone surrogates included
    fc.string({ unit: "grapheme", maxLength: 200 }),
    fc.string({ unit: fc.constantFrom("a", "的", " ", "=", "\n", "😊", "7"), maxLength: 300 }),
  );
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
        {
          maxLength: 4,
        },
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
  const model = fc.constantFrom("gpt-4o", "gpt-4", "gemini-2.5-flash", "claude-3-5-haiku", "mystery-7b");

  test("is never below estimate", () => {
    const estimator = new TokenEstimator();
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), tools, model, (messages, toolDefs, m) => {
        const options = { model: m, tools: toolDefs };
        expect(estimator.upperBound(messages, options)).toBeGreaterThanOrEqual(
          estimator.estimate(messages, options),
        );
      }),
      { numRuns: 300 },
    );
  });

  test("stays above estimate after learning moves the correction", () => {
    const estimator = new TokenEstimator();
    for (let i = 0; i < 30; i++) estimator.learn("gpt-4o", 1000, 2400);
    const messages = conversation(CORPUS.emoji!);
    expect(estimator.upperBound(messages, { model: "gpt-4o" })).toBeGreaterThanOrEqual(
      estimator.estimate(messages, { model: "gpt-4o" }),
    );
  });
});
