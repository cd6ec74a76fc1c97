import type { FullTokenUsage } from "./callUsage";
import type { CostBreakdown } from "./pricing";

/** Fields every {@link CostRecord} has. */
export interface CostRecordBase {
  /** The chat-model run. */
  runId: string;
  parentRunId?: string;
  /** The outermost run we saw above this call (an agent or chain invocation), or the call itself. */
  rootRunId: string;
  /** The model that served (see `identifyServedModel`); `null` if nothing named it. */
  model: string | null;
  provider?: string;
  /** Token counts, or `null` when the model reported none. */
  usage: FullTokenUsage | null;
  /** Epoch ms when the call ended. */
  at: number;
  /** The run's metadata (inherited from `invoke(..., { metadata })` and the model's own). */
  metadata: Readonly<Record<string, unknown>>;
  tags: readonly string[];
}

/** Why a call has no cost. */
export type UnpricedReason = "unknown_model" | "no_usage";

/** The cost of one chat-model call, as handed to `onCost`. Switch on `status`. */
export type CostRecord = CostRecordBase &
  (
    | { status: "priced"; cost: CostBreakdown; costUsd: number }
    /** Answered from a LangChain cache: no provider call, no cost. */
    | { status: "cached"; cost: null; costUsd: 0 }
    /** Could not be priced. Counted as a request, never as $0. */
    | { status: "unpriced"; reason: UnpricedReason; cost: null; costUsd: null }
  );
