import type { BudgetPeriod } from "./periods";

/** What a budget does once a call would exceed it. The model wrapper reads it. */
export type BudgetMode = "block" | "downgrade" | "warn";

/** Fields every alert carries. */
export interface AlertBase {
  /** Epoch ms when the alert was raised (from the injected clock). */
  at: number;
  /** One line for humans; also what the logger prints. */
  message: string;
}

/** Spend in a period crossed `threshold` (a share of the limit). Raised once per period. */
export interface BudgetThresholdAlert extends AlertBase {
  type: "budget_threshold";
  period: BudgetPeriod;
  /** e.g. `"day:2026-11-22"`. */
  periodKey: string;
  limitUsd: number;
  /** Spent plus reserved, in dollars. */
  spentUsd: number;
  threshold: number;
}

/** A call was refused by the budget, or spend went past the limit (`"warn"` mode). Once per period. */
export interface BudgetExceededAlert extends AlertBase {
  type: "budget_exceeded";
  period: BudgetPeriod;
  periodKey: string;
  limitUsd: number;
  spentUsd: number;
  /** The reservation that did not fit, when the alert comes from `reserve()`. */
  requestedUsd?: number;
  mode: BudgetMode;
}

/** More than `threshold` of the requests in the window were served by a fallback model. */
export interface FallbackRateHighAlert extends AlertBase {
  type: "fallback_rate_high";
  rate: number;
  threshold: number;
  fallbacks: number;
  requests: number;
  windowMs: number;
}

/** More than `threshold` of the requests in the window waited for a rate limit. */
export interface RateLimitWaitsFrequentAlert extends AlertBase {
  type: "rate_limit_waits_frequent";
  rate: number;
  threshold: number;
  waits: number;
  requests: number;
  windowMs: number;
}

/** A single rate-limit wait took longer than `thresholdMs`. */
export interface RateLimitWaitLongAlert extends AlertBase {
  type: "rate_limit_wait_long";
  waitMs: number;
  thresholdMs: number;
  windowMs: number;
}

/** Every alert this package raises; switch on `type`. */
export type AutoPickerAlert =
  | BudgetThresholdAlert
  | BudgetExceededAlert
  | FallbackRateHighAlert
  | RateLimitWaitsFrequentAlert
  | RateLimitWaitLongAlert;

/** Receives alerts. Errors it throws are logged and otherwise ignored: alerting never fails a call. */
export type AlertListener = (alert: AutoPickerAlert) => void;

/** Where warnings go. `console` fits. */
export interface WarningLogger {
  warn(message: string): void;
}

/** The prefix of every line this package logs. */
export const LOG_PREFIX = "[autopicker]";

/** `console.warn`, looked up at call time so test spies on `console.warn` see the calls. */
export const consoleLogger: WarningLogger = {
  warn: (message) => console.warn(message),
};

/** Logs `message` with the package prefix. */
export function logWarning(logger: WarningLogger, message: string): void {
  try {
    logger.warn(`${LOG_PREFIX} ${message}`);
  } catch {
    // A broken logger must not break a model call.
  }
}

/** Logs an alert and hands it to the listener, isolating the caller from listener errors. */
export function emitAlert(alert: AutoPickerAlert, logger: WarningLogger, listener?: AlertListener): void {
  logWarning(logger, alert.message);
  if (!listener) return;
  try {
    listener(alert);
  } catch (err) {
    logWarning(logger, `onAlert listener threw: ${err instanceof Error ? err.message : String(err)}`);
  }
}
