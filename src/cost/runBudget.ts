import { parseOrThrow } from "../config/messages";
import { finiteNumber, flag, oneOf, strictOptions, wholeNumber } from "../config/schemas";
import { AutoPickerConfigError, RunBudgetExceededError } from "../errors";

/** What happens when the next model call of a run cannot fit its budget. */
export type RunBudgetExhaustion =
  /** End the run cleanly: the call returns a final answer saying the budget was reached. */
  | "finish"
  /** Serve the rest of the run from models the remaining budget can pay for, cheapest first; an error when none can. */
  | "downgrade"
  /** Throw `RunBudgetExceededError` with the figures. */
  | "throw";

/** The limits of one run (one agent invocation with all its model calls, tools and subagents). */
export interface RunBudgetOptions {
  /** Dollars the run may spend, settled at each call's real price. */
  maxUsd?: number;
  /** Input plus output tokens the run may use. */
  maxTokens?: number;
  /** Model calls the run may make. */
  maxModelCalls?: number;
  /** Default "finish". */
  onExhausted?: RunBudgetExhaustion;
}

/** Where a run stands. Plain data: it is stored in agent state and checkpointed. */
export interface RunBudgetSummary {
  spentUsd: number;
  /** `null` when the run has no dollar limit. */
  remainingUsd: number | null;
  tokens: number;
  /** `null` when the run has no token limit. */
  remainingTokens: number | null;
  modelCalls: number;
  /** `null` when the run has no call limit. */
  remainingModelCalls: number | null;
  /** A call was refused for lack of budget. */
  exhausted: boolean;
}

/** A reservation for one call; pass it back to `settle` or `release`. */
export interface RunBudgetTicket {
  readonly usd: number;
  readonly tokens: number;
}

/** Why a call does not fit, with the figures. */
export interface RunBudgetShortfall {
  dimension: "usd" | "tokens" | "model_calls";
  /** What the call needs at worst (for "usd": `null` when the model has no known price). */
  needed: number | null;
  remaining: number;
}

const runBudgetShape = {
  maxUsd: finiteNumber({ min: 0 }, "dollars").optional(),
  maxTokens: wholeNumber(0, "tokens").optional(),
  maxModelCalls: wholeNumber(0, "model calls").optional(),
  onExhausted: oneOf(["finish", "downgrade", "throw"]).optional(),
  exposeToModel: flag().optional(),
  defaultOutputTokens: wholeNumber(0, "tokens").optional(),
};

/** Checks run-budget options (the same layer as every other option); throws `AutoPickerConfigError` naming the field. */
export function validateRunBudgetOptions(options: unknown, subject = "runBudget"): RunBudgetOptions {
  const o = parseOrThrow(
    strictOptions(runBudgetShape, { must: "must be an object like { maxUsd: 0.5, maxModelCalls: 40 }" }),
    options,
    {
      subject,
    },
  );
  if (o.maxUsd === undefined && o.maxTokens === undefined && o.maxModelCalls === undefined) {
    throw new AutoPickerConfigError(`${subject} needs at least one of maxUsd, maxTokens, maxModelCalls.`);
  }
  return o;
}

/**
 * The budget envelope of one run. Before each model call the call's worst case (its estimated
 * input plus output allowance, at its model's price) is reserved; after it the real usage is
 * settled. Check and reserve are one synchronous step, so concurrent branches of the run (parallel
 * tool calls, subagents) cannot overspend together. Dollars are summed exactly as the cost handler
 * sums them, so the envelope's spend and `byRun` agree.
 */
export class RunBudget {
  readonly maxUsd: number | undefined;
  readonly maxTokens: number | undefined;
  readonly maxModelCalls: number | undefined;
  readonly onExhausted: RunBudgetExhaustion;
  private spentUsd = 0;
  private tokens = 0;
  private calls = 0;
  private heldUsd = 0;
  private heldTokens = 0;
  private heldCalls = 0;
  private exhaustedFlag = false;

  constructor(options: RunBudgetOptions) {
    const o = validateRunBudgetOptions(options);
    this.maxUsd = o.maxUsd;
    this.maxTokens = o.maxTokens;
    this.maxModelCalls = o.maxModelCalls;
    this.onExhausted = o.onExhausted ?? "finish";
  }

