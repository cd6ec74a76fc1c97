import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseMessage, UsageMetadata } from "@langchain/core/messages";
import { type Clock, raceAbort } from "../clock";
import type { TokenEstimator } from "../context";
import { resolveMaxOutputTokens, truncateToFit } from "../context";
import type { AlertMonitor } from "../cost";
import { type AttemptRecord, ContextWindowExceededError } from "../errors";
import type { RateLimiter, ReservationTicket, ReserveDecision } from "../limits";
import { classifyError } from "../retry/classify";
import { decideAfterError, type FallbackReason, newCounters, type RetryPolicy } from "../retry/policy";
import type { BudgetGate } from "./budgetGate";
import { Candidate } from "./candidate";
import type { ResolvedEntry } from "./entries";
import { CONTEXT_LENGTH_FALLBACK, RATE_LIMIT_FALLBACK, RATE_LIMIT_WAIT } from "./events";
import type { ModelHealth } from "./health";
import { byCost, type CallPreference, orderCandidates, type TaskRoute } from "./ordering";
import type { SharedHealthSync } from "./sharedHealth";
import type { StatsRecorder } from "./stats";
import type { AutoPickerLogger, ContextStrategy, DecisionTrail } from "./types";

/** One inner call: resolves with the provider's result or throws the provider's error. */
export type InnerCall<T> = (
  entry: ResolvedEntry,
  messages: BaseMessage[],
  signal: AbortSignal | undefined,
) => Promise<T>;

/** A served call: the result, who served it, and how to settle the limiter once usage is known. */
export interface Served<T> {
  result: T;
  entry: ResolvedEntry;
  trail: DecisionTrail;
  /** Reconciles the limiter and the estimator with real usage. Call exactly once. */
  settle(usage: UsageMetadata | undefined): Promise<void>;
}

/** Every model failed or was skipped. */
export class RoutingFailure {
  constructor(
    readonly attempts: AttemptRecord[],
    readonly lastError: unknown,
  ) {}
}

export interface RouterDeps {
  entries: ResolvedEntry[];
  shared: SharedHealthSync;
  budget: BudgetGate;
  alerts?: AlertMonitor;
  tasks: Readonly<Record<string, TaskRoute>>;
  fallbackOrder: "listed" | "cheapest";
  defaultOutputTokens: number;
  health: Map<string, ModelHealth>;
  limiter: RateLimiter;
  estimator: TokenEstimator;
  stats: StatsRecorder;
  clock: Clock;
  policy: RetryPolicy;
  contextStrategy: ContextStrategy;
  quotaCooldownMs: number;
  logger: AutoPickerLogger;
}

type Pending = { from: Candidate; reason: FallbackReason } | undefined;

/** Picks the model, waits, calls, classifies and falls back: the decision policy in one loop. */
export class Router {
  constructor(private readonly d: RouterDeps) {}

