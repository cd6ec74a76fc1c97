import { type Clock, systemClock } from "../clock";
import { parseOrThrow } from "../config/messages";
import { budgetOptionsSchema } from "../config/options";
import { AutoPickerConfigError } from "../errors";
import {
  type AlertListener,
  type AutoPickerAlert,
  type BudgetMode,
  consoleLogger,
  emitAlert,
  logWarning,
  type WarningLogger,
} from "./alerts";
import { type BudgetStore, type LimitedBudgetCounter, MemoryBudgetStore } from "./budgetStore";
import { microsToUsd, usdToMicrosCeil, usdToMicrosFloor } from "./money";
import { type BudgetPeriod, periodEnd, periodKey } from "./periods";

/** Options of {@link BudgetManager}. */
export interface BudgetManagerOptions {
  /** Limit per UTC day, in dollars. */
  dailyLimitUsd?: number;
  /** Limit per UTC month, in dollars. */
  monthlyLimitUsd?: number;
  /** Share of a limit at which `budget_threshold` is raised, once per period. Default 0.8. */
  alertThreshold?: number;
  /** What the model does when a call does not fit. Default `"block"`. */
  mode?: BudgetMode;
  /** Where counters live. Default: a {@link MemoryBudgetStore} (one process). */
  store?: BudgetStore;
  /** Prefix of every store key, to keep several budgets in one store (`"team-a"` -> `"team-a:day:..."`). */
  scope?: string;
  clock?: Clock;
  onAlert?: AlertListener;
  /** Default: `console.warn`, prefixed `[autopicker]`. */
  logger?: WarningLogger;
}

/** A store counter that knows its period. */
export interface PeriodCounter extends LimitedBudgetCounter {
  period: BudgetPeriod;
}

/** A reservation to settle or release. Opaque: pass it back unchanged. */
export interface BudgetTicket {
  readonly id: string;
  readonly amountMicros: number;
  /** The period counters the amount was booked on (a call settles in the period it started). */
  readonly counters: readonly PeriodCounter[];
}

/** Result of {@link BudgetManager.reserve}. */
export type BudgetReservation =
  | { kind: "ok"; ticket: BudgetTicket }
  | {
      kind: "over";
      /** The first period the call did not fit. */
      period: BudgetPeriod;
      limitUsd: number;
      /** Spent plus reserved by calls in flight. */
      spentUsd: number;
      remainingUsd: number;
      requestedUsd: number;
    };

// A day after the period ends, so a call that started at 23:59 can still settle on its day.
const SETTLE_GRACE_MS = 24 * 3600 * 1000;

/**
 * Daily and monthly spending limits that hold under concurrency: `reserve()` books an estimate
 * atomically before a call, `settle()` replaces it with the actual cost after. Counts spent plus
 * in-flight money, in integer micro-dollars, in a {@link BudgetStore} that Redis can implement.
 */
export class BudgetManager {
  /** What the model does when a call does not fit. */
  readonly mode: BudgetMode;
  readonly dailyLimitUsd?: number;
  readonly monthlyLimitUsd?: number;
  readonly alertThreshold: number;
  private readonly store: BudgetStore;
  private readonly clock: Clock;
  private readonly scope: string;
  private readonly onAlert?: AlertListener;
  private readonly logger: WarningLogger;
  private readonly closedTickets = new WeakSet<BudgetTicket>();
  /** Alert keys already claimed by this process: saves a store round trip per call after an alert. */
  private readonly raised = new Set<string>();
  private nextId = 0;

  constructor(options: BudgetManagerOptions = {}) {
    parseOrThrow(budgetOptionsSchema, options, { subject: "Budget" });
    const threshold = options.alertThreshold ?? 0.8;
    const mode = options.mode ?? "block";
    this.mode = mode;
    if (options.dailyLimitUsd !== undefined) this.dailyLimitUsd = options.dailyLimitUsd;
    if (options.monthlyLimitUsd !== undefined) this.monthlyLimitUsd = options.monthlyLimitUsd;
    this.alertThreshold = threshold;
    this.clock = options.clock ?? systemClock;
    this.store = options.store ?? new MemoryBudgetStore({ clock: this.clock });
    this.scope = options.scope ? `${options.scope}:` : "";
    if (options.onAlert) this.onAlert = options.onAlert;
    this.logger = options.logger ?? consoleLogger;
  }

