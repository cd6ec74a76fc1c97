import { DEFAULT_RATE_LIMIT_RETRY_MS, type SimFault } from "./faults";
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
} from "./protocol";
import type { SimMessage, SimTool, SimToolChoice } from "./responder";
import type { JsonSchema } from "./schemaSample";
import { countTextTokens } from "./tokens";

const QUOTA_DOCS =
  "You exceeded your current quota, please check your plan and billing details. For more information on this error, " +
  "head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: " +
  "https://ai.dev/usage?tab=rate-limit. ";
const REQUESTS_METRIC = "generativelanguage.googleapis.com/generate_content_free_tier_requests";
const INPUT_TOKENS_METRIC = "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count";

/**
 * Gemini's `generateContent` / `streamGenerateContent?alt=sse` wire format, as
 * `@google/generative-ai` 0.24 (used by `@langchain/google-genai` 2.x) sends and parses it.
 * Errors are `{ error: { code, message, status, details } }`; the SDK surfaces them as
 * `GoogleGenerativeAIFetchError` with `.status` and `.errorDetails = details`.
 */
export const geminiProtocol: ProviderProtocol = {
  parse(body, model, stream, headers) {
    if (!isRecord(body) || !Array.isArray(body.contents) || body.contents.length === 0) {
      return googleError(
        400,
        "INVALID_ARGUMENT",
        "* GenerateContentRequest.contents: contents is not specified\n",
      );
    }
    const messages: SimMessage[] = [];
    if (isRecord(body.systemInstruction)) {
      messages.push({ role: "system", text: partsText(body.systemInstruction.parts) });
    }
    for (const content of body.contents) {
      if (isRecord(content)) messages.push(toSimMessage(content));
    }
    const config = isRecord(body.generationConfig) ? body.generationConfig : {};
    const maxTokens = positiveInt(config.maxOutputTokens);
    const key = headers["x-goog-api-key"];
    const parsed: ParsedCall = {
      request: {
        provider: "gemini",
        model,
        messages,
        tools: parseTools(body.tools),
        toolChoice: parseToolConfig(body.toolConfig),
        responseSchema: parseResponseSchema(config),
        stream,
        ...(maxTokens !== undefined ? { maxTokens } : {}),
      },
      includeUsage: true,
      apiKey: (Array.isArray(key) ? key[0] : key) ?? "",
    };
    return parsed;
  },

  success(answer, ctx): HttpReply {
    return renderAnswer(answer, ctx, { finishReason: answer.truncated ? "MAX_TOKENS" : "STOP", usage: true });
  },

  rateLimited(rejection, ctx) {
    const { window } = rejection;
    const retryMs = rejection.reason === "rate" ? rejection.waitMs : undefined;
    return quotaError({
      model: ctx.model,
      quotaId: quotaIdFor(window.unit, window.intervalMs),
      metric: window.unit === "requests" ? REQUESTS_METRIC : INPUT_TOKENS_METRIC,
      limit: window.limit,
      retryMs,
    });
  },

  fault(fault, ctx, answer) {
    return renderFault(fault, ctx, answer);
  },

  contextTooLong(ctx) {
    const count = Math.max(ctx.promptTokens, ctx.contextWindow + 1);
    return googleError(
      400,
      "INVALID_ARGUMENT",
      `The input token count (${count}) exceeds the maximum number of tokens allowed (${ctx.contextWindow}).`,
    );
  },

  notFound(model) {
    return googleError(
      404,
      "NOT_FOUND",
      `models/${model} is not found for API version v1beta, or is not supported for generateContent. ` +
        "Call ListModels to see the list of available models and their supported methods.",
    );
  },
};

interface RenderOptions {
  finishReason: string;
  /** Send `usageMetadata`. */
  usage: boolean;
  /** Extra fields of the last (or only) candidate, e.g. `safetyRatings`. */
  candidate?: Record<string, unknown>;
  /** The text's streamed pieces. Default: `splitForStreaming(content)`. */
  pieces?: string[];
}

