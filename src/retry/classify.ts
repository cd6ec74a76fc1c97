import { ContentFilteredError, isAutoPickerError, MalformedResponseError } from "../errors";
import { redact } from "../redact";
import { errorHeaders, errorStatus, geminiDetails, providerCode } from "./errorFields";
import { type RetryHint, retryHintFromError } from "./hints";

/**
 * What went wrong, in the terms the decision policy acts on. Each kind maps to exactly one row of
 * the policy table in the README.
 */
export type ClassifiedError =
  /** Per-minute style throttling: wait (the hint if any) and retry the same model. */
  | { kind: "rate_limit"; hint: RetryHint; message: string }
  /** Billing, spend limit or a daily quota: no point retrying this model today. */
  | { kind: "quota_exhausted"; hint: RetryHint; scope: "billing" | "day"; message: string }
  /** The prompt does not fit this model's context window. */
  | { kind: "context_length"; message: string }
  /** 5xx, 529 overloaded, timeouts, connection resets: retry with backoff, feeds the circuit breaker. */
  | { kind: "transient"; status?: number; message: string }
  /** Bad key or no access to the model: another model may work. */
  | { kind: "auth"; status?: number; message: string }
  /** The caller's request is malformed: surfaced, a fallback would fail the same way. */
  | { kind: "bad_request"; status?: number; message: string }
  /** The call was cancelled by its AbortSignal. */
  | { kind: "aborted"; message: string }
  /** HTTP 200 without a usable answer (empty, unreadable): retried once like `unknown`, then falls back. */
  | { kind: "malformed_response"; message: string }
  /** The provider's safety system withheld the answer: another model may answer. */
  | { kind: "content_filter"; reason: string; message: string }
  /** The client refused the input before sending anything: the same model would refuse it again. */
  | { kind: "client_rejected"; message: string }
  /** Anything else: retried once, the second occurrence falls back. */
  | { kind: "unknown"; status?: number; message: string };

export type ErrorKind = ClassifiedError["kind"];

const CONTEXT_PATTERNS = [
  /context[_ ]length[_ ]exceeded/i,
  /maximum context length/i,
  /context window/i,
  /input token count .* exceeds the maximum/i,
  /prompt is too long/i,
  /too many (input )?tokens/i,
  /reduce the length of the messages/i,
];
const SPEND_PATTERNS = [
  /insufficient[_ ]quota/i,
  /spend limit/i,
  /billing hard limit/i,
  /credit balance/i,
  /out of credits/i,
];
const DAILY_PATTERNS = [/per day/i, /\(RPD\)/, /\(TPD\)/, /daily/i];
const RATE_PATTERNS = [/rate[ _-]?limit/i, /too many requests/i, /resource[_ ]exhausted/i, /\b429\b/];
const UNREADABLE = [
  /TypeError: Cannot read propert(y|ies) of (undefined|null)/,
  /SyntaxError: /,
  /is not valid JSON/,
  /The model returned no content/,
  /Failed to parse stream/,
];
const GEMINI_WITHHELD =
  /(?:Finish reason|Block reason): (SAFETY|RECITATION|BLOCKLIST|PROHIBITED_CONTENT|SPII|OTHER)\b/;
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
]);
const TRANSIENT_NAMES = new Set([
  "APIConnectionError",
  "APIConnectionTimeoutError",
  "TimeoutError",
  "FetchError",
]);
const TRANSIENT_MESSAGES = [
  /Error reading from the stream/,
  /connection error/i,
  /timed? ?out/i,
  /socket hang up/i,
  /network error/i,
  /fetch failed/i,
  /terminated/i,
  /overloaded/i,
];

/**
 * Classifies an error thrown by any LangChain chat model (OpenAI, Google, Anthropic, OpenAI-compatible)
 * by status, provider code, structured details and, last, message wording.
 */
