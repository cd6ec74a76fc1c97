import { randomUUID } from "node:crypto";
import { getContextVariable, setContextVariable } from "@langchain/core/context";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import { RunnableBinding } from "@langchain/core/runnables";
import { createMiddleware } from "langchain";
import { z } from "zod";
import { resolveMaxOutputTokens, TokenEstimator } from "../context";
import { PriceBook } from "../cost/pricing";
import {
  isShortfall,
  RunBudget,
  type RunBudgetOptions,
  type RunBudgetSummary,
  validateRunBudgetOptions,
} from "../cost/runBudget";
import { RunBudgetExceededError } from "../errors";
import { toTokenUsage } from "../model/budgetGate";
import { deriveName } from "../model/entries";

/** Options of {@link runBudgetMiddleware}. */
export interface RunBudgetMiddlewareOptions extends RunBudgetOptions {
  /** Add a short system note with what is left to each model request, so the model can plan. Default false. */
  exposeToModel?: boolean;
  /** Output tokens assumed for a call's worst case when the model sets no `maxTokens`. Default 1024. */
  defaultOutputTokens?: number;
}

const summarySchema = z.object({
  spentUsd: z.number(),
  remainingUsd: z.number().nullable(),
  tokens: z.number(),
  remainingTokens: z.number().nullable(),
  modelCalls: z.number(),
  remainingModelCalls: z.number().nullable(),
  exhausted: z.boolean(),
});

/** The live envelopes, by run id. Outside graph state: state is checkpointed, envelopes are not data. */
interface Live {
  budget: RunBudget;
  /** The root agent and its subagents currently inside the run. */
  owners: number;
  lastUsed: number;
  /** "throw" mode: the error to raise from afterModel, where it is not wrapped in a MiddlewareError. */
  pending?: RunBudgetExceededError;
}
const live = new Map<string, Live>();
// A run that threw skips afterAgent; its envelope is dropped once idle this long.
const IDLE_MS = 60 * 60_000;
const RUN_ID = "autopicker_run_budget_id";

function sweep(now: number): void {
  for (const [id, l] of live) if (now - l.lastUsed > IDLE_MS) live.delete(id);
}

/** The picker, if the agent's model is one (possibly behind a binding). */
function asPicker(model: unknown): { isAutoPicker: true } | undefined {
  let m = model;
  while (RunnableBinding.isRunnableBinding(m)) m = m.bound;
  return typeof m === "object" && m !== null && (m as { isAutoPicker?: unknown }).isAutoPicker === true
    ? (m as { isAutoPicker: true })
    : undefined;
}

/**
 * A per-run budget for `createAgent` agents (LangChain 1.x middleware): "this task may spend at most
 * $0.50, 200k tokens, 40 model calls". Before each model call the call's worst case is reserved
 * from the run's envelope, after it the real usage is settled, with the same estimator and price
 * book the picker and the cost handler use. Parallel tool calls and subagents (agents invoked inside
 * a tool of the run) share the envelope and cannot overspend together.
 *
 * When the next call cannot fit: `"finish"` (default) ends the run with a final answer saying the
 * budget was reached; `"downgrade"` serves the rest of the run from models the budget can still pay
 * for, cheapest first (needs an `AutoPickerChatModel`; an error when none fits); `"throw"` raises
 * `RunBudgetExceededError`. The run's figures are in the result: `result.autopickerBudget`.
 *
 * With an `AutoPickerChatModel` the picker reserves per candidate at that model's real price, so
 * global daily/monthly budgets and the run's envelope both apply to every call.
 */
