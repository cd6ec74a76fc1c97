/**
 * Every place the simulation reads what the picker and the cost tracker report (custom events,
 * the decision trail, errors' attempt records, usage stats) is in this module, so a rename of those
 * names touches one file. Typed reads (stats, errors, the trail) fail to compile here when a name
 * changes; event names are strings, so those reads are tolerant instead: a fallback is any event
 * whose name ends in `_fallback`, its reason is the `reason` field or else the name's stem
 * (`context_length_fallback`), and payload fields are read in snake_case or camelCase.
 */
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { AIMessage } from "@langchain/core/messages";
import type { CostTrackingCallbackHandler } from "../cost";
import { AllModelsFailedError, BudgetExceededError, ContextWindowExceededError } from "../errors";
import { waitAdds } from "../model/events";
import { getDecisionTrail } from "../model/trail";
import type { FailureReason } from "./types";

const WAIT_EVENT = "rate_limit_wait";
const FALLBACK_SUFFIX = "_fallback";

/** Collects the waits and fallbacks of one call from the picker's custom events. */
export class CallEvents extends BaseCallbackHandler {
  override name = "autopicker_simulate_call_events";
  override awaitHandlers = true;
  waitMs = 0;
  waits = 0;
  readonly fallbackReasons: string[] = [];

  override handleCustomEvent(eventName: string, data: unknown): void {
    const payload = (data ?? {}) as Record<string, unknown>;
    if (eventName === WAIT_EVENT) {
      const { waits, ms } = waitAdds(
        payload.cause,
        numberField(payload, "wait_ms", "waitMs"),
        numberField(payload, "moved_by_ms", "movedByMs"),
      );
      this.waits += waits;
      this.waitMs += ms;
    } else if (eventName.endsWith(FALLBACK_SUFFIX)) {
      this.fallbackReasons.push(fallbackReason(eventName, payload));
    }
  }
}

/** `reason` when the event has one; else the event's own name says it (`context_length_fallback`). */
function fallbackReason(eventName: string, payload: Record<string, unknown>): string {
  const reason = payload.reason;
  if (typeof reason === "string" && reason !== "") return reason;
  return eventName.slice(0, -FALLBACK_SUFFIX.length);
}

/** Entry name of the model that answered, from the decision trail; `undefined` for a stand-in answer. */
export function servedByOf(message: AIMessage): string | undefined {
  const trail = getDecisionTrail(message);
  return trail && !trail.degraded ? trail.model : undefined;
}

/**
 * Why a call failed: for "all models failed", why the last model tried gave up (its last attempt's
 * outcome); otherwise the error's kind.
 */
export function failureReasonOf(error: unknown): FailureReason {
  if (error instanceof ContextWindowExceededError) return "context_length";
  if (error instanceof BudgetExceededError) return "budget";
  if (error instanceof AllModelsFailedError) {
    const last = error.attempts.at(-1);
    return last ? reasonOfOutcome(last.outcome) : "error";
  }
  return "error";
}

/**
 * An attempt outcome (`rate_limit`, `quota_exhausted`, `skipped:wait_too_long(... on requests/day)`,
 * `skipped:budget`, `transient`, ...) as a failure reason.
 */
export function reasonOfOutcome(outcome: string): FailureReason {
  const kind = outcome.replace(/^skipped:/, "").replace(/\(.*$/, "");
  switch (kind) {
    case "rate_limit":
      return "rate_limit";
    case "wait_too_long":
    case "never_fits":
      // "wait_too_long(5400000ms on requests/day)": a day's quota is spent, not a minute's.
      return /\/day\b/.test(outcome) ? "quota_exhausted" : "rate_limit";
    case "quota_exhausted":
      return "quota_exhausted";
    case "context_length":
      return "context_length";
    case "budget":
      return "budget";
    default:
      return "error";
  }
}

/** Total tokens of an answer (0 when the provider sent no usage). */
export function tokensOf(message: AIMessage): number {
  const total = message.usage_metadata?.total_tokens;
  return typeof total === "number" && Number.isFinite(total) ? total : 0;
}

/** What the cost tracker says about a run: total cost, unpriced calls and cost per model. */
export function costsOf(tracker: CostTrackingCallbackHandler): {
  totalUsd: number;
  unpricedCalls: number;
  byModel: (name: string, id: string) => number;
} {
  const stats = tracker.getUsageStats();
  return {
    totalUsd: stats.total.costUsd,
    unpricedCalls: stats.total.unpricedRequests,
    byModel: (name, id) => (stats.byModel[name] ?? stats.byModel[id])?.costUsd ?? 0,
  };
}

function numberField(record: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const v = record[key];
    if (typeof v === "number") return v;
  }
  return undefined;
}
