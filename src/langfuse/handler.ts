import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import { CallbackHandler } from "@langfuse/langchain";
import { LangfuseGeneration, type LangfuseGenerationAttributes, startObservation } from "@langfuse/tracing";
import type { SpanContext } from "@opentelemetry/api";
import { type AutoPickerAlert, consoleLogger, logWarning, type WarningLogger } from "../cost/alerts";
import { PriceBook, type Pricing } from "../cost/pricing";
import { type RunStartInfo, readRunStart } from "../cost/servedModel";
import { AutoPickerConfigError } from "../errors";
import { RATE_LIMIT_WAIT } from "../model/events";
import { type EventSpec, eventFromAlert, eventFromCustomEvent } from "./eventMetadata";
import { describeGeneration, type GenerationDetails } from "./generationDetails";
import { contextManagerWorks, langfuseTracingIsOff } from "./otelState";
import { type GenerationSlot, withGenerationSlot } from "./spanProcessor";

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

/** One chat-model run between its start and its end. */
interface TrackedRun {
  start: RunStartInfo | undefined;
  slot: GenerationSlot;
  /** The caller gave the run no name (`runName`), so the observation may be named after what served. */
  unnamed: boolean;
}

/**
 * A drop-in for `@langfuse/langchain`'s `CallbackHandler` that also:
 * - prices every chat-model generation (any model, not only AutoPicker) with the cost module's
 *   {@link PriceBook}, sending `costDetails` (`input`, `input_cache_read`, `output`, `total`) and
 *   `metadata.cost_usd`, with non-overlapping usage keys;
 * - sets the generation's model to the one that served (the provider's id, which Langfuse's model
 *   table matches) and, for an unnamed AutoPicker run, names the observation after the entry that
 *   served; adds the decision trail (`autopicker_model`, `attempts`, `waited_ms`,
 *   `fallback_reason`, `fallback_from`) and `price_model` to its metadata;
 * - records the picker's custom events (`rate_limit_wait`, `rate_limit_fallback`,
 *   `context_length_fallback`, `budget_fallback`, `error_fallback`) as Langfuse `event`
 *   observations under the generation that dispatched them, and alerts via {@link recordAlert}.
 *
 * It needs {@link AutoPickerSpanProcessor} on the tracer provider Langfuse uses
 * (`setupLangfuseTracing()` adds it); without it, it warns once and traces are plain Langfuse ones.
 * It never fails or slows a call: every addition is guarded, nothing awaits an export, and
 * problems are logged once per logger.
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
  private readonly runs = new Map<string, TrackedRun>();

  constructor(options: AutoPickerLangfuseHandlerOptions = {}) {
    const { priceBook, pricing, recordWaitEvents, logger, maxTrackedRuns, ...langfuse } = options;
    validateOptions(options);
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
    const run = this.track(llm, runId, extraParams, metadata, name);
    return withGenerationSlot(run.slot, () =>
      super.handleChatModelStart(llm, messages, runId, parentRunId, extraParams, tags, metadata, name),
    );
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
    const run = this.track(llm, runId, extraParams, metadata, name);
    return withGenerationSlot(run.slot, () =>
      super.handleLLMStart(llm, prompts, runId, parentRunId, extraParams, tags, metadata, name),
    );
  }

  /**
   * Adds served model, usage, cost and the decision trail to the generation, then lets Langfuse end
   * it. Model and usage are applied again while the span ends (see {@link AutoPickerSpanProcessor}),
   * so they win over the base handler's last update, whose usage misses Gemini's thinking tokens and
   * adds keys that overlap ours.
   */
  override async handleLLMEnd(
    output: LLMResult,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    extraParams?: Record<string, unknown>,
  ): Promise<void> {
    const run = this.untrack(runId);
    const span = run?.slot.span;
    if (run && span) {
      try {
        const details = describeGeneration(output, run.start, this.priceBook, {
          cached: extraParams?.cached === true,
        });
        if (details.unpriced) this.warnUnpriced(details.unpriced.model, details.unpriced.reason);
        const { final, all } = generationAttributes(details);
        new LangfuseGeneration({ otelSpan: span }).update(all);
        if (run.unnamed && details.servedEntry) span.updateName(details.servedEntry);
        run.slot.final = final;
      } catch (err) {
        this.warnOnce("describe", `Could not add cost to a Langfuse generation: ${message(err)}`);
      }
    } else if (run) {
      this.warnNoSpan();
    }
    return super.handleLLMEnd(withUsageForEveryVersion(output), runId, parentRunId);
  }

  override async handleLLMError(err: unknown, runId: string, parentRunId?: string): Promise<void> {
    this.untrack(runId);
    return super.handleLLMError(err, runId, parentRunId);
  }

  /**
   * Turns the picker's custom events into Langfuse events under the generation that dispatched them
   * (the one that fell back or waited). Other custom events are ignored.
   */
  override async handleCustomEvent(eventName: string, data: unknown, runId: string): Promise<void> {
    try {
      if (eventName === RATE_LIMIT_WAIT && !this.recordWaitEvents) return;
      const spec = eventFromCustomEvent(eventName, data);
      if (spec) this.emit(spec, this.runs.get(runId)?.slot.span?.spanContext());
    } catch (err) {
      this.warnOnce("event", `Could not record the "${eventName}" event in Langfuse: ${message(err)}`);
    }
  }

  /**
   * Records an alert (budget threshold or exceeded, high fallback rate, frequent or long waits) as a
   * Langfuse event named after `alert.type`, its fields as snake_case metadata. Pass it as `onAlert`
   * to a `BudgetManager` or `AlertMonitor`: `onAlert: (a) => langfuse.recordAlert(a)`. With the
   * `runId` of a chat-model run still in progress, or a `parentSpanContext`, the event joins that
   * trace; otherwise it is a trace of its own. Never throws.
   */
  recordAlert(
    alert: AutoPickerAlert,
    options: { runId?: string; parentSpanContext?: SpanContext } = {},
  ): void {
    try {
      const parent =
        options.parentSpanContext ??
        (options.runId ? this.runs.get(options.runId)?.slot.span?.spanContext() : undefined);
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

  private track(
    llm: Serialized,
    runId: string,
    extraParams: Record<string, unknown> | undefined,
    metadata: Record<string, unknown> | undefined,
    name: string | undefined,
  ): TrackedRun {
    let start: RunStartInfo | undefined;
    try {
      start = readRunStart(llm, extraParams, metadata);
    } catch {
      // Start info only refines the model name; pricing still works from the response.
    }
    const run: TrackedRun = { start, slot: {}, unnamed: name === undefined };
    this.runs.set(runId, run);
    while (this.runs.size > this.maxTrackedRuns) {
      this.runs.delete(this.runs.keys().next().value as string);
    }
    return run;
  }

  private untrack(runId: string): TrackedRun | undefined {
    const run = this.runs.get(runId);
    this.runs.delete(runId);
    return run;
  }

  /** A generation ended without its span reaching us: say why, once. */
  private warnNoSpan(): void {
    if (langfuseTracingIsOff()) {
      this.warnOnce(
        "no-tracing",
        "Langfuse tracing is not set up, so generations are not recorded. Call setupLangfuseTracing() " +
          "before the first model call (or register a tracer provider with LangfuseSpanProcessor and " +
          "AutoPickerSpanProcessor).",
      );
    } else if (!contextManagerWorks()) {
      this.warnOnce(
        "no-context",
        "No OpenTelemetry context manager is registered, so cost, the served model and fallback events " +
          "cannot be added to Langfuse generations. Register one (NodeSDK and setupLangfuseTracing() do).",
      );
    } else {
      this.warnOnce(
        "no-processor",
        "A Langfuse generation ended without passing AutoPickerSpanProcessor, so it has no cost, served " +
          "model or fallback events. Add new AutoPickerSpanProcessor() to the tracer provider that has " +
          "the LangfuseSpanProcessor (setupLangfuseTracing() does). Traces your sampler drops also land here.",
      );
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
    warnOncePerLogger(this.warnLogger, key, text);
  }
}

/**
 * Warnings are deduplicated per logger, not per handler: a handler per request (a common pattern)
 * with the default console logger still warns once per process.
 */
const warnedByLogger = new WeakMap<WarningLogger, Set<string>>();

function warnOncePerLogger(logger: WarningLogger, key: string, text: string): void {
  let warned = warnedByLogger.get(logger);
  if (!warned) {
    warned = new Set();
    warnedByLogger.set(logger, warned);
  }
  if (warned.has(key)) return;
  warned.add(key);
  logWarning(logger, text);
}

/**
 * The attributes to set on the generation before the base handler ends it (`all`), and those to
 * set again while it ends (`final`): model and usage, the two the base handler's last update writes.
 */
function generationAttributes(details: GenerationDetails): {
  all: LangfuseGenerationAttributes;
  final: LangfuseGenerationAttributes;
} {
  const final: LangfuseGenerationAttributes = {
    ...(details.model ? { model: details.model } : {}),
    ...(details.usageDetails ? { usageDetails: { ...details.usageDetails } } : {}),
  };
  return {
    all: {
      ...final,
      ...(details.costDetails ? { costDetails: details.costDetails } : {}),
      metadata: details.metadata,
    },
    final,
  };
}

/**
 * `@langfuse/langchain` 5.0.0 and 5.0.1 never end a generation whose run reported no usage (they
 * read `"promptTokens" in undefined`; fixed in 5.0.2). An empty `llmOutput.tokenUsage` is what
 * every later 5.x falls back to anyway, so passing one changes nothing there and keeps 5.0.x working.
 */
function withUsageForEveryVersion(output: LLMResult): LLMResult {
  if (output.llmOutput?.tokenUsage !== undefined) return output;
  return { ...output, llmOutput: { ...output.llmOutput, tokenUsage: {} } };
}

function validateOptions(options: AutoPickerLangfuseHandlerOptions): void {
  const fail = (text: string): never => {
    throw new AutoPickerConfigError(`AutoPickerLangfuseHandler: ${text}`);
  };
  if (typeof options !== "object" || options === null) fail("options must be an object.");
  const { priceBook, pricing, recordWaitEvents, logger, maxTrackedRuns } = options;
  // Duck-typed: a PriceBook from this package's other build (ESM next to CJS) is not `instanceof`.
  if (priceBook !== undefined && typeof (priceBook as Partial<PriceBook> | null)?.price !== "function") {
    fail("priceBook must be a PriceBook (new PriceBook({ overrides })).");
  }
  if (pricing !== undefined && (typeof pricing !== "object" || pricing === null)) {
    fail(
      'pricing must be an object of prices by model name: { "openai/gpt-4o-mini": { inputPer1M, outputPer1M } }.',
    );
  }
  if (recordWaitEvents !== undefined && typeof recordWaitEvents !== "boolean") {
    fail(`recordWaitEvents must be true or false, got ${String(recordWaitEvents)}.`);
  }
  if (logger !== undefined && typeof logger?.warn !== "function") {
    fail("logger must have a warn(message) method (console fits).");
  }
  if (maxTrackedRuns !== undefined && (!Number.isInteger(maxTrackedRuns) || maxTrackedRuns < 1)) {
    fail(`maxTrackedRuns must be a whole number >= 1, got ${String(maxTrackedRuns)}.`);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