  /**
   * Books `estimatedUsd` on today's and this month's counters if it fits both, in one atomic store
   * operation, so concurrent callers can never overspend together. `"over"` changes nothing.
   */
  async reserve(estimatedUsd: number): Promise<BudgetReservation> {
    const amountMicros = usdToMicrosCeil(checkAmount(estimatedUsd, "estimatedUsd"));
    const counters = this.counters();
    const result = await this.store.reserve(counters, amountMicros);
    if (!result.ok) {
      const counter = counters[result.failedIndex] as PeriodCounter;
      const period = counter.period;
      const limitMicros = counter.limitMicros ?? 0;
      const usedMicros = result.usedMicros[result.failedIndex] ?? 0;
      await this.raiseOnce(counter, "budget_exceeded", () => ({
        type: "budget_exceeded",
        period,
        periodKey: counter.key,
        limitUsd: microsToUsd(limitMicros),
        spentUsd: microsToUsd(usedMicros),
        requestedUsd: microsToUsd(amountMicros),
        mode: this.mode,
        at: this.clock.now(),
        message:
          `${period === "day" ? "Daily" : "Monthly"} budget of $${fmt(limitMicros)} would be exceeded: ` +
          `$${fmt(usedMicros)} spent or reserved, this call needs up to $${fmt(amountMicros)} (mode "${this.mode}").`,
      }));
      return {
        kind: "over",
        period,
        limitUsd: microsToUsd(limitMicros),
        spentUsd: microsToUsd(usedMicros),
        remainingUsd: microsToUsd(Math.max(0, limitMicros - usedMicros)),
        requestedUsd: microsToUsd(amountMicros),
      };
    }
    // Threshold alerts are checked when spend is settled, not here: a reservation is a worst-case
    // estimate (full output allowance), and alerting on it would cry wolf on the first call.
    return { kind: "ok", ticket: { id: `${this.clock.now()}-${this.nextId++}`, amountMicros, counters } };
  }

  /**
   * Replaces the reservation with the actual cost; without `actualUsd` (the provider reported no
   * usage) the reserved estimate stands as the spend. Settling or releasing a ticket twice does
   * nothing; if the store fails, the ticket stays open so a later `release` can still return it.
   */
  async settle(ticket: BudgetTicket, actualUsd?: number): Promise<void> {
    const actualMicros =
      actualUsd === undefined ? ticket.amountMicros : usdToMicrosCeil(checkAmount(actualUsd, "actualUsd"));
    if (!this.close(ticket)) return;
    let used: number[];
    try {
      used = await this.store.add(ticket.counters, actualMicros - ticket.amountMicros);
    } catch (error) {
      this.reopen(ticket);
      throw error;
    }
    await this.checkAlerts(ticket.counters, used);
  }

  /** Returns the reserved amount (the call was not sent or cost nothing). Idempotent. */
  async release(ticket: BudgetTicket): Promise<void> {
    if (!this.close(ticket)) return;
    try {
      await this.store.add(ticket.counters, -ticket.amountMicros);
    } catch (error) {
      this.reopen(ticket);
      throw error;
    }
  }

  /**
   * Books spend that was not reserved first (e.g. observed by the cost handler, or a `"warn"`-mode
   * call made over the limit). It is never refused.
   */
  async record(actualUsd: number): Promise<void> {
    const micros = usdToMicrosCeil(checkAmount(actualUsd, "actualUsd"));
    if (micros === 0) return;
    const counters = this.counters();
    const used = await this.store.add(counters, micros);
    await this.checkAlerts(counters, used);
  }

