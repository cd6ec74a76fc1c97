import { getLangfuseTracerProvider } from "@langfuse/tracing";
import {
  context,
  createContextKey,
  ProxyTracerProvider,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";

/*
 * Read-only probes of OpenTelemetry's global state, through the API's public surface only. The
 * API exports no "no-op provider" class to test with `instanceof`, but its proxy hands out one
 * module-wide no-op delegate until a provider is registered: identity with it is the test.
 */

// `ProxyTracerProvider` is marked deprecated in @opentelemetry/api 1.9.1 (removal planned for 2.0);
// the peer range is ^1.9, where it stays.
const NOOP_DELEGATE = new ProxyTracerProvider().getDelegate();

/** Whether `provider` is the API's proxy with nothing registered behind it (every span a no-op). */
export function isNoopTracerProvider(provider: TracerProvider): boolean {
  return provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_DELEGATE;
}

/** Whether no global tracer provider is registered (a proxy from another API copy counts as registered). */
export function globalTracerProviderIsFree(): boolean {
  return isNoopTracerProvider(trace.getTracerProvider());
}

/** Whether Langfuse's spans go nowhere: no isolated provider and no global one. */
export function langfuseTracingIsOff(): boolean {
  return isNoopTracerProvider(getLangfuseTracerProvider());
}

const PROBE = createContextKey("langchain-autopicker.context-probe");

/** Whether a context manager is registered (without one, `context.with` runs `fn` in the root context). */
export function contextManagerWorks(): boolean {
  const probe = context.active().setValue(PROBE, true);
  return context.with(probe, () => context.active().getValue(PROBE) === true);
}
