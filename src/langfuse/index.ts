/**
 * Langfuse integration (`langchain-autopicker/langfuse`): a drop-in `@langfuse/langchain` handler that
 * adds cost, the served model and fallback events; the span processor it needs; tracing setup; and a
 * fallback report read back from Langfuse. Kept out of the main entry so the core package never
 * imports Langfuse or OpenTelemetry. A local stand-in for Langfuse, for tests, is
 * `startFakeLangfuseServer` in `langchain-autopicker/testing`.
 */
export {
  AutoPickerLangfuseHandler,
  type AutoPickerLangfuseHandlerOptions,
  type LangfuseCallbackHandlerParams,
} from "./handler";
export {
  type FallbackPairStats,
  type FallbackReport,
  type FallbackReportOptions,
  fallbackReport,
  type ObservationQuery,
  type ObservationRecord,
  type ObservationSource,
} from "./report";
export { type LangfuseTracing, type LangfuseTracingOptions, setupLangfuseTracing } from "./setup";
export { AutoPickerSpanProcessor } from "./spanProcessor";
