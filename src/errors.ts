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
