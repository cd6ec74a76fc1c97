import { validateCallPlace } from "../config/picker";
import { AutoPickerConfigError } from "../errors";
import type { Priority } from "../limits/priority";
import type { ResolvedEntry } from "./entries";
import type { AutoPickerCallSettings, CallPreference, TaskRoute } from "./types";

export type { CallPreference, Preference, TaskRoute } from "./types";

interface Orderable {
  entry: ResolvedEntry;
  /** Estimated USD of this call on this model; `null` when unpriced (sorted last). */
  cost: number | null;
}

/**
 * Orders the candidates for one call. Sorting is stable, so ties keep the configured order.
 * `fallbackOrder: "cheapest"` sorts the fallbacks (never the primary) by this call's cost.
 */
export function orderCandidates<T extends Orderable>(
  candidates: T[],
  choice: CallPreference,
  tasks: Readonly<Record<string, TaskRoute>>,
  fallbackOrder: "listed" | "cheapest",
): T[] {
  let route: TaskRoute | undefined = choice.preference;
  if (choice.task !== undefined) {
    route = tasks[choice.task];
    if (route === undefined) {
      throw new AutoPickerConfigError(
        `Unknown task "${choice.task}". Known tasks: ${Object.keys(tasks).join(", ") || "(none: set the tasks option)"}.`,
      );
    }
  }
  const first = choice.model !== undefined ? [choice.model] : typeof route === "object" ? route.models : [];
  for (const name of first) {
    if (!candidates.some((c) => c.entry.name === name)) {
      throw new AutoPickerConfigError(
        `Unknown model "${name}" in a call preference. Known models: ${candidates.map((c) => c.entry.name).join(", ")}.`,
      );
    }
  }
  let ordered: T[];
  if (route === "cost") ordered = [...candidates].sort(byCost);
  else if (route === "quality") ordered = [...candidates].sort((a, b) => b.entry.quality - a.entry.quality);
  else if (fallbackOrder === "cheapest") ordered = [candidates[0]!, ...candidates.slice(1).sort(byCost)];
  else ordered = [...candidates];
  if (first.length === 0) return ordered;
  const pinned = first.map((name) => ordered.find((c) => c.entry.name === name)!);
  return [...pinned, ...ordered.filter((c) => !first.includes(c.entry.name))];
}

/** Cheapest first; unpriced models last (their cost is unknown, not zero). */
export function byCost(a: Orderable, b: Orderable): number {
  if (a.cost === null) return b.cost === null ? 0 : 1;
  if (b.cost === null) return -1;
  return a.cost - b.cost;
}

/**
 * Reads call settings from run metadata (`autopicker_preference`, `autopicker_model`,
 * `autopicker_task`, `autopicker_run_budget`, `autopicker_priority`, `autopicker_tenant`).
 * @throws AutoPickerConfigError naming `metadata.autopicker_priority` (an unknown class) or
 *   `metadata.autopicker_tenant` (not a non-empty string).
 */
export function settingsFromMetadata(metadata: Record<string, unknown> | undefined): AutoPickerCallSettings {
  if (!metadata) return {};
  const out: AutoPickerCallSettings = {};
  const budget = metadata.autopicker_run_budget;
  if (typeof budget === "object" && budget !== null)
    out.runBudget = budget as AutoPickerCallSettings["runBudget"];
  const p = metadata.autopicker_preference;
  if (p === "quality" || p === "balanced" || p === "cost") out.preference = p;
  if (typeof metadata.autopicker_model === "string") out.model = metadata.autopicker_model;
  if (typeof metadata.autopicker_task === "string") out.task = metadata.autopicker_task;
  const priority = metadata.autopicker_priority;
  const tenant = metadata.autopicker_tenant;
  if (priority !== undefined || tenant !== undefined) {
    validateCallPlace("metadata", { priority, tenant });
    if (priority !== undefined) out.priority = priority as Priority;
    if (tenant !== undefined) out.tenant = tenant as string;
  }
  return out;
}
