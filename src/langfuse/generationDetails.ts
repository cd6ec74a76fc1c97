import type { LLMResult } from "@langchain/core/outputs";
import { asRecord, type FullTokenUsage, readCallReport } from "../cost/callUsage";
import type { CostBreakdown, PriceBook } from "../cost/pricing";
import { identifyServedModel, type RunStartInfo } from "../cost/servedModel";

/** Non-overlapping usage keys, as Langfuse sums them: `input` excludes cache reads, `output` excludes reasoning. */
export interface LangfuseUsageDetails {
  input: number;
  input_cache_read: number;
  output: number;
  output_reasoning?: number;
  [key: string]: number | undefined;
}

/** What this package adds to a generation observation when its run ends. */
export interface GenerationDetails {
  /** The model that served (provider id when the provider named it). */
  model?: string;
  usageDetails?: Record<string, number>;
  /** Dollars per usage key plus `total` (Langfuse infers nothing once this is set). */
  costDetails?: Record<string, number>;
  metadata: Record<string, unknown>;
  /** Set when the call could not be priced: the model name we tried and why. */
  unpriced?: { model: string | null; reason: "unknown_model" | "no_usage" };
}

/**
 * Reads a finished chat-model run the way the cost module does (served model, usage, PriceBook) and
 * turns it into Langfuse generation attributes. Pricing is the cost module's; only the key mapping
 * lives here.
 */
export function describeGeneration(
  output: LLMResult,
  start: RunStartInfo | undefined,
  priceBook: PriceBook,
  options: { cached?: boolean; at?: Date } = {},
): GenerationDetails {
  const report = readCallReport(output);
  const served = identifyServedModel(report.responseMetadata, start);
  const providerModel =
    stringOr(report.responseMetadata.model_name) ?? stringOr(report.responseMetadata.model);
  const model = providerModel ?? served.model ?? undefined;
  const metadata: Record<string, unknown> = { ...trailMetadata(report.responseMetadata.autopicker) };
  const details: GenerationDetails = { ...(model ? { model } : {}), metadata };

  // A LangChain cache hit: no provider call, nothing billed.
  if (options.cached) {
    details.costDetails = { total: 0 };
    metadata.cost_usd = 0;
    return details;
  }
  if (!report.usage) {
    details.unpriced = { model: served.model, reason: "no_usage" };
    return details;
  }
  details.usageDetails = usageDetails(report.usage) as Record<string, number>;
  const cost = served.model
    ? priceBook.price(served.model, report.usage, {
        ...(served.provider ? { provider: served.provider } : {}),
        ...(served.pricing ? { pricing: served.pricing } : {}),
        ...(options.at ? { at: options.at } : {}),
      })
    : null;
  if (!cost) {
    details.unpriced = { model: served.model, reason: "unknown_model" };
    return details;
  }
  details.costDetails = costDetails(cost, report.usage);
  metadata.cost_usd = cost.total;
  return details;
}

/** Usage in Langfuse's non-overlapping keys (cache writes stay in `input`, as the price book bills them). */
export function usageDetails(usage: FullTokenUsage): LangfuseUsageDetails {
  const details: LangfuseUsageDetails = {
    input: Math.max(0, usage.inputTokens - usage.cachedInputTokens),
    input_cache_read: usage.cachedInputTokens,
    output: Math.max(0, usage.outputTokens - usage.reasoningTokens),
  };
  if (usage.reasoningTokens > 0) details.output_reasoning = usage.reasoningTokens;
  return details;
}

function costDetails(cost: CostBreakdown, usage: FullTokenUsage): Record<string, number> {
  return {
    input: cost.input,
    input_cache_read: cost.cachedInput,
    output: cost.output,
    // Same key as the usage, so Langfuse shows reasoning cost next to reasoning tokens.
    ...(usage.reasoningTokens > 0 ? { output_reasoning: cost.reasoning } : {}),
    // Always sent: with explicit cost details Langfuse does not compute a total itself.
    total: cost.total,
  };
}

/**
 * The AutoPickerChatModel decision trail, flattened for Langfuse metadata (flattened one level there,
 * so each part gets its own key and stays filterable). Attempt errors are already redacted.
 */
function trailMetadata(value: unknown): Record<string, unknown> {
  const trail = asRecord(value);
  if (Object.keys(trail).length === 0) return {};
  const attempts = Array.isArray(trail.attempts)
    ? trail.attempts.map((a) => {
        const r = asRecord(a);
        return {
          model: r.model,
          outcome: r.outcome,
          waited_ms: r.waitedMs,
          ...(typeof r.error === "string" ? { error: r.error } : {}),
        };
      })
    : [];
  return {
    autopicker_model: trail.model,
    attempts,
    waited_ms: typeof trail.waited_ms === "number" ? trail.waited_ms : 0,
    ...(typeof trail.fallback_reason === "string" ? { fallback_reason: trail.fallback_reason } : {}),
    ...(typeof trail.fallback_from === "string" ? { fallback_from: trail.fallback_from } : {}),
    ...(trail.degraded === true ? { degraded: true } : {}),
  };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
