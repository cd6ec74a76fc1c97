import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage, type UsageMetadata } from "@langchain/core/messages";
import { type ChatGeneration, ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";

/** One scripted answer of {@link ScriptedChatModel}. */
export interface ScriptedReply {
  text?: string;
  usage?: UsageMetadata;
  /** Put on `response_metadata` (invoke) or the last chunk's `generationInfo` (stream). */
  responseMetadata?: Record<string, unknown>;
}

/**
 * A chat model that answers from a script, with usage metadata, and streams like ChatOpenAI:
 * text chunks first, `model_name` on the last text chunk's generationInfo, usage on a final empty
 * chunk. Replies are consumed in order; the last one repeats.
 */
export class ScriptedChatModel extends BaseChatModel {
  private readonly replies: ScriptedReply[];
  private index = 0;
  readonly invocationModel: string | undefined;

  constructor(replies: ScriptedReply[], fields: BaseChatModelParams & { model?: string } = {}) {
    super(fields);
    this.replies = replies;
    this.invocationModel = fields.model;
  }

  _llmType(): string {
    return "scripted";
  }

  override invocationParams(): Record<string, unknown> {
    return this.invocationModel ? { model: this.invocationModel } : {};
  }

  private next(): ScriptedReply {
    const reply = this.replies[Math.min(this.index, this.replies.length - 1)];
    this.index += 1;
    if (!reply) throw new Error("ScriptedChatModel has no replies");
    return reply;
  }

  async _generate(_messages: BaseMessage[]): Promise<ChatResult> {
    const reply = this.next();
    const message = new AIMessage({
      content: reply.text ?? "ok",
      ...(reply.usage ? { usage_metadata: reply.usage } : {}),
      response_metadata: reply.responseMetadata ?? {},
    });
    const generation: ChatGeneration = { text: reply.text ?? "ok", message };
    return { generations: [generation] };
  }

  override async *_streamResponseChunks(
    _messages: BaseMessage[],
    _options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const reply = this.next();
    const words = (reply.text ?? "ok").split(" ");
    for (const [i, word] of words.entries()) {
      const text = i === 0 ? word : ` ${word}`;
      const last = i === words.length - 1;
      const chunk = new ChatGenerationChunk({
        text,
        message: new AIMessageChunk({ content: text }),
        ...(last && reply.responseMetadata ? { generationInfo: reply.responseMetadata } : {}),
      });
      yield chunk;
      await runManager?.handleLLMNewToken(text);
    }
    if (reply.usage) {
      yield new ChatGenerationChunk({
        text: "",
        message: new AIMessageChunk({ content: "", usage_metadata: reply.usage }),
      });
    }
  }
}

/** `usage_metadata` the way LangChain integrations report it (input includes cache reads). */
export function usage(
  input: number,
  output: number,
  details: { cached?: number; reasoning?: number } = {},
): UsageMetadata {
  return {
    input_tokens: input,
    output_tokens: output,
    total_tokens: input + output,
    ...(details.cached !== undefined ? { input_token_details: { cache_read: details.cached } } : {}),
    ...(details.reasoning !== undefined ? { output_token_details: { reasoning: details.reasoning } } : {}),
  };
}

/** A logger that remembers what it was told. */
export function memoryLogger(): { warn(message: string): void; lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (message: string) => lines.push(message) };
}
