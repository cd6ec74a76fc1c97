import type { UsageMetadata } from "@langchain/core/messages";
import type { BudgetManager, BudgetTicket } from "../cost";
import { PriceBook, type TokenUsage } from "../cost";
import { BudgetExceededError } from "../errors";
import type { Candidate } from "./candidate";
import type { ResolvedEntry } from "./entries";
import type { AutoPickerLogger } from "./types";

/** What the budget says about one attempt. */
export type BudgetDecision =
  | { kind: "go"; ticket?: BudgetTicket }
  /** Downgrade mode: this model would overspend; try a cheaper one. */
  | { kind: "skip" };

/**
 * Reserves a call's estimated cost (input estimate + output allowance) before it is sent and settles
 * the real cost after, so concurrent calls cannot overspend together.
 */
export class BudgetGate {
  private readonly prices = new PriceBook();
  private readonly warned = new Set<string>();

  constructor(
    private readonly budget: BudgetManager | undefined,
    private readonly logger: AutoPickerLogger,
  ) {}

  /** Estimated USD for a call on `entry`; `null` when the model has no known price. */
  estimate(entry: ResolvedEntry, inputTokens: number, outputTokens: number): number | null {
    return (
      this.prices.price(
        entry.priceModel,
        { inputTokens, outputTokens },
        entry.pricing ? { pricing: entry.pricing } : {},
      )?.total ?? null
    );
  }

  /** Reserves the candidate's estimated cost (computed only when a budget is set). */
  async admit(candidate: Candidate): Promise<BudgetDecision> {
    if (!this.budget) return { kind: "go" };
    const entry = candidate.entry;
    const estimate = candidate.cost;
    if (estimate === null) this.warnOnce(entry.name);
    const r = await this.budget.reserve(estimate ?? 0);
    if (r.kind === "ok") return { kind: "go", ticket: r.ticket };
    switch (this.budget.mode) {
      case "block":
        throw new BudgetExceededError(r.period, r.limitUsd, r.spentUsd, r.requestedUsd);
      case "downgrade":
        return { kind: "skip" };
      case "warn":
        return { kind: "go" };
    }
  }

  /** What a call with this usage cost on `entry` (its price override first); `null` when unpriced. */
  cost(entry: ResolvedEntry, usage: UsageMetadata): number | null {
    return (
      this.prices.price(
        entry.priceModel,
        toTokenUsage(usage),
        entry.pricing ? { pricing: entry.pricing } : {},
      )?.total ?? null
    );
  }

  /**
   * The call returned: book what it really cost. Without usage (`costUsd` null) the real cost is
   * unknown, so the reserved estimate stands as the spend (never $0: that would let the budget
   * overspend).
   */
  async settle(ticket: BudgetTicket | undefined, costUsd: number | null): Promise<void> {
    if (!this.budget) return;
    if (costUsd === null) {
      if (ticket) await this.budget.settle(ticket);
      return;
    }
    if (ticket) await this.budget.settle(ticket, costUsd);
    else if (costUsd) await this.budget.record(costUsd);
  }

  /** The call failed before costing anything. */
  async release(ticket: BudgetTicket | undefined): Promise<void> {
    if (this.budget && ticket) await this.budget.release(ticket);
  }

  private warnOnce(model: string): void {
    if (this.warned.has(model)) return;
    this.warned.add(model);
    this.logger.warn(
      `${model} has no known price, so the budget cannot count it; set \`pricing\` on its entry.`,
    );
  }
}

/** LangChain usage metadata (input includes cache reads) to the price book's usage. */
export function toTokenUsage(usage: UsageMetadata): TokenUsage {
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    ...(usage.input_token_details?.cache_read
      ? { cachedInputTokens: usage.input_token_details.cache_read }
      : {}),
    ...(usage.output_token_details?.reasoning
      ? { reasoningTokens: usage.output_token_details.reasoning }
      : {}),
  };
}
