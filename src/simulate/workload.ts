import type { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { HumanMessage } from "@langchain/core/messages";
import type { Priority } from "../limits/priority";
import type { AutoPickerChatModel } from "../model/AutoPickerChatModel";
import type { AutoPickerCallSettings } from "../model/types";
import type { VirtualClock } from "../testing/virtualClock";
import { CallEvents, failureReasonOf, servedByOf, tokensOf } from "./callEvents";
import { promptOfTokens } from "./prompt";
import type { CallRecord, FailureReason, ResolvedWorkload } from "./types";

/** Where one call of a mixed workload queues: its stream's class and tenant. */
export interface CallPlace {
  stream: number;
  priority: Priority;
  tenant?: string;
}

/** What the workload driver needs. */
export interface WorkloadContext {
  picker: AutoPickerChatModel;
  clock: VirtualClock;
  workload: ResolvedWorkload;
  /** Arrival instants (virtual ms from the start) of every call, for an open-loop workload. */
  arrivals?: readonly number[];
  /** Mixed workloads: each call's stream, class and tenant, in call order. */
  places?: readonly CallPlace[];
  /** Virtual latency of call `index`'s answer from entry `servedBy`. */
  latencyMs: (servedBy: string, index: number) => number;
  /** Handlers attached to every call (e.g. the cost tracker). */
  callbacks: BaseCallbackHandler[];
}

/**
 * Runs the workload in virtual time and returns one record per call, in call order. Closed loop
 * (`concurrency` callers, each starting its next call when one finishes) unless `arrivals` are
 * given: then each call arrives at its instant whatever is in flight, and queues for a slot when a
 * `concurrency` cap is set.
 */
export async function runWorkload(ctx: WorkloadContext): Promise<CallRecord[]> {
  const { clock, workload, arrivals } = ctx;
  const start = clock.now();
  const records: CallRecord[] = new Array(workload.calls);
  if (arrivals) {
    const slots = workload.concurrency === undefined ? undefined : new Slots(workload.concurrency);
    await Promise.all(
      arrivals.map(async (at, i) => {
        await clock.sleep(at - (clock.now() - start));
        const releasedAt = clock.now() - start;
        await slots?.take();
        try {
          records[i] = await oneCall(ctx, i, start, releasedAt);
        } finally {
          slots?.give();
        }
      }),
    );
    return records;
  }
  let next = 0;
  const caller = async () => {
    while (next < workload.calls) {
      const i = next++;
      records[i] = await oneCall(ctx, i, start, clock.now() - start);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workload.concurrency ?? 10, workload.calls) }, caller));
  return records;
}

/** A counting semaphore: arriving calls wait in order for one of `n` slots. */
class Slots {
  private readonly queue: Array<() => void> = [];
  constructor(private free: number) {}

  take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  give(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
}

async function oneCall(
  ctx: WorkloadContext,
  index: number,
  start: number,
  releasedAt: number,
): Promise<CallRecord> {
  const { clock, picker } = ctx;
  const place = ctx.places?.[index];
  const events = new CallEvents();
  let servedBy: string | undefined;
  let failure: FailureReason | undefined;
  let error: string | undefined;
  let tokens = 0;
  let answeredAt: number | undefined;
  try {
    const message = await picker.invoke(
      [new HumanMessage(promptOfTokens(ctx.workload.promptTokens, index))],
      { callbacks: [...ctx.callbacks, events], ...(place ? { autopicker: placeSettings(place) } : {}) },
    );
    servedBy = servedByOf(message);
    tokens = tokensOf(message);
    answeredAt = clock.now() - start;
    // The answer takes the model's (virtual) latency to come back; the caller's slot stays taken.
    if (servedBy) await clock.sleep(ctx.latencyMs(servedBy, index));
  } catch (e) {
    failure = failureReasonOf(e);
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const finishedAt = clock.now() - start;
  return {
    index,
    releasedAt,
    finishedAt,
    ...(servedBy ? { servedBy } : {}),
    ...(answeredAt !== undefined ? { answeredAt } : {}),
    ...(failure ? { failure } : {}),
    ...(error ? { error } : {}),
    latencyMs: finishedAt - releasedAt,
    waitMs: events.waitMs,
    waits: events.waits,
    fallbackReasons: events.fallbackReasons,
    tokens,
    ...(place ? { stream: place.stream, priority: place.priority } : {}),
    ...(place?.tenant !== undefined ? { tenant: place.tenant } : {}),
  };
}

/** The call's `autopicker` setting: its class and tenant. */
function placeSettings(place: CallPlace): AutoPickerCallSettings {
  return { priority: place.priority, ...(place.tenant !== undefined ? { tenant: place.tenant } : {}) };
}
