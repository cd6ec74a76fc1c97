import type { LangfuseGenerationAttributes } from "@langfuse/tracing";
import type { SpanContext, TimeInput } from "@opentelemetry/api";

/**
 * What this package needs from an observation `@langfuse/langchain` keeps per run: its span context
 * (to parent events) and `update` / `end` (to add cost before the span ends).
 */
export interface TrackedObservation {
  readonly otelSpan: { spanContext(): SpanContext };
  update(attributes: LangfuseGenerationAttributes): unknown;
  end(endTime?: TimeInput): void;
}

/** Thrown-free description of why the internals do not look as expected, or `null` when they do. */
export type InternalsProblem = string | null;

/**
 * The private `runMap` (LangChain runId -> Langfuse observation) of `@langfuse/langchain` 5.x's
 * `CallbackHandler`. It is not public API: `__tests__/langfuse.internals.test.ts` pins its shape so an
 * upgrade that changes it fails loudly instead of silently dropping cost and events.
 */
export function runMapOf(handler: object): Map<string, TrackedObservation> | undefined {
  const map = (handler as { runMap?: unknown }).runMap;
  return map instanceof Map ? (map as Map<string, TrackedObservation>) : undefined;
}

/** Checks one observation from the run map has the members we call. */
export function checkObservation(observation: unknown): InternalsProblem {
  const o = observation as Partial<TrackedObservation> | undefined;
  if (!o || typeof o !== "object") return "runMap entry is not an object";
  if (typeof o.update !== "function") return "runMap entry has no update()";
  if (typeof o.end !== "function") return "runMap entry has no end()";
  if (typeof o.otelSpan?.spanContext !== "function") return "runMap entry has no otelSpan.spanContext()";
  return null;
}
