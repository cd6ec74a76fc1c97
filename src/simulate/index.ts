/**
 * Capacity planning before spending money: run a workload through the real `AutoPickerChatModel`
 * against simulated providers in virtual time, compare configurations, and render a report.
 */
export { applyFlags, type CliIo, runCli, USAGE } from "./cliMain";
export { PRESETS } from "./config";
export { renderHtmlReport } from "./report";
export { type SimulateOptions, simulate } from "./run";
export { renderTextSummary } from "./summary";
export type {
  CallRecord,
  Distribution,
  ModelOutcome,
  PickerSettings,
  PresetName,
  ScenarioResult,
  ScenarioSpec,
  SimulatedLimits,
  SimulatedModel,
  SimulationConfig,
  SimulationResult,
  Workload,
} from "./types";
