import { DEFAULT_DAILY_QUOTA_RETRY_MS, DEFAULT_RATE_LIMIT_RETRY_MS, type SimFault } from "./faults";
import { formatGoDuration } from "./goDuration";
import {
  type Answer,
  cutPieces,
  firstHalf,
  type HttpReply,
  htmlPage,
  type ParsedCall,
  type ProviderProtocol,
  type ReplyContext,
  splitForStreaming,
  windowLabel,
} from "./protocol";
import type { SimMessage, SimTool, SimToolChoice } from "./responder";
import type { JsonSchema } from "./schemaSample";
import { countTextTokens } from "./tokens";

const ORGANIZATION = "org-sim";
const RATE_LIMIT_DOCS = "Visit https://platform.openai.com/account/rate-limits to learn more.";

/** OpenAI's Chat Completions wire format (`POST /v1/chat/completions`), as the openai SDK 6.x reads it. */
export const openaiProtocol: ProviderProtocol = {
  parse(body, model, stream, headers) {
    if (!isRecord(body))
      return invalidRequest("We could not parse the JSON body of your request.", null, null);
    const rawMessages = body.messages;
    if (!Array.isArray(rawMessages) || rawMessages.length === 0) {
      return invalidRequest(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        "messages",
        "empty_array",
      );
    }
    const maxTokens = positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens);
    const parsed: ParsedCall = {
      request: {
        provider: "openai",
        model,
        messages: rawMessages.filter(isRecord).map(toSimMessage),
        tools: parseTools(body.tools),
        toolChoice: parseToolChoice(body.tool_choice),
        responseSchema: parseResponseFormat(body.response_format),
        stream,
        ...(maxTokens !== undefined ? { maxTokens } : {}),
      },
      includeUsage: isRecord(body.stream_options) && body.stream_options.include_usage === true,
      apiKey: bearerToken(headers.authorization),
    };
    return parsed;
  },

  success(answer, ctx): HttpReply {
    return renderAnswer(answer, ctx, { finish: finishReasonOf(answer), usage: true });
  },

  rateLimited(rejection, ctx) {
    const { window } = rejection;
    const label = windowLabel(window.unit, window.intervalMs);
    const type = window.unit;
    if (rejection.reason === "too_large") {
      return errorReply(429, commonHeaders(ctx), {
        message:
          `Request too large for ${ctx.model} in organization ${ORGANIZATION} on ${label}: Limit ${window.limit}, ` +
          `Requested ${rejection.requested}. The input or output tokens must be reduced in order to run successfully. ${RATE_LIMIT_DOCS}`,
        type,
        param: null,
        code: "rate_limit_exceeded",
      });
    }
    return errorReply(
      429,
      { ...commonHeaders(ctx), ...retryAfterHeaders(rejection.waitMs) },
      {
        message:
          `Rate limit reached for ${ctx.model} in organization ${ORGANIZATION} on ${label}: Limit ${window.limit}, ` +
          `Used ${rejection.used}, Requested ${rejection.requested}. Please try again in ${formatGoDuration(rejection.waitMs)}. ${RATE_LIMIT_DOCS}`,
        type,
        param: null,
        code: "rate_limit_exceeded",
      },
    );
  },

  fault(fault, ctx, answer) {
    return renderFault(fault, ctx, answer);
  },

  contextTooLong(ctx) {
    const { promptTokens, maxTokens, contextWindow } = ctx;
    const message =
      promptTokens <= contextWindow && maxTokens !== undefined
        ? `This model's maximum context length is ${contextWindow} tokens. However, you requested ${promptTokens + maxTokens} tokens ` +
          `(${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`
        : `This model's maximum context length is ${contextWindow} tokens. However, your messages resulted in ` +
          `${Math.max(promptTokens, contextWindow + 1)} tokens. Please reduce the length of the messages.`;
    return errorReply(400, commonHeaders(ctx), {
      message,
      type: "invalid_request_error",
      param: "messages",
      code: "context_length_exceeded",
    });
  },

  notFound(model) {
    return errorReply(
      404,
      {},
      {
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
        type: "invalid_request_error",
        param: null,
        code: "model_not_found",
      },
    );
  },
};

