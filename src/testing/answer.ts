import type { Answer } from "./protocol";
import type { SimReply, SimRequest } from "./responder";
import { countTextTokens, truncateToTokens } from "./tokens";

/**
 * Turns the responder's reply into a billed answer. Text is cut to `maxTokens` (finish reason
 * "length"); JSON and tool-call arguments are never cut, because a half object would only test
 * the client's JSON parser. Output tokens are the o200k_base tokens of what is sent: the text, the
 * JSON text, or each call's name plus its JSON arguments.
 */
export function buildAnswer(
  reply: SimReply,
  request: SimRequest,
  cachedTokens: number,
  callId: (index: number) => string,
): Answer {
  const base = { promptTokens: request.promptTokens, cachedTokens, forcedTool: false, truncated: false };
  if ("toolCalls" in reply) {
    const toolCalls = reply.toolCalls.map((call, index) => ({
      id: callId(index),
      name: call.name,
      args: call.args,
      argsJson: JSON.stringify(call.args),
    }));
    return {
      ...base,
      toolCalls,
      forcedTool: typeof request.toolChoice === "object",
      outputTokens: toolCalls.reduce(
        (sum, c) => sum + countTextTokens(c.name) + countTextTokens(c.argsJson),
        0,
      ),
    };
  }
  if ("json" in reply) {
    const content = JSON.stringify(reply.json);
    return { ...base, content, toolCalls: [], outputTokens: countTextTokens(content) };
  }
  const full = reply.text;
  const content = request.maxTokens !== undefined ? truncateToTokens(full, request.maxTokens) : full;
  return {
    ...base,
    content,
    toolCalls: [],
    truncated: content.length < full.length,
    outputTokens: countTextTokens(content),
  };
}
