import type { BaseMessage } from "@langchain/core/messages";
import type { DecisionTrail } from "./types";

/**
 * The decision trail the picker stamped on an answer (`response_metadata.autopicker`): which model
 * served, every attempt and wait, and why it fell back. `undefined` for a message the picker did
 * not produce. Typed access, so reading it needs no cast:
 *
 * @example
 * ```ts
 * const answer = await llm.invoke("Hi");
 * console.log(getDecisionTrail(answer)?.model); // "openai/gpt-4o-mini"
 * ```
 */
export function getDecisionTrail(message: BaseMessage | undefined): DecisionTrail | undefined {
  const trail = (message?.response_metadata as Record<string, unknown> | undefined)?.autopicker;
  return typeof trail === "object" && trail !== null && typeof (trail as DecisionTrail).model === "string"
    ? (trail as DecisionTrail)
    : undefined;
}
