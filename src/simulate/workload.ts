import type { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { HumanMessage } from "@langchain/core/messages";
import type { AutoPickerChatModel } from "../model/AutoPickerChatModel";
import type { DecisionTrail } from "../model/types";
import type { VirtualClock } from "../testing/virtualClock";
import { CallEvents } from "./callEvents";
import { promptOfTokens } from "./prompt";
import type { CallRecord, SimulationResult } from "./types";

/** What the workload driver needs. */
export interface WorkloadContext {
  picker: AutoPickerChatModel;
  clock: VirtualClock;
  workload: SimulationResult["workload"];
  /** Virtual latency of an answer from each entry name. */
  latencyMs: (servedBy: string) => number;
  /** Handlers attached to every call (e.g. the cost tracker). */
  callbacks: BaseCallbackHandler[];
}

/**
 * Runs the workload in virtual time and returns one record per call, in call order. Closed loop
 * (`concurrency` callers, each starting its next call when one finishes) unless `arrivalsPerMinute`
 * is set: then calls are released at that steady rate, whatever is in flight.
 */
export async function runWorkload(ctx: WorkloadContext): Promise<CallRecord[]> {
  const { clock, workload } = ctx;
  const start = clock.now();
  const records: CallRecord[] = new Array(workload.calls);
  if (workload.arrivalsPerMinute !== undefined) {
    const gapMs = 60_000 / workload.arrivalsPerMinute;
    await Promise.all(
      Array.from({ length: workload.calls }, async (_, i) => {
        await clock.sleep(Math.round(i * gapMs));
        records[i] = await oneCall(ctx, i, start);
      }),
    );
    return records;
  }
  let next = 0;
  const caller = async () => {
    while (next < workload.calls) {
      const i = next++;
      records[i] = await oneCall(ctx, i, start);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workload.concurrency ?? 10, workload.calls) }, caller));
  return records;
}

async function oneCall(ctx: WorkloadContext, index: number, start: number): Promise<CallRecord> {
  const { clock, picker } = ctx;
  const events = new CallEvents();
  const releasedAt = clock.now() - start;
  let servedBy: string | undefined;
  let error: string | undefined;
  let tokens = 0;
  let answeredAt: number | undefined;
  try {
    const message = await picker.invoke(
      [new HumanMessage(promptOfTokens(ctx.workload.promptTokens, index))],
      {
        callbacks: [...ctx.callbacks, events],
      },
    );
    servedBy = (message.response_metadata.autopicker as DecisionTrail | undefined)?.model;
    tokens = message.usage_metadata?.total_tokens ?? 0;
    answeredAt = clock.now() - start;
    // The answer takes the model's (virtual) latency to come back; the caller's slot stays taken.
    if (servedBy) await clock.sleep(ctx.latencyMs(servedBy));
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const finishedAt = clock.now() - start;
  return {
    index,
    releasedAt,
    finishedAt,
    ...(servedBy ? { servedBy } : {}),
    ...(answeredAt !== undefined ? { answeredAt } : {}),
    ...(error ? { error } : {}),
    latencyMs: finishedAt - releasedAt,
    waitMs: events.waitMs,
    waits: events.waits,
    fallbacks: events.fallbackReasons.length,
    fallbackReasons: events.fallbackReasons,
    tokens,
  };
}
