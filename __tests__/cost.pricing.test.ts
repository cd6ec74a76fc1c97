import { estimateCostUsd, PriceBook, splitModelName } from "../src/cost";
import { usdToMicrosCeil, usdToNanos } from "../src/cost/money";
import { AutoPickerConfigError } from "../src/errors";

// Per-1M-token prices copied from @pydantic/genai-prices 0.1.8's bundled data; every expected value
// below is computed by hand from them, not by the library.
const GPT_4O = { input: 2.5, cached: 1.25, output: 10 };
const GPT_4O_MINI = { input: 0.15, cached: 0.075, output: 0.6 };
const FLASH_LITE = { input: 0.1, cached: 0.01, output: 0.4 };
// gemini-2.5-pro: every token is billed at the higher rate once the prompt exceeds 200k tokens.
const PRO_BASE = { input: 1.25, cached: 0.125, output: 10 };
const PRO_LONG = { input: 2.5, cached: 0.25, output: 15 };

const book = new PriceBook();

describe("catalog prices", () => {
  test("gpt-4o: 12000 input (4000 cached), 800 output", () => {
    const cost = book.price("gpt-4o", { inputTokens: 12_000, cachedInputTokens: 4_000, outputTokens: 800 });
    // 8000 * 2.5/1M = 0.02; 4000 * 1.25/1M = 0.005; 800 * 10/1M = 0.008
    expect(cost?.input).toBeCloseTo((8_000 * GPT_4O.input) / 1e6, 12);
    expect(cost?.input).toBeCloseTo(0.02, 12);
    expect(cost?.cachedInput).toBeCloseTo(0.005, 12);
    expect(cost?.output).toBeCloseTo(0.008, 12);
    expect(cost?.reasoning).toBe(0);
    expect(cost?.total).toBeCloseTo(0.033, 12);
    expect(cost?.currency).toBe("USD");
    expect(cost?.source).toEqual({ kind: "catalog", providerId: "openai", modelId: "gpt-4o" });
  });

  test("gpt-4o-mini: 12000 input (4000 cached), 800 output", () => {
    const cost = book.price("gpt-4o-mini", {
      inputTokens: 12_000,
      cachedInputTokens: 4_000,
      outputTokens: 800,
    });
    // 8000 * 0.15/1M = 0.0012; 4000 * 0.075/1M = 0.0003; 800 * 0.6/1M = 0.00048
    expect(cost?.input).toBeCloseTo((8_000 * GPT_4O_MINI.input) / 1e6, 12);
    expect(cost?.cachedInput).toBeCloseTo((4_000 * GPT_4O_MINI.cached) / 1e6, 12);
    expect(cost?.output).toBeCloseTo((800 * GPT_4O_MINI.output) / 1e6, 12);
    expect(cost?.total).toBeCloseTo(0.00198, 12);
  });

  test("gemini-2.5-flash-lite: 50000 input (20000 cached), 1000 output", () => {
    const cost = book.price(
      "gemini-2.5-flash-lite",
      { inputTokens: 50_000, cachedInputTokens: 20_000, outputTokens: 1_000 },
      { provider: "google_genai" },
    );
    // 30000 * 0.1/1M = 0.003; 20000 * 0.01/1M = 0.0002; 1000 * 0.4/1M = 0.0004
    expect(cost?.input).toBeCloseTo((30_000 * FLASH_LITE.input) / 1e6, 12);
    expect(cost?.cachedInput).toBeCloseTo((20_000 * FLASH_LITE.cached) / 1e6, 12);
    expect(cost?.output).toBeCloseTo((1_000 * FLASH_LITE.output) / 1e6, 12);
    expect(cost?.total).toBeCloseTo(0.0036, 12);
    expect(cost?.source).toEqual({ kind: "catalog", providerId: "google", modelId: "gemini-2.5-flash-lite" });
  });

  test("gemini-2.5-pro under 200k: cached and reasoning tokens split out", () => {
    const cost = book.price("gemini-2.5-pro", {
      inputTokens: 100_000,
      cachedInputTokens: 40_000,
      outputTokens: 2_000,
      reasoningTokens: 500,
    });
    // 60000 * 1.25/1M = 0.075; 40000 * 0.125/1M = 0.005; 1500 * 10/1M = 0.015; 500 * 10/1M = 0.005
    expect(cost?.input).toBeCloseTo((60_000 * PRO_BASE.input) / 1e6, 12);
    expect(cost?.cachedInput).toBeCloseTo((40_000 * PRO_BASE.cached) / 1e6, 12);
    expect(cost?.output).toBeCloseTo((1_500 * PRO_BASE.output) / 1e6, 12);
    expect(cost?.reasoning).toBeCloseTo((500 * PRO_BASE.output) / 1e6, 12);
    expect(cost?.total).toBeCloseTo(0.1, 12);
  });

  test("gemini-2.5-pro over 200k: the long-context tier applies to every token", () => {
    const cost = book.price("gemini-2.5-pro", {
      inputTokens: 250_000,
      cachedInputTokens: 50_000,
      outputTokens: 2_000,
    });
    // 200000 * 2.5/1M = 0.5; 50000 * 0.25/1M = 0.0125; 2000 * 15/1M = 0.03
    expect(cost?.input).toBeCloseTo((200_000 * PRO_LONG.input) / 1e6, 12);
    expect(cost?.cachedInput).toBeCloseTo((50_000 * PRO_LONG.cached) / 1e6, 12);
    expect(cost?.output).toBeCloseTo((2_000 * PRO_LONG.output) / 1e6, 12);
    expect(cost?.total).toBeCloseTo(0.5425, 12);
  });

  test("gemini-2.5-pro at exactly 200k stays on the base tier", () => {
    const cost = book.price("gemini-2.5-pro", { inputTokens: 200_000, outputTokens: 0 });
    expect(cost?.total).toBeCloseTo((200_000 * PRO_BASE.input) / 1e6, 12);
  });

  test("dated snapshots and prefixed names resolve to the same price", () => {
    const u = { inputTokens: 1_000, outputTokens: 100 };
    const expected = (1_000 * GPT_4O.input + 100 * GPT_4O.output) / 1e6;
    expect(book.price("gpt-4o-2024-08-06", u)?.total).toBeCloseTo(expected, 12);
    expect(book.price("openai/gpt-4o", u)?.total).toBeCloseTo(expected, 12);
    expect(book.price("openai:gpt-4o", u)?.total).toBeCloseTo(expected, 12);
    expect(book.price("models/gemini-2.5-flash-lite", u)?.total).toBeCloseTo(
      (1_000 * FLASH_LITE.input + 100 * FLASH_LITE.output) / 1e6,
      12,
    );
  });

  test("inconsistent counts are clamped instead of throwing", () => {
    const cost = book.price("gpt-4o", { inputTokens: 100, cachedInputTokens: 500, outputTokens: 10 });
    // All 100 input tokens priced as cached.
    expect(cost?.total).toBeCloseTo((100 * GPT_4O.cached + 10 * GPT_4O.output) / 1e6, 12);
  });
});

