import type { BaseMessage } from "@langchain/core/messages";

/** What {@link truncateToFit} kept and what it cost. */
export interface TruncationResult {
  /** The kept messages, in their original order. */
  messages: BaseMessage[];
  /** How many input messages were left out. */
  dropped: number;
  /** Estimated tokens of the left-out messages (per-message cost as `count` sees it). */
  droppedTokens: number;
}

/** Messages that stand or fall together: one message, or an AI tool-call message with its results. */
interface Unit {
  indices: number[];
  cost: number;
  startsWithHuman: boolean;
}

function toolCallIds(message: BaseMessage): Set<string> | undefined {
  if (message.type !== "ai") return undefined;
  const calls = (message as { tool_calls?: ReadonlyArray<{ id?: string }> }).tool_calls;
  if (!calls || calls.length === 0) return undefined;
  return new Set(calls.map((c) => c.id ?? ""));
}

/**
 * Drops messages until `count(result) <= maxTokens`, keeping what a model needs most:
 *
 * 1. every system message (always, even when they alone exceed the budget);
 * 2. the first human message (usually the task), when it fits next to the system messages;
 * 3. the most recent turns that still fit, as one contiguous tail (no holes in recent history).
 *
 * An AI message with `tool_calls` is kept or dropped together with the ToolMessages that answer it,
 * so the result never holds an orphan ToolMessage nor a tool call without its results (when
 * truncating, a ToolMessage that was already an orphan in the input is dropped too). When the first human
 * message is not kept, the tail starts at a human message, so the first message after the system
 * prompt is always a user turn.
 *
 * When not even that fits, the caller gets the best effort: the system messages, plus the first
 * human message only if it fits, plus whatever tail fits (possibly none). `count(result)` may then
 * still exceed `maxTokens` (system messages alone too big), or the result may hold no user message
 * at all; callers must check both and fail (e.g. `ContextWindowExceededError`) rather than send it.
 *
 * `count` is called once per message plus a few times on the result, so it should be cheap and
 * cached (e.g. `TokenEstimator.estimate`); the costs assume it is additive per message.
 */
export function truncateToFit(
  messages: BaseMessage[],
  maxTokens: number,
  count: (msgs: BaseMessage[]) => number,
): TruncationResult {
  // Fits already: return as is (a copy), no per-message counting.
  if (count(messages) <= maxTokens) return { messages: [...messages], dropped: 0, droppedTokens: 0 };

  const base = count([]); // reply priming, tool definitions: paid once whatever is kept
  const costOf = (m: BaseMessage) => Math.max(0, count([m]) - base);
  const costs = messages.map(costOf);

  const systemIndices: number[] = [];
  const units: Unit[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    if (message.type === "system") {
      systemIndices.push(i);
      continue;
    }
    if (message.type === "tool") continue; // answered tool results are claimed below; the rest are orphans
    const unit: Unit = { indices: [i], cost: costs[i]!, startsWithHuman: message.type === "human" };
    const ids = toolCallIds(message);
    if (ids) {
      // Results follow their call; a system message between them is kept anyway and skipped here.
      for (let j = i + 1; j < messages.length; j++) {
        const next = messages[j]!;
        if (next.type === "system") continue;
        if (next.type !== "tool" || !ids.has((next as { tool_call_id?: string }).tool_call_id ?? "")) break;
        unit.indices.push(j);
        unit.cost += costs[j]!;
      }
    }
    units.push(unit);
  }

  let budget = maxTokens - base - systemIndices.reduce((sum, i) => sum + costs[i]!, 0);
  const firstHuman = units.findIndex((u) => u.startsWithHuman);
  let keepFirstHuman = firstHuman >= 0 && units[firstHuman]!.cost <= budget;
  if (keepFirstHuman) budget -= units[firstHuman]!.cost;

  // Take whole units from the end while they fit; stop at the first that does not.
  const floor = keepFirstHuman ? firstHuman + 1 : 0;
  let tailStart = units.length;
  while (tailStart > floor && units[tailStart - 1]!.cost <= budget) {
    tailStart--;
    budget -= units[tailStart]!.cost;
  }
  let keep = new Set<number>();
  const assemble = () => {
    keep = new Set<number>(systemIndices);
    if (keepFirstHuman) for (const i of units[firstHuman]!.indices) keep.add(i);
    else while (tailStart < units.length && !units[tailStart]!.startsWithHuman) tailStart++;
    for (let u = tailStart; u < units.length; u++) for (const i of units[u]!.indices) keep.add(i);
    return messages.filter((_, i) => keep.has(i));
  };

  let kept = assemble();
  // The per-message costs assume an additive count; confirm on the real thing (rounding, corrections).
  while (count(kept) > maxTokens) {
    if (tailStart < units.length) tailStart++;
    else if (keepFirstHuman) keepFirstHuman = false;
    else break; // only system messages left
    kept = assemble();
  }

  let droppedTokens = 0;
  for (let i = 0; i < messages.length; i++) if (!keep.has(i)) droppedTokens += costs[i]!;
  return { messages: kept, dropped: messages.length - kept.length, droppedTokens };
}
