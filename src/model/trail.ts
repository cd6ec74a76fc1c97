import type { BaseMessage } from "@langchain/core/messages";
import type { RunBudgetSummary } from "../cost/runBudget";
import type { AttemptRecord } from "../errors";
import { NO_TENANT, type QueuePlace } from "../limits/priority";
import type { FallbackReason } from "../retry/policy";
import type { ResolvedEntry } from "./entries";
import type { DecisionTrail, EntryPricing, TrailAttempt, TrailPricing, TrailRunBudget } from "./types";

/**
 * The decision trail the picker stamped on an answer (`response_metadata.autopicker`): which model
 * served, every attempt and wait, and why it fell back. `undefined` for a message the picker did
 * not produce. Typed access, so reading it needs no cast:
 *
 * @example
 * ```ts
 * const answer = await llm.invoke("Hi");
 * console.log(getDecisionTrail(answer)?.model); // "openai/gpt-4o-mini"
 * ```
 */
export function getDecisionTrail(message: BaseMessage | undefined): DecisionTrail | undefined {
  const trail = (message?.response_metadata as Record<string, unknown> | undefined)?.autopicker;
  return typeof trail === "object" && trail !== null && typeof (trail as DecisionTrail).model === "string"
    ? (trail as DecisionTrail)
    : undefined;
}

/** The call's class and tenant as the trail carries them (no `tenant` for a call that names none). */
export function trailPlace(
  place: Pick<QueuePlace, "priority" | "tenant">,
): Pick<DecisionTrail, "priority" | "tenant"> {
  return { priority: place.priority, ...(place.tenant !== NO_TENANT ? { tenant: place.tenant } : {}) };
}

/** The trail of a served call, in the snake_case it travels in. */
export function toTrail(served: {
  entry: ResolvedEntry;
  place: Pick<QueuePlace, "priority" | "tenant">;
  attempts: readonly AttemptRecord[];
  waitedMs: number;
  estimatedInputTokens: number | undefined;
  fallback: { from: string; reason: FallbackReason } | undefined;
}): DecisionTrail {
  const { entry } = served;
  return {
    model: entry.name,
    ...trailPlace(served.place),
    attempts: served.attempts.map(toTrailAttempt),
    waited_ms: served.waitedMs,
    ...(served.estimatedInputTokens !== undefined
      ? { estimated_input_tokens: served.estimatedInputTokens }
      : {}),
    ...(served.fallback
      ? { fallback_reason: served.fallback.reason, fallback_from: served.fallback.from }
      : {}),
    price_model: entry.priceModel,
    ...(entry.pricing ? { pricing: toTrailPricing(entry.pricing) } : {}),
  };
}

/** The trail of a call no model answered, whose answer came from `onAllFailed`. */
export function degradedTrail(
  attempts: readonly AttemptRecord[],
  place: Pick<QueuePlace, "priority" | "tenant">,
): DecisionTrail {
  return {
    model: "none",
    ...trailPlace(place),
    attempts: attempts.map(toTrailAttempt),
    waited_ms: 0,
    degraded: true,
  };
}

export function toTrailAttempt(a: AttemptRecord): TrailAttempt {
  return {
    model: a.model,
    outcome: a.outcome,
    waited_ms: a.waitedMs,
    ...(a.error !== undefined ? { error: a.error } : {}),
  };
}

export function toTrailPricing(p: EntryPricing): TrailPricing {
  return {
    input_per_1m: p.inputPer1M,
    output_per_1m: p.outputPer1M,
    ...(p.cachedInputPer1M !== undefined ? { cached_input_per_1m: p.cachedInputPer1M } : {}),
  };
}

/** The trail's price override back as the JavaScript option it came from. */
export function fromTrailPricing(p: TrailPricing): EntryPricing {
  return {
    inputPer1M: p.input_per_1m,
    outputPer1M: p.output_per_1m,
    ...(p.cached_input_per_1m !== undefined ? { cachedInputPer1M: p.cached_input_per_1m } : {}),
  };
}

/** A run's envelope as it travels in the trail. */
export function toTrailRunBudget(s: RunBudgetSummary): TrailRunBudget {
  return {
    spent_usd: s.spentUsd,
    remaining_usd: s.remainingUsd,
    tokens: s.tokens,
    model_calls: s.modelCalls,
    exhausted: s.exhausted,
  };
}
