import type { ObservationLevel } from "@langfuse/tracing";
import type { AutoPickerAlert } from "../cost/alerts";
import {
  type AutoPickerEventName,
  BUDGET_FALLBACK,
  CONTEXT_LENGTH_FALLBACK,
  type ContextLengthFallbackPayload,
  ERROR_FALLBACK,
  type FallbackEventName,
  type FallbackPayload,
  RATE_LIMIT_FALLBACK,
  RATE_LIMIT_WAIT,
  type RateLimitWaitPayload,
  RUN_BUDGET_EXHAUSTED,
  type RunBudgetExhaustedPayload,
} from "../model/events";
import { redact } from "../redact";

/** A Langfuse event to create: name, metadata and level. */
export interface EventSpec {
  name: string;
  metadata: Record<string, string | number | boolean>;
  level: ObservationLevel;
}

/** Every key of `T`, listed once: adding a field to a payload fails to compile until it is listed here. */
const keysOf = <T>(keys: Record<keyof T, true>): readonly string[] => Object.keys(keys);

const FALLBACK_KEYS = keysOf<FallbackPayload>({ original_model: true, fallback_model: true, reason: true });

/**
 * The metadata keys each of the picker's custom events carries into Langfuse: exactly its payload
 * (`src/model/events.ts`). Anything else in a payload is dropped, so an event can never carry
 * prompt text or keys into Langfuse.
 */
const EVENT_KEYS: { readonly [N in AutoPickerEventName]: readonly string[] } = {
  [RATE_LIMIT_WAIT]: keysOf<RateLimitWaitPayload>({
    model: true,
    wait_ms: true,
    cause: true,
    moved_by_ms: true,
    priority: true,
    tenant: true,
  }),
  [RATE_LIMIT_FALLBACK]: FALLBACK_KEYS,
  [BUDGET_FALLBACK]: FALLBACK_KEYS,
  [ERROR_FALLBACK]: FALLBACK_KEYS,
  [CONTEXT_LENGTH_FALLBACK]: keysOf<ContextLengthFallbackPayload>({
    original_model: true,
    fallback_model: true,
    reason: true,
    estimated_tokens: true,
    original_max_context: true,
    fallback_max_context: true,
  }),
  [RUN_BUDGET_EXHAUSTED]: keysOf<RunBudgetExhaustedPayload>({
    model: true,
    dimension: true,
    needed: true,
    remaining: true,
    spent_usd: true,
    tokens: true,
    model_calls: true,
  }),
};

/** The four fallback events, as `fallbackReport` queries and counts them. */
export const FALLBACK_EVENT_NAMES: readonly FallbackEventName[] = Object.keys(
  // A record, so that a fifth fallback event name fails to compile until it is listed.
  {
    [RATE_LIMIT_FALLBACK]: true,
    [CONTEXT_LENGTH_FALLBACK]: true,
    [BUDGET_FALLBACK]: true,
    [ERROR_FALLBACK]: true,
  } satisfies Record<FallbackEventName, true>,
) as FallbackEventName[];

/** Maps one of the picker's custom events to the Langfuse event we record; `null` for any other event. */
export function eventFromCustomEvent(name: string, data: unknown): EventSpec | null {
  if (!Object.hasOwn(EVENT_KEYS, name)) return null;
  return {
    name,
    metadata: pick(data, EVENT_KEYS[name as AutoPickerEventName]),
    // Fallbacks are what the dashboards count; warnings stand out in the trace view.
    level: name === RATE_LIMIT_WAIT ? "DEFAULT" : "WARNING",
  };
}

// Every field any alert has (a distributive keyof over the union).
type AlertField = AutoPickerAlert extends infer A ? (A extends unknown ? keyof A : never) : never;

/** Alert fields into Langfuse metadata, which is snake_case like every payload that leaves JavaScript. */
const ALERT_METADATA_KEY: Readonly<Record<AlertField, string>> = {
  type: "type",
  at: "at",
  message: "message",
  period: "period",
  periodKey: "period_key",
  limitUsd: "limit_usd",
  spentUsd: "spent_usd",
  requestedUsd: "requested_usd",
  threshold: "threshold",
  mode: "mode",
  rate: "rate",
  fallbacks: "fallbacks",
  waits: "waits",
  requests: "requests",
  windowMs: "window_ms",
  waitMs: "wait_ms",
  thresholdMs: "threshold_ms",
};

/** The Langfuse event for a budget or rate alert: named after `alert.type`, its fields in snake_case. */
export function eventFromAlert(alert: AutoPickerAlert): EventSpec {
  const fields = pick(alert, Object.keys(ALERT_METADATA_KEY));
  const metadata: EventSpec["metadata"] = {};
  for (const [field, value] of Object.entries(fields))
    metadata[ALERT_METADATA_KEY[field as AlertField]] = value;
  return { name: alert.type, metadata, level: "WARNING" };
}

function pick(data: unknown, keys: readonly string[]): Record<string, string | number | boolean> {
  const source = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : {};
  const out: Record<string, string | number | boolean> = {};
  for (const key of keys) {
    const value = source[key];
    // Primitives only; strings pass the same credential redaction as error messages.
    if (typeof value === "string") out[key] = redact(value, 200);
    else if (typeof value === "number" && Number.isFinite(value)) out[key] = value;
    else if (typeof value === "boolean") out[key] = value;
  }
  return out;
}
