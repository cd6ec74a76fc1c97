import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage, type UsageMetadata } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import {
  type LangfuseTracing,
  type LangfuseTracingOptions,
  setupLangfuseTracing,
} from "../src/langfuse/setup";

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
export function startInMemoryTracing(options: LangfuseTracingOptions = {}): {
  exporter: InMemorySpanExporter;
  tracing: LangfuseTracing;
} {
  const exporter = new InMemorySpanExporter();
  const tracing = setupLangfuseTracing({
    exporter,
    exportMode: "immediate",
    logger: { warn: () => undefined },
    ...options,
  });
  return { exporter, tracing };
}

/** Waits for background callbacks and pending exports, then decodes what was exported. */
export async function exported(exporter: InMemorySpanExporter, tracing: LangfuseTracing) {
  await awaitAllCallbacks();
  await tracing.flush();
  return exporter.getFinishedSpans().map(decodeSpan);
}

/** An exporter whose exports never finish (Langfuse accepted the connection and went silent). */
export class StuckExporter implements SpanExporter {
  /** Spans handed to `export`, in order. */
  readonly received: ReadableSpan[] = [];
  private notify: (() => void) | undefined;
  private readonly firstExport = new Promise<void>((resolve) => {
    this.notify = resolve;
  });

  export(spans: ReadableSpan[], _done: (result: ExportResult) => void): void {
    this.received.push(...spans);
    this.notify?.();
  }

  /** Resolves once an export has started. */
  started(): Promise<void> {
    return this.firstExport;
  }

  shutdown(): Promise<void> {
    return new Promise(() => undefined);
  }

  forceFlush(): Promise<void> {
    return new Promise(() => undefined);
  }
}

/** What {@link ScriptedChatModel} answers and dispatches. */
export interface Script {
  /** Custom events dispatched on the run before it answers. */
  events?: Array<{ name: string; data: Record<string, unknown> }>;
  usage?: UsageMetadata;
  responseMetadata?: Record<string, unknown>;
}

/**
 * A chat model for the parts of the Langfuse mapping no simulator shapes (usage that reports
 * thinking tokens only in `total_tokens`, no usage at all, any custom event): pure logic.
 */
export class ScriptedChatModel extends BaseChatModel {
  constructor(private readonly script: Script = {}) {
    super({});
  }

  _llmType(): string {
    return "scripted";
  }

  async _generate(
    _messages: BaseMessage[],
    _options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    for (const e of this.script.events ?? []) await runManager?.handleCustomEvent(e.name, e.data);
    const message = new AIMessage({
      content: "ok",
      response_metadata: this.script.responseMetadata ?? {},
      ...(this.script.usage ? { usage_metadata: this.script.usage } : {}),
    });
    return { generations: [{ text: "ok", message }] };
  }
}

/** The packages whose versions the Langfuse suites are run against (see `npm run test:langfuse-oldest`). */
export const VERSIONED_PACKAGES = [
  "@langfuse/langchain",
  "@langfuse/tracing",
  "@langfuse/otel",
  "@langfuse/client",
  "@langfuse/core",
  "@opentelemetry/sdk-trace-node",
  "@opentelemetry/sdk-trace-base",
  "@opentelemetry/context-async-hooks",
  "@opentelemetry/api",
] as const;

/** The version of `pkg` that this test process loads (after Jest's moduleNameMapper, if any). */
export function loadedVersion(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version: string };
      if (manifest.name === pkg) return manifest.version;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json of ${pkg} above ${require.resolve(pkg)}`);
    dir = up;
  }
}
