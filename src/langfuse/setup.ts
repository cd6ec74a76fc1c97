import { LangfuseSpanProcessor, type LangfuseSpanProcessorParams } from "@langfuse/otel";
import { getLangfuseTracerProvider, setLangfuseTracerProvider } from "@langfuse/tracing";
import { context, type TracerProvider, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { consoleLogger, logWarning, type WarningLogger } from "../cost/alerts";
import { AutoPickerConfigError } from "../errors";
import { contextManagerWorks, globalTracerProviderIsFree } from "./otelState";
import { AutoPickerSpanProcessor } from "./spanProcessor";

/** Options of {@link setupLangfuseTracing}: the `LangfuseSpanProcessor`'s, plus ours. */
export interface LangfuseTracingOptions extends LangfuseSpanProcessorParams {
  /** Where the single "no keys" / "flush failed" warning goes. Default `console.warn`. */
  logger?: WarningLogger;
  /** `shutdown()` and `flush()` give up after this long instead of waiting out exporter retries. Default 5000. */
  flushTimeoutMs?: number;
}

/** What {@link setupLangfuseTracing} started. */
export interface LangfuseTracing {
  /** The span processor; `undefined` when no keys (and no exporter) were given, since nothing could be exported. */
  readonly processor: LangfuseSpanProcessor | undefined;
  /**
   * Exports what is pending. Resolves even when Langfuse is unreachable (after at most
   * `flushTimeoutMs`); a failed or timed-out flush is the one warning.
   */
  flush(): Promise<void>;
  /**
   * Flushes, stops, and puts back every OpenTelemetry global it took (see
   * {@link setupLangfuseTracing}). Resolves, never rejects; call it before the process exits.
   */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing to Langfuse: a `NodeTracerProvider` with a `LangfuseSpanProcessor`
 * and the {@link AutoPickerSpanProcessor} that `AutoPickerLangfuseHandler` needs, configured from
 * options or `LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY`, `LANGFUSE_BASE_URL`.
 *
 * Global state it touches, each only if free, each put back by `shutdown()` exactly as found:
 * - `@langfuse/tracing`'s tracer provider (`setLangfuseTracerProvider`), always: Langfuse traces
 *   then work next to an OpenTelemetry setup the app already has;
 * - the global tracer provider, only when none is registered;
 * - the global context manager (an `AsyncLocalStorageContextManager`), only when none works.
 *
 * It does not touch the global propagator or OpenTelemetry's global error handler: export
 * failures between flushes go wherever the app sends OpenTelemetry errors (nowhere by default);
 * `flush()` and `shutdown()` report theirs, once, through `logger`. No model call awaits an export.
 *
 * @example
 * ```ts
 * const tracing = setupLangfuseTracing();
 * process.on("SIGTERM", () => void tracing.shutdown());
 * ```
 */
export function setupLangfuseTracing(options: LangfuseTracingOptions = {}): LangfuseTracing {
  validateOptions(options);
  const { logger = consoleLogger, flushTimeoutMs = 5000, ...processorOptions } = options;
  let warned = false;
  const warnOnce = (text: string) => {
    if (warned) return;
    warned = true;
    logWarning(logger, text);
  };
  const hasKeys =
    (processorOptions.publicKey ?? process.env.LANGFUSE_PUBLIC_KEY) &&
    (processorOptions.secretKey ?? process.env.LANGFUSE_SECRET_KEY);
  const configured = Boolean(processorOptions.exporter || hasKeys);
  if (!configured) {
    // Without keys every export would be refused; skipping the processor also spares the Langfuse
    // SDK's own two warnings, so a misconfiguration costs exactly one line.
    warnOnce(
      "Langfuse tracing: LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY are not set; traces will not reach Langfuse. " +
        "Model calls are unaffected.",
    );
  }

  const processor = configured ? new LangfuseSpanProcessor(processorOptions) : undefined;
  const provider = new NodeTracerProvider({
    spanProcessors: [new AutoPickerSpanProcessor(), ...(processor ? [processor] : [])],
    // The SDK's own flush timer (30 s by default, not unref'd) would keep the process alive long
    // after our bound gave up on a stuck Langfuse. Ours is created first, so it fires first.
    forceFlushTimeoutMillis: flushTimeoutMs,
  });
  const restoreGlobals = claimGlobals(provider);

  const bounded = async (what: string, work: () => Promise<void>) => {
    let timer: NodeJS.Timeout | undefined;
    // Not unref'd: the caller awaits this, so it keeps the process alive until it resolves.
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        warnOnce(`Langfuse ${what} did not finish within ${flushTimeoutMs} ms; some traces may be lost.`);
        resolve();
      }, flushTimeoutMs);
    });
    try {
      await Promise.race([work(), timeout]);
    } catch (err) {
      warnOnce(
        `Langfuse ${what} failed (${err instanceof Error ? err.message : String(err)}); some traces may be lost.`,
      );
    } finally {
      clearTimeout(timer);
    }
  };

  let stopped: Promise<void> | undefined;
  return {
    processor,
    flush: () => bounded("flush", () => provider.forceFlush()),
    shutdown: () => {
      stopped ??= (async () => {
        // Globals first: nothing new starts on a provider that is shutting down.
        restoreGlobals();
        await bounded("shutdown", () => provider.shutdown());
      })();
      return stopped;
    },
  };
}

/**
 * Hands `provider` to `@langfuse/tracing`, registers it globally if no provider is, and a context
 * manager if none works. Returns what puts each back exactly as it was.
 */
function claimGlobals(provider: NodeTracerProvider): () => void {
  // getLangfuseTracerProvider() answers the global proxy when no isolated provider is set.
  const current = getLangfuseTracerProvider();
  const previousLangfuse: TracerProvider | null = current === trace.getTracerProvider() ? null : current;
  setLangfuseTracerProvider(provider);

  // Probe first: a refused registration would log a diag error in the app's OpenTelemetry logs.
  const ownsTracer = globalTracerProviderIsFree() && trace.setGlobalTracerProvider(provider);

  let ownsContext = false;
  if (!contextManagerWorks()) {
    const manager = new AsyncLocalStorageContextManager().enable();
    ownsContext = context.setGlobalContextManager(manager);
    if (!ownsContext) manager.disable();
  }

  return () => {
    // Only what is still ours: a later setup may have replaced it meanwhile.
    if (getLangfuseTracerProvider() === provider) setLangfuseTracerProvider(previousLangfuse);
    if (ownsTracer) trace.disable();
    // Disables our manager and leaves the API with none, as it was.
    if (ownsContext) context.disable();
  };
}

function validateOptions(options: LangfuseTracingOptions): void {
  const fail = (text: string): never => {
    throw new AutoPickerConfigError(`setupLangfuseTracing: ${text}`);
  };
  if (typeof options !== "object" || options === null) fail("options must be an object.");
  const { flushTimeoutMs, logger } = options;
  if (
    flushTimeoutMs !== undefined &&
    (typeof flushTimeoutMs !== "number" || !Number.isFinite(flushTimeoutMs) || flushTimeoutMs <= 0)
  ) {
    fail(`flushTimeoutMs must be a positive number of milliseconds, got ${String(flushTimeoutMs)}.`);
  }
  if (logger !== undefined && typeof logger?.warn !== "function") {
    fail("logger must have a warn(message) method (console fits).");
  }
}
