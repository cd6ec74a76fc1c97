import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import type { ChainValues } from "@langchain/core/utils/types";
import { type Clock, systemClock } from "../clock";
import { consoleLogger, logWarning, type WarningLogger } from "./alerts";
import { readCallReport } from "./callUsage";
import type { CostRecord } from "./costRecord";
import { PriceBook, type Pricing } from "./pricing";
import { identifyServedModel, type RunStartInfo, readRunStart } from "./servedModel";
import { UsageAggregator, type UsageAggregatorOptions, type UsageStats } from "./usageStats";

/** Anything that books observed spend, e.g. a `BudgetManager`. */
export interface SpendRecorder {
  record(actualUsd: number): Promise<void>;
}

/** Options of {@link CostTrackingCallbackHandler}. */
export interface CostTrackingOptions extends UsageAggregatorOptions {
  /** Your prices by model name; they beat the catalog. Ignored when `priceBook` is given. */
  pricing?: Readonly<Record<string, Pricing>>;
  /** A price book to share (e.g. with the model wrapper). Default: a new one with `pricing`. */
  priceBook?: PriceBook;
  /** Called with every call's record, after it is aggregated. Errors are logged and ignored. */
  onCost?: (record: CostRecord) => void;
  /**
   * Books every priced call's cost here. Do not pass a budget that the model wrapper already
   * settles reservations on, or each call is counted twice.
   */
  budget?: SpendRecorder;
  /** Day and month buckets and record timestamps. Default: the system clock. */
  clock?: Clock;
  /** Where "no price for model X" goes. Default: `console.warn`, prefixed `[autopicker]`. */
  logger?: WarningLogger;
  /** Runs whose parent we track at once; the oldest are forgotten beyond it. Default 50000. */
  maxTrackedRuns?: number;
}

interface LlmRun {
  start: RunStartInfo;
  parentRunId?: string;
  rootRunId: string;
  metadata: Record<string, unknown>;
  tags: readonly string[];
}

/**
 * Prices every chat-model call it sees, from the served model and its `usage_metadata`, and
 * aggregates the costs (see {@link getUsageStats}). Attach it anywhere: `callbacks: [handler]` on a
 * model, chain, agent or a single `invoke()`. It awaits its own work (`awaitHandlers`), so totals
 * include a call as soon as that call's `invoke()` resolves.
 */
export class CostTrackingCallbackHandler extends BaseCallbackHandler {
  override name = "autopicker_cost_tracking";
  override awaitHandlers = true;

  /** The prices this handler uses. */
  readonly priceBook: PriceBook;
  private readonly aggregator: UsageAggregator;
  private readonly clock: Clock;
  private readonly logger: WarningLogger;
  private readonly onCost?: (record: CostRecord) => void;
  private readonly budget?: SpendRecorder;
  private readonly maxTrackedRuns: number;
  private readonly llmRuns = new Map<string, LlmRun>();
  /** Chain, tool and retriever runs in progress -> their top-level run. */
  private readonly rootOf = new Map<string, string>();
  private readonly warnedKeys = new Set<string>();

  constructor(options: CostTrackingOptions = {}) {
    super();
    this.priceBook = options.priceBook ?? new PriceBook({ overrides: options.pricing ?? {} });
    this.aggregator = new UsageAggregator(options);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? consoleLogger;
    this.maxTrackedRuns = options.maxTrackedRuns ?? 50_000;
    if (options.onCost) this.onCost = options.onCost;
    if (options.budget) this.budget = options.budget;
  }

  /** Totals, by model, UTC day and month, top-level run and metadata keys. */
  getUsageStats(): UsageStats {
    return this.aggregator.snapshot();
  }

  /** Handlers are not copied: a copy would split the totals. */
  override copy(): this {
    return this;
  }

  // Core 1.x declares (chain, inputs, runId, runType, tags, metadata, runName, parentRunId) but
  // calls handlers with (chain, inputs, runId, parentRunId, tags, metadata, runType, runName), as its
  // own BaseTracer reads them. The parameters are named for what actually arrives; the types line up.
  // The chain tests fail if core ever changes the order.
  override handleChainStart(
    chain: Serialized,
    _inputs: ChainValues,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    _metadata?: Record<string, unknown>,
    _runType?: string,
    runName?: string,
  ): void {
    this.trackParent(runId, parentRunId, runName ?? chain.id?.at(-1));
  }

  override handleChainEnd(_outputs: ChainValues, runId: string): void {
    this.endNonLlmRun(runId);
  }

  override handleChainError(_err: unknown, runId: string): void {
    this.endNonLlmRun(runId);
  }

  override handleToolStart(
    tool: Serialized,
    _input: string,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    _metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    // Tools can call models (sub-agents); their calls belong to the same top-level run.
    this.trackParent(runId, parentRunId, runName ?? tool.id?.at(-1));
  }

  override handleToolEnd(_output: unknown, runId: string): void {
    this.endNonLlmRun(runId);
  }

  override handleToolError(_err: unknown, runId: string): void {
    this.endNonLlmRun(runId);
  }

  override handleChatModelStart(
    llm: Serialized,
    _messages: BaseMessage[][],
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    tags?: string[],
    metadata?: Record<string, unknown>,
  ): void {
    this.startLlmRun(llm, runId, parentRunId, extraParams, tags, metadata);
  }