describe("unknown models and overrides", () => {
  test("an unknown model has no price (null), never $0", () => {
    expect(book.price("my-finetune-7b", { inputTokens: 1_000, outputTokens: 10 })).toBeNull();
    expect(book.lookup("my-finetune-7b")).toBeNull();
    expect(estimateCostUsd("my-finetune-7b", 1_000, 10)).toBeNull();
  });

  test("an override beats the catalog, by bare or prefixed name", () => {
    const custom = new PriceBook({
      overrides: { "gpt-4o": { inputPer1M: 1, outputPer1M: 2, cachedInputPer1M: 0.5 } },
    });
    const cost = custom.price("openai/gpt-4o", {
      inputTokens: 3_000,
      cachedInputTokens: 1_000,
      outputTokens: 500,
    });
    // 2000 * 1/1M + 1000 * 0.5/1M + 500 * 2/1M = 0.002 + 0.0005 + 0.001
    expect(cost?.total).toBeCloseTo(0.0035, 12);
    expect(cost?.source.kind).toBe("override");
  });

  test("override without a cached price bills cache reads at the input price; reasoning at output", () => {
    const custom = new PriceBook({ overrides: { mine: { inputPer1M: 4, outputPer1M: 8 } } });
    const cost = custom.price("mine", {
      inputTokens: 1_000,
      cachedInputTokens: 600,
      outputTokens: 100,
      reasoningTokens: 40,
    });
    expect(cost?.cachedInput).toBeCloseTo((600 * 4) / 1e6, 12);
    expect(cost?.reasoning).toBeCloseTo((40 * 8) / 1e6, 12);
    expect(cost?.total).toBeCloseTo((1_000 * 4 + 100 * 8) / 1e6, 12);
  });

  test("the per-call pricing option is used only when the book has no override", () => {
    const custom = new PriceBook({ overrides: { "gpt-4o-mini": { inputPer1M: 1, outputPer1M: 1 } } });
    const stamped = { inputPer1M: 100, outputPer1M: 100 };
    expect(
      custom.price("gpt-4o-mini", { inputTokens: 1e6, outputTokens: 0 }, { pricing: stamped })?.total,
    ).toBe(1);
    expect(custom.price("gpt-4o", { inputTokens: 1e6, outputTokens: 0 }, { pricing: stamped })?.total).toBe(
      100,
    );
  });

  test("invalid overrides are rejected", () => {
    expect(() => new PriceBook({ overrides: { x: { inputPer1M: -1, outputPer1M: 1 } } })).toThrow(
      AutoPickerConfigError,
    );
    expect(() => new PriceBook({ overrides: { x: { inputPer1M: Number.NaN, outputPer1M: 1 } } })).toThrow(
      AutoPickerConfigError,
    );
  });
});

