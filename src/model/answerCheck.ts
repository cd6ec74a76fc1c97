import { AIMessage, AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { ContentFilteredError, MalformedResponseError } from "../errors";
import { classifyError } from "../retry/classify";

/** What the picker does with an answer a provider's safety system withheld. */
export type ContentFilterStrategy = "fallback" | "return";

// OpenAI's finish reason, and Gemini's finish reasons that mean "withheld for safety".
const FILTERED = new Set([
  "content_filter",
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
]);

/**
 * Why the provider withheld this answer, if it did: `finish_reason` (OpenAI) or `finishReason`
 * (Gemini) in the message's metadata or the generation info, or a blocked prompt.
 */
export function contentFilterReason(
  message: BaseMessage | undefined,
  info?: Record<string, unknown>,
): string | undefined {
  const meta = (message?.response_metadata ?? {}) as Record<string, unknown>;
  for (const source of [meta, info ?? {}]) {
    for (const key of ["finish_reason", "finishReason"]) {
      const v = source[key];
      if (typeof v === "string" && FILTERED.has(v)) return v;
    }
    const feedback = source.promptFeedback as { blockReason?: unknown } | undefined;
    if (typeof feedback?.blockReason === "string" && feedback.blockReason !== "BLOCKED_REASON_UNSPECIFIED") {
      return feedback.blockReason;
    }
  }
  return undefined;
}

/** Whether a message carries an answer: text, or a tool call (complete or being streamed). */
export function hasAnswer(message: BaseMessage): boolean {
  const m = message as AIMessage & Partial<Pick<AIMessageChunk, "tool_call_chunks">>;
  if ((m.tool_calls?.length ?? 0) > 0 || (m.invalid_tool_calls?.length ?? 0) > 0) return true;
  if ((m.tool_call_chunks?.length ?? 0) > 0) return true;
  const content = m.content;
  if (typeof content === "string") return content.length > 0;
  return Array.isArray(content) && content.length > 0;
}

/**
 * Why the client threw instead of answering, when the answer was withheld (Gemini's SDK: "The
 * model returned no content. Finish reason: SAFETY."; Azure's 400 `content_filter`).
 */
export function withheldReason(error: unknown, now: number): string | undefined {
  const c = classifyError(error, now);
  return c.kind === "content_filter" ? c.reason : undefined;
}

/**
 * With `onContentFilter: "return"`, what an invoke returns for such an error: the empty answer the
 * provider gave, its reason as `finishReason` in the metadata, as a streamed withheld answer ends.
 */
export function withheldResult(reason: string): ChatResult {
  const message = new AIMessage({ content: "", response_metadata: { finishReason: reason } });
  return { generations: [{ text: "", message, generationInfo: { finishReason: reason } }] };
}

/**
 * Checks an invoke result before it counts as served: an empty result or an answer without content
 * or tool call is malformed; a withheld answer is a content-filter failure unless the user wants
 * it returned as it is.
 */
export function checkResult(model: string, result: ChatResult, onContentFilter: ContentFilterStrategy): void {
  const generation = result.generations?.[0];
  if (!generation?.message) throw new MalformedResponseError(model, "no generations");
  const filtered = contentFilterReason(generation.message, generation.generationInfo);
  if (filtered && onContentFilter === "fallback") throw new ContentFilteredError(model, filtered);
  if (!filtered && !hasAnswer(generation.message)) {
    throw new MalformedResponseError(model, "an answer with neither content nor a tool call");
  }
}

/**
 * Reads a stream up to its first chunk with content or a tool call, keeping the empty chunks
 * before it (role announcements) so they are still delivered. A stream that ends before any
 * content is malformed, or filtered.
 */
export async function firstAnswerChunk(
  model: string,
  stream: AsyncIterator<ChatGenerationChunk>,
  onContentFilter: ContentFilterStrategy,
  now: number,
): Promise<{ head: ChatGenerationChunk[]; rest: AsyncIterator<ChatGenerationChunk>; ended: boolean }> {
  const head: ChatGenerationChunk[] = [];
  for (;;) {
    let next: IteratorResult<ChatGenerationChunk>;
    try {
      next = await stream.next();
    } catch (error) {
      // A withheld answer the client threw for (Azure's 400 `content_filter`), asked for as it is.
      const reason = onContentFilter === "return" ? withheldReason(error, now) : undefined;
      if (reason === undefined) throw error;
      const chunk = new ChatGenerationChunk({
        text: "",
        message: new AIMessageChunk({ content: "", response_metadata: { finishReason: reason } }),
        generationInfo: { finishReason: reason },
      });
      return { head: [...head, chunk], rest: stream, ended: true };
    }
    if (next.done) {
      const last = head.at(-1);
      const filtered = last && contentFilterReason(last.message, last.generationInfo);
      if (filtered && onContentFilter === "return") return { head, rest: stream, ended: true };
      if (filtered) throw new ContentFilteredError(model, filtered);
      throw new MalformedResponseError(model, "the stream ended without any content");
    }
    head.push(next.value);
    const filtered = contentFilterReason(next.value.message, next.value.generationInfo);
    if (filtered && onContentFilter === "fallback" && !hasAnswer(next.value.message)) {
      throw new ContentFilteredError(model, filtered);
    }
    if (hasAnswer(next.value.message) || filtered) return { head, rest: stream, ended: false };
  }
}