  override handleLLMStart(
    llm: Serialized,
    _prompts: string[],
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    tags?: string[],
    metadata?: Record<string, unknown>,
  ): void {
    this.startLlmRun(llm, runId, parentRunId, extraParams, tags, metadata);
  }

  override async handleLLMEnd(
    output: LLMResult,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    extraParams?: Record<string, unknown>,
  ): Promise<void> {
    const run = this.llmRuns.get(runId) ?? this.unseenLlmRun(runId, parentRunId);
    this.llmRuns.delete(runId);
    const record = this.buildRecord(output, runId, run, extraParams?.cached === true);
    this.aggregator.add(record);
    // A call outside any run we saw start is its own top-level run (or shares an unseen parent):
    // nothing else will end it, so it is finished as soon as it is counted.
    if (!this.rootOf.has(record.rootRunId)) this.aggregator.finishRun(record.rootRunId);
    if (this.onCost) {
      try {
        this.onCost(record);
      } catch (err) {
        logWarning(this.logger, `onCost listener threw: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (this.budget && record.status === "priced" && record.costUsd > 0) {
      try {
        await this.budget.record(record.costUsd);
      } catch (err) {
        logWarning(this.logger, `Could not book spend: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  override handleLLMError(_err: unknown, runId: string): void {
    // Failed calls are not billed by the providers we price; there is nothing to record.
    this.llmRuns.delete(runId);
  }

  private buildRecord(output: LLMResult, runId: string, run: LlmRun, cached: boolean): CostRecord {
    const report = readCallReport(output);
    const served = identifyServedModel(report.responseMetadata, run.start);
    const base = {
      runId,
      ...(run.parentRunId ? { parentRunId: run.parentRunId } : {}),
      rootRunId: run.rootRunId,
      model: served.model,
      ...(served.provider ? { provider: served.provider } : {}),
      usage: report.usage,
      at: this.clock.now(),
      metadata: run.metadata,
      tags: run.tags,
    };
    // Core signals a LangChain cache hit with `{ cached: true }` and zeroed usage: nothing was billed.
    if (cached) return { ...base, status: "cached", cost: null, costUsd: 0 };
    if (!report.usage) {
      this.warnOnce(
        `usage:${served.model}`,
        `Model "${served.model ?? "(unnamed)"}" reported no token usage; its cost is unknown.`,
      );
      return { ...base, status: "unpriced", reason: "no_usage", cost: null, costUsd: null };
    }
    const cost = served.model
      ? this.priceBook.price(served.priceAs ?? served.model, report.usage, {
          ...(served.provider ? { provider: served.provider } : {}),
          ...(served.pricing ? { pricing: served.pricing } : {}),
          at: new Date(base.at),
        })
      : null;
    if (!cost) {
      this.warnOnce(
        `price:${served.model}`,
        `No price for model "${served.model ?? "(unnamed)"}"; its calls are reported with cost null. ` +
          `Add it to the "pricing" option ({ inputPer1M, outputPer1M }).`,
      );
      return { ...base, status: "unpriced", reason: "unknown_model", cost: null, costUsd: null };
    }
    return { ...base, status: "priced", cost, costUsd: cost.total };
  }

  private startLlmRun(
    llm: Serialized,
    runId: string,
    parentRunId: string | undefined,
    extraParams: Record<string, unknown> | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
  ): void {
    this.llmRuns.set(runId, {
      start: readRunStart(llm, extraParams, metadata),
      ...(parentRunId ? { parentRunId } : {}),
      rootRunId: this.rootFor(runId, parentRunId),
      metadata: metadata ?? {},
      tags: tags ?? [],
    });
    evictOldest(this.llmRuns, this.maxTrackedRuns);
  }

  /** A run whose start we missed (handler attached mid-run): priced from its response alone. */
  private unseenLlmRun(runId: string, parentRunId?: string): LlmRun {
    return {
      start: {},
      ...(parentRunId ? { parentRunId } : {}),
      rootRunId: this.rootFor(runId, parentRunId),
      metadata: {},
      tags: [],
    };
  }

  /** The top-level run of a run starting under `parentRunId`: the parent's root, the parent, or itself. */
  private rootFor(runId: string, parentRunId: string | undefined): string {
    if (!parentRunId) return runId;
    return this.rootOf.get(parentRunId) ?? parentRunId;
  }

  private trackParent(runId: string, parentRunId: string | undefined, runName: string | undefined): void {
    const root = this.rootFor(runId, parentRunId);
    this.rootOf.set(runId, root);
    if (root === runId) this.aggregator.openRun(runId, runName);
    evictOldest(this.rootOf, this.maxTrackedRuns);
  }

  private endNonLlmRun(runId: string): void {
    const root = this.rootOf.get(runId);
    this.rootOf.delete(runId);
    if (root === runId) this.aggregator.finishRun(runId);
  }

  private warnOnce(key: string, message: string): void {
    if (this.warnedKeys.has(key)) return;
    this.warnedKeys.add(key);
    logWarning(this.logger, message);
  }
}

function evictOldest<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next().value as K;
    map.delete(oldest);
  }
}
