import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseMessage, UsageMetadata } from "@langchain/core/messages";
import { type Clock, raceAbort } from "../clock";
import type { TokenEstimator } from "../context";
import { isShortfall, type RunBudget, type RunBudgetTicket } from "../cost/runBudget";
import type { AttemptRecord } from "../errors";
import type { RateLimiter, ReservationTicket } from "../limits";
import { SendEvidence } from "../limits";
import { NO_TENANT } from "../limits/priority";
import type { CircuitPermit } from "../retry/circuitBreaker";
import { type ClassifiedError, classifyError } from "../retry/classify";
import {
  type AttemptCounters,
  decideAfterError,
  type FallbackReason,
  newCounters,
  type RetryPolicy,
} from "../retry/policy";
import type { BudgetGate } from "./budgetGate";
import type { Candidate } from "./candidate";
import type { ResolvedEntry } from "./entries";
import type { EventHub } from "./eventHub";
import type { WaitCause, WaitEvent } from "./events";
import type { CallPlace } from "./placement";
import { type Settled, Settlement } from "./settlement";
import type { SharedHealthSync } from "./sharedHealth";
import type { AutoPickerLogger } from "./types";

/** One inner call: resolves with the provider's result or throws the provider's error. */
export type InnerCall<T> = (
  entry: ResolvedEntry,
  messages: BaseMessage[],
  signal: AbortSignal | undefined,
) => Promise<T>;

/** Books an answered call: limiter, estimator and budget get the real usage. Never throws. */
export type Settle = (usage: UsageMetadata | undefined) => Promise<Settled>;

/** How trying one model ended. */
export type ModelOutcome<T> =
  | { kind: "served"; result: T; settle: Settle }
  | { kind: "fallback"; reason: FallbackReason; error?: unknown };

/** What one call carries from model to model. */
export interface CallScope {
  signal: AbortSignal | undefined;
  runManager: CallbackManagerForLLMRun | undefined;
  attempts: AttemptRecord[];
  /** The envelope of the run this call belongs to, if it has one. */
  runBudget: RunBudget | undefined;
  /** Where the call queues on a saturated model (class, tenant) and its class's wait cap. */
  place: CallPlace;
}

/** A granted slot: the breaker's permit and the limiter's booking. */
interface Slot {
  kind: "slot";
  permit: CircuitPermit & { allowed: true };
  ticket: ReservationTicket;
  /** Time waited before this attempt (the limiter's wait plus any backoff before it). */
  waitedMs: number;
}

export interface ModelAttemptsDeps {
  limiter: RateLimiter;
  estimator: TokenEstimator;
  budget: BudgetGate;
  shared: SharedHealthSync;
  events: EventHub;
  clock: Clock;
  logger: AutoPickerLogger;
  settings: { policy: RetryPolicy; quotaCooldownMs: number; defaultOutputTokens: number };
}

/**
 * All attempts of one call on one model, by the decision policy: reserve the budget, wait for the
 * limiter's slot, send, classify a failure, then retry on the same model, fall back, or surface.
 */
export class ModelAttempts {
  private readonly settlement: Settlement;

  constructor(private readonly d: ModelAttemptsDeps) {
    this.settlement = new Settlement(d);
  }

  /** The budget around all attempts on one model: reserve first, then settle or release. */
  async tryModel<T>(c: Candidate, call: InnerCall<T>, scope: CallScope): Promise<ModelOutcome<T>> {
    // The run's envelope first (synchronous), then the global budget: a call must fit both.
    const admitted = this.admitToRun(c, scope);
    if (admitted.kind === "fallback") return admitted;
    const runTicket = admitted.ticket;
    const releaseRun = () => runTicket && scope.runBudget!.release(runTicket);
    const admission = await this.d.budget.admit(c).catch((error: unknown) => {
      releaseRun();
      throw error;
    });
    if (admission.kind === "skip") {
      releaseRun();
      scope.attempts.push({ model: c.entry.name, outcome: "skipped:budget", waitedMs: 0 });
      return { kind: "fallback", reason: "budget" };
    }
    const ticket = admission.ticket;
    let outcome:
      | { kind: "served"; result: T; booking: ReservationTicket }
      | (ModelOutcome<T> & { kind: "fallback" });
    try {
      outcome = await this.attempts(c, call, scope);
    } catch (error) {
      releaseRun();
      await this.d.budget.release(ticket);
      throw error;
    }
    if (outcome.kind !== "served") {
      releaseRun();
      await this.d.budget.release(ticket);
      return outcome;
    }
    const { booking, result } = outcome;
    const run = runTicket ? { budget: scope.runBudget!, ticket: runTicket } : undefined;
    return {
      kind: "served",
      result,
      settle: (usage) => this.settlement.settle(c, booking, ticket, usage, run),
    };
  }

