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
import { AIMessage, AIMessageChunk, type BaseMessage, type UsageMetadata } from "@langchain/core/messages";
import { JsonOutputKeyToolsParser } from "@langchain/core/output_parsers/openai_tools";
import { type ChatGeneration, ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { type Runnable, RunnableMap, RunnablePassthrough } from "@langchain/core/runnables";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import { getSchemaDescription, type InteropZodType, isInteropZodSchema } from "@langchain/core/utils/types";
import { type Clock, systemClock } from "../clock";
import { validatePickerInput } from "../config/picker";
import { countTextTokens, TokenEstimator } from "../context";
import { AllModelsFailedError, AutoPickerConfigError } from "../errors";
import { RateLimiter } from "../limits";
import { BudgetGate } from "./budgetGate";
import { type ResolvedEntry, resolveEntries } from "./entries";
import { ModelHealth } from "./health";
import { type CallPreference, preferenceFromMetadata } from "./ordering";
import { Router, RoutingFailure, type Served } from "./router";
import { SharedHealthSync } from "./sharedHealth";
import { StatsRecorder } from "./stats";
import { ToolOptionsConverter } from "./toolOptions";
import type {
  AutoPickerChatModelInput,
  AutoPickerLogger,
  AutoPickerStats,
  DecisionTrail,
  ProviderStatus,
} from "./types";

/** Call options: the standard ones plus tool binding, forwarded to whichever model serves. */
export interface AutoPickerCallOptions extends BaseChatModelCallOptions {
  /** Per-call routing: `{ preference: "cost" }`, `{ model: "openai/gpt-4o" }` or `{ task: "classify" }`. Run metadata keys `autopicker_preference`, `autopicker_model`, `autopicker_task` do the same from inside agents. */
  autopicker?: CallPreference;
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

  /** The resolved models, primary first. */
  readonly entries: readonly ResolvedEntry[];
  readonly rateLimiter: RateLimiter;
  readonly clock: Clock;
  private readonly estimator = new TokenEstimator();
  private readonly recorder: StatsRecorder;
  private readonly health = new Map<string, ModelHealth>();
  private readonly router: Router;
  private readonly toolOptions = new ToolOptionsConverter();
  private readonly onAllFailed: AutoPickerChatModelInput["onAllFailed"];

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
    this.entries = resolveEntries([fields.primary, ...(fields.fallbacks ?? [])], {
      tier: fields.tier,
      keepInnerRetries: fields.keepInnerRetries ?? false,
    });
    this.rateLimiter = fields.rateLimiter ?? new RateLimiter({ clock: this.clock });
    for (const e of this.entries) {
      this.rateLimiter.configure(e.name, e.limits);
      this.health.set(
        e.name,
        new ModelHealth(this.clock, {
          failureThreshold: fields.circuitBreaker?.failureThreshold,
          cooldownMs:
            fields.circuitBreaker?.cooldownSeconds === undefined
              ? undefined
              : fields.circuitBreaker.cooldownSeconds * 1000,
        }),
      );
    }
    this.recorder = new StatsRecorder(this.entries.map((e) => e.name));
    this.onAllFailed = fields.onAllFailed;
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
      entries: [...this.entries],
      shared: new SharedHealthSync(fields.healthStore, this.clock, logger),
      budget: new BudgetGate(fields.budget, logger),
      alerts: fields.alerts,
      tasks: fields.tasks ?? {},
      fallbackOrder,
      defaultOutputTokens,
      health: this.health,
      limiter: this.rateLimiter,
      estimator: this.estimator,
      stats: this.recorder,
      clock: this.clock,
      contextStrategy,
      quotaCooldownMs: (fields.quotaCooldownSeconds ?? 3600) * 1000,
      logger,
      policy: {
        maxRetries,
        maxWaitMs: maxWaitSeconds * 1000,
        backoff: {
          baseMs: (fields.backoffInitialSeconds ?? 1) * 1000,
          factor: backoffBase,
          capMs: (fields.backoffMaxSeconds ?? 60) * 1000,
          jitter: fields.jitter ?? "full",
        },
      },
    });
  }

  _llmType(): string {
    return "autopicker";
  }

  /** Counters with the design documents' names (a copy). */
  get stats(): AutoPickerStats {
    return this.recorder.snapshot();
  }

  /** Each model's health now: rate-limit blocks, circuit state, known quota outages. */
  async getProviderStatus(): Promise<ProviderStatus[]> {
    const now = this.clock.now();
    return Promise.all(
      this.entries.map(async (e) => {
        const health = this.health.get(e.name)!;
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
    if (config?.method === "jsonMode") {
      throw new AutoPickerConfigError(
        'withStructuredOutput method "jsonMode" is not portable across providers; use "functionCalling" (default).',
      );
    }
    const isZod = isInteropZodSchema(outputSchema);
    const schema = outputSchema as Record<string, unknown>;
    const name =
      config?.name ??
      (!isZod && typeof schema.title === "string" ? schema.title : undefined) ??
      (!isZod && typeof schema.name === "string" ? schema.name : "extract");
    const parameters = isZod
      ? toJsonSchema(outputSchema)
      : ((schema.parameters as object | undefined) ?? schema);
    const description =
      (isZod ? getSchemaDescription(outputSchema) : (schema.description as string | undefined)) ??
      "Return the answer in this structure.";
    const llm = this.bindTools([{ type: "function", function: { name, description, parameters } }], {
      tool_choice: name,
      ...(config?.strict !== undefined ? { strict: config.strict } : {}),
      ls_structured_output_format: { kwargs: { method: "functionCalling" }, schema: parameters },
    } as Partial<AutoPickerCallOptions>);
    const parser = new JsonOutputKeyToolsParser<RunOutput>({
      keyName: name,
      returnSingle: true,
      ...(isZod ? { zodSchema: outputSchema as InteropZodType<RunOutput> } : {}),
    });
    if (!config?.includeRaw) return llm.pipe(parser).withConfig({ runName: "StructuredOutput" });
    const parseRaw = RunnablePassthrough.assign({
      parsed: (input: { raw: BaseMessage }, cfg) => parser.invoke(input.raw, cfg),
    }) as Runnable<{ raw: BaseMessage }, { raw: BaseMessage; parsed: RunOutput | null }>;
    const keepRaw = RunnablePassthrough.assign({ parsed: () => null }) as Runnable<
      { raw: BaseMessage },
      { raw: BaseMessage; parsed: RunOutput | null }
    >;
    const withParsed = parseRaw.withFallbacks({ fallbacks: [keepRaw] });
    const pickRaw = RunnableMap.from<BaseLanguageModelInput, { raw: BaseMessage }>({ raw: llm });
    return pickRaw.pipe(withParsed).withConfig({ runName: "StructuredOutputRunnable" }) as Runnable<
      BaseLanguageModelInput,
      { raw: BaseMessage; parsed: RunOutput }
    >;
  }

  async _generate(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    options.signal?.throwIfAborted();
    this.recorder.request();
    let served: Served<ChatResult>;
    try {
      served = await this.router.route(
        messages,
        options as Record<string, unknown>,
        runManager,
        (entry, msgs, signal) =>
          entry.model._generate(msgs, this.innerOptions(entry, options, signal), runManager),
        options.autopicker ?? {},
      );
    } catch (error) {
      return this.handleFailure(error, messages);
    }
    const generation = served.result.generations[0];
    const usage = generation ? usageOf(generation) : undefined;
    await served.settle(usage);
    for (const g of served.result.generations) stamp(g.message, served.entry, served.trail);
    return served.result;
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    options.signal?.throwIfAborted();
    this.recorder.request();
    type Started = { first: IteratorResult<ChatGenerationChunk>; rest: AsyncIterator<ChatGenerationChunk> };
    let served: Served<Started>;
    try {
      // An error before the first chunk is routed like any failed call; after it, it surfaces.
      served = await this.router.route(
        messages,
        options as Record<string, unknown>,
        runManager,
        async (entry, msgs, signal) => {
          const rest = entry.model
            ._streamResponseChunks(msgs, this.innerOptions(entry, options, signal), runManager)
            [Symbol.asyncIterator]();
          const first = await rest.next();
          return { first, rest };
        },
        options.autopicker ?? {},
      );
    } catch (error) {
      const result = await this.handleFailure(error, messages);
      const message = result.generations[0]!.message;
      yield new ChatGenerationChunk({ text: message.text, message: new AIMessageChunk({ ...message }) });
      return;
    }
    let usage: UsageMetadata | undefined;
    let sawModelName = false;
    let settled = false;
    const settle = async () => {
      if (!settled) {
        settled = true;
        await served.settle(usage);
      }
    };
    try {
      for (let next = served.result.first; !next.done; next = await served.result.rest.next()) {
        const chunk = next.value;
        const msg = chunk.message as AIMessageChunk;
        if (msg.usage_metadata) usage = addUsage(usage, msg.usage_metadata);
        if (msg.response_metadata?.model_name) sawModelName = true;
        yield chunk;
      }
    } finally {
      await settle();
    }
    // One empty closing chunk carries the decision trail; concat merges it into the final message.
    yield new ChatGenerationChunk({
      text: "",
      message: new AIMessageChunk({
        content: "",
        response_metadata: {
          ...(sawModelName ? {} : { model_name: served.entry.modelId }),
          autopicker: served.trail,
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
    return super.invoke(input, withRouting(options));
  }

  override _streamIterator(
    input: BaseLanguageModelInput,
    options?: AutoPickerCallOptions,
  ): AsyncGenerator<AIMessageChunk> {
    return super._streamIterator(input, withRouting(options));
  }

  private innerOptions(
    entry: ResolvedEntry,
    options: this["ParsedCallOptions"],
    signal: AbortSignal | undefined,
  ) {
    const { autopicker: _routing, ...rest } = options;
    const converted = this.toolOptions.forModel(entry.model, rest as Record<string, unknown>);
    // Per-call 0 as well: ChatOpenAI honours it even when the caller was configured elsewhere.
    return { ...converted, signal, maxRetries: 0 } as never;
  }

  private async handleFailure(error: unknown, messages: BaseMessage[]): Promise<ChatResult> {
    if (!(error instanceof RoutingFailure)) throw error;
    this.recorder.failed();
    if (!this.onAllFailed) throw new AllModelsFailedError(error.attempts, { cause: error.lastError });
    const answer = await this.onAllFailed({ messages, attempts: error.attempts, lastError: error.lastError });
    const message = typeof answer === "string" ? new AIMessage(answer) : answer;
    message.response_metadata = {
      ...message.response_metadata,
      autopicker: { model: "none", attempts: error.attempts, waited_ms: 0, degraded: true },
    };
    return { generations: [{ text: message.text, message }] };
  }
}

/** The call option wins over run metadata. */
function withRouting(options: AutoPickerCallOptions | undefined): AutoPickerCallOptions | undefined {
  const fromMetadata = preferenceFromMetadata(options?.metadata);
  if (Object.keys(fromMetadata).length === 0) return options;
  return { ...options, autopicker: { ...fromMetadata, ...options?.autopicker } };
}

function usageOf(generation: ChatGeneration): UsageMetadata | undefined {
  return (generation.message as AIMessage).usage_metadata;
}

function addUsage(a: UsageMetadata | undefined, b: UsageMetadata): UsageMetadata {
  if (!a) return { ...b };
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
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
