import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import { CallbackHandler } from "@langfuse/langchain";
import { startObservation } from "@langfuse/tracing";
import type { SpanContext } from "@opentelemetry/api";
import { type AutoPickerAlert, consoleLogger, logWarning, type WarningLogger } from "../cost/alerts";
import { PriceBook, type Pricing } from "../cost/pricing";
import { type RunStartInfo, readRunStart } from "../cost/servedModel";
import { RATE_LIMIT_WAIT } from "../model/events";
import { type EventSpec, eventFromAlert, eventFromCustomEvent } from "./eventMetadata";
import { describeGeneration } from "./generationDetails";
import { checkObservation, runMapOf, type TrackedObservation } from "./internals";

/** The constructor options of `@langfuse/langchain`'s `CallbackHandler` (userId, sessionId, tags, version, traceMetadata). */
export type LangfuseCallbackHandlerParams = NonNullable<ConstructorParameters<typeof CallbackHandler>[0]>;

/** Options of {@link AutoPickerLangfuseHandler}: Langfuse's own plus pricing. */
export interface AutoPickerLangfuseHandlerOptions extends LangfuseCallbackHandlerParams {
  /** Prices to use (share the one your cost handler uses). Default: a new book with `pricing`. */
  priceBook?: PriceBook;
  /** Your prices by model name; they beat the catalog. Ignored when `priceBook` is given. */
  pricing?: Readonly<Record<string, Pricing>>;
  /** Record `rate_limit_wait` events (one per sleep). Default true. */
  recordWaitEvents?: boolean;
  /** Where the (rare, deduplicated) warnings go. Default `console.warn`, prefixed `[autopicker]`. */
  logger?: WarningLogger;
  /** Chat-model runs remembered between start and end; the oldest are forgotten beyond it. Default 10000. */
  maxTrackedRuns?: number;
}

/**
 * A drop-in for `@langfuse/langchain`'s `CallbackHandler` that also:
 * - prices every chat-model generation (any model, not only AutoPicker) with the cost module's
 *   {@link PriceBook}, sending `costDetails` (`input`, `input_cache_read`, `output`, `total`) and
 *   `metadata.cost_usd`, with non-overlapping usage keys;
 * - names the generation after the model that served and adds AutoPicker's decision trail
 *   (`autopicker_model`, `attempts`, `waited_ms`, `fallback_reason`, `fallback_from`) to its metadata;
 * - records `rate_limit_fallback`, `context_length_fallback` and `rate_limit_wait` as Langfuse
 *   `event` observations under the generation that dispatched them, and alerts via {@link recordAlert}.
 *
 * It never fails or slows a call: every addition is guarded, nothing awaits an export, and problems
 * are logged once.
 *
 * @example
 * ```ts
 * const langfuse = new AutoPickerLangfuseHandler({ sessionId: "s-1" });
 * await agent.invoke(input, { callbacks: [langfuse] });
 * ```
 */
export class AutoPickerLangfuseHandler extends CallbackHandler {
  override name = "AutoPickerLangfuseHandler";
  /** The prices this handler uses. */
  readonly priceBook: PriceBook;
  private readonly recordWaitEvents: boolean;
  private readonly warnLogger: WarningLogger;
  private readonly maxTrackedRuns: number;
  private readonly starts = new Map<string, RunStartInfo>();
  private readonly warned = new Set<string>();

  constructor(options: AutoPickerLangfuseHandlerOptions = {}) {
    const { priceBook, pricing, recordWaitEvents, logger, maxTrackedRuns, ...langfuse } = options;
    super(langfuse);
    this.priceBook = priceBook ?? new PriceBook({ overrides: pricing ?? {} });
    this.recordWaitEvents = recordWaitEvents ?? true;
    this.warnLogger = logger ?? consoleLogger;
    this.maxTrackedRuns = maxTrackedRuns ?? 10_000;
  }

  override async handleChatModelStart(
    llm: Serialized,
    messages: BaseMessage[][],
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    tags?: string[],
    metadata?: Record<string, unknown>,
    name?: string,
  ): Promise<void> {
    this.rememberStart(llm, runId, extraParams, metadata);
    return super.handleChatModelStart(llm, messages, runId, parentRunId, extraParams, tags, metadata, name);
  }

  override async handleLLMStart(
    llm: Serialized,
    prompts: string[],
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    tags?: string[],
    metadata?: Record<string, unknown>,
    name?: string,
  ): Promise<void> {
    this.rememberStart(llm, runId, extraParams, metadata);
    return super.handleLLMStart(llm, prompts, runId, parentRunId, extraParams, tags, metadata, name);
  }