  /** Dollars left today and this month (spent and in-flight reservations deducted); only limited periods. */
  async remaining(): Promise<{ day?: number; month?: number }> {
    const counters = this.counters();
    const used = await this.store.read(counters.map((c) => c.key));
    const out: { day?: number; month?: number } = {};
    counters.forEach((counter, i) => {
      if (counter.limitMicros === null) return;
      out[counter.period] = microsToUsd(Math.max(0, counter.limitMicros - (used[i] ?? 0)));
    });
    return out;
  }

  /** Counters for the current day and month. Unlimited periods are still counted, for `remaining()` later. */
  private counters(): PeriodCounter[] {
    const now = this.clock.now();
    return (
      [
        ["day", this.dailyLimitUsd],
        ["month", this.monthlyLimitUsd],
      ] as const
    ).map(([period, limitUsd]) => ({
      period,
      key: `${this.scope}${periodKey(period, now)}`,
      expiresAt: periodEnd(period, now) + SETTLE_GRACE_MS,
      limitMicros: limitUsd === undefined ? null : usdToMicrosFloor(limitUsd),
    }));
  }

  private close(ticket: BudgetTicket): boolean {
    if (this.closedTickets.has(ticket)) return false;
    this.closedTickets.add(ticket);
    return true;
  }

  /** The store refused the update: the ticket is still owed a settle or a release. */
  private reopen(ticket: BudgetTicket): void {
    this.closedTickets.delete(ticket);
  }

  private async checkAlerts(counters: readonly PeriodCounter[], used: readonly number[]): Promise<void> {
    for (const [i, counter] of counters.entries()) {
      const limitMicros = counter.limitMicros;
      const usedMicros = used[i] ?? 0;
      if (limitMicros === null) continue;
      const period = counter.period;
      const name = period === "day" ? "Daily" : "Monthly";
      if (usedMicros >= this.alertThreshold * limitMicros) {
        await this.raiseOnce(counter, "budget_threshold", () => ({
          type: "budget_threshold",
          period,
          periodKey: counter.key,
          limitUsd: microsToUsd(limitMicros),
          spentUsd: microsToUsd(usedMicros),
          threshold: this.alertThreshold,
          at: this.clock.now(),
          message:
            `${name} budget ${Math.round(this.alertThreshold * 100)}% used: ` +
            `$${fmt(usedMicros)} of $${fmt(limitMicros)} spent or reserved.`,
        }));
      }
      if (usedMicros > limitMicros) {
        await this.raiseOnce(counter, "budget_exceeded", () => ({
          type: "budget_exceeded",
          period,
          periodKey: counter.key,
          limitUsd: microsToUsd(limitMicros),
          spentUsd: microsToUsd(usedMicros),
          mode: this.mode,
          at: this.clock.now(),
          message: `${name} budget of $${fmt(limitMicros)} exceeded: $${fmt(usedMicros)} spent (mode "${this.mode}").`,
        }));
      }
    }
  }

  /** Raises an alert once per period and type, across processes sharing the store. */
  private async raiseOnce(
    counter: PeriodCounter,
    type: "budget_threshold" | "budget_exceeded",
    build: () => AutoPickerAlert,
  ): Promise<void> {
    const key = `${counter.key}:alert:${type}`;
    if (this.raised.has(key)) return;
    this.raised.add(key);
    if (this.raised.size > 64) this.raised.delete(this.raised.values().next().value as string);
    try {
      if (!(await this.store.claimOnce(key, counter.expiresAt))) return;
    } catch (err) {
      // Alerting must never fail a call; without the store's verdict, alert rather than stay silent.
      logWarning(
        this.logger,
        `Budget store could not claim alert: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    emitAlert(build(), this.logger, this.onAlert);
  }
}

function checkAmount(usd: number, name: string): number {
  if (!(Number.isFinite(usd) && usd >= 0))
    throw new AutoPickerConfigError(`${name} must be a finite number of dollars >= 0, got ${usd}.`);
  return usd;
}

function fmt(micros: number): string {
  return microsToUsd(micros).toFixed(4);
}