  /**
   * Reserves the call's worst case (input estimate plus output allowance, at this model's price)
   * from the run's envelope. A call that does not fit stops the run ("finish", "throw": the error
   * goes up) or, in "downgrade" mode, moves on to a cheaper model.
   */
  private admitToRun(
    c: Candidate,
    scope: CallScope,
  ): { kind: "go"; ticket?: RunBudgetTicket } | { kind: "fallback"; reason: "budget"; error: unknown } {
    const run = scope.runBudget;
    if (!run) return { kind: "go" };
    const output = c.outputAllowance || this.d.settings.defaultOutputTokens;
    const reserved = run.reserve(run.maxUsd === undefined ? 0 : c.cost, c.estimatedTokens + output);
    if (!isShortfall(reserved)) return { kind: "go", ticket: reserved };
    run.markExhausted();
    const error = run.exceeded(reserved);
    scope.attempts.push({
      model: c.entry.name,
      outcome: `skipped:run_budget(${reserved.dimension})`,
      waitedMs: 0,
    });
    void this.d.events.runBudgetExhausted({ model: c.entry.name, error }, scope.runManager);
    if (run.onExhausted !== "downgrade") throw error;
    return { kind: "fallback", reason: "budget", error };
  }

  /** Every attempt on one model: wait for a slot, send, and retry while the policy says so. */
  private async attempts<T>(
    c: Candidate,
    call: InnerCall<T>,
    scope: CallScope,
  ): Promise<
    { kind: "served"; result: T; booking: ReservationTicket } | (ModelOutcome<T> & { kind: "fallback" })
  > {
    const counters = newCounters();
    let backoffMs = 0;
    for (;;) {
      scope.signal?.throwIfAborted();
      const slot = await this.acquireSlot(c, scope, backoffMs);
      if (slot.kind === "fallback") return slot;
      // What this attempt did on the wire: when it left (the limiter stamps the slot from it), and
      // whether anything left at all (a client that refused the input sent nothing).
      const evidence = new SendEvidence();
      try {
        const result = await this.send(c, call, slot, scope.signal, evidence);
        this.onSuccess(c, slot.permit);
        scope.attempts.push({ model: c.entry.name, outcome: "ok", waitedMs: slot.waitedMs });
        return { kind: "served", result, booking: slot.ticket };
      } catch (error) {
        const next = await this.afterError(c, error, slot, counters, scope, evidence);
        if (next.kind === "fallback") return next;
        backoffMs = next.backoffMs;
      }
    }
  }

  /** The circuit breaker's permit and the limiter's slot; `waitedMs` includes the backoff before it. */
  private async acquireSlot(
    c: Candidate,
    scope: CallScope,
    backoffMs: number,
  ): Promise<Slot | { kind: "fallback"; reason: FallbackReason }> {
    const { entry } = c;
    const { limiter, events } = this.d;
    const permit = entry.health.breaker.acquire();
    if (!permit.allowed) {
      scope.attempts.push({ model: entry.name, outcome: "skipped:circuit_open", waitedMs: backoffMs });
      return { kind: "fallback", reason: "circuit_open" };
    }
    let decision: Awaited<ReturnType<RateLimiter["acquire"]>>;
    try {
      decision = await limiter.acquire(
        entry.name,
        // Requests-only limits need no token count: skip tokenizing.
        {
          tokens: limiter.countsTokens(entry.name)
            ? c.estimatedTokens + (entry.tokenLimitCountsOutput ? c.outputAllowance : 0)
            : 0,
        },
        {
          maxWaitMs: scope.place.maxWaitMs,
          place: scope.place.place,
          signal: scope.signal,
          onWait: (waitMs, movedByMs) =>
            events.wait(
              movedByMs === undefined
                ? waitEvent(entry.name, waitMs, "rate_limit", scope)
                : { ...waitEvent(entry.name, waitMs, "moved", scope), movedByMs },
              scope.runManager,
            ),
        },
      );
    } catch (abort) {
      entry.health.breaker.onNeutral(permit.probe);
      throw abort;
    }
    if (decision.kind !== "granted") {
      entry.health.breaker.onNeutral(permit.probe);
      const outcome =
        decision.kind === "never_fits"
          ? `skipped:never_fits(${decision.dimension} ${decision.requested}>${decision.limit})`
          : `skipped:wait_too_long(${Math.round(decision.waitMs)}ms on ${decision.dimension})`;
      scope.attempts.push({ model: entry.name, outcome, waitedMs: backoffMs });
      return { kind: "fallback", reason: "rate_limit" };
    }
    return {
      kind: "slot",
      permit,
      ticket: decision.ticket,
      waitedMs: backoffMs + Math.round(decision.waitMs),
    };
  }

