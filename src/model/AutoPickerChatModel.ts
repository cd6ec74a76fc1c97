import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type {
  BaseLanguageModelInput,
  StructuredOutputMethodOptions,
} from "@langchain/core/language_models/base";
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BindToolsInput,
  type LangSmithParams,
  type ToolChoice,
} from "@langchain/core/language_models/chat_models";
import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  mergeUsageMetadata,
  type UsageMetadata,
} from "@langchain/core/messages";
import { type ChatGeneration, ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { ensureConfig, type Runnable } from "@langchain/core/runnables";
import type { InteropZodType } from "@langchain/core/utils/types";
import { type Clock, systemClock } from "../clock";
import { validateCallPlace, validatePickerInput } from "../config/picker";
import { countTextTokens, TokenEstimator } from "../context";
import type { RunBudget } from "../cost/runBudget";
import {
  AllModelsFailedError,
  AutoPickerConfigError,
  ContentFilteredError,
  RunBudgetExceededError,
  StreamInterruptedError,
} from "../errors";
import { RateLimiter } from "../limits";
import type { QueuePlace } from "../limits/priority";
import {
  type ContentFilterStrategy,
  checkResult,
  contentFilterReason,
  firstAnswerChunk,
  withheldReason,
  withheldResult,
} from "./answerCheck";
import { BudgetGate } from "./budgetGate";
import { type ResolvedEntry, resolveEntries } from "./entries";
import { EventHub } from "./eventHub";
import type {
  AttemptFailedEvent,
  CircuitStateChangeEvent,
  Disposable,
  FailedEvent,
  FallbackEvent,
  ServedEvent,
  WaitEvent,
} from "./events";
import { guardGeminiStreams } from "./geminiGuard";
import { ModelHealth } from "./health";
import { settingsFromMetadata } from "./ordering";
import { Placement } from "./placement";
import { type InnerCall, type RouteOutcome, Router } from "./router";
import { RunBudgets } from "./runBudgets";
import type { Settled } from "./settlement";
import { SharedHealthSync } from "./sharedHealth";
import { StatsRecorder } from "./stats";
import { structuredOutput } from "./structuredOutput";
import { degradedTrail, toTrailRunBudget, trailPlace } from "./trail";
import type {
  AutoPickerCallSettings,
  AutoPickerChatModelInput,
  AutoPickerLogger,
  AutoPickerStats,
  DecisionTrail,
  PickerModel,
  ProviderStatus,
} from "./types";

/** Call options: the standard ones plus tool binding, forwarded to whichever model serves. */
export interface AutoPickerCallOptions extends BaseChatModelCallOptions {
  /**
   * Per-call routing (`{ preference: "cost" }`, `{ model: "openai/gpt-4o" }`, `{ task: "classify" }`)
   * the run's budget (`{ runBudget: { maxUsd: 0.5 } }`), and where the call queues on a saturated
   * model (`{ priority: "interactive", tenant: "acme" }`). Run metadata keys `autopicker_preference`,
   * `autopicker_model`, `autopicker_task`, `autopicker_run_budget`, `autopicker_priority`,
   * `autopicker_tenant` do the same from inside agents; the call option wins.
   */
  autopicker?: AutoPickerCallSettings;
  tools?: BindToolsInput[];
  tool_choice?: ToolChoice;
  strict?: boolean;
  parallel_tool_calls?: boolean;
}

const defaultLogger: AutoPickerLogger = { warn: (m) => console.warn(`[autopicker] ${m}`) };

/**
 * A chat model that wraps a primary model and ordered fallbacks. Before every call it computes the
 * exact wait the model's limits require and sleeps it; it honours provider retry hints with
 * backoff and jitter; it falls back only when the wait would exceed `maxWaitSeconds`, retries are
 * spent, the quota is gone, the input is too long, the circuit is open, or an error it cannot
 * classify happens twice. Works anywhere a LangChain chat model does (agents, `.pipe()`, `.stream()`,
 * `.batch()`, `bindTools`, `withStructuredOutput`).
 *
 * @example
 * ```ts
 * const llm = new AutoPickerChatModel({
 *   primary: { model: new ChatOpenAI({ model: "gpt-4o-mini" }), limits: { requestsPerMinute: 500 } },
 *   fallbacks: [new ChatGoogleGenerativeAI({ model: "gemini-2.5-flash-lite" })],
 * });
 * ```
 */
export class AutoPickerChatModel extends BaseChatModel<AutoPickerCallOptions, AIMessageChunk> {
  static override lc_name(): string {
    return "AutoPickerChatModel";
  }

  /** Marks the picker for middleware that must know it (duck-typed: survives duplicate installs). */
  readonly isAutoPicker = true as const;
  private readonly entries: readonly ResolvedEntry[];
  readonly rateLimiter: RateLimiter;
  readonly clock: Clock;
  private readonly estimator = new TokenEstimator();
  private readonly events: EventHub;
  private readonly recorder: StatsRecorder;
  private readonly router: Router;
  private readonly onAllFailed: AutoPickerChatModelInput["onAllFailed"];
  private readonly onContentFilter: ContentFilterStrategy;
  private readonly runBudgets = new RunBudgets();
  private readonly placement: Placement;
  /** Set when a Gemini model is among the entries (see `guardGeminiStreams`). */
  private readonly geminiGuard: Promise<void> | undefined;

  constructor(fields: AutoPickerChatModelInput) {
    validatePickerInput(fields);
    const { maxRetries: _ours, ...baseFields } = fields as AutoPickerChatModelInput & { maxRetries?: number };
    super(baseFields);
    const maxWaitSeconds = fields.maxWaitSeconds ?? 300;
    const maxRetries = fields.maxRetries ?? 3;
    const backoffBase = fields.backoffBase ?? 2;
    const contextStrategy = fields.contextStrategy ?? "fallback";

    this.clock = fields.clock ?? systemClock;
    const logger = fields.logger ?? defaultLogger;
    this.events = new EventHub(logger);
    const events = this.events;
    this.entries = resolveEntries([fields.primary, ...(fields.fallbacks ?? [])], {
      tier: fields.tier,
      keepInnerRetries: fields.keepInnerRetries ?? false,
      health: (model) =>
        new ModelHealth(this.clock, {
          failureThreshold: fields.circuitBreaker?.failureThreshold,
          cooldownMs:
            fields.circuitBreaker?.cooldownSeconds === undefined
              ? undefined
              : fields.circuitBreaker.cooldownSeconds * 1000,
          onStateChange: (state) => events.emit("circuitStateChange", { model, state }),
        }),
    });
    this.rateLimiter = fields.rateLimiter ?? new RateLimiter({ clock: this.clock });
    for (const e of this.entries) this.rateLimiter.configure(e.name, e.limits);
    this.geminiGuard = this.entries.some((e) => /google|gemini/i.test(e.model._llmType()))
      ? guardGeminiStreams()
      : undefined;
    this.placement = new Placement(fields.tenants ?? {}, fields.priorities ?? {}, maxWaitSeconds);
    this.recorder = new StatsRecorder(
      this.entries.map((e) => e.name),
      events,
      this.placement.tenantNames,
    );
    const alerts = fields.alerts;
    if (alerts) {
      events.on("served", (e) => alerts.recordRequest({ model: e.model, fallback: !e.primary }));
      // One wait per call: a move lengthens a wait already recorded.
      events.on("wait", (e) => {
        if (e.cause !== "moved") alerts.recordWait(e.waitMs);
      });
    }
    this.onAllFailed = fields.onAllFailed;
    this.onContentFilter = fields.onContentFilter ?? "fallback";
    const defaultOutputTokens = fields.defaultOutputTokens ?? 1024;
    const fallbackOrder = fields.fallbackOrder ?? "listed";
    // Shapes are checked by the schema; which names exist is known only now.
    const names = new Set(this.entries.map((e) => e.name));
    for (const [task, route] of Object.entries(fields.tasks ?? {})) {
      const unknown = typeof route === "object" ? route.models.filter((m) => !names.has(m)) : [];
      if (unknown.length > 0) {
        throw new AutoPickerConfigError(
          `tasks.${task} routes to unknown models ${unknown.map((m) => JSON.stringify(m)).join(", ")}; names are: ${[...names].join(", ")}.`,
        );
      }
    }
    this.router = new Router({
      entries: this.entries,
      limiter: this.rateLimiter,
      estimator: this.estimator,
      budget: new BudgetGate(fields.budget, logger),
      shared: new SharedHealthSync(fields.healthStore, this.clock, logger),
      events,
      clock: this.clock,
      logger,
      settings: {
        tasks: fields.tasks ?? {},
        fallbackOrder,
        defaultOutputTokens,
        contextStrategy,
        quotaCooldownMs: (fields.quotaCooldownSeconds ?? 3600) * 1000,
        policy: {
          maxRetries,
          maxWaitMs: maxWaitSeconds * 1000,
          backoff: {
            baseMs: (fields.backoffInitialSeconds ?? 1) * 1000,
            factor: backoffBase,
            capMs: (fields.backoffMaxSeconds ?? 60) * 1000,
            jitter: fields.jitter ?? "full",
            ...(fields.random ? { random: fields.random } : {}),
          },
        },
      },
    });
  }

  _llmType(): string {
    return "autopicker";
  }

  /** The models the picker routes between, primary first, as it resolved them. */
  get models(): readonly PickerModel[] {
    return this.entries.map((e) => ({
      name: e.name,
      model: e.model,
      modelId: e.modelId,
      contextWindow: e.contextWindow,
      ...(e.limits ? { limits: e.limits } : {}),
    }));
  }

  /** Counters since the picker was built (a copy); see {@link AutoPickerStats} for the names. */
  get stats(): AutoPickerStats {
    return this.recorder.snapshot();
  }

  /** Before every sleep (a limit, a provider hint, backoff). Returns a handle to stop listening. */
  onWait(listener: (event: WaitEvent) => void): Disposable {
    return this.events.on("wait", listener);
  }

  /** Whenever a call leaves one model for the next, with the reason. */
  onFallback(listener: (event: FallbackEvent) => void): Disposable {
    return this.events.on("fallback", listener);
  }

  /** After every failed attempt, whether or not the call then retries or falls back. */
  onAttemptFailed(listener: (event: AttemptFailedEvent) => void): Disposable {
    return this.events.on("attemptFailed", listener);
  }

  /** When a model's circuit breaker opens, half-opens or closes. */
  onCircuitStateChange(listener: (event: CircuitStateChangeEvent) => void): Disposable {
    return this.events.on("circuitStateChange", listener);
  }

  /** When a call got its answer (before usage is settled). */
  onServed(listener: (event: ServedEvent) => void): Disposable {
    return this.events.on("served", listener);
  }

  /** When no model could answer a call. */
  onFailed(listener: (event: FailedEvent) => void): Disposable {
    return this.events.on("failed", listener);
  }

  /**
   * Each model's health now: rate-limit blocks, circuit state, known quota outages, and the calls
   * queued for it by class and tenant.
   */
  async getProviderStatus(): Promise<ProviderStatus[]> {
    const now = this.clock.now();
    return Promise.all(
      this.entries.map(async (e) => {
        const health = e.health;
        const limiter = await this.rateLimiter.status(e.name);
        const circuit = health.breaker.state;
        const unavailable = health.unavailable;
        const rateLimitedUntil =
          limiter.blockedUntil !== undefined && limiter.blockedUntil > now ? limiter.blockedUntil : undefined;
        return {
          name: e.name,
          available: !unavailable && circuit.state !== "open" && rateLimitedUntil === undefined,
          ...(rateLimitedUntil !== undefined ? { rateLimitedUntil } : {}),
          circuit,
          ...(unavailable ? { quotaExhaustedUntil: unavailable.until, quotaReason: unavailable.reason } : {}),
          contextWindow: e.contextWindow,
          queue: limiter.queue,
        };
      }),
    );
  }

  /** The primary's LangSmith params: what the call is expected to use before routing decides. */
  override getLsParams(options: this["ParsedCallOptions"]): LangSmithParams {
    return this.entries[0]!.model.getLsParams(options as never);
  }

  override invocationParams(_options?: this["ParsedCallOptions"]): Record<string, unknown> {
    return { model: this.entries[0]!.modelId, autopicker_models: this.entries.map((e) => e.name) };
  }

  /** Offline token count (core's default downloads tokenizer ranks at run time). */
  override async getNumTokens(content: Parameters<BaseChatModel["getNumTokens"]>[0]): Promise<number> {
    const text =
      typeof content === "string"
        ? content
        : content.map((part) => ("text" in part && typeof part.text === "string" ? part.text : "")).join("");
    return countTextTokens(text, this.entries[0]!.modelId);
  }

  /** Tools are converted per model at call time, by each model's own `bindTools`. */
  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<AutoPickerCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, AutoPickerCallOptions> {
    return this.withConfig({ tools, ...kwargs } as Partial<AutoPickerCallOptions>);
  }

  /**
   * Structured output through a forced tool call. Overridden because the base implementation
   * only accepts streamed chunks and does not force the tool.
   */
  // biome-ignore-start lint/suspicious/noExplicitAny: mirrors BaseChatModel's overloads
  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(
    outputSchema: InteropZodType<RunOutput> | Record<string, any>,
    config?: StructuredOutputMethodOptions<false>,
  ): Runnable<BaseLanguageModelInput, RunOutput>;
  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(
    outputSchema: InteropZodType<RunOutput> | Record<string, any>,
    config?: StructuredOutputMethodOptions<true>,
  ): Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }>;
  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(
    outputSchema: InteropZodType<RunOutput> | Record<string, any>,
    config?: StructuredOutputMethodOptions<boolean>,
  ):
    | Runnable<BaseLanguageModelInput, RunOutput>
    | Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }> {
    // biome-ignore-end lint/suspicious/noExplicitAny: mirrors BaseChatModel's overloads
    return structuredOutput<RunOutput>(
      (tools, kwargs) => this.bindTools(tools, kwargs),
      outputSchema,
      config,
    );
  }

  async _generate(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    options.signal?.throwIfAborted();
    const routed = await this.routeCall(messages, options, runManager, async (entry, msgs, signal) => {
      const result = await entry.inner
        ._generate(msgs, this.innerOptions(options, signal), runManager)
        .catch((error: unknown) => {
          // A client that throws for a withheld answer: returned as it is when the user asked so.
          const reason =
            this.onContentFilter === "return" ? withheldReason(error, this.clock.now()) : undefined;
          if (reason === undefined) throw error;
          return withheldResult(reason);
        });
      // Checked before it counts as served: an empty or withheld answer is a failed attempt.
      checkResult(entry.name, result, this.onContentFilter);
      return result;
    });
    if (routed.kind === "finished") return routed.result;
    if (routed.kind === "failed") return this.handleFailure(routed, messages);
    const served = routed.served;
    const generation = served.result.generations[0]!;
    const trail = withSettlement(served.trail, await served.settle(usageOf(generation)));
    for (const g of served.result.generations) stamp(g.message, served.entry, trail);
    return served.result;
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    options.signal?.throwIfAborted();
    // Until the first chunk with content a stream is routed like any call (an error, an empty
    // stream, a withheld answer: retry or fall back); after it, errors surface, typed.
    const routed = await this.routeCall(messages, options, runManager, (entry, msgs, signal) =>
      firstAnswerChunk(
        entry.name,
        entry.inner
          ._streamResponseChunks(msgs, this.innerOptions(options, signal), runManager)
          [Symbol.asyncIterator](),
        this.onContentFilter,
        this.clock.now(),
      ),
    );
    if (routed.kind !== "served") {
      const result = routed.kind === "finished" ? routed.result : await this.handleFailure(routed, messages);
      const message = result.generations[0]!.message;
      yield new ChatGenerationChunk({ text: message.text, message: new AIMessageChunk({ ...message }) });
      return;
    }
    const served = routed.served;
    const { head, rest } = served.result;
    let usage: UsageMetadata | undefined;
    let sawModelName = false;
    let text = "";
    // The finish reason comes on one chunk, not necessarily the last (OpenAI's usage chunk follows it).
    let filtered: string | undefined;
    let broke: unknown;
    const take = (chunk: ChatGenerationChunk) => {
      const msg = chunk.message as AIMessageChunk;
      // Core's merge keeps cached-input and reasoning details, so budgets settle at the right price.
      if (msg.usage_metadata) usage = mergeUsageMetadata(usage, msg.usage_metadata);
      // Core merges generation info into the message's metadata (ChatOpenAI puts it there), and a
      // concat joins two model names into one string.
      if (msg.response_metadata?.model_name || chunk.generationInfo?.model_name) sawModelName = true;
      text += chunk.text;
      filtered ??= contentFilterReason(chunk.message, chunk.generationInfo);
      return chunk;
    };
    let settled: Settled | undefined;
    let finished = served.result.ended;
    try {
      for (const chunk of head) yield take(chunk);
      while (!finished) {
        let next: IteratorResult<ChatGenerationChunk>;
        try {
          next = await rest.next();
        } catch (error) {
          broke = error;
          finished = true;
          break;
        }
        if (next.done) finished = true;
        else yield take(next.value);
      }
    } finally {
      // The consumer stopped early: close the provider's stream (no more tokens billed).
      if (!finished) await rest.return?.().catch(() => undefined);
      // Either way the provider counted the call.
      settled = await served.settle(usage);
    }
    if (broke !== undefined) {
      if (isAbort(broke, options.signal)) throw broke;
      throw new StreamInterruptedError(served.entry.name, text, { cause: broke });
    }
    if (filtered && this.onContentFilter === "fallback") {
      // Withheld mid-answer: too late to fall back, but never a silent truncation.
      throw new ContentFilteredError(served.entry.name, filtered);
    }
    // One empty closing chunk carries the decision trail; concat merges it into the final message.
    yield new ChatGenerationChunk({
      text: "",
      message: new AIMessageChunk({
        content: "",
        response_metadata: {
          ...(sawModelName ? {} : { model_name: served.entry.modelId }),
          autopicker: withSettlement(served.trail, settled),
        },
      }),
    });
  }

  /**
   * Run metadata (`autopicker_preference`, `autopicker_model`, `autopicker_task`) becomes the
   * `autopicker` call option here, where the config is still whole: core hands `_generate` only
   * the call options, and creates no run manager to read metadata from when no callback is set.
   */
  override invoke(input: BaseLanguageModelInput, options?: AutoPickerCallOptions): Promise<AIMessageChunk> {
    let routed: AutoPickerCallOptions | undefined;
    try {
      routed = withRouting(options);
    } catch (error) {
      return Promise.reject(error); // bad run metadata: a rejected call, never a synchronous throw
    }
    return super.invoke(input, routed);
  }

  override async *_streamIterator(
    input: BaseLanguageModelInput,
    options?: AutoPickerCallOptions,
  ): AsyncGenerator<AIMessageChunk> {
    // A generator, so bad run metadata fails the stream, never the call that creates it.
    yield* super._streamIterator(input, withRouting(options));
  }

  private innerOptions(options: this["ParsedCallOptions"], signal: AbortSignal | undefined) {
    // Tools travel as call options (`tools`, `tool_choice`, ...), raw: every chat model converts
    // call-option tools to its own format, which is what its own bindTools relies on too.
    // `maxRetries: 0` per call as well as the no-retry view (`entry.inner`): ChatOpenAI hands calls
    // to sub-models with callers of their own, and passes the per-call value on to them.
    const { autopicker: _routing, ...rest } = options;
    return { ...rest, signal, maxRetries: 0 } as never;
  }

  /**
   * Routes one call with the envelope of the run it belongs to. A run whose budget is spent in
   * "finish" mode gets a final answer instead of an error, so the agent (or chain) ends cleanly.
   */
  private async routeCall<T>(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager: CallbackManagerForLLMRun | undefined,
    call: InnerCall<T>,
  ): Promise<RouteOutcome<T> | { kind: "finished"; result: ChatResult }> {
    if (this.geminiGuard) await this.geminiGuard;
    const settings = options.autopicker ?? {};
    if (settings.priority !== undefined || settings.tenant !== undefined)
      validateCallPlace("autopicker", settings);
    const place = this.placement.resolve(settings);
    this.events.emit("request", { primary: this.entries[0]!.name });
    const runBudget = this.runBudgets.resolve(settings.runBudget);
    try {
      return await this.router.route(messages, options as Record<string, unknown>, runManager, call, {
        choice: settings,
        runBudget,
        place,
      });
    } catch (error) {
      if (error instanceof RunBudgetExceededError && runBudget?.onExhausted === "finish") {
        return { kind: "finished", result: runBudgetFinish(error, runBudget, place.place) };
      }
      throw error;
    }
  }

  private async handleFailure(
    failed: RouteOutcome<unknown> & { kind: "failed" },
    messages: BaseMessage[],
  ): Promise<ChatResult> {
    // "downgrade" and no model cheap enough: the run's budget is the reason, say so.
    if (failed.lastError instanceof RunBudgetExceededError) throw failed.lastError;
    if (!this.onAllFailed) throw new AllModelsFailedError(failed.attempts, { cause: failed.lastError });
    const answer = await this.onAllFailed({
      messages,
      attempts: failed.attempts,
      lastError: failed.lastError,
    });
    const message = typeof answer === "string" ? new AIMessage(answer) : answer;
    message.response_metadata = {
      ...message.response_metadata,
      autopicker: degradedTrail(failed.attempts, failed.place),
    };
    return { generations: [{ text: message.text, message }] };
  }
}