  /**
   * Adds served model, usage, cost and the decision trail to the generation, then lets Langfuse end
   * it. Ours is applied right before the span ends so it has the last word over the base handler's
   * model and usage (which miss Gemini's thinking tokens and do not price anything).
   */
  override async handleLLMEnd(
    output: LLMResult,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    extraParams?: Record<string, unknown>,
  ): Promise<void> {
    const start = this.starts.get(runId);
    this.starts.delete(runId);
    const observation = this.observation(runId);
    let restore: (() => void) | undefined;
    if (observation) {
      try {
        const details = describeGeneration(output, start, this.priceBook, {
          cached: extraParams?.cached === true,
        });
        if (details.unpriced) this.warnUnpriced(details.unpriced.model, details.unpriced.reason);
        const attributes = {
          ...(details.model ? { model: details.model } : {}),
          ...(details.usageDetails ? { usageDetails: details.usageDetails } : {}),
          ...(details.costDetails ? { costDetails: details.costDetails } : {}),
          metadata: details.metadata,
        };
        const originalEnd = observation.end;
        restore = () => {
          observation.end = originalEnd;
        };
        observation.end = (endTime) => {
          restore?.();
          try {
            observation.update(attributes);
          } catch (err) {
            this.warnOnce("update", `Could not add cost to a Langfuse generation: ${message(err)}`);
          }
          originalEnd.call(observation, endTime);
        };
      } catch (err) {
        this.warnOnce("describe", `Could not price a generation for Langfuse: ${message(err)}`);
      }
    }
    try {
      await super.handleLLMEnd(output, runId, parentRunId);
    } finally {
      // If the base handler did not end the span (it swallowed an error), don't leave our wrapper on it.
      restore?.();
    }
  }

  override async handleLLMError(err: unknown, runId: string, parentRunId?: string): Promise<void> {
    this.starts.delete(runId);
    return super.handleLLMError(err, runId, parentRunId);
  }

  /**
   * Turns this package's custom events into Langfuse events under the run that dispatched them
   * (the generation that fell back or waited). Other custom events are ignored.
   */
  override async handleCustomEvent(eventName: string, data: unknown, runId: string): Promise<void> {
    try {
      if (eventName === RATE_LIMIT_WAIT && !this.recordWaitEvents) return;
      const spec = eventFromCustomEvent(eventName, data);
      if (spec) this.emit(spec, this.observation(runId)?.otelSpan.spanContext());
    } catch (err) {
      this.warnOnce("event", `Could not record the "${eventName}" event in Langfuse: ${message(err)}`);
    }
  }

  /**
   * Records an alert (budget threshold or exceeded, high fallback rate, frequent or long waits) as a
   * Langfuse event named after `alert.type`. Pass it as `onAlert` to a `BudgetManager` or
   * `AlertMonitor`: `onAlert: (a) => langfuse.recordAlert(a)`. With `runId` the event joins that
   * run's trace; otherwise it is a trace of its own. Never throws.
   */
  recordAlert(
    alert: AutoPickerAlert,
    options: { runId?: string; parentSpanContext?: SpanContext } = {},
  ): void {
    try {
      const parent =
        options.parentSpanContext ??
        (options.runId ? this.observation(options.runId)?.otelSpan.spanContext() : undefined);
      this.emit(eventFromAlert(alert), parent);
    } catch (err) {
      this.warnOnce("alert", `Could not record the "${alert.type}" alert in Langfuse: ${message(err)}`);
    }
  }

  private emit(spec: EventSpec, parentSpanContext: SpanContext | undefined): void {
    startObservation(
      spec.name,
      { metadata: spec.metadata, level: spec.level },
      { asType: "event", ...(parentSpanContext ? { parentSpanContext } : {}) },
    );
  }

  /** The Langfuse observation of a run, from the base handler's private map (see `internals.ts`). */
  private observation(runId: string): TrackedObservation | undefined {
    const map = runMapOf(this);
    if (!map) {
      this.warnOnce(
        "internals",
        "@langfuse/langchain no longer keeps a runMap; cost and fallback events are not added to traces. " +
          "Pin @langfuse/langchain to the range langchain-autopicker supports.",
      );
      return undefined;
    }
    const observation = map.get(runId);
    if (observation === undefined) return undefined;
    const problem = checkObservation(observation);
    if (problem) {
      this.warnOnce(
        "internals",
        `@langfuse/langchain internals changed (${problem}); cost and events are skipped.`,
      );
      return undefined;
    }
    return observation;
  }

  private rememberStart(
    llm: Serialized,
    runId: string,
    extraParams: Record<string, unknown> | undefined,
    metadata: Record<string, unknown> | undefined,
  ): void {
    try {
      this.starts.set(runId, readRunStart(llm, extraParams, metadata));
      while (this.starts.size > this.maxTrackedRuns) {
        const oldest = this.starts.keys().next().value as string;
        this.starts.delete(oldest);
      }
    } catch {
      // Start info only refines the model name; pricing still works from the response.
    }
  }

  private warnUnpriced(model: string | null, reason: "unknown_model" | "no_usage"): void {
    const name = model ?? "(unnamed)";
    if (reason === "no_usage") {
      this.warnOnce(
        `usage:${name}`,
        `Model "${name}" reported no token usage; its Langfuse generations carry no cost.`,
      );
    } else {
      this.warnOnce(
        `price:${name}`,
        `No price for model "${name}"; its Langfuse generations carry no cost. Add it to "pricing".`,
      );
    }
  }

  private warnOnce(key: string, text: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    logWarning(this.warnLogger, text);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
