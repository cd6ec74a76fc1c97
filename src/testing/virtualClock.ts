import { abortReason, type Clock } from "../clock";

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export interface VirtualClockOptions {
  /** Start time, epoch ms. Default 2026-01-01T00:00:00Z. */
  startMs?: number;
  /**
   * When true (default), time jumps to the next pending timer as soon as no work is in flight
   * (see {@link Clock.busy}), so code that sleeps for minutes runs in microseconds.
   * When false, only {@link VirtualClock.advance} moves time.
   */
  autoAdvance?: boolean;
}

/**
 * A clock for tests and simulations. Sleepers wake strictly in order of wake time; with
 * `autoAdvance`, time never moves while any `busy()` work is pending, so an HTTP request to the
 * simulator arrives at the virtual instant it was sent.
 */
export class VirtualClock implements Clock {
  private current: number;
  private readonly timers: Timer[] = [];
  private seq = 0;
  private inFlight = 0;
  private scheduled = false;
  private readonly autoAdvance: boolean;

  constructor(options: VirtualClockOptions = {}) {
    this.current = options.startMs ?? Date.UTC(2026, 0, 1);
    this.autoAdvance = options.autoAdvance ?? true;
  }

  now(): number {
    return this.current;
  }

  /** Number of sleepers not yet woken. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = {
        at: this.current + ms,
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
        reject(abortReason(signal!));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.insert(timer);
      this.schedule();
    });
  }

  busy<T>(work: Promise<T>): Promise<T> {
    this.inFlight++;
    return work.finally(() => {
      this.inFlight--;
      this.schedule();
    });
  }

  /** Moves time forward by `ms`, waking every sleeper due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.wakeNext();
      await settle();
    }
    this.current = target;
  }

  /** Sets the time to an absolute instant (never backwards), waking sleepers due by then. */
  async setTime(ms: number): Promise<void> {
    await this.advance(Math.max(0, ms - this.current));
  }

  private insert(timer: Timer): void {
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.at > timer.at) i--;
    this.timers.splice(i, 0, timer);
  }

  /** Wakes every timer sharing the earliest wake time. */
  private wakeNext(): void {
    const first = this.timers[0];
    if (!first) return;
    this.current = Math.max(this.current, first.at);
    while (this.timers[0] && this.timers[0].at <= this.current) this.timers.shift()!.resolve();
  }

  private schedule(): void {
    if (!this.autoAdvance || this.scheduled) return;
    this.scheduled = true;
    // Two macrotask turns let continuations of just-woken sleepers register their busy() work
    // before we decide nothing is running.
    setImmediate(() =>
      setImmediate(() => {
        this.scheduled = false;
        if (this.inFlight === 0 && this.timers.length > 0) {
          this.wakeNext();
          this.schedule();
        }
      }),
    );
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