interface RenderOptions {
  finish: string;
  /** Send `usage` (non-streaming always; streaming when the client asked for it). */
  usage: boolean;
  /** The text's streamed pieces. Default: `splitForStreaming(content)`. */
  pieces?: string[];
}

function finishReasonOf(answer: Answer): string {
  if (answer.truncated) return "length";
  return answer.toolCalls.length > 0 && !answer.forcedTool ? "tool_calls" : "stop";
}

/** A chat completion (or its SSE chunks) for `answer`. */
function renderAnswer(answer: Answer, ctx: ReplyContext, options: RenderOptions): HttpReply {
  const { finish } = options;
  const usage = options.usage ? usageBody(answer) : undefined;
  const base = completionBase(ctx);
  if (!ctx.stream) {
    const toolCalls = answer.toolCalls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.argsJson },
    }));
    return {
      type: "json",
      status: 200,
      headers: commonHeaders(ctx),
      body: {
        ...base,
        object: "chat.completion",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: answer.content ?? null,
              refusal: null,
              annotations: [],
              ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        ...(usage ? { usage } : {}),
      },
    };
  }
  const withUsage = usage !== undefined && ctx.includeUsage;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sseFrame({
      ...base,
      object: "chat.completion.chunk",
      choices,
      ...(withUsage ? { usage: null } : {}),
      ...extra,
    });
  const frames = [chunk([delta({ role: "assistant", content: "", refusal: null })])];
  for (const piece of options.pieces ?? splitForStreaming(answer.content ?? ""))
    frames.push(chunk([delta({ content: piece })]));
  answer.toolCalls.forEach((call, index) => {
    frames.push(
      chunk([
        delta({
          tool_calls: [
            { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
          ],
        }),
      ]),
    );
    for (const piece of splitInHalf(call.argsJson)) {
      frames.push(chunk([delta({ tool_calls: [{ index, function: { arguments: piece } }] })]));
    }
  });
  frames.push(chunk([delta({}, finish)]));
  if (withUsage) frames.push(chunk([], { usage }));
  frames.push(DONE);
  return sse(ctx, frames);
}

function delta(d: Record<string, unknown>, finishReason: string | null = null) {
  return { index: 0, delta: d, logprobs: null, finish_reason: finishReason };
}

function completionBase(ctx: ReplyContext) {
  return {
    id: `chatcmpl-sim${ctx.seq}`,
    created: Math.floor(ctx.now / 1000),
    model: ctx.model,
    service_tier: "default",
    system_fingerprint: "fp_sim",
  };
}

const DONE = "data: [DONE]\n\n";

function sse(ctx: ReplyContext, frames: string[], cutAfter?: number): HttpReply {
  return {
    type: "sse",
    headers: { ...commonHeaders(ctx), "content-type": "text/event-stream" },
    frames,
    ...(cutAfter !== undefined ? { cutAfter } : {}),
  };
}

/** HTTP 200 that carries no answer a client can use (see the `empty_answer` fault). */
function emptyAnswer(shape: "no_choices" | "empty_object" | "null_message", ctx: ReplyContext): HttpReply {
  const base = completionBase(ctx);
  const usage = usageBody({ promptTokens: ctx.promptTokens, cachedTokens: 0, outputTokens: 0 });
  if (ctx.stream) {
    const chunk = (choices: unknown[]) => sseFrame({ ...base, object: "chat.completion.chunk", choices });
    switch (shape) {
      case "no_choices":
        return sse(ctx, [DONE]);
      case "empty_object":
        return sse(ctx, [sseFrame({}), DONE]);
      case "null_message":
        return sse(ctx, [
          chunk([delta({ role: "assistant", content: "", refusal: null })]),
          chunk([delta({}, "stop")]),
          DONE,
        ]);
    }
  }
  const json = (body: unknown): HttpReply => ({
    type: "json",
    status: 200,
    headers: commonHeaders(ctx),
    body,
  });
  switch (shape) {
    case "no_choices":
      return json({ ...base, object: "chat.completion", choices: [], usage });
    case "empty_object":
      return json({});
    case "null_message":
      return json({
        ...base,
        object: "chat.completion",
        choices: [{ index: 0, message: null, logprobs: null, finish_reason: "stop" }],
        usage,
      });
  }
}

