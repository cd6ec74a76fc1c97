import type { BaseMessage } from "@langchain/core/messages";
import { encodingTokens, utf8Length } from "./encoders";
import { lowerBoundTokens } from "./lowerBound";
import type { EncodingName } from "./tokenizerFamily";

/** OpenAI chat format: every message costs 3 tokens of framing besides its role and content. */
export const TOKENS_PER_MESSAGE = 3;
/** OpenAI chat format: a `name` field costs 1 token besides the name itself. */
export const TOKENS_PER_NAME = 1;
/** OpenAI chat format: the reply is primed with `<|start|>assistant<|message|>`. */
export const REPLY_PRIMING_TOKENS = 3;
/** Framing per tool call in an AI message, besides its name and JSON arguments (approximation). */
export const TOKENS_PER_TOOL_CALL = 3;
/**
 * An image whose size we cannot know without decoding it: the most one image costs on gpt-4o at
 * `detail: "high"` or `"auto"` (downscaled to 768x1536: 6 tiles x 170 + 85). Gemini charges 258
 * per image tile, Claude ~1,600 for a 1.15 MP image. Per-image pricing quirks of gpt-4o-mini (which
 * bills ~33x more image tokens) are not modelled.
 */
export const IMAGE_TOKENS = 1105;
/** An image sent with `detail: "low"` costs a flat 85 tokens on OpenAI models. */
export const LOW_DETAIL_IMAGE_TOKENS = 85;
/** Audio, video, files and unknown non-text blocks: a flat guess (their real cost depends on duration or pages). */
export const MEDIA_TOKENS = 1105;

/**
 * Walks the countable parts of one message: strings go to `text`, fixed costs (framing, media)
 * to `fixed`. The exact count and both bounds share this walk, which is what makes
 * `lowerBound <= estimate <= upperBound` hold by construction: they differ only in how a string
 * is measured.
 */
function walkMessage(message: BaseMessage, text: (s: string) => void, fixed: (n: number) => void): void {
  fixed(TOKENS_PER_MESSAGE);
  text(roleOf(message));
  const { content } = message;
  if (typeof content === "string") text(content);
  else if (Array.isArray(content)) for (const block of content) walkBlock(block, text, fixed);
  if (typeof message.name === "string" && message.name.length > 0) {
    text(message.name);
    fixed(TOKENS_PER_NAME);
  }
  walkToolCalls(message, text, fixed);
}

function walkBlock(block: unknown, text: (s: string) => void, fixed: (n: number) => void): void {
  if (typeof block === "string") {
    text(block);
    return;
  }
  if (block === null || typeof block !== "object") return;
  const b = block as Record<string, unknown>;
  switch (b.type) {
    case "text":
    case "input_text":
    case "output_text":
      if (typeof b.text === "string") text(b.text);
      break;
    case "image_url": {
      const url = b.image_url;
      const detail =
        url !== null && typeof url === "object" ? (url as { detail?: unknown }).detail : b.detail;
      fixed(detail === "low" ? LOW_DETAIL_IMAGE_TOKENS : IMAGE_TOKENS);
      break;
    }
    case "image":
    case "input_image":
      fixed(IMAGE_TOKENS);
      break;
    case "reasoning":
      if (typeof b.reasoning === "string") text(b.reasoning);
      break;
    case "thinking":
      if (typeof b.thinking === "string") text(b.thinking);
      break;
    // Tool calls echoed in content (Anthropic `tool_use`, v1 `tool_call`) are counted from `tool_calls`.
    case "tool_use":
    case "tool_call":
    case "tool_call_chunk":
    case "function_call":
      break;
    default:
      if (typeof b.text === "string") text(b.text);
      else fixed(MEDIA_TOKENS);
  }
}

interface RawToolCall {
  function?: { name?: unknown; arguments?: unknown };
}