  /** Where a call of this worst case would fall short, if it would; reserves nothing. */
  shortfall(usd: number | null, tokens: number): RunBudgetShortfall | undefined {
    if (this.maxModelCalls !== undefined && this.calls + this.heldCalls + 1 > this.maxModelCalls) {
      return {
        dimension: "model_calls",
        needed: 1,
        remaining: this.maxModelCalls - this.calls - this.heldCalls,
      };
    }
    if (this.maxTokens !== undefined && this.tokens + this.heldTokens + tokens > this.maxTokens) {
      return {
        dimension: "tokens",
        needed: tokens,
        remaining: this.maxTokens - this.tokens - this.heldTokens,
      };
    }
    // A model without a known price cannot be promised to fit a dollar limit.
    if (this.maxUsd !== undefined && (usd === null || this.spentUsd + this.heldUsd + usd > this.maxUsd)) {
      return { dimension: "usd", needed: usd, remaining: this.maxUsd - this.spentUsd - this.heldUsd };
    }
    return undefined;
  }

  /** Reserves one call's worst case, or says why it does not fit (and marks the run exhausted). */
  reserve(usd: number | null, tokens: number): RunBudgetTicket | RunBudgetShortfall {
    const short = this.shortfall(usd, tokens);
    if (short) return short;
    const ticket: RunBudgetTicket = { usd: usd ?? 0, tokens };
    this.heldUsd += ticket.usd;
    this.heldTokens += ticket.tokens;
    this.heldCalls += 1;
    return ticket;
  }

  /** The call came back: its real cost replaces the reservation (`usd` null: the estimate stands). */
  settle(ticket: RunBudgetTicket, actual: { usd: number | null; tokens: number | null }): void {
    this.unhold(ticket);
    this.spentUsd += actual.usd ?? ticket.usd;
    this.tokens += actual.tokens ?? ticket.tokens;
    this.calls += 1;
  }

  /** The call was not made or failed without cost: give the reservation back. */
  release(ticket: RunBudgetTicket): void {
    this.unhold(ticket);
  }

  /** Continues from checkpointed figures (a run resumed in another process). */
  restore(summary: Pick<RunBudgetSummary, "spentUsd" | "tokens" | "modelCalls" | "exhausted">): void {
    this.spentUsd = summary.spentUsd;
    this.tokens = summary.tokens;
    this.calls = summary.modelCalls;
    this.exhaustedFlag = summary.exhausted;
  }

  /** Records that a call was refused (`exhausted` in the summary). */
  markExhausted(): void {
    this.exhaustedFlag = true;
  }

  get exhausted(): boolean {
    return this.exhaustedFlag;
  }

  summary(): RunBudgetSummary {
    return {
      spentUsd: this.spentUsd,
      remainingUsd: this.maxUsd === undefined ? null : Math.max(0, this.maxUsd - this.spentUsd),
      tokens: this.tokens,
      remainingTokens: this.maxTokens === undefined ? null : Math.max(0, this.maxTokens - this.tokens),
      modelCalls: this.calls,
      remainingModelCalls:
        this.maxModelCalls === undefined ? null : Math.max(0, this.maxModelCalls - this.calls),
      exhausted: this.exhaustedFlag,
    };
  }

  /** The error for a call that does not fit. */
  exceeded(short: RunBudgetShortfall): RunBudgetExceededError {
    return new RunBudgetExceededError(short.dimension, short.needed, short.remaining, this.summary());
  }

  /** Tracers serialise run metadata: the figures, never the live object. */
  toJSON(): object {
    return {
      maxUsd: this.maxUsd,
      maxTokens: this.maxTokens,
      maxModelCalls: this.maxModelCalls,
      onExhausted: this.onExhausted,
      ...this.summary(),
    };
  }

  private unhold(ticket: RunBudgetTicket): void {
    this.heldUsd = Math.max(0, this.heldUsd - ticket.usd);
    this.heldTokens = Math.max(0, this.heldTokens - ticket.tokens);
    this.heldCalls = Math.max(0, this.heldCalls - 1);
  }
}

/** A ticket, or a shortfall. */
export function isShortfall(r: RunBudgetTicket | RunBudgetShortfall): r is RunBudgetShortfall {
  return "dimension" in r;
}
