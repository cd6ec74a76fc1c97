import type { UsageMetadata } from "@langchain/core/messages";
import type { TokenEstimator } from "../context";
import type { BudgetTicket } from "../cost";
import type { RunBudget, RunBudgetSummary, RunBudgetTicket } from "../cost/runBudget";
import type { RateLimiter, ReservationTicket } from "../limits";
import type { BudgetGate } from "./budgetGate";
import type { Candidate } from "./candidate";
import type { AutoPickerLogger } from "./types";

/** What settling one answered call found out. */
export interface Settled {
  /** The provider reported no usable token counts: limits and budget kept the estimate. */
  usageEstimated: boolean;
  /** The run's envelope after this call, when the call belongs to a budgeted run. */
  runBudget?: RunBudgetSummary;
}

/**
 * After a provider answered, the books: the limiter's booking gets the real token count, the
 * estimator learns from it, the budget reservation becomes the real cost. None of it may lose the
 * answer: every step is guarded, a failure is logged once (per kind) and swallowed, and a budget
 * reservation that cannot be settled is released rather than left held. Usage a provider did not
 * report (several OpenAI-compatible hosts omit it) settles from the estimate, and says so.
 */
export class Settlement {
  private readonly warned = new Set<string>();

  constructor(
    private readonly d: {
      limiter: RateLimiter;
      estimator: TokenEstimator;
      budget: BudgetGate;
      logger: AutoPickerLogger;
    },
  ) {}

  async settle(
    c: Candidate,
    booking: ReservationTicket,
    budgetTicket: BudgetTicket | undefined,
    reported: UsageMetadata | undefined,
    run?: { budget: RunBudget; ticket: RunBudgetTicket },
  ): Promise<Settled> {
    const { entry } = c;
    const usage = usable(reported);
    if (!usage) {
      this.warnOnce(
        `usage:${entry.name}`,
        `${entry.name} answered without token usage; its rate limits and budget are settled from the estimate.`,
      );
    }
    await this.guard("the estimator", () => {
      if (usage && usage.input_tokens > 0 && c.estimated) {
        this.d.estimator.learn(entry.modelId, c.estimatedTokens, usage.input_tokens);
      }
    });
    await this.guard("the rate limiter", () =>
      this.d.limiter.commit(
        booking,
        usage ? usage.input_tokens + (entry.tokenLimitCountsOutput ? usage.output_tokens : 0) : undefined,
      ),
    );
    let costUsd: number | null = null;
    await this.guard("the price book", () => {
      costUsd = usage ? this.d.budget.cost(entry, usage) : null;
    });
    const budgetSettled = await this.guard("the budget", () => this.d.budget.settle(budgetTicket, costUsd));
    if (!budgetSettled) await this.guard("the budget", () => this.d.budget.release(budgetTicket));
    if (run) {
      await this.guard("the run budget", () =>
        run.budget.settle(run.ticket, {
          usd: costUsd,
          tokens: usage ? usage.input_tokens + usage.output_tokens : null,
        }),
      );
    }
    return { usageEstimated: !usage, ...(run ? { runBudget: run.budget.summary() } : {}) };
  }

  /** Runs one bookkeeping step; `false` when it failed (logged once per step). */
  private async guard(step: string, work: () => unknown): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (error) {
      this.warnOnce(
        `step:${step}`,
        `could not update ${step} after an answer (${error instanceof Error ? error.name : typeof error}: ` +
          `${error instanceof Error ? error.message : String(error)}); the answer is returned anyway.`,
      );
      return false;
    }
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) {
      this.d.logger.debug?.(message);
      return;
    }
    this.warned.add(key);
    this.d.logger.warn(message);
  }
}

/**
 * The usage if its token counts are real: partial or missing counts are no usage at all, and so is
 * 0 in and 0 out (what merging count-less stream chunks adds up to; a real call has a prompt).
 */
function usable(usage: UsageMetadata | undefined): UsageMetadata | undefined {
  if (!usage) return undefined;
  const ok = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n >= 0;
  if (!ok(usage.input_tokens) || !ok(usage.output_tokens)) return undefined;
  return usage.input_tokens + usage.output_tokens > 0 ? usage : undefined;
}
