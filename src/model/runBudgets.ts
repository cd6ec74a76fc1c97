import { RunBudget, type RunBudgetOptions } from "../cost/runBudget";
import { AutoPickerConfigError } from "../errors";

/**
 * The envelope a call belongs to. A `RunBudget` is used as given (share one explicitly); an
 * options object opens one envelope per object, so every nested call of a run that carries the same
 * object (run metadata is copied down by reference) shares it, and a fresh object per run starts a
 * fresh envelope.
 */
export class RunBudgets {
  private readonly byOptions = new WeakMap<object, RunBudget>();

  resolve(spec: RunBudget | RunBudgetOptions | undefined): RunBudget | undefined {
    if (spec === undefined) return undefined;
    if (isRunBudget(spec)) return spec;
    if (typeof spec !== "object" || spec === null) {
      throw new AutoPickerConfigError(
        `autopicker.runBudget must be a RunBudget or its options ({ maxUsd, maxTokens, maxModelCalls }), got ${typeof spec}.`,
      );
    }
    let budget = this.byOptions.get(spec);
    if (!budget) {
      budget = new RunBudget(spec);
      this.byOptions.set(spec, budget);
    }
    return budget;
  }
}

/** Duck-typed, so an envelope made by another copy of the package is still one. */
function isRunBudget(value: unknown): value is RunBudget {
  return (
    value instanceof RunBudget ||
    (typeof value === "object" &&
      value !== null &&
      typeof (value as RunBudget).reserve === "function" &&
      typeof (value as RunBudget).settle === "function" &&
      typeof (value as RunBudget).summary === "function")
  );
}
