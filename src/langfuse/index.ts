/**
 * Langfuse integration (`langchain-autopicker/langfuse`): a drop-in `@langfuse/langchain` handler that
 * adds cost and fallback events, tracing setup, and a fallback report read back from Langfuse.
 * Kept out of the main entry so the core package never imports Langfuse or OpenTelemetry.
 */
export { AUTOPICKER_ALERT_EVENT, EVENT_METADATA_KEYS, type EventSpec } from "./eventMetadata";
export {
  type FakeLangfuseServer,
  type FakeObservation,
  type FakeRequest,
  startFakeLangfuseServer,
} from "./fakeLangfuseServer";
export {
  describeGeneration,
  type GenerationDetails,
  type LangfuseUsageDetails,
  usageDetails,
} from "./generationDetails";
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