/** A `GenerateContentResponse` (or its SSE events) for `answer`. */
function renderAnswer(answer: Answer, ctx: ReplyContext, options: RenderOptions): HttpReply {
  const { finishReason } = options;
  const responseId = `sim-${ctx.seq}`;
  const usage = (outputTokens: number) =>
    options.usage ? { usageMetadata: usageMetadata(answer, outputTokens) } : {};
  if (!ctx.stream) {
    const parts: unknown[] = [];
    if (answer.content !== undefined) parts.push({ text: answer.content });
    for (const call of answer.toolCalls) parts.push({ functionCall: { name: call.name, args: call.args } });
    return {
      type: "json",
      status: 200,
      headers: {},
      body: {
        candidates: [
          {
            ...(parts.length > 0 ? { content: { parts, role: "model" } } : {}),
            finishReason,
            index: 0,
            ...options.candidate,
          },
        ],
        ...usage(answer.outputTokens),
        modelVersion: ctx.model,
        responseId,
      },
    };
  }
  // One event per text piece, then one for all function calls; usage is cumulative on every event,
  // as Gemini sends it (LangChain turns it into per-chunk deltas).
  const events: unknown[][] = (options.pieces ?? splitForStreaming(answer.content ?? "")).map((text) => [
    { text },
  ]);
  if (answer.toolCalls.length > 0) {
    events.push(answer.toolCalls.map((call) => ({ functionCall: { name: call.name, args: call.args } })));
  }
  // A filtered answer ends with an event that has no content; a normal one always has some.
  if (events.length === 0 && options.candidate === undefined) events.push([{ text: "" }]);
  if (options.candidate !== undefined) events.push([]);
  const frames = events.map((parts, i) => {
    const last = i === events.length - 1;
    const outputSoFar = last
      ? answer.outputTokens
      : Math.floor((answer.outputTokens * (i + 1)) / events.length);
    return sseFrame({
      candidates: [
        {
          ...(parts.length > 0 ? { content: { parts, role: "model" } } : {}),
          index: 0,
          ...(last ? { finishReason, ...options.candidate } : {}),
        },
      ],
      ...usage(outputSoFar),
      modelVersion: ctx.model,
      responseId,
    });
  });
  return { type: "sse", headers: { "content-type": "text/event-stream" }, frames };
}

/** Gemini's four adjustable harm categories; `blocked` names the one that tripped the filter. */
function safetyRatings(blocked: string): Array<Record<string, unknown>> {
  return [
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
  ].map((category) =>
    category === blocked
      ? { category, probability: "HIGH", blocked: true }
      : { category, probability: "NEGLIGIBLE" },
  );
}

/** HTTP 200 with one body (or one SSE event). */
function okBody(body: unknown, ctx: ReplyContext): HttpReply {
  if (!ctx.stream) return { type: "json", status: 200, headers: {}, body };
  return { type: "sse", headers: { "content-type": "text/event-stream" }, frames: [sseFrame(body)] };
}

/** HTTP 200 that carries no answer a client can use (see the `empty_answer` fault). */
function emptyAnswer(shape: "no_choices" | "empty_object" | "null_message", ctx: ReplyContext): HttpReply {
  const meta = {
    usageMetadata: { promptTokenCount: ctx.promptTokens, totalTokenCount: ctx.promptTokens },
    modelVersion: ctx.model,
    responseId: `sim-${ctx.seq}`,
  };
  switch (shape) {
    case "no_choices":
      return okBody({ candidates: [], ...meta }, ctx);
    case "empty_object":
      return okBody({}, ctx);
    case "null_message":
      return okBody({ candidates: [{ finishReason: "STOP", index: 0 }], ...meta }, ctx);
  }
}

function filtered(answer: Answer, partial: boolean, ctx: ReplyContext): HttpReply {
  const content = partial && answer.content ? firstHalf(answer.content) : undefined;
  const cut: Answer = {
    ...answer,
    toolCalls: [],
    outputTokens: content ? countTextTokens(content) : 0,
    content,
  };
  return renderAnswer(cut, ctx, {
    finishReason: "SAFETY",
    usage: true,
    candidate: { safetyRatings: safetyRatings("HARM_CATEGORY_DANGEROUS_CONTENT") },
  });
}

/** The prompt was refused: no candidates at all, only `promptFeedback`. */
function promptBlocked(ctx: ReplyContext): HttpReply {
  return okBody(
    {
      promptFeedback: { blockReason: "SAFETY", safetyRatings: safetyRatings("HARM_CATEGORY_HARASSMENT") },
      usageMetadata: { promptTokenCount: ctx.promptTokens, totalTokenCount: ctx.promptTokens },
      modelVersion: ctx.model,
      responseId: `sim-${ctx.seq}`,
    },
    ctx,
  );
}

