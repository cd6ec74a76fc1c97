/**
 * Time as the package sees it. Every wait (rate limits, backoff, circuit cooldowns) goes through a
 * `Clock`, so tests can run hours of rate limiting in virtual time.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Marks `work` as in flight. A virtual clock does not jump over in-flight work, so a request is
   * stamped by the provider at the same virtual time it was sent. The system clock ignores it.
   */
  busy<T>(work: Promise<T>): Promise<T>;
}

/** The error a wait rejects with when its signal aborts and gave no reason of its own. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

/**
 * Real time. A sleep is a wait some caller awaits, so its timer is referenced: it keeps the process
 * alive like pending I/O (an unref'd one lets a batch script exit mid-wait, with its remaining
 * calls never run). Aborting the wait clears the timer at once.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
  busy: (work) => work,
};

/**
 * Settles with `work`, or rejects as soon as `signal` aborts. Some clients (Gemini's invoke) never
 * pass the signal to their HTTP request, so the caller must stop waiting on its own.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined); // the abandoned call may still fail later; that is not an unhandled rejection
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
