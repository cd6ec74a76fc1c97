import { AsyncLocalStorage } from "node:async_hooks";
import { currentEvidence, fetchWithEvidence } from "./sendEvidence";

/** Receives the headers of every HTTP response made inside {@link withHeaderSink}. */
export type HeaderSink = (headers: Headers) => void;

const sinks = new AsyncLocalStorage<HeaderSink>();

/**
 * A `fetch` that reports each response's headers to the sink of the current
 * {@link withHeaderSink} context, then returns the response untouched: the body is never read, so
 * streaming works as before. Outside a sink context it is the plain `fetch`.
 *
 * Inside an `AutoPickerChatModel` call it also ties each request to the call that made it, so the
 * limiter stamps the call's slot at the instant its request was really sent (with Node's fetch),
 * or when fetch was called (with any other `baseFetch`). On Node's own fetch the picker sees every
 * response's headers without it; pass it for another `baseFetch`, or to keep the tie exact when a
 * custom dispatcher queues requests.
 *
 * @param baseFetch the fetch to wrap; default the global `fetch`, looked up at call time.
 */
export function rateLimitHeadersFetch(baseFetch?: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await fetchWithEvidence(currentEvidence(), baseFetch ?? globalThis.fetch, input, init);
    const sink = sinks.getStore();
    if (sink) {
      try {
        sink(response.headers);
      } catch {
        // Bookkeeping must never fail the call it observes.
      }
    }
    return response;
  };
}

/**
 * Runs `fn` with `sink` receiving the headers of every response fetched by a
 * {@link rateLimitHeadersFetch} inside it (the context follows async calls), so each inner call's
 * headers reach the limiter of the model that made it.
 */
export function withHeaderSink<T>(sink: HeaderSink, fn: () => Promise<T>): Promise<T> {
  return sinks.run(sink, fn);
}
