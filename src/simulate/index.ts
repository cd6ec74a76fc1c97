/**
 * Capacity planning before spending money: run a workload through the real `AutoPickerChatModel`
 * against simulated providers in virtual time, compare configurations, and render a report.
 * The `autopicker simulate` command is the same thing from a shell; its internals are not exported.
 */
export { PRESETS } from "./config";
export { renderHtmlReport } from "./report";
export { type SimulateOptions, simulate } from "./run";
export { renderTextSummary } from "./summary";
export type {
  Arrivals,
  CallRecord,
  Distribution,
  FailureReason,
  GroupOutcome,
  LatencySpec,
  ModelOutcome,
  PickerSettings,
  PresetName,
  PrioritySettings,
  ResolvedStream,
  ResolvedWorkload,
  ScenarioResult,
  ScenarioSpec,
  SimulatedLimits,
  SimulatedModel,
  SimulationConfig,
  SimulationResult,
  TenantSettings,
  Workload,
  WorkloadStream,
} from "./types";
