import type { BaseMessage } from "@langchain/core/messages";
import { AutoPickerConfigError } from "../errors";
import {
  messageTokenBound,
  messageTokenLowerBound,
  messageTokens,
  REPLY_PRIMING_TOKENS,
} from "./messageTokens";
import { bareModelId } from "./modelId";
import { tokenizerFamily } from "./tokenizerFamily";
import { toolDefinitionBound, toolDefinitionLowerBound, toolDefinitionTokens } from "./toolTokens";

/** What a prompt is estimated for. */
export interface EstimateOptions {
  /** Entry name (`"openai/gpt-4o-mini"`) or bare model id; picks the encoding and the correction. */
  model: string;
  /** Tool definitions bound to the call (LangChain tools or OpenAI-format definitions). */
  tools?: readonly unknown[];
}

/** Options of {@link TokenEstimator}. */
export interface TokenEstimatorOptions {
  /**
   * Initial correction factors, by entry name or bare model id (entry name wins), replacing the
   * family default (see `tokenizerFamily`). Each must lie within [{@link MIN_CORRECTION}, {@link MAX_CORRECTION}].
   */
  corrections?: Record<string, number>;
}

/** Lowest correction factor `learn()` can reach: no tokenizer we approximate is 2x denser than o200k. */
export const MIN_CORRECTION = 0.5;
/** Highest correction factor `learn()` can reach: one bad usage report must not make every prompt "too big". */
export const MAX_CORRECTION = 2.5;
/** Weight of the newest observation in the moving average: ~10 calls to converge, robust to one outlier. */
export const LEARNING_RATE = 0.2;
/**
 * Calls estimated below this are not learned from: on tiny prompts the provider's hidden framing
 * (system preambles, tool rendering) dominates the ratio and says nothing about the tokenizer.
 */
export const MIN_LEARNABLE_TOKENS = 64;

/**
 * Estimates prompt tokens per model before a call, offline and fast enough to run before every
 * call of an agent. OpenAI models are counted exactly with their own encoding and the OpenAI chat
 * formula (3 per message + role + content, +1 per name, +3 reply priming); other providers with
 * o200k scaled by a per-model correction that starts at a family default and is learned from the
 * usage the provider reports.
 *
 * Counts are cached per message object and per content string, so resending a growing
 * conversation only tokenizes the new messages.
 */
export class TokenEstimator {
  private readonly initial = new Map<string, number>();
  private readonly learned = new Map<string, number>();
  // Resolved starting factor per model string, so the hot path does no string work.
  private readonly starting = new Map<string, number>();

  constructor(options: TokenEstimatorOptions = {}) {
    for (const [model, factor] of Object.entries(options.corrections ?? {})) {
      if (!Number.isFinite(factor) || factor < MIN_CORRECTION || factor > MAX_CORRECTION) {
        throw new AutoPickerConfigError(
          `Token correction for "${model}" must be a number within [${MIN_CORRECTION}, ${MAX_CORRECTION}], got ${factor}.`,
        );
      }
      this.initial.set(model, factor);
    }
  }

  /**
   * Tokens the prompt will cost on `options.model`: every message (framing, role, text and image
   * blocks, name, tool calls with JSON arguments, tool results), the tool definitions, and the
   * reply priming, times the model's correction factor (rounded up).
   */
  estimate(messages: readonly BaseMessage[], options: EstimateOptions): number {
    const { encoding } = tokenizerFamily(options.model);
    let raw = REPLY_PRIMING_TOKENS + toolDefinitionTokens(options.tools, encoding);
    for (const message of messages) raw += messageTokens(message, encoding);
    return this.scale(raw, options.model);
  }

  /**
   * A cheap upper bound of {@link estimate} (UTF-8 bytes instead of tokens: every token covers at
   * least one byte), with no tokenizer involved. When it fits every window the caller can skip
   * {@link estimate}; it is typically 3-4x the estimate for English and ~1.5-3x for CJK.
   */
  upperBound(messages: readonly BaseMessage[], options: EstimateOptions): number {
    let raw = REPLY_PRIMING_TOKENS + toolDefinitionBound(options.tools);
    for (const message of messages) raw += messageTokenBound(message);
    return this.scale(raw, options.model);
  }

  /**
   * A cheap lower bound of {@link estimate}, with no tokenizer involved: one pass over the text
   * counting pieces the encoding's pre-tokenizer can never merge (words, digit triples, symbol
   * runs) and characters per token no token exceeds (ideographs, Hangul, emoji; see
   * `lowerBound.ts`), plus the same framing and the same correction factor. When it exceeds a
   * window the input cannot fit there, and the exact count is never needed. Typically ~75-90% of
   * the estimate for prose, code and JSON, ~1/8 for Chinese.
   */
  lowerBound(messages: readonly BaseMessage[], options: EstimateOptions): number {
    const { encoding } = tokenizerFamily(options.model);
    let raw = REPLY_PRIMING_TOKENS + toolDefinitionLowerBound(options.tools, encoding);
    for (const message of messages) raw += messageTokenLowerBound(message, encoding);
    return this.scale(raw, options.model);
  }

  /**
   * Learns from a finished call: `estimated` is what {@link estimate} returned for it and
   * `actualInputTokens` what the provider billed as input. The model's correction factor moves
   * towards the observed ratio (exponential moving average), clamped to
   * [{@link MIN_CORRECTION}, {@link MAX_CORRECTION}]. Nonsense values and tiny prompts are ignored.
   */
  learn(model: string, estimated: number, actualInputTokens: number): void {
    if (!Number.isFinite(estimated) || !Number.isFinite(actualInputTokens)) return;
    if (estimated < MIN_LEARNABLE_TOKENS || actualInputTokens <= 0) return;
    const current = this.correction(model);
    // `estimated` already carries the current factor; actual/estimated is the residual error.
    const target = current * (actualInputTokens / estimated);
    const next = current + LEARNING_RATE * (target - current);
    this.learned.set(model, Math.min(MAX_CORRECTION, Math.max(MIN_CORRECTION, next)));
  }

  /** The factor estimates for `model` are multiplied by: learned, else configured, else the family default. */
  correction(model: string): number {
    const learned = this.learned.get(model);
    if (learned !== undefined) return learned;
    let factor = this.starting.get(model);
    if (factor === undefined) {
      factor =
        this.initial.get(model) ??
        this.initial.get(bareModelId(model)) ??
        tokenizerFamily(model).defaultCorrection;
      this.starting.set(model, factor);
    }
    return factor;
  }

  private scale(raw: number, model: string): number {
    const factor = this.correction(model);
    return factor === 1 ? raw : Math.ceil(raw * factor);
  }
}