/** The trail plus what settling found: estimated usage, the run's envelope. */
function withSettlement(trail: DecisionTrail, settled: Settled): DecisionTrail {
  return {
    ...trail,
    ...(settled.usageEstimated ? { usage_estimated: true } : {}),
    ...(settled.runBudget ? { run_budget: toTrailRunBudget(settled.runBudget) } : {}),
  };
}

/** The final answer of a run whose budget is spent ("finish"): no tool calls, so agents end here. */
function runBudgetFinish(error: RunBudgetExceededError, budget: RunBudget, place: QueuePlace): ChatResult {
  const s = budget.summary();
  const figures = [
    budget.maxUsd !== undefined ? `$${s.spentUsd.toFixed(4)} of $${budget.maxUsd.toFixed(4)}` : undefined,
    budget.maxTokens !== undefined ? `${s.tokens} of ${budget.maxTokens} tokens` : undefined,
    `${s.modelCalls}${budget.maxModelCalls !== undefined ? ` of ${budget.maxModelCalls}` : ""} model calls`,
  ].filter(Boolean);
  const message = new AIMessage({
    content:
      `I have to stop here: this run's budget is spent (${figures.join(", ")}). ` +
      "What was done so far is in the conversation above.",
    response_metadata: {
      autopicker: {
        model: "none",
        ...trailPlace(place),
        attempts: [],
        waited_ms: 0,
        run_budget: toTrailRunBudget(s),
        run_budget_exhausted: error.dimension,
      } satisfies DecisionTrail,
    },
  });
  return { generations: [{ text: String(message.content), message }] };
}

/** The caller's own abort (not a transport failure): rethrown as it is. */
function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof Error && error.name === "AbortError");
}

/** The call option wins over run metadata. */
function withRouting(options: AutoPickerCallOptions | undefined): AutoPickerCallOptions | undefined {
  // ensureConfig: the metadata of the surrounding run too, when a lambda calls the model without
  // passing its config on.
  const fromMetadata = settingsFromMetadata(ensureConfig(options).metadata);
  if (Object.keys(fromMetadata).length === 0) return options;
  return { ...options, autopicker: { ...fromMetadata, ...options?.autopicker } };
}

function usageOf(generation: ChatGeneration): UsageMetadata | undefined {
  return (generation.message as AIMessage).usage_metadata;
}

/** Says which model served (Gemini sets no model_name) and how the call got there. */
function stamp(message: BaseMessage, entry: ResolvedEntry, trail: DecisionTrail): void {
  message.response_metadata = {
    ...message.response_metadata,
    model_name:
      ((message.response_metadata as Record<string, unknown> | undefined)?.model_name as
        | string
        | undefined) ?? entry.modelId,
    autopicker: trail,
  };
}