  /**
   * One request to the model. The limiter watches it go out: the slot is stamped from evidence of
   * when the request really left, and the response's rate-limit headers are learned.
   */
  private send<T>(
    c: Candidate,
    call: InnerCall<T>,
    slot: Slot,
    signal: AbortSignal | undefined,
    evidence: SendEvidence,
  ): Promise<T> {
    return this.d.clock.busy(
      this.d.limiter.send(slot.ticket, () => raceAbort(call(c.entry, c.messages, signal), signal), evidence),
    );
  }

  private onSuccess(c: Candidate, permit: CircuitPermit & { allowed: true }): void {
    if (permit.probe) this.d.shared.closeCircuit(c.entry.name);
    c.entry.health.breaker.onSuccess();
  }

  /**
   * A failed attempt: record it, keep its slot (the provider counted it), feed the breaker, learn
   * the provider's hint, and decide: retry after a wait, fall back, or surface the error.
   */
  private async afterError(
    c: Candidate,
    error: unknown,
    slot: Slot,
    counters: AttemptCounters,
    scope: CallScope,
    evidence: SendEvidence,
  ): Promise<
    { kind: "retry"; backoffMs: number } | { kind: "fallback"; reason: FallbackReason; error: unknown }
  > {
    const { entry } = c;
    const { clock, limiter, events, settings } = this.d;
    const now = clock.now();
    const classified = classifyError(error, now, {
      requestSent: evidence.requests > 0 || evidence.sent,
    });
    events.emit("attemptFailed", { model: entry.name, kind: classified.kind, message: classified.message });
    scope.attempts.push({
      model: entry.name,
      outcome: classified.kind,
      waitedMs: slot.waitedMs,
      error: classified.message,
    });
    await limiter.commit(slot.ticket).catch(() => undefined);
    this.feedBreaker(entry, classified, slot.permit.probe);
    if (classified.kind === "aborted" || scope.signal?.aborted) throw error;
    if (
      (classified.kind === "rate_limit" || classified.kind === "quota_exhausted") &&
      classified.hint.state
    ) {
      await limiter.learn(entry.name, classified.hint.state).catch(() => undefined);
    }

    // The class's wait cap holds for provider hints too, not only for the limiter's slot.
    const policy = { ...settings.policy, maxWaitMs: scope.place.maxWaitMs };
    const next = decideAfterError(classified, counters, policy, now);
    switch (next.action) {
      case "surface":
        throw error;
      case "fallback":
        this.rememberOutage(entry, classified, next.reason, now);
        return { kind: "fallback", reason: next.reason, error };
      case "retry":
        if (next.blockModelUntil !== undefined) {
          // The limiter queues every caller behind the provider's hint: one wait each, no herd.
          await limiter.blockUntil(entry.name, next.blockModelUntil);
          return { kind: "retry", backoffMs: 0 };
        }
        if (next.delayMs > 0) {
          await events.wait(waitEvent(entry.name, next.delayMs, "backoff", scope), scope.runManager);
          await clock.sleep(next.delayMs, scope.signal);
        }
        return { kind: "retry", backoffMs: next.delayMs };
    }
  }

  /** Only transient failures say something about the model's health. */
  private feedBreaker(entry: ResolvedEntry, error: ClassifiedError, probe: boolean): void {
    const { breaker } = entry.health;
    if (error.kind !== "transient") {
      breaker.onNeutral(probe);
      return;
    }
    breaker.onFailure();
    const state = breaker.state;
    if (state.state === "open") this.d.shared.openCircuit(entry.name, state.retryAt);
  }

  /** Remembers outages that outlive this call, so later calls skip the model without paying for it. */
  private rememberOutage(
    entry: ResolvedEntry,
    error: ClassifiedError,
    reason: FallbackReason,
    now: number,
  ): void {
    const { health } = entry;
    if (error.kind === "quota_exhausted") {
      const until = now + (error.hint.retryAfterMs ?? this.d.settings.quotaCooldownMs);
      health.markUnavailable(until, "quota_exhausted");
      this.d.shared.markUnavailable(entry.name, until, "quota_exhausted");
      this.d.logger.warn(
        `${entry.name}: ${error.scope === "day" ? "daily quota" : "quota/billing limit"} reached; skipping it until ${new Date(until).toISOString()}.`,
      );
    } else if (error.kind === "auth") {
      const until = now + this.d.settings.quotaCooldownMs;
      health.markUnavailable(until, reason);
      this.d.shared.markUnavailable(entry.name, until, reason);
      this.d.logger.warn(
        `${entry.name}: the provider refused the key or model (${error.message}); skipping it for now.`,
      );
    }
  }
}

/** A wait of this call, with its class and tenant. */
function waitEvent(model: string, waitMs: number, cause: WaitCause, scope: CallScope): WaitEvent {
  const { priority, tenant } = scope.place.place;
  return { model, waitMs, cause, priority, ...(tenant !== NO_TENANT ? { tenant } : {}) };
}
