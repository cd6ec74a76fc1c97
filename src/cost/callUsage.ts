import type { UsageMetadata } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import type { TokenUsage } from "./pricing";

/** Token counts with every part present. */
export type FullTokenUsage = Required<TokenUsage>;

/** What one chat-model run reported when it ended. */
export interface CallReport {
  /** Token usage, or `null` when the model reported none. */
  usage: FullTokenUsage | null;
  /** The message's `response_metadata` over the generation's `generationInfo`. */
  responseMetadata: Record<string, unknown>;
}

/**
 * Reads usage and response metadata from what `handleLLMEnd` receives. Invoke and stream end the
 * same way in core 1.x: one generation per prompt, whose message carries the (aggregated)
 * `usage_metadata`; a stream's `model_name` arrives in `generationInfo` of its last chunk.
 */
export function readCallReport(output: LLMResult): CallReport {
  // One run covers one prompt. With n > 1 choices, OpenAI puts the same request-wide usage on every
  // choice, so the first one with usage is the whole call's usage; summing them would multiply it.
  const generations = output.generations[0] ?? [];
  let responseMetadata: Record<string, unknown> = {};
  let usage: FullTokenUsage | null = null;
  for (const generation of generations) {
    const message = "message" in generation ? (generation.message as MessageLike | undefined) : undefined;
    if (Object.keys(responseMetadata).length === 0) {
      responseMetadata = { ...asRecord(generation.generationInfo), ...asRecord(message?.response_metadata) };
    }
    if (!usage && message?.usage_metadata) usage = fromUsageMetadata(message.usage_metadata);
  }
  return { usage: usage ?? fromLlmOutput(output.llmOutput), responseMetadata };
}

interface MessageLike {
  response_metadata?: unknown;
  usage_metadata?: UsageMetadata;
}

function fromUsageMetadata(meta: UsageMetadata): FullTokenUsage {
  const inputTokens = meta.input_tokens ?? 0;
  let outputTokens = meta.output_tokens ?? 0;
  let reasoningTokens = meta.output_token_details?.reasoning ?? 0;
  // @langchain/google-genai 2.x leaves Gemini's thinking tokens (thoughtsTokenCount) out of
  // output_tokens but keeps them in total_tokens; Google bills them as output. Counting the gap as
  // reasoning keeps Gemini 2.5 costs from being under-reported. OpenAI and Anthropic report
  // total = input + output, so for them the gap is zero.
  const gap = (meta.total_tokens ?? 0) - inputTokens - outputTokens;
  if (reasoningTokens === 0 && gap > 0) {
    reasoningTokens = gap;
    outputTokens += gap;
  }
  return {
    inputTokens,
    outputTokens,
    cachedInputTokens: meta.input_token_details?.cache_read ?? 0,
    cacheWriteTokens: meta.input_token_details?.cache_creation ?? 0,
    reasoningTokens,
  };
}

/** Older integrations report only `llmOutput.tokenUsage` (no cache or reasoning detail). */
function fromLlmOutput(llmOutput: Record<string, unknown> | undefined): FullTokenUsage | null {
  const tokenUsage = asRecord(llmOutput?.tokenUsage);
  const input = tokenUsage.promptTokens;
  const output = tokenUsage.completionTokens;
  if (typeof input !== "number" && typeof output !== "number") return null;
  return {
    inputTokens: typeof input === "number" ? input : 0,
    outputTokens: typeof output === "number" ? output : 0,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  };
}

/** `value` if it is a plain object, else `{}`. */
export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
