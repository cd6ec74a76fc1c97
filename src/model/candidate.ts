import type { BaseMessage } from "@langchain/core/messages";
import type { TokenEstimator } from "../context";
import type { ResolvedEntry } from "./entries";

/**
 * One model considered for one call. The exact token estimate and the cost are computed only when
 * something needs them (a token limit, a budget, a tight window, cost ordering): the cheap UTF-8
 * upper bound settles "does it fit" for most prompts, which keeps the per-call overhead small.
 */
export class Candidate {
  private estimate: number | undefined;
  private bound: number | undefined;
  private lower: number | undefined;
  private priced: number | null | undefined;

  constructor(
    readonly entry: ResolvedEntry,
    readonly messages: BaseMessage[],
    /** The output allowance (`maxTokens`); 0 when the model sets none. */
    readonly outputAllowance: number,
    private readonly estimator: TokenEstimator,
    private readonly tools: readonly unknown[] | undefined,
    private readonly priceOf: (entry: ResolvedEntry, inputTokens: number) => number | null,
  ) {}

  /** Exact input estimate (tiktoken), computed once. */
  get estimatedTokens(): number {
    this.estimate ??= this.estimator.estimate(this.messages, {
      model: this.entry.modelId,
      tools: this.tools,
    });
    return this.estimate;
  }

  /** Whether the exact estimate was needed (and so is known). */
  get estimated(): boolean {
    return this.estimate !== undefined;
  }

  /**
   * Whether input plus output allowance fits the window. Exact counting only when neither cheap
   * bound decides: the upper bound says "fits" for most prompts, the lower bound "cannot fit" for
   * huge ones (a 5 MB English prompt is refused in tens of ms instead of seconds of tokenizing).
   */
  fits(): boolean {
    const options = { model: this.entry.modelId, tools: this.tools };
    const window = this.entry.contextWindow - this.outputAllowance;
    this.bound ??= this.estimator.upperBound(this.messages, options);
    if (this.bound <= window) return true;
    this.lower ??= this.estimator.lowerBound(this.messages, options);
    if (this.lower > window) return false;
    return this.estimatedTokens <= window;
  }

  /**
   * Input tokens as far as they are known without tokenizing now: the exact estimate when it was
   * computed, else the lower bound (what a "fits no window" error can report in milliseconds).
   */
  get knownTokens(): number {
    if (this.estimate !== undefined) return this.estimate;
    this.lower ??= this.estimator.lowerBound(this.messages, { model: this.entry.modelId, tools: this.tools });
    return this.lower;
  }

  /** Estimated USD of this call on this model; `null` when the model has no known price. */
  get cost(): number | null {
    if (this.priced === undefined) this.priced = this.priceOf(this.entry, this.estimatedTokens);
    return this.priced;
  }

  /** The same model with other messages (after truncation). */
  withMessages(messages: BaseMessage[]): Candidate {
    return new Candidate(
      this.entry,
      messages,
      this.outputAllowance,
      this.estimator,
      this.tools,
      this.priceOf,
    );
  }
}