  async route<T>(
    messages: BaseMessage[],
    options: Record<string, unknown> & { signal?: AbortSignal },
    runManager: CallbackManagerForLLMRun | undefined,
    call: InnerCall<T>,
    choice: CallPreference = {},
  ): Promise<Served<T>> {
    const { signal } = options;
    const candidates = this.plan(messages, options, choice);
    const attempts: AttemptRecord[] = [];
    let pending: Pending;
    let lastError: unknown;
    let minWindow = 0;

    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      const { entry } = candidate;
      await this.d.shared.pull(entry.name, this.d.health.get(entry.name)!);
      const skip = this.skipReason(candidate, minWindow);
      if (skip) {
        attempts.push({ model: entry.name, outcome: `skipped:${skip}`, waitedMs: 0 });
        pending ??= { from: candidate, reason: skip };
        continue;
      }
      if (pending) await this.emitFallback(pending, candidate, runManager);

      const outcome = await this.tryModel(candidate, call, signal, attempts, runManager);
      if (outcome.kind === "served") {
        const trail: DecisionTrail = {
          model: entry.name,
          attempts,
          waited_ms: attempts.reduce((sum, a) => sum + a.waitedMs, 0),
          ...(candidate.estimated ? { estimated_input_tokens: candidate.estimatedTokens } : {}),
          ...(pending ? { fallback_reason: pending.reason, fallback_from: pending.from.entry.name } : {}),
          price_model: entry.priceModel,
          ...(entry.pricing ? { pricing: entry.pricing } : {}),
        };
        this.d.stats.served(entry.name, entry.index === 0);
        this.d.alerts?.recordRequest({ model: entry.name, fallback: entry.index !== 0 });
        return { result: outcome.result, entry, trail, settle: outcome.settle };
      }
      lastError = outcome.error;
      if (outcome.reason === "context_length") minWindow = Math.max(minWindow, entry.contextWindow + 1);
      // Downgrade: the rest of the way, cheapest first, so the budget buys what it still can.
      if (outcome.reason === "budget")
        candidates.splice(i + 1, candidates.length, ...candidates.slice(i + 1).sort(byCost));
      pending = { from: candidate, reason: outcome.reason };
    }
    throw new RoutingFailure(attempts, lastError);
  }

  /** Estimates the input for every model and applies the context strategy. */
  private plan(
    messages: BaseMessage[],
    options: Record<string, unknown>,
    choice: CallPreference,
  ): Candidate[] {
    const tools = Array.isArray(options.tools) ? (options.tools as unknown[]) : undefined;
    const all = this.d.entries.map((entry) => {
      const outputAllowance = resolveMaxOutputTokens(entry.model, options) ?? 0;
      const priceOf = (e: ResolvedEntry, input: number) =>
        this.d.budget.estimate(e, input, outputAllowance || this.d.defaultOutputTokens);
      return new Candidate(entry, messages, outputAllowance, this.d.estimator, tools, priceOf);
    });
    const candidates = orderCandidates(all, choice, this.d.tasks, this.d.fallbackOrder);
    const fits = (c: Candidate) => c.fits();
    const primary = candidates[0]!;
    if (fits(primary)) return candidates;

    switch (this.d.contextStrategy) {
      case "error":
        throw new ContextWindowExceededError(primary.estimatedTokens + primary.outputAllowance, {
          [primary.entry.name]: primary.entry.contextWindow,
        });
      case "truncate":
        return candidates.map((c) => (fits(c) ? c : this.truncate(c, tools)));
      case "fallback":
        if (!candidates.some(fits)) {
          throw new ContextWindowExceededError(
            Math.min(...candidates.map((c) => c.estimatedTokens + c.outputAllowance)),
            Object.fromEntries(candidates.map((c) => [c.entry.name, c.entry.contextWindow])),
          );
        }
        return candidates;
    }
  }

  private truncate(c: Candidate, tools: unknown[] | undefined): Candidate {
    const budget = c.entry.contextWindow - c.outputAllowance;
    const count = (msgs: BaseMessage[]) => this.d.estimator.estimate(msgs, { model: c.entry.modelId, tools });
    const cut = truncateToFit(c.messages, budget, count);
    this.d.logger.debug?.(
      `truncated ${cut.dropped} messages (~${cut.droppedTokens} tokens) for ${c.entry.name}`,
    );
    return c.withMessages(cut.messages);
  }

  private skipReason(c: Candidate, minWindow: number): FallbackReason | undefined {
    if (c.entry.contextWindow < minWindow) return "context_length";
    if (!c.fits()) return "context_length";
    const health = this.d.health.get(c.entry.name)!;
    const blocked = health.blockedReason();
    if (blocked) return blocked;
    const s = health.breaker.state;
    if (s.state === "open" || (s.state === "half_open" && s.probeInFlight)) return "circuit_open";
    return undefined;
  }

  /** All attempts on one model: wait for the limiter, call, and retry while the policy says so. */
  private async tryModel<T>(
    c: Candidate,
    call: InnerCall<T>,
    signal: AbortSignal | undefined,
    attempts: AttemptRecord[],
    runManager: CallbackManagerForLLMRun | undefined,
  ): Promise<
    | { kind: "served"; result: T; settle: (u: UsageMetadata | undefined) => Promise<void> }
    | { kind: "fallback"; reason: FallbackReason; error?: unknown }
  > {
    const { entry } = c;
    const health = this.d.health.get(entry.name)!;
    const budget = await this.d.budget.admit(c);
    if (budget.kind === "skip") {
      attempts.push({ model: entry.name, outcome: "skipped:budget", waitedMs: 0 });
      return { kind: "fallback", reason: "budget" };
    }
    const budgetTicket = budget.ticket;
    try {
      const outcome = await this.attemptLoop(c, call, signal, attempts, runManager, health);
      if (outcome.kind === "served") {
        const settleLimiter = outcome.settle;
        return {
          ...outcome,
          settle: async (usage) => {
            await settleLimiter(usage);
            await this.d.budget.settle(entry, budgetTicket, usage);
          },
        };
      }
      await this.d.budget.release(budgetTicket);
      return outcome;
    } catch (error) {
      await this.d.budget.release(budgetTicket);
      throw error;
    }
  }

  private async attemptLoop<T>(
    c: Candidate,
    call: InnerCall<T>,
    signal: AbortSignal | undefined,
    attempts: AttemptRecord[],
    runManager: CallbackManagerForLLMRun | undefined,
    health: ModelHealth,
  ): Promise<
    | { kind: "served"; result: T; settle: (u: UsageMetadata | undefined) => Promise<void> }
    | { kind: "fallback"; reason: FallbackReason; error?: unknown }
  > {
    const { entry } = c;
    const { clock, limiter, stats, policy } = this.d;
    const counters = newCounters();
    let carriedWaitMs = 0;

    for (;;) {
      signal?.throwIfAborted();
      const permit = health.breaker.acquire();
      if (!permit.allowed) {
        attempts.push({ model: entry.name, outcome: "skipped:circuit_open", waitedMs: 0 });
        return { kind: "fallback", reason: "circuit_open" };
      }
      let decision: ReserveDecision;
      try {
        decision = await limiter.acquire(
          entry.name,
          // Requests-only limits need no token count: skip tokenizing.
          { tokens: limiter.countsTokens(entry.name) ? c.estimatedTokens + c.outputAllowance : 0 },
          {
            maxWaitMs: policy.maxWaitMs,
            signal,
            onWait: (ms) => this.emitWait(runManager, entry.name, ms, "rate_limit"),
          },
        );
      } catch (abort) {
        health.breaker.onNeutral(permit.probe);
        throw abort;
      }
      if (decision.kind !== "granted") {
        health.breaker.onNeutral(permit.probe);
        const outcome =
          decision.kind === "never_fits"
            ? `skipped:never_fits(${decision.dimension} ${decision.requested}>${decision.limit})`
            : `skipped:wait_too_long(${Math.round(decision.waitMs)}ms on ${decision.dimension})`;
        attempts.push({ model: entry.name, outcome, waitedMs: carriedWaitMs });
        return { kind: "fallback", reason: "rate_limit" };
      }
      const ticket = decision.ticket;
      stats.waited(entry.name, decision.waitMs);
      if (decision.waitMs > 0) this.d.alerts?.recordWait(decision.waitMs);
      const waitedMs = carriedWaitMs + decision.waitMs;
      carriedWaitMs = 0;

      stats.attempt(entry.name);
      try {
        // Stamps the slot from evidence of when the request really left, and learns its headers.
        const result = await clock.busy(
          limiter.send(ticket, () => raceAbort(call(entry, c.messages, signal), signal)),
        );
        if (permit.probe) this.d.shared.closeCircuit(entry.name);
        health.breaker.onSuccess();
        attempts.push({ model: entry.name, outcome: "ok", waitedMs });
        return { kind: "served", result, settle: (usage) => this.settle(c, ticket, usage) };
      } catch (error) {
        const now = clock.now();
        const classified = classifyError(error, now);
        stats.error(entry.name, classified.kind);
        attempts.push({ model: entry.name, outcome: classified.kind, waitedMs, error: classified.message });
        // The provider counted the request (or we can't know it didn't): keep the booking, at its estimate.
        await limiter.commit(ticket).catch(() => undefined);
        if (classified.kind === "transient") {
          health.breaker.onFailure();
          const state = health.breaker.state;
          if (state.state === "open") this.d.shared.openCircuit(entry.name, state.retryAt);
        } else health.breaker.onNeutral(permit.probe);
        if (classified.kind === "aborted" || signal?.aborted) throw error;

        if (classified.kind === "rate_limit" || classified.kind === "quota_exhausted") {
          if (classified.hint.state)
            await limiter.learn(entry.name, classified.hint.state).catch(() => undefined);
        }
        const next = decideAfterError(classified, counters, policy, now);
        switch (next.action) {
          case "surface":
            throw error;
          case "fallback":
            this.onLeaving(entry, classified, next.reason, now);
            return { kind: "fallback", reason: next.reason, error };
          case "retry":
            if (next.blockModelUntil !== undefined) {
              // The limiter queues every caller behind the provider's hint: one wait each, no herd.
              await limiter.blockUntil(entry.name, next.blockModelUntil);
            } else if (next.delayMs > 0) {
              await this.emitWait(runManager, entry.name, next.delayMs, "backoff");
              await clock.sleep(next.delayMs, signal);
              stats.waited(entry.name, next.delayMs);
              this.d.alerts?.recordWait(next.delayMs);
              carriedWaitMs = next.delayMs;
            }
        }
      }
    }
  }

  /** Remembers outages that outlive this call, so later calls skip the model without paying for it. */
  private onLeaving(
    entry: ResolvedEntry,
    error: ReturnType<typeof classifyError>,
    reason: FallbackReason,
    now: number,
  ): void {
    const health = this.d.health.get(entry.name)!;
    if (error.kind === "quota_exhausted") {
      const until = now + (error.hint.retryAfterMs ?? this.d.quotaCooldownMs);
      health.markUnavailable(until, "quota_exhausted");
      this.d.shared.markUnavailable(entry.name, until, "quota_exhausted");
      this.d.logger.warn(
        `${entry.name}: ${error.scope === "day" ? "daily quota" : "quota/billing limit"} reached; skipping it until ${new Date(until).toISOString()}.`,
      );
    } else if (error.kind === "auth") {
      health.markUnavailable(now + this.d.quotaCooldownMs, reason);
      this.d.shared.markUnavailable(entry.name, now + this.d.quotaCooldownMs, reason);
      this.d.logger.warn(
        `${entry.name}: the provider refused the key or model (${error.message}); skipping it for now.`,
      );
    }
  }

  private async emitFallback(
    pending: NonNullable<Pending>,
    to: Candidate,
    runManager: CallbackManagerForLLMRun | undefined,
  ): Promise<void> {
    const from = pending.from;
    if (pending.reason === "context_length") {
      this.d.stats.fallback("context");
      await runManager?.handleCustomEvent(CONTEXT_LENGTH_FALLBACK, {
        original_model: from.entry.name,
        fallback_model: to.entry.name,
        estimated_tokens: from.estimatedTokens,
        original_max_context: from.entry.contextWindow,
        fallback_max_context: to.entry.contextWindow,
      });
    } else {
      this.d.stats.fallback("other");
      await runManager?.handleCustomEvent(RATE_LIMIT_FALLBACK, {
        original_model: from.entry.name,
        fallback_model: to.entry.name,
        reason: pending.reason,
      });
    }
    this.d.logger.debug?.(`fallback ${from.entry.name} -> ${to.entry.name} (${pending.reason})`);
  }

  /** Observability must never break the call: a failing handler is logged, not thrown. */
  private async emitWait(
    runManager: CallbackManagerForLLMRun | undefined,
    model: string,
    waitMs: number,
    cause: "rate_limit" | "backoff",
  ): Promise<void> {
    try {
      await runManager?.handleCustomEvent(RATE_LIMIT_WAIT, { model, wait_ms: Math.round(waitMs), cause });
    } catch (error) {
      this.d.logger.debug?.(`rate_limit_wait handler failed: ${String(error)}`);
    }
  }

  private async settle(
    c: Candidate,
    ticket: ReservationTicket,
    usage: UsageMetadata | undefined,
  ): Promise<void> {
    const actual = usage ? usage.input_tokens + usage.output_tokens : undefined;
    if (usage && usage.input_tokens > 0 && c.estimated) {
      this.d.estimator.learn(c.entry.modelId, c.estimatedTokens, usage.input_tokens);
    }
    await this.d.limiter.commit(ticket, actual);
  }
}
