export { type Clock, systemClock } from "./clock";
export * from "./context";
export * from "./cost";
export {
  type CreateFromEnvOptions,
  createAutoPickerFromEnv,
  type EnvProvider,
  type EnvSelection,
} from "./env/createFromEnv";
export * from "./errors";
export * from "./limits";
export {
  type AutoPickerCallOptions,
  AutoPickerChatModel,
} from "./model/AutoPickerChatModel";
export { deriveName } from "./model/entries";
export {
  type AttemptFailedEvent,
  AUTOPICKER_EVENT_NAMES,
  type AutoPickerEventName,
  BUDGET_FALLBACK,
  type CircuitStateChangeEvent,
  CONTEXT_LENGTH_FALLBACK,
  type ContextLengthFallbackPayload,
  type Disposable,
  ERROR_FALLBACK,
  type FailedEvent,
  type FallbackEvent,
  type FallbackEventName,
  type FallbackPayload,
  fallbackEventName,
  RATE_LIMIT_FALLBACK,
  RATE_LIMIT_WAIT,
  type RateLimitWaitPayload,
  type ServedEvent,
  type WaitCause,
  type WaitEvent,
} from "./model/events";
export {
  MemoryModelHealthStore,
  type ModelHealthStore,
  type SharedModelHealth,
} from "./model/healthStore";
export { getDecisionTrail } from "./model/trail";
export type {
  AllFailedContext,
  AutoPickerChatModelInput,
  AutoPickerLogger,
  AutoPickerStats,
  ContextStrategy,
  DecisionTrail,
  EntryPricing,
  ModelEntry,
  ModelStats,
  ProviderStatus,
  TrailAttempt,
  TrailPricing,
} from "./model/types";
export type { JitterMode } from "./retry/backoff";
export type { CircuitState } from "./retry/circuitBreaker";
export { type ClassifiedError, classifyError, type ErrorKind } from "./retry/classify";
export type { FallbackReason } from "./retry/policy";
