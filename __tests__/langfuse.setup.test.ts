import { getLangfuseTracerProvider, setLangfuseTracerProvider } from "@langfuse/tracing";
import { context, createContextKey, ProxyTracerProvider, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { globalErrorHandler, setGlobalErrorHandler } from "@opentelemetry/core";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { isAutoPickerError } from "../src/errors";
import { AutoPickerLangfuseHandler } from "../src/langfuse/handler";
import { setupLangfuseTracing } from "../src/langfuse/setup";
import { exported, StuckExporter, startInMemoryTracing } from "./langfuse.helpers";
import { startWorld } from "./support/picker";

/** What setupLangfuseTracing may change, read through the public API. */
function globals() {
  const global = trace.getTracerProvider() as ProxyTracerProvider;
  const key = createContextKey("probe");
  return {
    tracerDelegate: global.getDelegate(),
    // No isolated provider: Langfuse follows the global one (trace.disable() replaces the proxy object).
    langfuseIsGlobal: getLangfuseTracerProvider() === trace.getTracerProvider(),
    contextWorks: context.with(context.active().setValue(key, 1), () => context.active().getValue(key) === 1),
    propagatorFields: propagation.fields(),
  };
}
const NOOP = new ProxyTracerProvider().getDelegate();
const quiet = { warn: () => undefined };

describe("setupLangfuseTracing and OpenTelemetry's global state", () => {
  it("with nothing registered: takes the tracer provider and a context manager, and shutdown leaves none", async () => {
    const before = globals();
    expect(before.tracerDelegate).toBe(NOOP);
    expect(before.contextWorks).toBe(false);
    const { tracing } = startInMemoryTracing();
    const during = globals();
    expect(during.tracerDelegate).not.toBe(NOOP);
    expect(getLangfuseTracerProvider()).toBe(during.tracerDelegate); // Langfuse's own slot: the same provider
    expect(during.contextWorks).toBe(true);
    await tracing.shutdown();
    expect(globals()).toEqual(before);
    // And a later setup can take them again (nothing left registered).
    const again = startInMemoryTracing();
    expect(globals().tracerDelegate).not.toBe(NOOP);
    await again.tracing.shutdown();
    expect(globals()).toEqual(before);
  });

  it("next to an app's own provider and context manager: takes neither, and leaves both working", async () => {
    const appProvider = new BasicTracerProvider();
    const appContext = new AsyncLocalStorageContextManager().enable();
    expect(trace.setGlobalTracerProvider(appProvider)).toBe(true);
    expect(context.setGlobalContextManager(appContext)).toBe(true);
    try {
      const before = globals();
      const { tracing } = startInMemoryTracing();
      const during = globals();
      expect(during.tracerDelegate).toBe(appProvider);
      expect(during.langfuseIsGlobal).toBe(false); // Langfuse spans go to the provider setup made
      expect(during.contextWorks).toBe(true);
      await tracing.shutdown();
      expect(globals()).toEqual(before);
    } finally {
      trace.disable();
      context.disable();
    }
  });

  it("an isolated Langfuse provider set before is the one put back", async () => {
    const previous = new BasicTracerProvider();
    setLangfuseTracerProvider(previous);
    try {
      const { tracing } = startInMemoryTracing();
      expect(getLangfuseTracerProvider()).not.toBe(previous);
      await tracing.shutdown();
      expect(getLangfuseTracerProvider()).toBe(previous);
    } finally {
      setLangfuseTracerProvider(null);
    }
  });

  it("leaves the global error handler and the propagator alone", async () => {
    const seen: unknown[] = [];
    setGlobalErrorHandler((err) => seen.push(err));
    const { tracing } = startInMemoryTracing();
    globalErrorHandler(new Error("during"));
    expect(propagation.fields()).toEqual([]);
    await tracing.shutdown();
    globalErrorHandler(new Error("after"));
    expect(seen.map((e) => (e as Error).message)).toEqual(["during", "after"]);
  });
});

describe("setupLangfuseTracing reports, never throws", () => {
  it("no keys: exactly one warning, calls succeed, shutdown resolves", async () => {
    const saved = { pk: process.env.LANGFUSE_PUBLIC_KEY, sk: process.env.LANGFUSE_SECRET_KEY };
    delete process.env.LANGFUSE_PUBLIC_KEY;
    delete process.env.LANGFUSE_SECRET_KEY;
    const warnings: string[] = [];
    const spy = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const w = await startWorld();
    try {
      const tracing = setupLangfuseTracing({ logger: { warn: (m) => warnings.push(m) } });
      expect(tracing.processor).toBeUndefined();
      const handler = new AutoPickerLangfuseHandler({ logger: { warn: (m) => warnings.push(m) } });
      await w.picker().invoke("hi", { callbacks: [handler] });
      await expect(tracing.shutdown()).resolves.toBeUndefined();
      expect(warnings).toEqual([expect.stringMatching(/LANGFUSE_PUBLIC_KEY/)]);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      await w.stop();
      if (saved.pk !== undefined) process.env.LANGFUSE_PUBLIC_KEY = saved.pk;
      if (saved.sk !== undefined) process.env.LANGFUSE_SECRET_KEY = saved.sk;
    }
  });

  it("an export that never finishes: flush and shutdown resolve anyway, with one warning, and globals are restored", async () => {
    const before = globals();
    const warnings: string[] = [];
    const stuck = new StuckExporter();
    const tracing = setupLangfuseTracing({
      exporter: stuck,
      exportMode: "immediate",
      flushTimeoutMs: 10,
      logger: { warn: (m) => warnings.push(m) },
    });
    new AutoPickerLangfuseHandler({ logger: quiet }).recordAlert({
      type: "rate_limit_wait_long",
      at: 0,
      message: "long",
      waitMs: 2,
      thresholdMs: 1,
      windowMs: 1,
    });
    await stuck.started();
    await expect(tracing.flush()).resolves.toBeUndefined();
    await expect(tracing.shutdown()).resolves.toBeUndefined();
    await expect(tracing.shutdown()).resolves.toBeUndefined(); // idempotent
    expect(warnings).toEqual([expect.stringMatching(/Langfuse flush did not finish within 10 ms/)]);
    expect(globals()).toEqual(before);
  });

  it("a failing export is reported by flush(), once", async () => {
    const warnings: string[] = [];
    const failing = {
      export: (_spans: unknown, done: (r: { code: number; error?: Error }) => void) =>
        done({ code: 1, error: new Error("503 from Langfuse") }),
      shutdown: () => Promise.resolve(),
    };
    const { exporter: _unused, tracing } = startInMemoryTracing({
      exporter: failing,
      exportMode: "batched",
      logger: { warn: (m) => warnings.push(m) },
    });
    const handler = new AutoPickerLangfuseHandler({ logger: quiet });
    for (const n of [1, 2]) {
      handler.recordAlert({
        type: "rate_limit_wait_long",
        at: n,
        message: "x",
        waitMs: 2,
        thresholdMs: 1,
        windowMs: 1,
      });
      await tracing.flush();
    }
    await tracing.shutdown();
    expect(warnings).toEqual([expect.stringMatching(/Langfuse flush failed \(.*503 from Langfuse/)]);
  });

  it("bad options are an AutoPickerConfigError naming the option", () => {
    for (const [options, named] of [
      [{ flushTimeoutMs: 0 }, /flushTimeoutMs/],
      [{ flushTimeoutMs: Number.NaN }, /flushTimeoutMs/],
      [{ logger: { log: () => undefined } }, /logger/],
    ] as const) {
      let caught: unknown;
      try {
        setupLangfuseTracing(options as never);
      } catch (err) {
        caught = err;
      }
      expect(isAutoPickerError(caught) && caught.code).toBe("config");
      expect((caught as Error).message).toMatch(named);
    }
    expect(globals().tracerDelegate).toBe(NOOP); // validation comes before any global is touched
  });

  it("exported() sees nothing once shut down: spans after shutdown go nowhere", async () => {
    const { exporter, tracing } = startInMemoryTracing();
    await tracing.shutdown();
    new AutoPickerLangfuseHandler({ logger: quiet }).recordAlert({
      type: "rate_limit_wait_long",
      at: 0,
      message: "late",
      waitMs: 2,
      thresholdMs: 1,
      windowMs: 1,
    });
    expect(await exported(exporter, tracing)).toEqual([]);
  });
});
