import type { SimFault } from "./faults";
import type { Admission, WindowSnapshot } from "./modelLimiter";
import type { SimRequest } from "./responder";

/** What the HTTP layer writes back. Protocol modules build these; only the server does I/O. */
export type HttpReply =
  | { type: "json"; status: number; headers: Record<string, string>; body: unknown }
  | { type: "text"; status: number; headers: Record<string, string>; body: string }
  /** Server-sent events, written frame by frame. With `cutAfter`, the socket is destroyed after that many frames. */
  | { type: "sse"; headers: Record<string, string>; frames: string[]; cutAfter?: number }
  /** Headers and the first part of a body, then the socket is destroyed. */
  | { type: "cut"; status: number; headers: Record<string, string>; partialBody: string }
  | { type: "hang" };

/** A request parsed from the wire, before the simulator counts its tokens. */
export interface ParsedCall {
  request: Omit<SimRequest, "promptTokens">;
  /** OpenAI: `stream_options.include_usage`. */
  includeUsage: boolean;
  /** The API key the client sent (echoed, partly, by OpenAI's auth error). */
  apiKey: string;
}

/** The rate-limit state reported in OpenAI's x-ratelimit-* headers. */
export interface RateLimitHeaders {
  requests?: WindowSnapshot;
  tokens?: WindowSnapshot;
}

/** Everything a protocol needs to render a reply. */
export interface ReplyContext {
  model: string;
  /** Clock time of arrival, ms. */
  now: number;
  /** A deterministic per-simulator id suffix. */
  seq: number;
  stream: boolean;
  includeUsage: boolean;
  apiKey: string;
  /** The model's current room, for headers and messages. */
  rateLimits: RateLimitHeaders;
  /** Whether to attach x-ratelimit-* headers (OpenAI only; Gemini never sends them). */
  sendRateLimitHeaders: boolean;
  /** The model's requests-per-day limit, if configured (daily-quota messages quote it). */
  requestsPerDay?: number;
  /** The model's context window in tokens. */
  contextWindow: number;
  /** Prompt tokens of this request as billed. */
  promptTokens: number;
  maxTokens?: number;
}

/** One tool call of an answer, with its wire id and serialised arguments. */
export interface AnswerToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
  argsJson: string;
}

/** A reply ready to render: content, tool calls, finish reason and billed usage. */
export interface Answer {
  /** Text or JSON text (absent when the answer is only tool calls). */
  content?: string;
  toolCalls: AnswerToolCall[];
  /** Cut short by the output token cap. */
  truncated: boolean;
  /** The tool was forced by tool_choice (OpenAI then reports `finish_reason: "stop"`). */
  forcedTool: boolean;
  promptTokens: number;
  cachedTokens: number;
  outputTokens: number;
}

/** One provider's wire format. */
export interface ProviderProtocol {
  /** Parses a request body; returns an error reply for malformed input. */
  parse(body: unknown, model: string, stream: boolean, headers: Headerish): ParsedCall | HttpReply;
  success(answer: Answer, ctx: ReplyContext): HttpReply;
  /**
   * Renders a scripted fault. `answer` builds the normal answer (calling the responder) for the
   * faults that send one, or part of one (`no_usage`, `content_filter`).
   */
  fault(fault: SimFault, ctx: ReplyContext, answer: () => Answer): HttpReply;
  rateLimited(rejection: Extract<Admission, { admitted: false }>, ctx: ReplyContext): HttpReply;
  /** 400 because `ctx.promptTokens` (+ `ctx.maxTokens` on OpenAI) exceeds `ctx.contextWindow`. */
  contextTooLong(ctx: ReplyContext): HttpReply;
  notFound(model: string): HttpReply;
}

/** Incoming request headers (node's lower-cased map). */
export type Headerish = Record<string, string | string[] | undefined>;

/** Splits text into up to `pieces` consecutive parts, breaking after spaces where possible. */
export function splitForStreaming(text: string, pieces = 4): string[] {
  if (text.length === 0) return [];
  const words = text.match(/\S+\s*|\s+/g) ?? [text];
  const per = Math.max(1, Math.ceil(words.length / pieces));
  const parts: string[] = [];
  for (let i = 0; i < words.length; i += per) parts.push(words.slice(i, i + per).join(""));
  return parts;
}

const CUT_WORDS = "Simulated partial answer that never finishes because the connection drops.".split(" ");

/** `count` one-word pieces of the text a scripted `stream_cut` streams before the socket drops. */
export function cutPieces(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${CUT_WORDS[i % CUT_WORDS.length]} `);
}

/** The first half of `text` (by words), for answers a filter cut short. */
export function firstHalf(text: string): string {
  const words = text.match(/\S+\s*/g) ?? [];
  return words.slice(0, Math.ceil(words.length / 2)).join("");
}

/** A proxy's HTML page, as served with HTTP 200 by captive portals and misconfigured gateways. */
export function htmlPage(status: number): HttpReply {
  return {
    type: "text",
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
    body:
      "<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Access denied</h1>" +
      "<p>Your request was blocked by the corporate proxy.</p></body></html>",
  };
}

/** Human label of a window as OpenAI's messages name it: "requests per min (RPM)". */
export function windowLabel(unit: "requests" | "tokens", intervalMs: number): string {
  const short = unit === "requests" ? "R" : "T";
  if (intervalMs === 60_000) return `${unit} per min (${short}PM)`;
  if (intervalMs === 86_400_000) return `${unit} per day (${short}PD)`;
  return `${unit} per ${intervalMs}ms`;
}
