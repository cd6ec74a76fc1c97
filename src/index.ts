/**
 * `langchain-autopicker`: the picker, its events and errors, rate limits, cost and budgets.
 * Integrations live in their own entries: `/redis`, `/langfuse`, `/simulate`, and test helpers in
 * `/testing`. Every name below is public API; anything not listed is internal.
 */

// Time, for tests and custom clocks
export { type Clock, systemClock } from "./clock";
// Cost, budgets and alerts
export { AlertMonitor, type AlertMonitorOptions, type AlertMonitorSnapshot } from "./cost/alertMonitor";
export type {
  AlertBase,
  AlertListener,
  AutoPickerAlert,
  BudgetExceededAlert,
  BudgetMode,
  BudgetThresholdAlert,
  FallbackRateHighAlert,
  RateLimitWaitLongAlert,
  RateLimitWaitsFrequentAlert,
  WarningLogger,
} from "./cost/alerts";
export {
  BudgetManager,
  type BudgetManagerOptions,
  type BudgetReservation,
  type BudgetTicket,
  type PeriodCounter,
} from "./cost/budgetManager";
export {
  type BudgetCounter,
  type BudgetStore,
  type LimitedBudgetCounter,
  MemoryBudgetStore,
  type MemoryBudgetStoreOptions,
  type StoreReservation,
} from "./cost/budgetStore";
export type { FullTokenUsage } from "./cost/callUsage";
export type { CostRecord, CostRecordBase, UnpricedReason } from "./cost/costRecord";
export {
  CostTrackingCallbackHandler,
  type CostTrackingOptions,
  type SpendRecorder,
} from "./cost/costTrackingHandler";
export type { BudgetPeriod } from "./cost/periods";
export {
  type CostBreakdown,
  PriceBook,
  type PriceBookOptions,
  type PriceOptions,
  type PriceSource,
  type Pricing,
  type TokenUsage,
} from "./cost/pricing";
export {
  RunBudget,
  type RunBudgetExhaustion,
  type RunBudgetOptions,
  type RunBudgetShortfall,
  type RunBudgetSummary,
  type RunBudgetTicket,
} from "./cost/runBudget";
export type { RunUsage, UsageAggregatorOptions, UsageStats, UsageTotals } from "./cost/usageStats";
// From environment variables to a picker
export {
  type CreateFromEnvOptions,
  createAutoPickerFromEnv,
  type EnvProvider,
  type EnvSelection,
} from "./env/createFromEnv";
// Errors
export {
  AllModelsFailedError,
  type AttemptRecord,
  AutoPickerConfigError,
  AutoPickerError,
  type AutoPickerErrorCode,
  BudgetExceededError,
  ContentFilteredError,
  ContextWindowExceededError,
  isAutoPickerError,
  MalformedResponseError,
  RunBudgetExceededError,
  StreamInterruptedError,
} from "./errors";
// Rate limits
export { catalogLimits, type Tier } from "./limits/catalog";
export { rateLimitHeadersFetch } from "./limits/headerCapture";
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from "./limits/memoryStore";
export { PRIORITIES, type Priority, type QueueDepth, type QueuePlace } from "./limits/priority";
export { RateLimiter, type RateLimiterOptions } from "./limits/rateLimiter";
export { SendEvidence } from "./limits/sendEvidence";
export type {
  CalendarWindowSpec,
  RateLimitStore,
  SlidingWindowSpec,
  StoreBlockRequest,
  StoreCancelRequest,
  StoreCommitRequest,
  StoreConfirmRequest,
  StoreConfirmResult,
  StoreConstrainRequest,
  StoreConstrainResult,
  StoreMovedBooking,
  StorePlace,
  StoreQueueStatus,
  StoreRecordRequest,
  StoreReleaseRequest,
  StoreReserveRequest,
  StoreReserveResult,
  StoreStampRequest,
  StoreStatus,
  StoreTarget,
  StoreWindowStatus,
  WindowSpec,
} from "./limits/store";
export type {
  DimensionStatus,
  LimiterStatus,
  LimitUnit,
  LimitWindow,
  ModelLimits,
  ProviderRateLimitState,
  ReservationTicket,
  ReserveDecision,
} from "./limits/types";
// The picker
export { type AutoPickerCallOptions, AutoPickerChatModel } from "./model/AutoPickerChatModel";
// Events: typed JavaScript events (`llm.onX`) and the LangChain custom events with their payloads
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
  RUN_BUDGET_EXHAUSTED,
  type RunBudgetExhaustedEvent,
  type RunBudgetExhaustedPayload,
  type ServedEvent,
  type WaitCause,
  type WaitEvent,
} from "./model/events";
// Model health shared between replicas
export { MemoryModelHealthStore, type ModelHealthStore, type SharedModelHealth } from "./model/healthStore";
export { getDecisionTrail } from "./model/trail";
export type {
  AllFailedContext,
  AutoPickerCallSettings,
  AutoPickerChatModelInput,
  AutoPickerLogger,
  AutoPickerStats,
  CallPreference,
  ContextStrategy,
  DecisionTrail,
  EntryPricing,
  ModelEntry,
  ModelStats,
  PickerModel,
  Preference,
  PriorityOptions,
  ProviderStatus,
  TaskRoute,
  TenantOptions,
  TrailAttempt,
  TrailPricing,
  TrailRunBudget,
  WaitStats,
} from "./model/types";
export type { JitterMode } from "./retry/backoff";
export type { CircuitState } from "./retry/circuitBreaker";
export type { ErrorKind } from "./retry/classify";
export type { FallbackReason } from "./retry/policy";
