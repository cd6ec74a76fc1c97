import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import {
  type AutoPickerEvents,
  type ContextLengthFallbackPayload,
  type Disposable,
  type FallbackEvent,
  type FallbackPayload,
  fallbackEventName,
  RATE_LIMIT_WAIT,
  type RateLimitWaitPayload,
  RUN_BUDGET_EXHAUSTED,
  type RunBudgetExhaustedEvent,
  type RunBudgetExhaustedPayload,
  type WaitEvent,
} from "./events";
import type { AutoPickerLogger } from "./types";

/** Internal-only events: the public ones plus what the counters need. */
export interface HubEvents extends AutoPickerEvents {
  /** A call entered the picker. */
  request: { primary: string };
}

type Listener<E> = (event: E) => void;

/**
 * The one stream every decision of the picker goes through. Stats, alerts and the user's
 * `llm.onX(...)` listeners subscribe to it; wait and fallback events are also dispatched as
 * LangChain custom events through the call's run manager (so Langfuse and LangSmith see them).
 * Observability never breaks a call: a throwing listener or callback handler is logged once.
 */
export class EventHub {
  private readonly listeners: { [K in keyof HubEvents]?: Set<Listener<HubEvents[K]>> } = {};
  private warned = false;

  constructor(private readonly logger: AutoPickerLogger) {}

  on<K extends keyof HubEvents>(type: K, listener: Listener<HubEvents[K]>): Disposable {
    let set = this.listeners[type] as Set<Listener<HubEvents[K]>> | undefined;
    if (!set) {
      set = new Set();
      (this.listeners as Record<K, Set<Listener<HubEvents[K]>>>)[type] = set;
    }
    const s = set;
    s.add(listener);
    return { dispose: () => void s.delete(listener) };
  }

  /** Delivers `event` to every listener of `type`, synchronously. */
  emit<K extends keyof HubEvents>(type: K, event: HubEvents[K]): void {
    const set = this.listeners[type] as Set<Listener<HubEvents[K]>> | undefined;
    if (!set) return;
    for (const listener of set) {
      try {
        listener(event);
      } catch (error) {
        this.warnOnce(`an on${type[0]!.toUpperCase()}${type.slice(1)} listener threw`, error);
      }
    }
  }

  /** A wait: listeners, then the `rate_limit_wait` custom event (awaited, so it precedes the sleep). */
  async wait(event: WaitEvent, runManager: CallbackManagerForLLMRun | undefined): Promise<void> {
    this.emit("wait", event);
    const payload: RateLimitWaitPayload = {
      model: event.model,
      wait_ms: Math.round(event.waitMs),
      cause: event.cause,
      ...(event.movedByMs !== undefined ? { moved_by_ms: Math.round(event.movedByMs) } : {}),
      priority: event.priority,
      ...(event.tenant !== undefined ? { tenant: event.tenant } : {}),
    };
    await this.dispatch(runManager, RATE_LIMIT_WAIT, payload);
  }

  /** A fallback: listeners, then its custom event, named after the reason's family. */
  async fallback(event: FallbackEvent, runManager: CallbackManagerForLLMRun | undefined): Promise<void> {
    this.emit("fallback", event);
    const base: FallbackPayload = {
      original_model: event.from,
      fallback_model: event.to,
      reason: event.reason,
    };
    const payload =
      event.reason === "context_length" && event.context
        ? ({
            ...base,
            reason: "context_length",
            estimated_tokens: event.context.estimatedTokens,
            original_max_context: event.context.fromWindow,
            fallback_max_context: event.context.toWindow,
          } satisfies ContextLengthFallbackPayload)
        : base;
    await this.dispatch(runManager, fallbackEventName(event.reason), payload);
    this.logger.debug?.(`fallback ${event.from} -> ${event.to} (${event.reason})`);
  }

  /** A budgeted run's call did not fit: listeners, then `run_budget_exhausted`. */
  async runBudgetExhausted(
    event: RunBudgetExhaustedEvent,
    runManager: CallbackManagerForLLMRun | undefined,
  ): Promise<void> {
    this.emit("runBudgetExhausted", event);
    const { error } = event;
    const payload: RunBudgetExhaustedPayload = {
      model: event.model,
      dimension: error.dimension,
      needed: error.needed,
      remaining: error.remaining,
      spent_usd: error.spent.spentUsd,
      tokens: error.spent.tokens,
      model_calls: error.spent.modelCalls,
    };
    await this.dispatch(runManager, RUN_BUDGET_EXHAUSTED, payload);
  }

  private async dispatch(
    runManager: CallbackManagerForLLMRun | undefined,
    name: string,
    payload: object,
  ): Promise<void> {
    if (!runManager) return;
    try {
      await runManager.handleCustomEvent(name, payload);
    } catch (error) {
      this.warnOnce(`a callback handler failed on the ${name} event`, error);
    }
  }

  private warnOnce(what: string, error: unknown): void {
    if (this.warned) {
      this.logger.debug?.(`${what}: ${String(error)}`);
      return;
    }
    this.warned = true;
    this.logger.warn(`${what} (${error instanceof Error ? error.name : typeof error}); the call goes on.`);
  }
}
