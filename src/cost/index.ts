/** Cost: pricing, the cost-tracking callback handler, usage statistics, budgets and alerts. */
export { AlertMonitor, type AlertMonitorOptions, type AlertMonitorSnapshot } from "./alertMonitor";
export {
  type AlertListener,
  type AutoPickerAlert,
  type BudgetExceededAlert,
  type BudgetMode,
  type BudgetThresholdAlert,
  type FallbackRateHighAlert,
  LOG_PREFIX,
  type RateLimitWaitLongAlert,
  type RateLimitWaitsFrequentAlert,
  type WarningLogger,
} from "./alerts";
export {
  BudgetManager,
  type BudgetManagerOptions,
  type BudgetReservation,
  type BudgetTicket,
  type PeriodCounter,
} from "./budgetManager";
export {
  type BudgetCounter,
  type BudgetStore,
  type LimitedBudgetCounter,
  MemoryBudgetStore,
  type MemoryBudgetStoreOptions,
  type StoreReservation,
} from "./budgetStore";
export { type CallReport, type FullTokenUsage, readCallReport } from "./callUsage";
export type { CostRecord, UnpricedReason } from "./costRecord";
export {
  CostTrackingCallbackHandler,
  type CostTrackingOptions,
  type SpendRecorder,
} from "./costTrackingHandler";
export { MICROS_PER_USD, microsToUsd, usdToMicrosCeil, usdToMicrosFloor } from "./money";
export { type BudgetPeriod, periodEnd, periodKey, utcDay, utcMonth } from "./periods";
export {
  type CostBreakdown,
  estimateCostUsd,
  PriceBook,
  type PriceBookOptions,
  type PriceOptions,
  type PriceSource,
  type Pricing,
  splitModelName,
  type TokenUsage,
} from "./pricing";
export { identifyServedModel, type RunStartInfo, readRunStart, type ServedModel } from "./servedModel";
export {
  OTHER_METADATA_VALUE,
  type RunUsage,
  UsageAggregator,
  type UsageAggregatorOptions,
  type UsageStats,
  type UsageTotals,
} from "./usageStats";
