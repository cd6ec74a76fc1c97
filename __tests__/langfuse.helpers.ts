import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { type LangfuseTracing, setupLangfuseTracing } from "../src/langfuse/setup";

/** One exported Langfuse observation, decoded from its span's attributes. */
export interface DecodedObservation {
  name: string;
  type: string | undefined;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  model: string | undefined;
  level: string | undefined;
  metadata: Record<string, string>;
  usageDetails: Record<string, number> | undefined;
  costDetails: Record<string, number> | undefined;
  attributes: Record<string, unknown>;
}

const META = "langfuse.observation.metadata.";

/** Decodes flat OTLP-style attributes into the observation fields these tests check. */
export function decodeAttributes(
  base: Pick<DecodedObservation, "name" | "traceId" | "spanId" | "parentSpanId">,
  attributes: Record<string, unknown>,
): DecodedObservation {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes))
    if (k.startsWith(META)) metadata[k.slice(META.length)] = String(v);
  const json = (key: string) =>
    typeof attributes[key] === "string"
      ? (JSON.parse(attributes[key] as string) as Record<string, number>)
      : undefined;
  return {
    ...base,
    type: attributes["langfuse.observation.type"] as string | undefined,
    model: attributes["langfuse.observation.model.name"] as string | undefined,
    level: attributes["langfuse.observation.level"] as string | undefined,
    metadata,
    usageDetails: json("langfuse.observation.usage_details"),
    costDetails: json("langfuse.observation.cost_details"),
    attributes,
  };
}

export function decodeSpan(span: ReadableSpan): DecodedObservation {
  return decodeAttributes(
    {
      name: span.name,
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId,
    },
    span.attributes as Record<string, unknown>,
  );
}

/** Real Langfuse processor, in-memory exporter, immediate export: no keys, no network. */
export function startInMemoryTracing(): { exporter: InMemorySpanExporter; tracing: LangfuseTracing } {
  const exporter = new InMemorySpanExporter();
  const tracing = setupLangfuseTracing({
    exporter,
    exportMode: "immediate",
    logger: { warn: () => undefined },
  });
  return { exporter, tracing };
}

/** Waits for background callbacks and pending exports, then decodes what was exported. */
export async function exported(exporter: InMemorySpanExporter, tracing: LangfuseTracing) {
  await awaitAllCallbacks();
  await tracing.flush();
  return exporter.getFinishedSpans().map(decodeSpan);
}
