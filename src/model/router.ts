import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseMessage, UsageMetadata } from "@langchain/core/messages";
import type { Clock } from "../clock";
import type { TokenEstimator } from "../context";
import type { RunBudget } from "../cost/runBudget";
import type { AttemptRecord } from "../errors";
import type { RateLimiter } from "../limits";
import type { QueuePlace } from "../limits/priority";
import type { FallbackReason, RetryPolicy } from "../retry/policy";
import type { BudgetGate } from "./budgetGate";
import type { Candidate } from "./candidate";
import type { ResolvedEntry } from "./entries";
import type { EventHub } from "./eventHub";
import { type CallScope, type InnerCall, ModelAttempts, type ModelOutcome } from "./modelAttempts";
import { byCost } from "./ordering";
import type { CallPlace } from "./placement";
import { Planner } from "./plan";
import type { Settled } from "./settlement";
import type { SharedHealthSync } from "./sharedHealth";
import { toTrail } from "./trail";
import type { AutoPickerLogger, CallPreference, ContextStrategy, DecisionTrail, TaskRoute } from "./types";

export type { InnerCall } from "./modelAttempts";

/** A served call: the result, who served it, and how to settle the limiter and budget once usage is known. */
export interface Served<T> {
  result: T;
  entry: ResolvedEntry;
  trail: DecisionTrail;
  /** Reconciles the limiter, the estimator and the budget with real usage. Call exactly once; never throws. */
  settle(usage: UsageMetadata | undefined): Promise<Settled>;
}

/** How routing one call ended. */
export type RouteOutcome<T> =
  | { kind: "served"; served: Served<T> }
  /** Every model failed or was skipped. */
  | { kind: "failed"; attempts: AttemptRecord[]; lastError: unknown; place: QueuePlace };

/** Who the call is and what it carries: its routing choice, its run's envelope, its queue place. */
export interface RouteContext {
  choice: CallPreference;
  runBudget?: RunBudget;
  place: CallPlace;
}

/** The model being left, and why. */
interface Leaving {
  from: Candidate;
  reason: FallbackReason;
}

/** Decision-policy settings that stay fixed for the picker's life. */
export interface RouterSettings {
  policy: RetryPolicy;
  contextStrategy: ContextStrategy;
  quotaCooldownMs: number;
  fallbackOrder: "listed" | "cheapest";
  tasks: Readonly<Record<string, TaskRoute>>;
  /** Output tokens assumed for budget estimates when the model sets no maxTokens. */
  defaultOutputTokens: number;
}

export interface RouterDeps {
  entries: readonly ResolvedEntry[];
  limiter: RateLimiter;
  estimator: TokenEstimator;
  budget: BudgetGate;
  shared: SharedHealthSync;
  /** Stats, alerts, the user's listeners and LangChain custom events all hang off this. */
  events: EventHub;
  clock: Clock;
  logger: AutoPickerLogger;
  settings: RouterSettings;
}

/** Picks the model, waits, calls, classifies and falls back: the decision policy in one loop. */
export class Router {
  private readonly planner: Planner;
  private readonly model: ModelAttempts;

  constructor(private readonly d: RouterDeps) {
    this.planner = new Planner(d);
    this.model = new ModelAttempts(d);
  }

  async route<T>(
    messages: BaseMessage[],
    options: Record<string, unknown> & { signal?: AbortSignal },
    runManager: CallbackManagerForLLMRun | undefined,
    call: InnerCall<T>,
    context: RouteContext,
  ): Promise<RouteOutcome<T>> {
    const { choice, runBudget, place } = context;
    const candidates = this.planner.plan(messages, options, choice);
    const scope: CallScope = { signal: options.signal, runManager, attempts: [], runBudget, place };
    let leaving: Leaving | undefined;
    let lastError: unknown;
    let minWindow = 0;

    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      const skip = await this.skipReason(candidate, minWindow);
      if (skip) {
        scope.attempts.push({ model: candidate.entry.name, outcome: `skipped:${skip}`, waitedMs: 0 });
        leaving ??= { from: candidate, reason: skip };
        continue;
      }
      if (leaving) await this.announceFallback(leaving, candidate, scope);

      const outcome = await this.model.tryModel(candidate, call, scope);
      if (outcome.kind === "served")
        return { kind: "served", served: this.served(candidate, outcome, scope, leaving) };
      lastError = outcome.error ?? lastError;
      if (outcome.reason === "context_length")
        minWindow = Math.max(minWindow, candidate.entry.contextWindow + 1);
      // Downgrade: the rest of the way cheapest first, so the budget buys what it still can.
      if (outcome.reason === "budget")
        candidates.splice(i + 1, candidates.length, ...candidates.slice(i + 1).sort(byCost));
      leaving = { from: candidate, reason: outcome.reason };
    }
    this.d.events.emit("failed", { attempts: scope.attempts });
    return { kind: "failed", attempts: scope.attempts, lastError, place: place.place };
  }

  /** Why the model must be passed over without a request, if it must. */
  private async skipReason(c: Candidate, minWindow: number): Promise<FallbackReason | undefined> {
    const { entry } = c;
    await this.d.shared.pull(entry.name, entry.health);
    if (entry.contextWindow < minWindow || !c.fits()) return "context_length";
    const blocked = entry.health.blockedReason();
    if (blocked) return blocked;
    const s = entry.health.breaker.state;
    if (s.state === "open" || (s.state === "half_open" && s.probeInFlight)) return "circuit_open";
    return undefined;
  }

  private announceFallback(leaving: Leaving, to: Candidate, scope: CallScope): Promise<void> {
    const { from, reason } = leaving;
    return this.d.events.fallback(
      {
        from: from.entry.name,
        to: to.entry.name,
        reason,
        ...(reason === "context_length"
          ? {
              context: {
                estimatedTokens: from.estimatedTokens,
                fromWindow: from.entry.contextWindow,
                toWindow: to.entry.contextWindow,
              },
            }
          : {}),
      },
      scope.runManager,
    );
  }

  private served<T>(
    c: Candidate,
    outcome: ModelOutcome<T> & { kind: "served" },
    scope: CallScope,
    leaving: Leaving | undefined,
  ): Served<T> {
    const { entry } = c;
    const waitedMs = scope.attempts.reduce((sum, a) => sum + a.waitedMs, 0);
    const trail = toTrail({
      entry,
      place: scope.place.place,
      attempts: scope.attempts,
      waitedMs,
      estimatedInputTokens: c.estimated ? c.estimatedTokens : undefined,
      fallback: leaving ? { from: leaving.from.entry.name, reason: leaving.reason } : undefined,
    });
    this.d.events.emit("served", {
      model: entry.name,
      primary: entry.index === 0,
      attempts: scope.attempts,
      waitedMs,
      ...(leaving ? { fallbackReason: leaving.reason } : {}),
    });
    return { result: outcome.result, entry, trail, settle: outcome.settle };
  }
}
