import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { type FallbackPayload, RATE_LIMIT_WAIT, type RateLimitWaitPayload } from "../model/events";

/** Collects the waits and fallbacks of one call from the picker's custom events. */
export class CallEvents extends BaseCallbackHandler {
  override name = "autopicker_simulate_call_events";
  override awaitHandlers = true;
  waitMs = 0;
  waits = 0;
  readonly fallbackReasons: string[] = [];

  override handleCustomEvent(eventName: string, data: unknown): void {
    if (eventName === RATE_LIMIT_WAIT) {
      this.waits++;
      this.waitMs += (data as RateLimitWaitPayload).wait_ms;
    } else if (eventName.endsWith("_fallback")) {
      this.fallbackReasons.push((data as FallbackPayload).reason);
    }
  }
}
