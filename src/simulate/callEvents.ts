import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import {
  RATE_LIMIT_FALLBACK,
  RATE_LIMIT_WAIT,
  type RateLimitFallbackEvent,
  type RateLimitWaitEvent,
} from "../model/events";

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
      this.waitMs += (data as RateLimitWaitEvent).wait_ms;
    } else if (eventName === RATE_LIMIT_FALLBACK) {
      this.fallbackReasons.push((data as RateLimitFallbackEvent).reason);
    }
  }
}