/** The answer cut off by the content filter: no content, or its first half. */
function filtered(answer: Answer, partial: boolean, ctx: ReplyContext): HttpReply {
  const content = partial && answer.content ? firstHalf(answer.content) : undefined;
  const cut: Answer = {
    ...answer,
    toolCalls: [],
    outputTokens: content ? countTextTokens(content) : 0,
    ...(content !== undefined ? { content } : { content: undefined }),
  };
  return renderAnswer(cut, ctx, { finish: "content_filter", usage: true });
}

/** Azure OpenAI's prompt filter (OpenAI itself has no such answer). */
function promptFiltered(ctx: ReplyContext): HttpReply {
  const category = (filtered: boolean) => ({ filtered, severity: filtered ? "high" : "safe" });
  return {
    type: "json",
    status: 400,
    headers: baseHeaders(ctx),
    body: {
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. " +
          "Please modify your prompt and retry. To learn more about our content filtering policies please read " +
          "our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        type: null,
        param: "prompt",
        code: "content_filter",
        status: 400,
        innererror: {
          code: "ResponsibleAIPolicyViolation",
          content_filter_result: {
            hate: category(false),
            self_harm: category(false),
            sexual: category(false),
            violence: category(true),
          },
        },
      },
    },
  };
}

function renderFault(fault: SimFault, ctx: ReplyContext, answer: () => Answer): HttpReply {
  switch (fault.kind) {
    case "rate_limit": {
      const ms = fault.retryAfterMs ?? DEFAULT_RATE_LIMIT_RETRY_MS;
      const limit = ctx.rateLimits.requests?.limit ?? 60;
      const withHeaders = fault.withHeaders ?? true;
      const headers = withHeaders
        ? {
            ...commonHeaders({ ...ctx, sendRateLimitHeaders: true }),
            ...retryAfterHeaders(ms),
            "x-ratelimit-limit-requests": String(limit),
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": formatGoDuration(ms),
          }
        : baseHeaders(ctx);
      return errorReply(429, headers, {
        message:
          `Rate limit reached for ${ctx.model} in organization ${ORGANIZATION} on requests per min (RPM): Limit ${limit}, ` +
          `Used ${limit}, Requested 1. Please try again in ${formatGoDuration(ms)}. ${RATE_LIMIT_DOCS}`,
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      });
    }
    case "daily_quota": {
      const ms = fault.retryAfterMs ?? DEFAULT_DAILY_QUOTA_RETRY_MS;
      const limit = ctx.requestsPerDay ?? 10_000;
      return errorReply(
        429,
        { ...commonHeaders(ctx), ...retryAfterHeaders(ms) },
        {
          message:
            `Rate limit reached for ${ctx.model} in organization ${ORGANIZATION} on requests per day (RPD): Limit ${limit}, ` +
            `Used ${limit}, Requested 1. Please try again in ${formatGoDuration(ms)}. ${RATE_LIMIT_DOCS}`,
          type: "requests",
          param: null,
          code: "rate_limit_exceeded",
        },
      );
    }
    case "insufficient_quota":
      return errorReply(429, commonHeaders(ctx), {
        message:
          "You exceeded your current quota, please check your plan and billing details. For more information on this " +
          "error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        type: "insufficient_quota",
        param: null,
        code: "insufficient_quota",
      });
    case "server_error":
      return serverError(fault.status ?? 500, ctx);
    case "context_length":
      return openaiProtocol.contextTooLong(ctx);
    case "auth":
      return errorReply(401, baseHeaders(ctx), {
        message: `Incorrect API key provided: ${maskKey(ctx.apiKey)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      });
    case "bad_request":
      return errorReply(400, commonHeaders(ctx), {
        message: "Invalid value for 'temperature': expected a number between 0 and 2, but got 3 instead.",
        type: "invalid_request_error",
        param: "temperature",
        code: "invalid_value",
      });
    case "unknown":
      return {
        type: "text",
        status: fault.status ?? 418,
        headers: { "content-type": "text/plain" },
        body: "I'm a teapot",
      };
    case "stream_cut":
      return streamCut(ctx, fault.afterChunks ?? 2);
    case "empty_answer":
      return emptyAnswer(fault.shape ?? "no_choices", ctx);
    case "html_page":
      return htmlPage(fault.status ?? 200);
    case "no_usage": {
      const full = answer();
      return renderAnswer(full, ctx, { finish: finishReasonOf(full), usage: false });
    }
    case "content_filter":
      return filtered(answer(), fault.partial ?? false, ctx);
    case "prompt_blocked":
      return promptFiltered(ctx);
    case "hang":
      return { type: "hang" };
  }
}

function serverError(status: 500 | 502 | 503 | 529, ctx: ReplyContext): HttpReply {
  switch (status) {
    case 502:
      // Bad gateways come from the edge proxy as HTML, not from the API.
      return {
        type: "text",
        status,
        headers: { "content-type": "text/html" },
        body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>",
      };
    case 503:
      return errorReply(status, baseHeaders(ctx), {
        message: "The server is overloaded or not ready yet.",
        type: "server_error",
        param: null,
        code: null,
      });
    case 529:
      return errorReply(status, baseHeaders(ctx), {
        message: "Overloaded",
        type: "overloaded_error",
        param: null,
        code: null,
      });
    default:
      return errorReply(status, baseHeaders(ctx), {
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error",
        param: null,
        code: null,
      });
  }
}

function streamCut(ctx: ReplyContext, afterChunks: number): HttpReply {
  // One more piece than is delivered, so the cut always falls inside the text.
  const pieces = cutPieces(afterChunks + 1);
  const answer: Answer = {
    content: pieces.join(""),
    toolCalls: [],
    truncated: false,
    forcedTool: false,
    promptTokens: ctx.promptTokens,
    cachedTokens: 0,
    outputTokens: 0,
  };
  const full = renderAnswer(answer, ctx, { finish: "stop", usage: true, pieces });
  if (full.type === "sse") return { ...full, cutAfter: afterChunks + 1 }; // role chunk + content chunks
  const body = JSON.stringify(full.type === "json" ? full.body : {});
  return {
    type: "cut",
    status: 200,
    headers: {
      ...commonHeaders(ctx),
      "content-type": "application/json",
      "content-length": String(body.length),
    },
    partialBody: body.slice(0, Math.floor(body.length / 2)),
  };
}

function usageBody(answer: Pick<Answer, "promptTokens" | "cachedTokens" | "outputTokens">) {
  return {
    prompt_tokens: answer.promptTokens,
    completion_tokens: answer.outputTokens,
    total_tokens: answer.promptTokens + answer.outputTokens,
    prompt_tokens_details: { cached_tokens: answer.cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function baseHeaders(ctx: ReplyContext): Record<string, string> {
  return {
    "x-request-id": `req_sim${ctx.seq}`,
    "openai-organization": ORGANIZATION,
    "openai-processing-ms": "1",
    "openai-version": "2020-10-01",
  };
}

/**
 * Base headers plus x-ratelimit-*, which OpenAI sends on successes and on most errors. `reset-*`
 * is the time until the sliding window is fully free; real OpenAI behaves more like a refilling
 * bucket ("1s" after one call at 60 RPM), so the simulator's resets are longer, never shorter.
 */
function commonHeaders(ctx: ReplyContext): Record<string, string> {
  const headers = baseHeaders(ctx);
  if (!ctx.sendRateLimitHeaders) return headers;
  for (const unit of ["requests", "tokens"] as const) {
    const snap = ctx.rateLimits[unit];
    if (!snap) continue;
    headers[`x-ratelimit-limit-${unit}`] = String(snap.limit);
    headers[`x-ratelimit-remaining-${unit}`] = String(snap.remaining);
    headers[`x-ratelimit-reset-${unit}`] = formatGoDuration(snap.resetMs);
  }
  return headers;
}

/** `retry-after` in whole seconds (rounded up, so never early) and the exact `retry-after-ms`. */
function retryAfterHeaders(ms: number): Record<string, string> {
  return { "retry-after": String(Math.ceil(ms / 1000)), "retry-after-ms": String(Math.ceil(ms)) };
}

interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

function errorReply(status: number, headers: Record<string, string>, error: OpenAIErrorBody): HttpReply {
  return { type: "json", status, headers, body: { error } };
}

function invalidRequest(message: string, param: string | null, code: string | null): HttpReply {
  return errorReply(400, {}, { message, type: "invalid_request_error", param, code });
}

/** OpenAI echoes the start and the last four characters of a rejected key. */
function maskKey(key: string): string {
  return `${key.slice(0, 7)}***${key.slice(-4)}`;
}

function bearerToken(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.replace(/^Bearer\s+/i, "") ?? "";
}

function toSimMessage(message: Record<string, unknown>): SimMessage {
  const parts = [contentText(message.content)];
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (isRecord(call) && isRecord(call.function)) {
        parts.push(`${String(call.function.name)}(${String(call.function.arguments ?? "")})`);
      }
    }
  }
  const sim: SimMessage = { role: normaliseRole(message.role), text: parts.filter(Boolean).join("\n") };
  if (typeof message.name === "string") sim.name = message.name;
  return sim;
}

function normaliseRole(role: unknown): SimMessage["role"] {
  switch (role) {
    case "system":
    case "developer":
      return "system";
    case "assistant":
      return "assistant";
    case "tool":
    case "function":
      return "tool";
    default:
      return "user";
  }
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter(isRecord)
    .map((part) =>
      typeof part.text === "string" ? part.text : typeof part.refusal === "string" ? part.refusal : "",
    )
    .filter(Boolean)
    .join("\n");
}

function parseTools(tools: unknown): SimTool[] {
  if (!Array.isArray(tools)) return [];
  const out: SimTool[] = [];
  for (const tool of tools) {
    if (!isRecord(tool) || !isRecord(tool.function) || typeof tool.function.name !== "string") continue;
    const fn = tool.function;
    out.push({
      name: fn.name as string,
      ...(typeof fn.description === "string" ? { description: fn.description } : {}),
      parameters: isRecord(fn.parameters) ? fn.parameters : { type: "object", properties: {} },
    });
  }
  return out;
}

function parseToolChoice(choice: unknown): SimToolChoice {
  if (choice === "none" || choice === "required" || choice === "auto") return choice;
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === "string") {
    return { name: choice.function.name };
  }
  return "auto";
}

function parseResponseFormat(format: unknown): JsonSchema | undefined {
  if (!isRecord(format)) return undefined;
  if (format.type === "json_schema" && isRecord(format.json_schema)) {
    return isRecord(format.json_schema.schema) ? format.json_schema.schema : {};
  }
  if (format.type === "json_object") return { type: "object" };
  return undefined;
}

function splitInHalf(text: string): string[] {
  if (text.length < 2) return [text];
  const mid = Math.ceil(text.length / 2);
  return [text.slice(0, mid), text.slice(mid)];
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

function sseFrame(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
