import { calcPrice, findProvider, type ModelPrice } from "@pydantic/genai-prices";
import { AutoPickerConfigError } from "../errors";

/** A price you set yourself, in US dollars per million tokens. */
export interface Pricing {
  inputPer1M: number;
  outputPer1M: number;
  /** Price of input tokens read from the provider's prompt cache. Default: `inputPer1M`. */
  cachedInputPer1M?: number;
}

/**
 * Token counts of one call, in LangChain's convention: `inputTokens` is the total and includes
 * cache reads and writes; `outputTokens` is the total and includes reasoning tokens.
 */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the prompt cache (part of `inputTokens`). */
  cachedInputTokens?: number;
  /** Input tokens written to the prompt cache (part of `inputTokens`; Anthropic bills them extra). */
  cacheWriteTokens?: number;
  /** Reasoning ("thinking") tokens (part of `outputTokens`). */
  reasoningTokens?: number;
}

/** Where a price came from. */
export type PriceSource =
  | { kind: "override"; pricing: Pricing }
  | { kind: "catalog"; providerId: string; modelId: string };

/**
 * The cost of one call in dollars, split so the parts add up to `total`. `input` is uncached input
 * (including cache writes), `output` excludes reasoning tokens. `total` may also include per-request
 * fees some catalog models charge.
 */
export interface CostBreakdown {
  input: number;
  cachedInput: number;
  output: number;
  reasoning: number;
  total: number;
  currency: "USD";
  source: PriceSource;
}

/** Options of {@link PriceBook.price}. */
export interface PriceOptions {
  /** Provider hint (`"openai"`, `"google"`, LangChain's `"google_genai"`...). Tried first, then the name alone. */
  provider?: string;
  /** Pricing to use when the book has no override for this model; it beats the catalog. */
  pricing?: Pricing;
  /** When the call happened (catalog prices can change over time). Default: now. */
  at?: Date;
}

/** Options of {@link PriceBook}. */
export interface PriceBookOptions {
  /** Your prices, keyed by model name (`"gpt-4o"` or `"openai/gpt-4o"`); they beat the catalog. */
  overrides?: Readonly<Record<string, Pricing>>;
}

const PER_MILLION = 1_000_000;

/**
 * Prices calls: your overrides first, then the `@pydantic/genai-prices` catalog bundled with the
 * package (no network). Knows cached-input and long-context tiers. Returns `null` for a model it
 * cannot price; it never guesses $0.
 */
export class PriceBook {
  private readonly overrides = new Map<string, Pricing>();

  constructor(options: PriceBookOptions = {}) {
    for (const [model, pricing] of Object.entries(options.overrides ?? {})) this.setOverride(model, pricing);
  }

  /** Sets (or replaces) your price for `model`. */
  setOverride(model: string, pricing: Pricing): void {
    validatePricing(model, pricing);
    this.overrides.set(model, pricing);
  }

  /** Where the price of `model` comes from, or `null` if nothing prices it. */
  lookup(model: string, options: Omit<PriceOptions, "at"> = {}): PriceSource | null {
    const override = this.findOverride(model) ?? options.pricing;
    if (override) return { kind: "override", pricing: override };
    const result = catalogPrice(
      model,
      normalizeUsage({ inputTokens: 0, outputTokens: 0 }),
      options.provider,
      new Date(),
    );
    return result ? result.source : null;
  }

  /** The cost of a call to `model` with `usage`, or `null` if the model has no known price. */
  price(model: string, usage: TokenUsage, options: PriceOptions = {}): CostBreakdown | null {
    const clean = normalizeUsage(usage);
    const override = this.findOverride(model) ?? options.pricing;
    if (override) return priceWithOverride(override, clean);
    return catalogPrice(model, clean, options.provider, options.at ?? new Date());
  }

  private findOverride(model: string): Pricing | undefined {
    return this.overrides.get(model) ?? this.overrides.get(splitModelName(model).model);
  }
}

const catalogOnly = new PriceBook();

/**
 * Estimated dollars for a call with the given token counts (no cache hits assumed), or `null` if
 * the model has no known price. For budget reservations and picking the cheapest model.
 */
export function estimateCostUsd(
  model: string,
  inputTokens: number,
  outputTokens: number,
  pricing?: Pricing,
): number | null {
  return catalogOnly.price(model, { inputTokens, outputTokens }, { pricing })?.total ?? null;
}

/**
 * Splits `"openai/gpt-4o"` or `"openai:gpt-4o"` into provider and model when the prefix is a
 * provider the catalog knows, and drops Gemini's `"models/"` prefix. Names like
 * `"meta-llama/Llama-3-70b"` stay whole.
 */
