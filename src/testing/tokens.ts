import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";

/** One chat message as the simulator and {@link countChatTokens} see it: a role and its plain text. */
export interface ChatTokenMessage {
  role: string;
  /** The message's text; for tool calls, their names and JSON arguments. */
  text: string;
  /** An optional participant name (costs one extra token, as on OpenAI). */
  name?: string;
}

/** OpenAI's documented chat overhead for the gpt-4o family (o200k_base). */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING_TOKENS = 3;

let encoder: Tiktoken | undefined;

/** The o200k_base encoder, built on first use: building it takes most of a second. */
function getEncoder(): Tiktoken {
  encoder ??= new Tiktoken(o200k);
  return encoder;
}

/**
 * Encodes text with o200k_base. Special-token text (`<|endoftext|>`) is encoded as plain text
 * rather than throwing, since prompts may legitimately contain it.
 */
export function encodeText(text: string): number[] {
  return getEncoder().encode(text, [], []);
}

/** Number of o200k_base tokens in `text`. */
export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : encodeText(text).length;
}

/** The longest prefix of `text` that fits in `maxTokens` tokens. */
export function truncateToTokens(text: string, maxTokens: number): string {
  const tokens = encodeText(text);
  if (tokens.length <= maxTokens) return text;
  return getEncoder().decode(tokens.slice(0, Math.max(0, maxTokens)));
}

/**
 * Prompt tokens of a chat request the way OpenAI's cookbook counts them for o200k_base models:
 * per message 3 tokens + the encoded role + the encoded text (+ 1 + the encoded name when a name is
 * set), then 3 tokens priming the reply. The simulator reports exactly this as `prompt_tokens`
 * (plus {@link countToolTokens} when tools are sent), so a client-side estimator can be tested
 * against it. Gemini requests are counted the same way: Google's tokenizer is not public, and one
 * deterministic rule for both providers keeps tests simple.
 */
export function countChatTokens(messages: readonly ChatTokenMessage[]): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + countTextTokens(message.role) + countTextTokens(message.text);
    if (message.name !== undefined) total += TOKENS_PER_NAME + countTextTokens(message.name);
  }
  return total;
}

/**
 * Tokens the simulator adds to the prompt for tool definitions: the encoded JSON of each tool's
 * name, description and parameter schema. Real providers render tools into a hidden system prompt
 * whose exact size is not published; this is a deterministic stand-in of similar magnitude.
 */
export function countToolTokens(
  tools: readonly { name: string; description?: string; parameters: unknown }[],
): number {
  let total = 0;
  for (const tool of tools) {
    total += countTextTokens(
      JSON.stringify({ name: tool.name, description: tool.description ?? "", parameters: tool.parameters }),
    );
  }
  return total;
}
