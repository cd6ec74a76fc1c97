import { LangfuseSpanProcessor, type LangfuseSpanProcessorParams } from "@langfuse/otel";
import { setLangfuseTracerProvider } from "@langfuse/tracing";
import { context, trace } from "@opentelemetry/api";
import { loggingErrorHandler, setGlobalErrorHandler } from "@opentelemetry/core";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { consoleLogger, logWarning, type WarningLogger } from "../cost/alerts";

/** Options of {@link setupLangfuseTracing}: the `LangfuseSpanProcessor`'s, plus ours. */
export interface LangfuseTracingOptions extends LangfuseSpanProcessorParams {
  /** Where the single "export failed" / "no keys" warning goes. Default `console.warn`. */
  logger?: WarningLogger;
  /** `shutdown()` and `flush()` give up after this long instead of waiting out exporter retries. Default 5000. */
  flushTimeoutMs?: number;
}

/** What {@link setupLangfuseTracing} started. */
export interface LangfuseTracing {
  /** The span processor; `undefined` when no keys (and no exporter) were given, since nothing could be exported. */
  readonly processor: LangfuseSpanProcessor | undefined;
  /** Exports what is pending. Resolves even when Langfuse is unreachable (after at most `flushTimeoutMs`). */
  flush(): Promise<void>;
  /** Flushes and stops. Resolves, never rejects; call it before the process exits. */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing to Langfuse: a `NodeTracerProvider` with a `LangfuseSpanProcessor`,
 * configured from options or `LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY`, `LANGFUSE_BASE_URL`.
 *
 * The provider is handed to `@langfuse/tracing` directly (`setLangfuseTracerProvider`), so Langfuse
 * traces work even if the app already registered its own global OpenTelemetry provider; ours is also
 * registered globally (with the async context manager that trace attributes need) only when none is.
 * Export failures are reported once through `logger`, never thrown, and never awaited by a model call.
 *
 * @example
 * ```ts
 * const tracing = setupLangfuseTracing();
 * process.on("SIGTERM", () => void tracing.shutdown());
 * ```
 */
export function setupLangfuseTracing(options: LangfuseTracingOptions = {}): LangfuseTracing {
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
  // OpenTelemetry processors report failed exports to the global error handler (silent by default).
  // We own tracing setup here, so we take it: one warning for the first failure, then quiet.
  setGlobalErrorHandler((err) => {
    warnOnce(
      `Langfuse export failed (${err instanceof Error ? err.message : String(err)}). Model calls are ` +
        "unaffected; further export errors are not logged.",
    );
  });

  const processor = configured ? new LangfuseSpanProcessor(processorOptions) : undefined;
  const provider = new NodeTracerProvider({ spanProcessors: processor ? [processor] : [] });
  setLangfuseTracerProvider(provider);
  const ownsGlobal = registerIfFree(provider);

  const bounded = async (what: string, work: () => Promise<void>) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        warnOnce(`Langfuse ${what} did not finish within ${flushTimeoutMs} ms; some traces may be lost.`);
        resolve();
      }, flushTimeoutMs);
      timer.unref();
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
      stopped ??= bounded("shutdown", async () => {
        setLangfuseTracerProvider(null);
        if (ownsGlobal) {
          trace.disable();
          context.disable();
        }
        try {
          await provider.shutdown();
        } finally {
          setGlobalErrorHandler(loggingErrorHandler());
        }
      });
      return stopped;
    },
  };
}

/** Registers `provider` (and the async context manager) globally unless an app already did. */
function registerIfFree(provider: NodeTracerProvider): boolean {
  const current = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = current.getDelegate?.();
  // The API's proxy delegates to a no-op provider until someone registers one.
  const free = delegate === undefined || delegate?.constructor?.name === "NoopTracerProvider";
  if (free) provider.register();
  return free;
}