function walkToolCalls(message: BaseMessage, text: (s: string) => void, fixed: (n: number) => void): void {
  const parsed = (message as { tool_calls?: ReadonlyArray<{ name: string; args?: unknown }> }).tool_calls;
  if (parsed && parsed.length > 0) {
    for (const call of parsed) {
      fixed(TOKENS_PER_TOOL_CALL);
      text(call.name);
      text(JSON.stringify(call.args ?? {}));
    }
  } else {
    // Messages built by hand or by older integrations carry OpenAI's raw form only.
    const raw = message.additional_kwargs?.tool_calls as ReadonlyArray<RawToolCall> | undefined;
    if (Array.isArray(raw)) {
      for (const call of raw) {
        fixed(TOKENS_PER_TOOL_CALL);
        if (typeof call.function?.name === "string") text(call.function.name);
        if (typeof call.function?.arguments === "string") text(call.function.arguments);
      }
    }
  }
  const invalid = (message as { invalid_tool_calls?: ReadonlyArray<{ name?: string; args?: string }> })
    .invalid_tool_calls;
  if (invalid) {
    for (const call of invalid) {
      fixed(TOKENS_PER_TOOL_CALL);
      if (typeof call.name === "string") text(call.name);
      if (typeof call.args === "string") text(call.args);
    }
  }
}

const ROLES: Readonly<Record<string, string>> = {
  human: "user",
  ai: "assistant",
  system: "system",
  tool: "tool",
  function: "function",
};

/** The chat-API role a message is sent with (`user`, `assistant`, ...). */
export function roleOf(message: BaseMessage): string {
  const type = message.type;
  if (type === "generic") {
    const role = (message as { role?: unknown }).role;
    if (typeof role === "string") return role;
  }
  return ROLES[type] ?? type;
}

interface Entry {
  // What the counts were computed from; a message object mutated afterwards is recounted.
  content: unknown;
  toolCalls: unknown;
  extra: unknown;
  name: string | undefined;
  // Every field exists from creation (-1 = not counted yet): one object shape keeps lookups monomorphic.
  o200k: number;
  cl100k: number;
  bound: number;
  lowerO200k: number;
  lowerCl100k: number;
}

// Agents resend the same message objects every turn: counting each object once turns a growing
// conversation into work proportional to the new messages only.
const entries = new WeakMap<BaseMessage, Entry>();

function entryFor(message: BaseMessage): Entry {
  const toolCalls = (message as { tool_calls?: unknown }).tool_calls;
  const entry = entries.get(message);
  if (
    entry !== undefined &&
    entry.content === message.content &&
    entry.toolCalls === toolCalls &&
    entry.extra === message.additional_kwargs &&
    entry.name === message.name
  ) {
    return entry;
  }
  const fresh: Entry = {
    content: message.content,
    toolCalls,
    extra: message.additional_kwargs,
    name: message.name,
    o200k: -1,
    cl100k: -1,
    bound: -1,
    lowerO200k: -1,
    lowerCl100k: -1,
  };
  entries.set(message, fresh);
  return fresh;
}

/** Exact tokens of one message under `encoding`: framing, role, content, name, tool calls. */
export function messageTokens(message: BaseMessage, encoding: EncodingName): number {
  const entry = entryFor(message);
  const o200k = encoding === "o200k_base";
  let count = o200k ? entry.o200k : entry.cl100k;
  if (count < 0) {
    let total = 0;
    walkMessage(
      message,
      (s) => {
        total += encodingTokens(s, encoding);
      },
      (n) => {
        total += n;
      },
    );
    count = total;
    if (o200k) entry.o200k = count;
    else entry.cl100k = count;
  }
  return count;
}

/** An upper bound of `messageTokens` under any bundled encoding, from UTF-8 lengths (no tokenizing). */
export function messageTokenBound(message: BaseMessage): number {
  const entry = entryFor(message);
  if (entry.bound < 0) {
    let total = 0;
    walkMessage(
      message,
      (s) => {
        total += utf8Length(s);
      },
      (n) => {
        total += n;
      },
    );
    entry.bound = total;
  }
  return entry.bound;
}

/**
 * A lower bound of `messageTokens` under `encoding`, in one pass over the text (no tokenizing; see
 * `lowerBound.ts`).
 */
export function messageTokenLowerBound(message: BaseMessage, encoding: EncodingName): number {
  const entry = entryFor(message);
  const o200k = encoding === "o200k_base";
  let count = o200k ? entry.lowerO200k : entry.lowerCl100k;
  if (count < 0) {
    let total = 0;
    walkMessage(
      message,
      (s) => {
        total += lowerBoundTokens(s, encoding);
      },
      (n) => {
        total += n;
      },
    );
    count = total;
    if (o200k) entry.lowerO200k = count;
    else entry.lowerCl100k = count;
  }
  return count;
}