describe("estimateCostUsd", () => {
  test("prices input and output without cache hits", () => {
    expect(estimateCostUsd("gpt-4o-mini", 10_000, 1_000)).toBeCloseTo(
      (10_000 * GPT_4O_MINI.input + 1_000 * GPT_4O_MINI.output) / 1e6,
      12,
    );
    expect(estimateCostUsd("unknown-model", 10, 10, { inputPer1M: 3, outputPer1M: 6 })).toBeCloseTo(
      (10 * 3 + 10 * 6) / 1e6,
      12,
    );
  });

  test("orders models by price", () => {
    const cheapest = ["gpt-4o", "gemini-2.5-flash-lite", "gpt-4o-mini"].sort(
      (a, b) => (estimateCostUsd(a, 5_000, 500) ?? Infinity) - (estimateCostUsd(b, 5_000, 500) ?? Infinity),
    );
    expect(cheapest).toEqual(["gemini-2.5-flash-lite", "gpt-4o-mini", "gpt-4o"]);
  });
});

describe("model names and money", () => {
  test("splitModelName keeps non-provider slashes", () => {
    expect(splitModelName("openai/gpt-4o-mini")).toEqual({ provider: "openai", model: "gpt-4o-mini" });
    expect(splitModelName("google:models/gemini-2.5-pro")).toEqual({
      provider: "google",
      model: "gemini-2.5-pro",
    });
    expect(splitModelName("meta-llama/Llama-3-70b")).toEqual({ model: "meta-llama/Llama-3-70b" });
  });

  test("micro-dollar reservations round up; nano-dollar sums are exact", () => {
    expect(usdToMicrosCeil(0.0000015)).toBe(2);
    expect(usdToMicrosCeil(0.1 + 0.2)).toBe(300_000);
    expect(usdToMicrosCeil(0)).toBe(0);
    // 0.075/1M per token = 75 nano-dollars: exact.
    expect(usdToNanos((7 * 0.075) / 1e6)).toBe(525);
  });
});