export function splitModelName(name: string): { provider?: string; model: string } {
  const bare = name.startsWith("models/") ? name.slice("models/".length) : name;
  const match = /^([A-Za-z0-9_.-]+)[/:](.+)$/.exec(bare);
  if (match?.[1] && match[2] && findProvider({ providerId: match[1] })) {
    const model = match[2].startsWith("models/") ? match[2].slice("models/".length) : match[2];
    return { provider: match[1], model };
  }
  return { model: bare };
}

interface CleanUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

/** Clamps parts to their totals: providers occasionally report inconsistent counts, and the catalog throws on them. */
function normalizeUsage(usage: TokenUsage): CleanUsage {
  const count = (n: number | undefined) => (Number.isFinite(n) && (n as number) > 0 ? (n as number) : 0);
  const inputTokens = count(usage.inputTokens);
  const outputTokens = count(usage.outputTokens);
  const cachedInputTokens = Math.min(count(usage.cachedInputTokens), inputTokens);
  const cacheWriteTokens = Math.min(count(usage.cacheWriteTokens), inputTokens - cachedInputTokens);
  const reasoningTokens = Math.min(count(usage.reasoningTokens), outputTokens);
  return { inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens, reasoningTokens };
}

function validatePricing(model: string, pricing: Pricing): void {
  const prices = [pricing.inputPer1M, pricing.outputPer1M, pricing.cachedInputPer1M ?? 0];
  if (!prices.every((p) => typeof p === "number" && Number.isFinite(p) && p >= 0)) {
    throw new AutoPickerConfigError(
      `Pricing for "${model}" must be finite, non-negative dollars per million tokens.`,
    );
  }
}

function priceWithOverride(pricing: Pricing, usage: CleanUsage): CostBreakdown {
  const input = ((usage.inputTokens - usage.cachedInputTokens) * pricing.inputPer1M) / PER_MILLION;
  const cachedInput =
    (usage.cachedInputTokens * (pricing.cachedInputPer1M ?? pricing.inputPer1M)) / PER_MILLION;
  const output = ((usage.outputTokens - usage.reasoningTokens) * pricing.outputPer1M) / PER_MILLION;
  const reasoning = (usage.reasoningTokens * pricing.outputPer1M) / PER_MILLION;
  return {
    input,
    cachedInput,
    output,
    reasoning,
    total: input + cachedInput + output + reasoning,
    currency: "USD",
    source: { kind: "override", pricing },
  };
}

function catalogPrice(
  name: string,
  usage: CleanUsage,
  providerHint: string | undefined,
  at: Date,
): CostBreakdown | null {
  const { provider: namedProvider, model } = splitModelName(name);
  const genaiUsage = {
    input_tokens: usage.inputTokens,
    cache_read_tokens: usage.cachedInputTokens,
    cache_write_tokens: usage.cacheWriteTokens,
    output_tokens: usage.outputTokens,
    output_reasoning_tokens: usage.reasoningTokens,
  };
  // The provider named in the model string is the most specific hint, then the caller's, then
  // the catalog's own matching on the model name.
  const candidates = [namedProvider, providerHint, undefined].filter(
    (p, i, all) => all.indexOf(p) === i && (p === undefined || findProvider({ providerId: p })),
  );
  for (const providerId of candidates) {
    let result: ReturnType<typeof calcPrice>;
    try {
      result = calcPrice(genaiUsage, model, { providerId, timestamp: at });
    } catch {
      // Malformed catalog data for this entry: treat as unpriced rather than failing the call.
      result = null;
    }
    if (!result) continue;
    const tierInput = usage.inputTokens;
    const modelPrice = result.model_price;
    const cachedInput =
      (usage.cachedInputTokens * perMillion(modelPrice, ["cache_read_mtok", "input_mtok"], tierInput)) /
      PER_MILLION;
    const reasoning =
      (usage.reasoningTokens * perMillion(modelPrice, ["output_reasoning_mtok", "output_mtok"], tierInput)) /
      PER_MILLION;
    return {
      // The catalog reports input and output totals; splitting off the cached and reasoning parts
      // keeps its tier and conditional-price logic authoritative for the total.
      input: Math.max(0, result.input_price - cachedInput),
      cachedInput,
      output: Math.max(0, result.output_price - reasoning),
      reasoning,
      total: result.total_price,
      currency: "USD",
      source: { kind: "catalog", providerId: result.provider.id, modelId: result.model.id },
    };
  }
  return null;
}

/** The first of `keys` the model prices, resolved to its tier for `inputTokens` (tiers start after `start`). */
function perMillion(prices: ModelPrice, keys: readonly string[], inputTokens: number): number {
  for (const key of keys) {
    const price = prices[key];
    if (price === undefined) continue;
    if (typeof price === "number") return price;
    let current = price.base;
    for (const tier of price.tiers) if (inputTokens > tier.start) current = tier.price;
    return current;
  }
  return 0;
}
