import { type JsonSchema, sampleFromSchema } from "./schemaSample";

/** Which wire protocol a simulated model speaks. */
export type SimProvider = "openai" | "gemini";

/** A message of the conversation, reduced to its role and text. */
export interface SimMessage {
  role: "system" | "user" | "assistant" | "tool";
  /** Plain text; for assistant tool calls, `name(args-json)` per call. */
  text: string;
  /** OpenAI's optional participant name. */
  name?: string;
}

/** A tool the model may call. */
export interface SimTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments (Gemini requests may use upper-case type names). */
  parameters: JsonSchema;
}

/** `auto`/`none`/`required` as on OpenAI, or one forced tool. */
export type SimToolChoice = "auto" | "none" | "required" | { name: string };

/** What the responder gets to decide an answer: the request, normalised across providers. */
export interface SimRequest {
  provider: SimProvider;
  model: string;
  messages: SimMessage[];
  tools: SimTool[];
  toolChoice: SimToolChoice;
  /** JSON Schema the answer must fit (OpenAI `response_format` json_schema, Gemini `responseSchema`). */
  responseSchema?: JsonSchema;
  /** `max_tokens` / `max_completion_tokens` / `maxOutputTokens`, when set. */
  maxTokens?: number;
  stream: boolean;
  /** Prompt tokens as the simulator bills them (see `countChatTokens`). */
  promptTokens: number;
}

/** One tool call in a reply. */
export interface SimToolCall {
  name: string;
  args: Record<string, unknown>;
}

/** The answer: plain text, tool calls, or a JSON value (sent as JSON text). */
export type SimReply = { text: string } | { toolCalls: SimToolCall[] } | { json: unknown };

/** Decides the answer to a request. Must be deterministic for reproducible tests. */
export type SimResponder = (request: SimRequest) => SimReply;

/**
 * The default answer: call a tool when tools are offered (and allowed) and no tool result
 * followed the last user message, choosing the forced tool or else the first one, with arguments
 * sampled from its schema; answer JSON fitting the response schema when one is set; otherwise say
 * "Simulated answer from MODEL (N input tokens)."
 */
export const defaultResponder: SimResponder = (request) => {
  const tool = toolToCall(request);
  if (tool) return { toolCalls: [{ name: tool.name, args: asArgs(sampleFromSchema(tool.parameters)) }] };
  if (request.responseSchema) return { json: sampleFromSchema(request.responseSchema) };
  return { text: `Simulated answer from ${request.model} (${request.promptTokens} input tokens).` };
};

function toolToCall(request: SimRequest): SimTool | undefined {
  if (request.tools.length === 0 || request.toolChoice === "none") return undefined;
  if (hasToolResultAfterLastUserTurn(request.messages)) return undefined;
  const choice = request.toolChoice;
  if (typeof choice === "object")
    return request.tools.find((t) => t.name === choice.name) ?? request.tools[0];
  return request.tools[0];
}

function hasToolResultAfterLastUserTurn(messages: readonly SimMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const role = messages[i]!.role;
    if (role === "tool") return true;
    if (role === "user") return false;
  }
  return false;
}

function asArgs(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { value };
}
