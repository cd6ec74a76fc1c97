/**
 * Reading fields off provider errors without trusting their shape. The OpenAI SDK, Google's client,
 * Anthropic's SDK and LangChain's own wrappers each put status, code and headers somewhere else.
 */

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj | undefined {
  return typeof value === "object" && value !== null ? (value as Obj) : undefined;
}

/** HTTP status from `.status`, `.statusCode`, `.response.status`, or a wrapped `.cause`. */
export function errorStatus(error: unknown): number | undefined {
  for (let e = obj(error), depth = 0; e && depth < 4; depth++, e = obj(e.cause)) {
    for (const v of [e.status, e.statusCode, obj(e.response)?.status]) {
      if (typeof v === "number" && v >= 100 && v < 600) return v;
      if (typeof v === "string" && /^\d{3}$/.test(v)) return Number(v);
    }
  }
  return undefined;
}

/** Provider error code (`rate_limit_exceeded`, `insufficient_quota`, `context_length_exceeded`, ...). */
export function providerCode(error: unknown): string | undefined {
  for (let e = obj(error), depth = 0; e && depth < 4; depth++, e = obj(e.cause)) {
    for (const v of [e.code, obj(e.error)?.code, obj(e.error)?.type, e.type]) {
      if (typeof v === "string" && /[a-z]_[a-z]/.test(v)) return v;
    }
  }
  return undefined;
}

/** Response headers as a `Headers`, when the error carries any. */
export function errorHeaders(error: unknown): Headers | undefined {
  for (let e = obj(error), depth = 0; e && depth < 4; depth++, e = obj(e.cause)) {
    const h = e.headers ?? obj(e.response)?.headers;
    if (h instanceof Headers) return h;
    const o = obj(h);
    if (o) {
      const out = new Headers();
      for (const [k, v] of Object.entries(o)) if (typeof v === "string") out.set(k, v);
      return out;
    }
  }
  return undefined;
}

export interface GeminiDetails {
  /** `google.rpc.QuotaFailure` violation quota ids, e.g. `GenerateRequestsPerDayPerProjectPerModel-FreeTier`. */
  quotaIds: string[];
  /** `google.rpc.RetryInfo.retryDelay` in ms ("26s" -> 26000). Whole seconds, rounded down by Google. */
  retryDelayMs?: number;
  /** `google.rpc.ErrorInfo.reason`, e.g. `API_KEY_INVALID` (which Google sends as a 400). */
  reason?: string;
}

/** Reads Gemini `errorDetails` by `@type`, not position (Google puts a `Help` detail between them). */
export function geminiDetails(error: unknown): GeminiDetails {
  const out: GeminiDetails = { quotaIds: [] };
  const details = obj(error)?.errorDetails ?? obj(obj(error)?.error)?.details;
  if (!Array.isArray(details)) return out;
  for (const d of details) {
    const detail = obj(d);
    const type = typeof detail?.["@type"] === "string" ? detail["@type"] : "";
    if (type.endsWith("google.rpc.QuotaFailure") && Array.isArray(detail?.violations)) {
      for (const v of detail.violations) {
        const id = obj(v)?.quotaId;
        if (typeof id === "string") out.quotaIds.push(id);
      }
    } else if (type.endsWith("google.rpc.ErrorInfo") && typeof detail?.reason === "string") {
      out.reason = detail.reason;
    } else if (type.endsWith("google.rpc.RetryInfo")) {
      const delay = detail?.retryDelay;
      const m = typeof delay === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null;
      if (m) out.retryDelayMs = Number(m[1]) * 1000;
    }
  }
  return out;
}
