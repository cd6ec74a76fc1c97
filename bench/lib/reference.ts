/**
 * The reference client of the latency benchmark: it books each slot when undici reports the
 * request body sent, plus a fixed allowance, and does nothing else (no token estimates, no
 * headers, no fallbacks, no Redis). A sliding-window log of those stamps; a call may go when the
 * stamps still in the window plus the calls sent but not stamped yet leave room. FIFO. A 429 is
 * retried after its Retry-After. Written for the benchmark only: it is the yardstick "stamp by
 * evidence of the send" at its simplest.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { subscribe } from "node:diagnostics_channel";

interface Call {
  client: SendStampingClient;
  stamped: boolean;
}

const calls = new AsyncLocalStorage<Call>();
const byRequest = new WeakMap<object, Call>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  subscribe("undici:request:create", (m) => {
    const request = (m as { request?: object }).request;
    const call = calls.getStore();
    // At create, the async context is the caller's (it fires synchronously inside fetch()).
    if (request && call) byRequest.set(request, call);
  });
  subscribe("undici:request:bodySent", (m) => {
    const request = (m as { request?: object }).request;
    const call = request && byRequest.get(request);
    if (call && !call.stamped) call.client.stamp(call);
  });
}

export class SendStampingClient {
  private readonly stamps: number[] = [];
  private unstamped = 0;
  private readonly waiting: Array<() => void> = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly limit: number,
    private readonly intervalMs: number,
    private readonly marginMs = 25,
  ) {
    install();
  }

  /** Runs `fn` (one request) in a slot, retrying 429s after their Retry-After (up to 6 attempts). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(fn);
      } catch (error) {
        const e = error as { status?: number; headers?: { get?(name: string): string | null } };
        if (e.status !== 429 || attempt >= 6) throw error;
        const hint = Number(e.headers?.get?.("retry-after-ms") ?? "");
        await new Promise((r) => setTimeout(r, Number.isFinite(hint) && hint > 0 ? hint : 1000));
      }
    }
  }

  /** Stamps a call from the body-sent event (or at the end of a call that never sent one). */
  stamp(call: Call): void {
    call.stamped = true;
    this.unstamped--;
    this.stamps.push(Date.now() + this.marginMs);
    this.stamps.sort((a, b) => a - b);
    this.admit();
  }

  private async once<T>(fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.admit();
    });
    const call: Call = { client: this, stamped: false };
    try {
      return await calls.run(call, fn);
    } finally {
      if (!call.stamped) this.stamp(call);
    }
  }

  /** Lets waiting calls go, in order, while the window has room; else wakes when it will. */
  private admit(): void {
    const now = Date.now();
    while (this.stamps.length > 0 && this.stamps[0]! <= now - this.intervalMs) this.stamps.shift();
    while (this.waiting.length > 0 && this.stamps.length + this.unstamped < this.limit) {
      this.unstamped++;
      this.waiting.shift()!();
    }
    if (this.waiting.length > 0 && this.stamps.length > 0 && this.timer === undefined) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.admit();
        },
        this.stamps[0]! + this.intervalMs - now + 1,
      );
    }
  }
}