export function classifyError(
  error: unknown,
  now: number,
  /** What the attempt did on the wire, when the caller knows (`requestSent: false`: nothing left). */
  context?: { requestSent?: boolean },
): ClassifiedError {
  const message = redact(describe(error));
  if (isAutoPickerError(error)) {
    // Our own configuration errors say what to fix; another model would not fix them.
    if (error.code === "config") return { kind: "bad_request", message };
    if (error instanceof MalformedResponseError) return { kind: "malformed_response", message };
    if (error instanceof ContentFilteredError)
      return { kind: "content_filter", reason: error.reason, message };
  }
  const name = errorName(error);
  if (name === "AbortError" || name === "ModelAbortError" || /^(Cancel|AbortError)/.test(message)) {
    return { kind: "aborted", message };
  }
  const status = errorStatus(error);
  const code = providerCode(error);

  if (name === "ContextOverflowError" || code === "context_length_exceeded")
    return { kind: "context_length", message };
  if (
    (status === 400 || status === 413 || status === undefined) &&
    CONTEXT_PATTERNS.some((p) => p.test(message))
  ) {
    return { kind: "context_length", message };
  }

  if (status === 429 || (status === undefined && RATE_PATTERNS.some((p) => p.test(message)))) {
    const hint = retryHintFromError(error, errorHeaders(error), message, now);
    if (
      code === "insufficient_quota" ||
      SPEND_PATTERNS.some((p) => p.test(message)) ||
      code === "billing_hard_limit_reached"
    ) {
      return { kind: "quota_exhausted", scope: "billing", hint, message };
    }
    // Gemini: only the quota id tells a daily quota from a per-minute one (every message says "quota").
    const quotaIds = geminiDetails(error).quotaIds;
    if (quotaIds.length > 0) {
      return quotaIds.some((id) => /PerDay/i.test(id))
        ? { kind: "quota_exhausted", scope: "day", hint, message }
        : { kind: "rate_limit", hint, message };
    }
    if (DAILY_PATTERNS.some((p) => p.test(message)))
      return { kind: "quota_exhausted", scope: "day", hint, message };
    return { kind: "rate_limit", hint, message };
  }

  if (status === 401 || status === 403) return { kind: "auth", status, message };
  // Google answers a bad key with 400 INVALID_ARGUMENT; only ErrorInfo (or the wording) says it is auth.
  const geminiReason = geminiDetails(error).reason;
  if (geminiReason === "API_KEY_INVALID" || /API key not valid/i.test(message))
    return { kind: "auth", status, message };
  if (status === 404) return { kind: "auth", status, message }; // model not found for this key: another model may work
  if (status === 408 || status === 409 || status === 425 || (status !== undefined && status >= 500)) {
    return { kind: "transient", status, message };
  }
  // Azure OpenAI refuses a prompt its filter blocks with a 400 `content_filter`: another model may answer.
  if (status === 400 && code === "content_filter")
    return { kind: "content_filter", reason: "content_filter", message };
  if (status === 400 || status === 405 || status === 413 || status === 422) {
    return { kind: "bad_request", status, message };
  }
  if (status === undefined) {
    // Gemini's SDK says an answer was withheld in its "no content" error: another model may answer.
    const withheld = GEMINI_WITHHELD.exec(message);
    if (withheld) return { kind: "content_filter", reason: withheld[1]!, message };
    // A client choking on what came back (a proxy's HTML page, `message: null`, no candidates).
    if (name === "SyntaxError" || name === "EmptyContentError" || UNREADABLE.some((p) => p.test(message))) {
      return { kind: "malformed_response", message };
    }
    // Thrown by the client before it sent anything (a content block it refuses): the same model
    // would refuse it again; another may accept it. Only evidence from the wire can tell.
    if (context?.requestSent === false && isPlainError(error)) return { kind: "client_rejected", message };
  }
  const sysCode = systemCode(error);
  if (
    status === undefined &&
    ((sysCode && TRANSIENT_CODES.has(sysCode)) ||
      TRANSIENT_NAMES.has(name) ||
      TRANSIENT_MESSAGES.some((p) => p.test(message)))
  ) {
    return { kind: "transient", message };
  }
  return { kind: "unknown", status, message };
}

/** The error's name; SDK classes that leave `name` as "Error" are known by their constructor. */
function errorName(error: unknown): string {
  if (typeof error !== "object" || error === null) return "";
  const name = "name" in error && typeof error.name === "string" ? error.name : "";
  return name && name !== "Error" ? name : (error.constructor?.name ?? name);
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** Node/undici system error codes, possibly on `.cause`. */
function systemCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if (typeof e !== "object") break;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[A-Z_]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * An `Error` of the base class with nothing attached: how clients reject input they will not send
 * (ChatOpenAI: "URL file blocks ... must be formatted as a data URL"; Gemini: "Unknown content
 * type"). Transport and provider errors have their own classes, a status, a code or a cause.
 */
function isPlainError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as {
    constructor?: { name?: string };
    name?: unknown;
    status?: unknown;
    code?: unknown;
    cause?: unknown;
  };
  return (
    e.constructor?.name === "Error" &&
    e.name === "Error" &&
    e.status === undefined &&
    e.code === undefined &&
    e.cause === undefined
  );
}
