/**
 * Every error this package throws is an `AutoPickerError` with a `code` that narrows it, so callers
 * can `switch (err.code)` instead of matching messages. Messages say what to fix and never carry
 * prompt text or API keys.
 */
export type AutoPickerErrorCode =
  | "config"
  | "all_models_failed"
  | "context_window_exceeded"
  | "budget_exceeded"
  | "run_budget_exceeded"
  | "malformed_response"
  | "content_filtered"
  | "stream_interrupted"
  | "redis_unavailable"
  | "redis_timeout";

/** Marks our errors across duplicate installs of this package (where `instanceof` fails). */
const BRAND = Symbol.for("langchain-autopicker.error");

export abstract class AutoPickerError extends Error {
  abstract readonly code: AutoPickerErrorCode;

  static {
    Object.defineProperty(AutoPickerError.prototype, BRAND, { value: true });
  }
}

/**
 * Whether `error` is one of this package's errors, even when it comes from another copy of the
 * package (two versions in node_modules, ESM and CJS side by side), where `instanceof` says no.
 */
export function isAutoPickerError(error: unknown): error is AutoPickerError {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as Record<symbol, unknown>)[BRAND] === true &&
    typeof (error as { code?: unknown }).code === "string"
  );
}

/** Bad configuration: thrown at construction, before any request is sent. */
export class AutoPickerConfigError extends AutoPickerError {
  readonly code = "config" as const;
  override name = "AutoPickerConfigError";
}

/** One attempt on one model (in the decision trail it travels as `TrailAttempt`, in snake_case). */
export interface AttemptRecord {
  model: string;
  /** What happened: `ok`, an error kind, or why the model was skipped without a request. */
  outcome: string;
  /** Milliseconds waited before this attempt (rate limit or backoff). */
  waitedMs: number;
  /** A redacted, one-line description of the error, if any. */
  error?: string;
}

/** Every model was tried or skipped and none produced an answer. */
export class AllModelsFailedError extends AutoPickerError {
  readonly code = "all_models_failed" as const;
  override name = "AllModelsFailedError";
  constructor(
    readonly attempts: readonly AttemptRecord[],
    options?: { cause?: unknown },
  ) {
    super(
      `All models failed: ${attempts.map((a) => `${a.model}: ${a.outcome}${a.error ? ` (${a.error})` : ""}`).join("; ")}`,
      options,
    );
  }
}

/** The input does not fit any model's context window (or the chosen strategy forbids falling back). */
export class ContextWindowExceededError extends AutoPickerError {
  readonly code = "context_window_exceeded" as const;
  override name = "ContextWindowExceededError";
  constructor(
    readonly estimatedTokens: number,
    readonly windows: Readonly<Record<string, number>>,
  ) {
    super(
      `Input of ~${estimatedTokens} tokens (including the output allowance) fits no model's context window ` +
        `(${Object.entries(windows)
          .map(([m, w]) => `${m}: ${w}`)
          .join(
            ", ",
          )}). Shorten the input, lower maxTokens, add a larger model, or use contextStrategy "truncate".`,
    );
  }
}

/** A budget in `"block"` mode would be exceeded by this call. */
export class BudgetExceededError extends AutoPickerError {
  readonly code = "budget_exceeded" as const;
  override name = "BudgetExceededError";
  constructor(
    readonly period: "day" | "month",
    readonly limitUsd: number,
    readonly spentUsd: number,
    readonly requestedUsd: number,
  ) {
    super(
      `Budget exceeded for this ${period}: limit $${limitUsd.toFixed(4)}, spent or reserved $${spentUsd.toFixed(4)}, ` +
        `this call needs up to $${requestedUsd.toFixed(4)}. Raise the limit or switch the budget mode to "downgrade" or "warn".`,
    );
  }
}

/**
 * A provider answered (HTTP 200) but the answer holds nothing usable: no generations, no content
 * and no tool call, or a body the client could not read. An attempt of kind `malformed_response`:
 * retried once like any error nobody understands, then the next model answers.
 */
export class MalformedResponseError extends AutoPickerError {
  readonly code = "malformed_response" as const;
  override name = "MalformedResponseError";
  constructor(
    readonly model: string,
    /** What was wrong, in a few words ("no generations", "the stream ended without content"). */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${model} answered without a usable completion: ${problem}.`, options);
  }
}

/**
 * The provider's safety system withheld the answer (OpenAI `finish_reason: "content_filter"`,
 * Gemini `SAFETY` and friends, or a blocked prompt). Another provider may answer; with
 * `onContentFilter: "return"` the filtered answer is returned as it is instead.
 */
export class ContentFilteredError extends AutoPickerError {
  readonly code = "content_filtered" as const;
  override name = "ContentFilteredError";
  constructor(
    readonly model: string,
    /** The provider's own word for it ("content_filter", "SAFETY", "PROHIBITED_CONTENT", ...). */
    readonly reason: string,
  ) {
    super(`${model} withheld its answer (content filter: ${reason}).`);
  }
}

/**
 * A streamed answer broke off after it had started: the caller already holds `partialText`, so
 * the picker does not fall back mid-answer (another model would start over). Nothing is silently
 * truncated; `cause` is the transport's error.
 */
export class StreamInterruptedError extends AutoPickerError {
  readonly code = "stream_interrupted" as const;
  override name = "StreamInterruptedError";
  constructor(
    readonly model: string,
    /** The text streamed before the break (the model's answer, never the prompt). */
    readonly partialText: string,
    options: { cause: unknown },
  ) {
    super(
      `The stream from ${model} broke off after ${partialText.length} characters ` +
        `(${options.cause instanceof Error ? options.cause.name : "error"}); the answer is incomplete.`,
      options,
    );
  }
}

/**
 * The next model call of a run cannot fit the run's budget (`maxUsd`, `maxTokens` or
 * `maxModelCalls`), with the figures; raised when the run budget's `onExhausted` is "throw" (and in
 * "downgrade" mode when no model is cheap enough).
 */
export class RunBudgetExceededError extends AutoPickerError {
  readonly code = "run_budget_exceeded" as const;
  override name = "RunBudgetExceededError";
  constructor(
    /** Which limit the call would break. */
    readonly dimension: "usd" | "tokens" | "model_calls",
    /** What the call needs at worst (`null`: its model has no known price, so no dollar limit can admit it). */
    readonly needed: number | null,
    /** What the run has left on that limit. */
    readonly remaining: number,
    /** The run so far. */
    readonly spent: {
      spentUsd: number;
      tokens: number;
      modelCalls: number;
    },
  ) {
    const left =
      dimension === "model_calls"
        ? "no model calls left"
        : dimension === "tokens"
          ? `${Math.max(0, remaining)} tokens left, this call needs up to ${needed}`
          : needed === null
            ? "the next model has no known price, so a dollar limit cannot admit it (set `pricing` on its entry)"
            : `$${Math.max(0, remaining).toFixed(6)} left, this call needs up to $${needed.toFixed(6)}`;
    super(
      `The run's budget is spent: ${left}. So far: $${spent.spentUsd.toFixed(6)}, ${spent.tokens} tokens, ` +
        `${spent.modelCalls} model calls.`,
    );
  }
}
