import type { ObservationLevel } from "@langfuse/tracing";
import type { AutoPickerAlert } from "../cost/alerts";
import { CONTEXT_LENGTH_FALLBACK, RATE_LIMIT_FALLBACK, RATE_LIMIT_WAIT } from "../model/events";
import { redact } from "../redact";

/** Custom event name under which a caller may dispatch an {@link AutoPickerAlert} (`runManager.handleCustomEvent`). */
export const AUTOPICKER_ALERT_EVENT = "autopicker_alert";

/**
 * The metadata keys each event may carry, exactly as the design documents name them. Anything else
 * in a payload is dropped, so a payload can never leak prompt text or keys into Langfuse.
 */
export const EVENT_METADATA_KEYS: Readonly<Record<string, readonly string[]>> = {
  [RATE_LIMIT_FALLBACK]: ["original_model", "fallback_model", "reason"],
  [CONTEXT_LENGTH_FALLBACK]: [
    "original_model",
    "fallback_model",
    "estimated_tokens",
    "original_max_context",
    "fallback_max_context",
  ],
  [RATE_LIMIT_WAIT]: ["model", "wait_ms", "cause"],
};

/** The alert fields worth filtering on; `message` is a sentence built from the same numbers. */
const ALERT_KEYS = [
  "type",
  "at",
  "period",
  "periodKey",
  "limitUsd",
  "spentUsd",
  "requestedUsd",
  "threshold",
  "mode",
  "rate",
  "fallbacks",
  "waits",
  "requests",
  "windowMs",
  "waitMs",
  "thresholdMs",
  "message",
] as const;

/** A Langfuse event to create: name, metadata and level. */
export interface EventSpec {
  name: string;
  metadata: Record<string, string | number | boolean>;
  level: ObservationLevel;
}

/** Maps a LangChain custom event to the Langfuse event we record, or `null` for events we don't know. */
export function eventFromCustomEvent(name: string, data: unknown): EventSpec | null {
  if (name === AUTOPICKER_ALERT_EVENT) return isAlert(data) ? eventFromAlert(data) : null;
  const keys = EVENT_METADATA_KEYS[name];
  if (!keys) return null;
  return {
    name,
    metadata: pick(data, keys),
    // Fallbacks are what the dashboards count; warnings stand out in the trace view.
    level: name === RATE_LIMIT_WAIT ? "DEFAULT" : "WARNING",
  };
}

/** The Langfuse event for a budget or rate alert: named after `alert.type`. */
export function eventFromAlert(alert: AutoPickerAlert): EventSpec {
  return { name: alert.type, metadata: pick(alert, ALERT_KEYS), level: "WARNING" };
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

function isAlert(data: unknown): data is AutoPickerAlert {
  return typeof data === "object" && data !== null && typeof (data as { type?: unknown }).type === "string";
}
