import type { BaseMessage } from "@langchain/core/messages";
import type { TokenEstimator } from "../context";
import { resolveMaxOutputTokens, truncateToFit } from "../context";
import { ContextWindowExceededError } from "../errors";
import type { BudgetGate } from "./budgetGate";
import { Candidate } from "./candidate";
import type { ResolvedEntry } from "./entries";
import { orderCandidates } from "./ordering";
import type { AutoPickerLogger, CallPreference, ContextStrategy, TaskRoute } from "./types";

export interface PlannerDeps {
  entries: readonly ResolvedEntry[];
  estimator: TokenEstimator;
  budget: BudgetGate;
  logger: AutoPickerLogger;
  settings: {
    contextStrategy: ContextStrategy;
    fallbackOrder: "listed" | "cheapest";
    tasks: Readonly<Record<string, TaskRoute>>;
    /** Output tokens assumed for budget estimates when the model sets no maxTokens. */
    defaultOutputTokens: number;
  };
}

/**
 * Before anything is sent: every model as a candidate for this call (with lazy token estimates
 * and costs), ordered by the call's preference, and the input fitted to the context windows:
 * fall forward to a model that fits, truncate, or refuse before any request.
 */
export class Planner {
  constructor(private readonly d: PlannerDeps) {}

  /** The candidates for one call, in order, with the context strategy applied. */
  plan(messages: BaseMessage[], options: Record<string, unknown>, choice: CallPreference): Candidate[] {
    const { settings } = this.d;
    const tools = Array.isArray(options.tools) ? (options.tools as unknown[]) : undefined;
    const all = this.d.entries.map((entry) => {
      const outputAllowance = resolveMaxOutputTokens(entry.model, options) ?? 0;
      const priceOf = (e: ResolvedEntry, input: number) =>
        this.d.budget.estimate(e, input, outputAllowance || settings.defaultOutputTokens);
      return new Candidate(entry, messages, outputAllowance, this.d.estimator, tools, priceOf);
    });
    const candidates = orderCandidates(all, choice, settings.tasks, settings.fallbackOrder);
    const primary = candidates[0]!;
    if (primary.fits()) return candidates;

    switch (settings.contextStrategy) {
      case "error":
        throw new ContextWindowExceededError(primary.knownTokens + primary.outputAllowance, {
          [primary.entry.name]: primary.entry.contextWindow,
        });
      case "truncate":
        return candidates.map((c) => (c.fits() ? c : this.truncate(c, tools)));
      case "fallback":
        if (!candidates.some((c) => c.fits())) {
          throw new ContextWindowExceededError(
            Math.min(...candidates.map((c) => c.knownTokens + c.outputAllowance)),
            Object.fromEntries(candidates.map((c) => [c.entry.name, c.entry.contextWindow])),
          );
        }
        return candidates;
    }
  }

  private truncate(c: Candidate, tools: unknown[] | undefined): Candidate {
    const budget = c.entry.contextWindow - c.outputAllowance;
    const count = (msgs: BaseMessage[]) => this.d.estimator.estimate(msgs, { model: c.entry.modelId, tools });
    const cut = truncateToFit(c.messages, budget, count);
    this.d.logger.debug?.(
      `truncated ${cut.dropped} messages (~${cut.droppedTokens} tokens) for ${c.entry.name}`,
    );
    return c.withMessages(cut.messages);
  }
}