function renderFault(fault: SimFault, ctx: ReplyContext, answer: () => Answer): HttpReply {
  switch (fault.kind) {
    case "rate_limit":
      return quotaError({
        model: ctx.model,
        quotaId: quotaIdFor("requests", 60_000),
        metric: REQUESTS_METRIC,
        limit: ctx.rateLimits.requests?.limit ?? 10,
        retryMs:
          fault.withHeaders === false ? undefined : (fault.retryAfterMs ?? DEFAULT_RATE_LIMIT_RETRY_MS),
      });
    case "daily_quota":
      // Real daily-quota 429s still carry a short RetryInfo; only the quotaId says "per day".
      return quotaError({
        model: ctx.model,
        quotaId: quotaIdFor("requests", 86_400_000),
        metric: REQUESTS_METRIC,
        limit: ctx.requestsPerDay ?? 250,
        retryMs: fault.retryAfterMs ?? DEFAULT_RATE_LIMIT_RETRY_MS,
      });
    case "insufficient_quota":
      // Gemini has no billing error code: a model without free tier reports a daily quota of 0.
      return quotaError({
        model: ctx.model,
        quotaId: quotaIdFor("requests", 86_400_000),
        metric: REQUESTS_METRIC,
        limit: 0,
        retryMs: undefined,
      });
    case "server_error":
      return serverError(fault.status ?? 500);
    case "context_length":
      return geminiProtocol.contextTooLong(ctx);
    case "auth":
      // Gemini rejects a bad key with 400 (not 401) and never echoes the key.
      return googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
          metadata: { service: "generativelanguage.googleapis.com" },
        },
        {
          "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
          locale: "en-US",
          message: "API key not valid. Please pass a valid API key.",
        },
      ]);
    case "bad_request":
      return googleError(400, "INVALID_ARGUMENT", "Request contains an invalid argument.");
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
      return renderAnswer(full, ctx, { finishReason: full.truncated ? "MAX_TOKENS" : "STOP", usage: false });
    }
    case "content_filter":
      return filtered(answer(), fault.partial ?? false, ctx);
    case "prompt_blocked":
      return promptBlocked(ctx);
    case "hang":
      return { type: "hang" };
  }
}

