/** The real LangChain clients, pointed at a (remote) simulator. */
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import { type ModelLimits, type RateLimiter, rateLimitHeadersFetch } from "../../src/limits";
import { AutoPickerChatModel } from "../../src/model/AutoPickerChatModel";
import { recordingFetch } from "./probe";
import type { RemoteSim } from "./remoteSim";

export const OPENAI = "gpt-4o-mini";
export const GEMINI = "gemini-2.5-flash";
/** Small and fixed, so token windows are exercised (prompt + max_tokens is booked) but never bind. */
export const MAX_TOKENS = 64;

export interface OpenAIOptions {
  /** Undefined keeps LangChain's default (6 retries through AsyncCaller). */
  maxRetries?: number;
  /** Report response headers to the picker's limiter (what the package recommends). */
  headerFetch?: boolean;
  /** Records when each request leaves (see `probe.ts`). */
  sends?: number[];
}

export function openai(sim: RemoteSim, options: OpenAIOptions = {}): ChatOpenAI {
  const base = options.sends ? recordingFetch(options.sends) : undefined;
  const fetch = options.headerFetch ? rateLimitHeadersFetch(base) : base;
  return new ChatOpenAI({
    model: OPENAI,
    apiKey: "sk-test",
    maxTokens: MAX_TOKENS,
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    configuration: {
      baseURL: sim.openaiBaseURL,
      ...(fetch ? { fetch } : {}),
    },
  });
}

export function gemini(sim: RemoteSim): ChatGoogleGenerativeAI {
  return new ChatGoogleGenerativeAI({
    model: GEMINI,
    apiKey: "test",
    baseUrl: sim.geminiBaseUrl,
    maxOutputTokens: MAX_TOKENS,
  });
}

export interface PickerOptions {
  /** Known limits of the primary; undefined = unknown (learned from headers). */
  limits?: ModelLimits;
  withFallback?: boolean;
  maxWaitSeconds?: number;
  /** Instrumentation (see `probe.ts`). */
  rateLimiter?: RateLimiter;
  sends?: number[];
}

/** The package's model with its default policy (jitter, retries), quiet logger. */
export function picker(sim: RemoteSim, options: PickerOptions): AutoPickerChatModel {
  const primary = openai(sim, { headerFetch: true, ...(options.sends ? { sends: options.sends } : {}) });
  return new AutoPickerChatModel({
    primary: options.limits ? { model: primary, limits: options.limits } : primary,
    fallbacks: options.withFallback === false ? [] : [gemini(sim)],
    ...(options.maxWaitSeconds === undefined ? {} : { maxWaitSeconds: options.maxWaitSeconds }),
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    logger: { warn: (m) => process.stderr.write(`[autopicker warn] ${m}\n`) },
  });
}