export function runBudgetMiddleware(options: RunBudgetMiddlewareOptions) {
  validateRunBudgetOptions(options, "runBudgetMiddleware");
  const { exposeToModel = false, defaultOutputTokens = 1024, ...limits } = options;
  const estimator = new TokenEstimator();
  const prices = new PriceBook();

  const envelope = (id: string | undefined, persisted?: RunBudgetSummary): Live => {
    let l = id ? live.get(id) : undefined;
    if (!l) {
      // A run resumed in another process: rebuild the envelope from the checkpointed figures.
      const budget = new RunBudget(limits);
      if (persisted) budget.restore(persisted);
      l = { budget, owners: 1, lastUsed: Date.now() };
      if (id) live.set(id, l);
    }
    l.lastUsed = Date.now();
    return l;
  };

  return createMiddleware({
    name: "AutoPickerRunBudget",
    stateSchema: z.object({
      autopickerBudget: summarySchema.optional(),
      // Private (leading underscore): not part of the agent's input or output.
      _autopickerRunBudgetId: z.string().optional(),
    }),
    beforeAgent: () => {
      const now = Date.now();
      sweep(now);
      // A subagent invoked inside a tool of a budgeted run joins the parent's envelope.
      const inherited = getContextVariable<string>(RUN_ID);
      const parent = inherited ? live.get(inherited) : undefined;
      if (inherited && parent) {
        parent.owners++;
        parent.lastUsed = now;
        return { _autopickerRunBudgetId: inherited, autopickerBudget: parent.budget.summary() };
      }
      // Per invocation, also on a thread with a checkpointer: middleware state outlives the run.
      const id = randomUUID();
      const budget = new RunBudget(limits);
      live.set(id, { budget, owners: 1, lastUsed: now });
      return { _autopickerRunBudgetId: id, autopickerBudget: budget.summary() };
    },
    wrapModelCall: async (request, handler) => {
      const state = request.state as { _autopickerRunBudgetId?: string; autopickerBudget?: RunBudgetSummary };
      const l = envelope(state._autopickerRunBudgetId, state.autopickerBudget);
      const budget = l.budget;
      const req = exposeToModel
        ? { ...request, systemMessage: request.systemMessage.concat(`\n\n${note(budget)}`) }
        : request;

      if (asPicker(request.model)) {
        // The picker reserves per candidate at its real price, finishes or downgrades itself.
        const settings = (req.modelSettings?.autopicker ?? {}) as Record<string, unknown>;
        try {
          return await handler({
            ...req,
            modelSettings: { ...req.modelSettings, autopicker: { ...settings, runBudget: budget } },
          });
        } catch (error) {
          const cause = unwrap(error);
          // "throw", or "downgrade" with no model cheap enough ("finish" answers instead of throwing).
          if (cause instanceof RunBudgetExceededError) {
            l.pending = cause;
            return new AIMessage({ content: cause.message });
          }
          throw error;
        }
      }

      // Any other chat model: the middleware reserves the worst case itself.
      const model = request.model as BaseChatModel;
      const { name, modelId } = deriveName(model);
      const messages: BaseMessage[] = [...(req.systemMessage ? [req.systemMessage] : []), ...req.messages];
      const input = estimator.estimate(messages, { model: modelId, tools: req.tools as unknown[] });
      const output = resolveMaxOutputTokens(model, {}) ?? defaultOutputTokens;
      const worstUsd =
        budget.maxUsd === undefined
          ? 0
          : (prices.price(name, { inputTokens: input, outputTokens: output })?.total ?? null);
      const reserved = budget.reserve(worstUsd, input + output);
      if (isShortfall(reserved)) {
        budget.markExhausted();
        const error = budget.exceeded(reserved);
        if (budget.onExhausted === "finish") return finalAnswer(budget, error);
        // "downgrade" needs a picker to downgrade to; without one it is the same as "throw".
        l.pending = error;
        return new AIMessage({ content: error.message });
      }
      let answer: Awaited<ReturnType<typeof handler>>;
      try {
        answer = await handler(req);
      } catch (error) {
        budget.release(reserved);
        throw error;
      }
      const usage = AIMessage.isInstance(answer) ? answer.usage_metadata : undefined;
      const counted = usage && Number.isFinite(usage.input_tokens) && Number.isFinite(usage.output_tokens);
      budget.settle(reserved, {
        usd: counted ? (prices.price(name, toTokenUsage(usage))?.total ?? null) : null,
        tokens: counted ? usage.input_tokens + usage.output_tokens : null,
      });
      return answer;
    },
    wrapToolCall: (request, handler) => {
      // Whatever the tool runs (a subagent) sees the run's envelope.
      const id = (request.state as { _autopickerRunBudgetId?: string })._autopickerRunBudgetId;
      if (id) setContextVariable(RUN_ID, id);
      return handler(request);
    },
    afterModel: (state) => {
      const l = live.get(state._autopickerRunBudgetId ?? "");
      if (!l) return undefined;
      if (l.pending) {
        const error = l.pending;
        l.pending = undefined;
        release(state._autopickerRunBudgetId);
        throw error;
      }
      return { autopickerBudget: l.budget.summary() };
    },
    afterAgent: (state) => {
      const id = state._autopickerRunBudgetId;
      const l = live.get(id ?? "");
      if (!l) return undefined;
      release(id);
      return { autopickerBudget: l.budget.summary() };
    },
  });
}

function release(id: string | undefined): void {
  const l = live.get(id ?? "");
  if (l && --l.owners <= 0) live.delete(id!);
}

/** LangChain wraps errors thrown inside wrapModelCall (one MiddlewareError per layer). */
function unwrap(error: unknown): unknown {
  let e = error;
  for (let i = 0; i < 8 && e instanceof Error && !(e instanceof RunBudgetExceededError) && e.cause; i++)
    e = e.cause;
  return e;
}

/** What the model reads when `exposeToModel` is on. */
function note(budget: RunBudget): string {
  const s = budget.summary();
  const parts = [
    s.remainingUsd !== null ? `$${s.remainingUsd.toFixed(4)} of $${budget.maxUsd!.toFixed(4)}` : undefined,
    s.remainingTokens !== null ? `${s.remainingTokens} of ${budget.maxTokens} tokens` : undefined,
    s.remainingModelCalls !== null
      ? `${s.remainingModelCalls} of ${budget.maxModelCalls} model calls`
      : undefined,
  ].filter(Boolean);
  return `[Run budget] Left for this task: ${parts.join(", ")}. Plan accordingly: summarise and finish before it runs out.`;
}

/** The final answer of a run whose budget is spent: no tool calls, so the agent ends here. */
function finalAnswer(budget: RunBudget, error: RunBudgetExceededError): AIMessage {
  const s = budget.summary();
  return new AIMessage({
    content:
      `I have to stop here: this run's budget is spent ($${s.spentUsd.toFixed(4)}, ${s.tokens} tokens, ` +
      `${s.modelCalls} model calls). What was done so far is in the conversation above.`,
    response_metadata: {
      autopicker: { model: "none", attempts: [], waited_ms: 0, run_budget_exhausted: error.dimension },
    },
  });
}
