import { convertToOpenAITool } from "@langchain/core/utils/function_calling";
import { encodingTokens, utf8Length } from "./encoders";
import { lowerBoundTokens } from "./lowerBound";
import type { EncodingName } from "./tokenizerFamily";

/**
 * Fixed cost of offering tools at all. OpenAI renders tool definitions into a TypeScript-like
 * namespace inside the system prompt; community measurements put its framing at ~9 tokens.
 * Counting each definition as compact JSON (quotes, braces) overshoots that rendering a little.
 */
export const TOOLS_OVERHEAD_TOKENS = 9;

interface ToolEntry {
  json: string;
  o200k_base?: number;
  cl100k_base?: number;
  bound?: number;
}

// createAgent rebinds the same tool objects every turn; converting a zod schema to JSON schema
// costs far more than counting, so it happens once per tool object.
const toolEntries = new WeakMap<object, ToolEntry>();

/** The JSON a tool definition is measured by: its OpenAI function (name, description, parameters). */
function toolJson(tool: unknown): string {
  try {
    const def = convertToOpenAITool(tool as Parameters<typeof convertToOpenAITool>[0]) as {
      function?: unknown;
    };
    return JSON.stringify(def.function ?? def) ?? "";
  } catch {
    // Provider-specific built-in tools or cyclic objects: measure what can be measured.
    try {
      return JSON.stringify(tool) ?? "";
    } catch {
      return String((tool as { name?: unknown })?.name ?? "");
    }
  }
}

function entryFor(tool: unknown): ToolEntry {
  if (tool === null || typeof tool !== "object") return { json: toolJson(tool) };
  let entry = toolEntries.get(tool);
  if (!entry) {
    entry = { json: toolJson(tool) };
    toolEntries.set(tool, entry);
  }
  return entry;
}

/** Tokens the tool definitions add to a prompt under `encoding` (0 for none). */
export function toolDefinitionTokens(tools: readonly unknown[] | undefined, encoding: EncodingName): number {
  if (!tools || tools.length === 0) return 0;
  let total = TOOLS_OVERHEAD_TOKENS;
  for (const tool of tools) {
    const entry = entryFor(tool);
    let count = entry[encoding];
    if (count === undefined) {
      count = encodingTokens(entry.json, encoding);
      entry[encoding] = count;
    }
    total += count;
  }
  return total;
}

/** An upper bound of `toolDefinitionTokens` from UTF-8 lengths. */
export function toolDefinitionBound(tools: readonly unknown[] | undefined): number {
  if (!tools || tools.length === 0) return 0;
  let total = TOOLS_OVERHEAD_TOKENS;
  for (const tool of tools) {
    const entry = entryFor(tool);
    entry.bound ??= utf8Length(entry.json);
    total += entry.bound;
  }
  return total;
}

/** A lower bound of `toolDefinitionTokens`, without tokenizing (see `lowerBound.ts`). */
export function toolDefinitionLowerBound(
  tools: readonly unknown[] | undefined,
  encoding: EncodingName,
): number {
  if (!tools || tools.length === 0) return 0;
  let total = TOOLS_OVERHEAD_TOKENS;
  // Tool definitions are small; counting them again costs less than caching per encoding.
  for (const tool of tools) total += lowerBoundTokens(entryFor(tool).json, encoding);
  return total;
}
