import { DEFAULT_RATE_LIMIT_RETRY_MS, type SimFault } from "./faults";
import {
  type Answer,
  type HttpReply,
  type ParsedCall,
  type ProviderProtocol,
  type ReplyContext,
  splitForStreaming,
} from "./protocol";
import type { SimMessage, SimTool, SimToolChoice } from "./responder";
import type { JsonSchema } from "./schemaSample";

const CUT_TEXT = "Simulated partial answer that never finishes because the connection drops.";
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
    const finishReason = answer.truncated ? "MAX_TOKENS" : "STOP";
    const responseId = `sim-${ctx.seq}`;
    if (!ctx.stream) {
      const parts: unknown[] = [];
      if (answer.content !== undefined) parts.push({ text: answer.content });
      for (const call of answer.toolCalls) parts.push({ functionCall: { name: call.name, args: call.args } });
      return {
        type: "json",
        status: 200,
        headers: {},
        body: {
          candidates: [{ content: { parts, role: "model" }, finishReason, index: 0 }],
          usageMetadata: usageMetadata(answer, answer.outputTokens),
          modelVersion: ctx.model,
          responseId,
        },
      };
    }
    // One event per text piece, then one for all function calls; usage is cumulative on every event,
    // as Gemini sends it (LangChain turns it into per-chunk deltas).
    const events: unknown[][] = splitForStreaming(answer.content ?? "").map((text) => [{ text }]);
    if (answer.toolCalls.length > 0) {
      events.push(answer.toolCalls.map((call) => ({ functionCall: { name: call.name, args: call.args } })));
    }
    if (events.length === 0) events.push([{ text: "" }]);
    const frames = events.map((parts, i) => {
      const last = i === events.length - 1;
      const outputSoFar = last
        ? answer.outputTokens
        : Math.floor((answer.outputTokens * (i + 1)) / events.length);
      return sseFrame({
        candidates: [{ content: { parts, role: "model" }, index: 0, ...(last ? { finishReason } : {}) }],
        usageMetadata: usageMetadata(answer, outputSoFar),
        modelVersion: ctx.model,
        responseId,
      });
    });
    return { type: "sse", headers: { "content-type": "text/event-stream" }, frames };
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

  fault(fault, ctx) {
    return renderFault(fault, ctx);
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

function renderFault(fault: SimFault, ctx: ReplyContext): HttpReply {
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
      return streamCut(ctx);
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

function streamCut(ctx: ReplyContext): HttpReply {
  const answer: Answer = {
    content: CUT_TEXT,
    toolCalls: [],
    truncated: false,
    forcedTool: false,
    promptTokens: ctx.promptTokens,
    cachedTokens: 0,
    outputTokens: 0,
  };
  const full = geminiProtocol.success(answer, ctx);
  if (full.type === "sse") return { ...full, cutAfter: 2 };
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
