import type { LLMResult } from "@langchain/core/outputs";
import { asRecord, type FullTokenUsage, readCallReport } from "../cost/callUsage";
import { type CostBreakdown, type PriceBook, splitModelName } from "../cost/pricing";
import { identifyServedModel, type RunStartInfo } from "../cost/servedModel";
import type { DecisionTrail } from "../model/types";

/** Non-overlapping usage keys, as Langfuse sums them: `input` excludes cache reads, `output` excludes reasoning. */
export interface LangfuseUsageDetails {
  input: number;
  input_cache_read: number;
  output: number;
  output_reasoning?: number;
}

/** What this package adds to a generation observation when its run ends. */
export interface GenerationDetails {
  /**
   * The model that served, as Langfuse matches model names (its price table accepts the provider's
   * own id, `gpt-4o-mini-2024-07-18`, `gemini-2.5-flash`): the provider's `model_name`, else the
   * served id without its provider prefix.
   */
  model?: string;
  /** The picker's entry that served, to name the observation after; absent for other models. */
  servedEntry?: string;
  usageDetails?: LangfuseUsageDetails;
  /** Dollars per usage key plus `total` (Langfuse infers nothing once this is set). */
  costDetails?: Record<string, number>;
  /** Langfuse metadata: snake_case, flattened one level by Langfuse. */
  metadata: Record<string, unknown>;
  /** Set when the call could not be priced: the model name we tried and why. */
  unpriced?: { model: string | null; reason: "unknown_model" | "no_usage" };
}

/**
 * Reads a finished chat-model run exactly as `CostTrackingCallbackHandler` does (served model,
 * usage, PriceBook) and turns it into Langfuse generation attributes. Pricing is the cost
 * module's; only the mapping to Langfuse's keys lives here.
 */
export function describeGeneration(
  output: LLMResult,
  start: RunStartInfo | undefined,
  priceBook: PriceBook,
  options: { cached?: boolean; at?: Date } = {},
): GenerationDetails {
  const report = readCallReport(output);
  const served = identifyServedModel(report.responseMetadata, start);
  const trail = readTrail(report.responseMetadata.autopicker);
  const providerModel =
    nonEmpty(report.responseMetadata.model_name) ?? nonEmpty(report.responseMetadata.model);
  const model = providerModel ?? (served.model ? splitModelName(served.model).model : undefined);
  const metadata: Record<string, unknown> = {
    ...(served.model ? { price_model: served.model } : {}),
    ...(trail ? trailMetadata(trail) : {}),
  };
  const details: GenerationDetails = {
    ...(model ? { model } : {}),
    ...(trail && !trail.degraded ? { servedEntry: trail.model } : {}),
    metadata,
  };

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
  details.usageDetails = usageDetails(report.usage);
  const cost = served.model
    ? priceBook.price(served.priceAs ?? served.model, report.usage, {
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

/** The picker's trail (`response_metadata.autopicker`), or `undefined` for another model's answer. */
function readTrail(value: unknown): DecisionTrail | undefined {
  const trail = asRecord(value);
  return typeof trail.model === "string" && Array.isArray(trail.attempts)
    ? (trail as unknown as DecisionTrail)
    : undefined;
}

/**
 * The decision trail as Langfuse metadata, one key per part so each stays filterable (Langfuse
 * flattens one level; `attempts` arrives as JSON). Attempt errors are already redacted. The
 * trail's `model` becomes `autopicker_model`, next to Langfuse's own model field.
 */
function trailMetadata(trail: DecisionTrail): Record<string, unknown> {
  return {
    autopicker_model: trail.model,
    ...(trail.priority !== undefined ? { priority: trail.priority } : {}),
    ...(trail.tenant !== undefined ? { tenant: trail.tenant } : {}),
    attempts: trail.attempts.map((a) => ({
      model: a.model,
      outcome: a.outcome,
      waited_ms: a.waited_ms,
      ...(a.error !== undefined ? { error: a.error } : {}),
    })),
    waited_ms: trail.waited_ms,
    ...(trail.fallback_reason !== undefined ? { fallback_reason: trail.fallback_reason } : {}),
    ...(trail.fallback_from !== undefined ? { fallback_from: trail.fallback_from } : {}),
    ...(trail.estimated_input_tokens !== undefined
      ? { estimated_input_tokens: trail.estimated_input_tokens }
      : {}),
    ...(trail.degraded ? { degraded: true } : {}),
    ...(trail.usage_estimated ? { usage_estimated: true } : {}),
    // The run's spend so far, on every generation of a budgeted run (the trace shows it growing).
    ...(trail.run_budget ? { run_budget: trail.run_budget } : {}),
    ...(trail.run_budget_exhausted ? { run_budget_exhausted: trail.run_budget_exhausted } : {}),
  };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
