import { LangfuseGeneration, type LangfuseGenerationAttributes } from "@langfuse/tracing";
import { type Context, context, createContextKey } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-node";

/**
 * Where {@link AutoPickerLangfuseHandler} and {@link AutoPickerSpanProcessor} meet for one chat-model
 * run. The handler opens it around `@langfuse/langchain`'s start of the generation; the processor
 * puts the span that starts inside it there; at end the handler leaves the attributes that must win
 * over the base handler's own last update.
 */
export interface GenerationSlot {
  span?: Span;
  /** Re-applied when the span is ending, after the base handler's final `update()`. */
  final?: LangfuseGenerationAttributes;
}

// createContextKey is Symbol.for(description): the ESM and CJS builds of this package, or two
// copies of it, share the key.
const SLOT = createContextKey("langchain-autopicker.generation-slot");

/** Runs `fn` (the base handler's start) with `slot` in the active OpenTelemetry context. */
export function withGenerationSlot<T>(slot: GenerationSlot, fn: () => T): T {
  return context.with(context.active().setValue(SLOT, slot), fn);
}

/**
 * An OpenTelemetry span processor that lets {@link AutoPickerLangfuseHandler} enrich the generations
 * `@langfuse/langchain` creates, through public APIs only: it hands each generation's span to the
 * handler when it starts (so fallback events can be its children and cost can be set on it), and
 * has the last word on the served model and usage while the span is ending.
 *
 * `setupLangfuseTracing()` adds it. If you run OpenTelemetry yourself, add it to the tracer
 * provider that has the `LangfuseSpanProcessor`, in any order:
 *
 * @example
 * ```ts
 * new NodeSDK({ spanProcessors: [new AutoPickerSpanProcessor(), new LangfuseSpanProcessor()] }).start();
 * ```
 *
 * The last word uses the span processor `onEnding` hook (OpenTelemetry SDK 2.3+, marked
 * experimental there). Without it, cost, metadata and fallback events are unchanged; the model
 * name and usage are then the ones `@langfuse/langchain` reads from the message.
 */
export class AutoPickerSpanProcessor implements SpanProcessor {
  private readonly slots = new WeakMap<Span, GenerationSlot>();

  onStart(span: Span, parentContext: Context): void {
    try {
      const slot = parentContext.getValue(SLOT) as GenerationSlot | undefined;
      // The first span started inside the slot's window is the generation: the base handler starts
      // nothing else there.
      if (!slot || slot.span) return;
      slot.span = span;
      this.slots.set(span, slot);
    } catch {
      // A processor that throws would stop the span from starting; enrichment is optional.
    }
  }

  onEnding(span: Span): void {
    try {
      const final = this.slots.get(span)?.final;
      if (final) new LangfuseGeneration({ otelSpan: span }).update(final);
    } catch {
      // Same: never in the way of the span ending and being exported.
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