function serverError(status: 500 | 502 | 503 | 529): HttpReply {
  switch (status) {
    case 502:
      return {
        type: "text",
        status,
        headers: { "content-type": "text/html; charset=UTF-8" },
        body: "<!DOCTYPE html><html lang=en><title>Error 502 (Server Error)!!1</title><p><b>502.</b> That's an error.",
      };
    case 503:
      return googleError(status, "UNAVAILABLE", "The model is overloaded. Please try again later.");
    case 529:
      return googleError(status, "UNAVAILABLE", "Overloaded");
    default:
      return googleError(
        status,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
      );
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
  const full = renderAnswer(answer, ctx, { finishReason: "STOP", usage: true, pieces });
  if (full.type === "sse") return { ...full, cutAfter: afterChunks };
  const body = JSON.stringify(full.type === "json" ? full.body : {});
  return {
    type: "cut",
    status: 200,
    headers: { "content-type": "application/json", "content-length": String(body.length) },
    partialBody: body.slice(0, Math.floor(body.length / 2)),
  };
}

interface QuotaErrorSpec {
  model: string;
  quotaId: string;
  metric: string;
  limit: number;
  /** Undefined: no RetryInfo and no "Please retry in" sentence. */
  retryMs: number | undefined;
}

/** A 429 RESOURCE_EXHAUSTED with QuotaFailure, Help and (optionally) RetryInfo details, in Google's order. */
function quotaError(spec: QuotaErrorSpec): HttpReply {
  const details: unknown[] = [
    {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [
        {
          quotaMetric: spec.metric,
          quotaId: spec.quotaId,
          quotaDimensions: { location: "global", model: spec.model },
          quotaValue: String(spec.limit),
        },
      ],
    },
    {
      "@type": "type.googleapis.com/google.rpc.Help",
      links: [
        {
          description: "Learn more about Gemini API quotas",
          url: "https://ai.google.dev/gemini-api/docs/rate-limits",
        },
      ],
    },
  ];
  let message = `${QUOTA_DOCS}\n* Quota exceeded for metric: ${spec.metric}, limit: ${spec.limit}, model: ${spec.model}`;
  if (spec.retryMs !== undefined) {
    // RetryInfo is whole seconds rounded down; the message carries the exact value.
    details.push({
      "@type": "type.googleapis.com/google.rpc.RetryInfo",
      retryDelay: `${Math.floor(spec.retryMs / 1000)}s`,
    });
    message += `\nPlease retry in ${formatSeconds(spec.retryMs)}.`;
  }
  return googleError(429, "RESOURCE_EXHAUSTED", message, details);
}

/** Gemini quota ids; anything a day or longer is named `PerDay`, which is what clients key on. */
function quotaIdFor(unit: "requests" | "tokens", intervalMs: number): string {
  const period =
    intervalMs >= 86_400_000
      ? "PerDay"
      : intervalMs === 60_000
        ? "PerMinute"
        : `Per${Math.round(intervalMs)}Ms`;
  return unit === "requests"
    ? `GenerateRequests${period}PerProjectPerModel-FreeTier`
    : `GenerateContentInputTokensPerModel${period}-FreeTier`;
}

/** `9980` -> `"9.98s"`, `54000` -> `"54s"`. */
function formatSeconds(ms: number): string {
  return `${Number((Math.ceil(ms) / 1000).toFixed(3))}s`;
}

function googleError(status: number, statusName: string, message: string, details?: unknown[]): HttpReply {
  return {
    type: "json",
    status,
    headers: {},
    body: { error: { code: status, message, status: statusName, ...(details ? { details } : {}) } },
  };
}

function usageMetadata(answer: Answer, outputTokens: number) {
  return {
    promptTokenCount: answer.promptTokens,
    candidatesTokenCount: outputTokens,
    totalTokenCount: answer.promptTokens + outputTokens,
    ...(answer.cachedTokens > 0 ? { cachedContentTokenCount: answer.cachedTokens } : {}),
    promptTokensDetails: [{ modality: "TEXT", tokenCount: answer.promptTokens }],
  };
}

function toSimMessage(content: Record<string, unknown>): SimMessage {
  const parts = Array.isArray(content.parts) ? content.parts.filter(isRecord) : [];
  const allResponses = parts.length > 0 && parts.every((p) => isRecord(p.functionResponse));
  const role: SimMessage["role"] = content.role === "model" ? "assistant" : allResponses ? "tool" : "user";
  return { role, text: partsText(parts) };
}

function partsText(parts: unknown): string {
  if (!Array.isArray(parts)) return "";
  const texts: string[] = [];
  for (const part of parts) {
    if (!isRecord(part)) continue;
    if (typeof part.text === "string") texts.push(part.text);
    else if (isRecord(part.functionCall)) {
      texts.push(`${String(part.functionCall.name)}(${JSON.stringify(part.functionCall.args ?? {})})`);
    } else if (isRecord(part.functionResponse))
      texts.push(JSON.stringify(part.functionResponse.response ?? {}));
  }
  return texts.filter(Boolean).join("\n");
}

function parseTools(tools: unknown): SimTool[] {
  if (!Array.isArray(tools)) return [];
  const out: SimTool[] = [];
  for (const tool of tools) {
    if (!isRecord(tool) || !Array.isArray(tool.functionDeclarations)) continue;
    for (const decl of tool.functionDeclarations) {
      if (!isRecord(decl) || typeof decl.name !== "string") continue;
      out.push({
        name: decl.name,
        ...(typeof decl.description === "string" ? { description: decl.description } : {}),
        parameters: isRecord(decl.parameters) ? decl.parameters : { type: "object", properties: {} },
      });
    }
  }
  return out;
}

function parseToolConfig(config: unknown): SimToolChoice {
  if (!isRecord(config) || !isRecord(config.functionCallingConfig)) return "auto";
  const { mode, allowedFunctionNames } = config.functionCallingConfig;
  if (mode === "NONE") return "none";
  if (mode === "ANY") {
    const first = Array.isArray(allowedFunctionNames) ? allowedFunctionNames[0] : undefined;
    return typeof first === "string" ? { name: first } : "required";
  }
  return "auto";
}

function parseResponseSchema(config: Record<string, unknown>): JsonSchema | undefined {
  if (isRecord(config.responseSchema)) return config.responseSchema;
  if (isRecord(config.responseJsonSchema)) return config.responseJsonSchema;
  if (config.responseMimeType === "application/json") return { type: "object" };
  return undefined;
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** Gemini separates events with CRLF pairs; the SDK accepts either. */
function sseFrame(data: unknown): string {
  return `data: ${JSON.stringify(data)}\r\n\r\n`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
