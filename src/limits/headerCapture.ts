import { AsyncLocalStorage } from "node:async_hooks";

/** Receives the headers of every HTTP response made inside {@link withHeaderSink}. */
export type HeaderSink = (headers: Headers) => void;

const sinks = new AsyncLocalStorage<HeaderSink>();

/**
 * A `fetch` that reports each response's headers to the sink of the current
 * {@link withHeaderSink} context, then returns the response untouched: the body is never read, so
 * streaming works as before. Outside a sink context it is the plain `fetch`.
 *
 * Success headers (`x-ratelimit-remaining-*`) are only visible this way with the OpenAI SDK:
 * `new ChatOpenAI({ configuration: { fetch: rateLimitHeadersFetch() } })`.
 *
 * @param baseFetch the fetch to wrap; default the global `fetch`, looked up at call time.
 */
export function rateLimitHeadersFetch(baseFetch?: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await (baseFetch ?? globalThis.fetch)(input, init);
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
