/**
 * Evidence of when each HTTP request of one inner call really left and when its answer came back,
 * from Node's own HTTP client (undici, behind the global `fetch`) through `node:diagnostics_channel`:
 *
 * - `undici:request:create` ties an undici request to the call that made it (a WeakMap keyed by the
 *   request; the call is found through a synchronous marker that {@link rateLimitHeadersFetch}
 *   sets around the base fetch, else through AsyncLocalStorage, which is right at `create` because
 *   it fires synchronously inside `fetch()`, and wrong in every later channel);
 * - `undici:client:sendHeaders`: the request's first byte is about to be written to the socket, the
 *   lower bound of its arrival;
 * - `undici:request:bodySent`: its last byte was written. Not a lower bound (it can fire after the
 *   server has the request) but the instant the slot is stamped from: a busy event loop can write
 *   the body long after the headers, and a provider counts a request once it has read it;
 * - `undici:request:headers`: the response's status and headers, the upper bound of the arrival
 *   (minus `openai-processing-ms`, the server's own time) and the rate-limit headers of every
 *   client, Gemini and a plain `ChatOpenAI` included.
 *
 * Without undici (a custom fetch, node-fetch, a fake), {@link rateLimitHeadersFetch} still reports
 * when it called fetch and when fetch resolved (looser bounds); a client with neither reports
 * nothing, and the limiter keeps the instant it decided to send.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { subscribe } from "node:diagnostics_channel";
import type { Clock } from "../clock";
import type { HeaderSource } from "./headers";

/** Receives what a {@link SendEvidence} learns (the rate limiter implements it). @internal */
export interface EvidenceObserver {
  /** The call's first request was written out, at `evidence.writtenAt`. */
  onSent(evidence: SendEvidence): void;
  /** A response's headers arrived (`first`: the call's first response). */
  onResponse(evidence: SendEvidence, first: boolean): void;
}

/**
 * What one inner call did on the wire, filled in while it runs (see `RateLimiter.send`). Times are
 * on the limiter's clock. One call can make several HTTP requests (redirects, an SDK's own
 * retries); the times are the first request's, `status` and `headers` the latest response's.
 */
export class SendEvidence {
  /** HTTP requests the call created. A request that was created may have reached the provider. */
  requests = 0;
  /** When the first request was written to the socket (or, without undici, handed to fetch). */
  sentAt: number | undefined = undefined;
  /** When the first request's last byte was written (undici), else `sentAt`. */
  writtenAt: number | undefined = undefined;
  /** How `sentAt` was observed: `"socket"` (undici), `"fetch"` (the fetch wrapper) or `"caller"`. */
  sentBy: "socket" | "fetch" | "caller" | undefined = undefined;
  /** The origin the first request went to (`https://api.openai.com`). */
  origin: string | undefined = undefined;
  /** When the first response's headers arrived. */
  respondedAt: number | undefined = undefined;
  /** The latest response's HTTP status. */
  status: number | undefined = undefined;
  /** The latest response's `openai-processing-ms`, when it sent one. */
  processingMs: number | undefined = undefined;
  /**
   * The latest response's rate-limit headers (`x-ratelimit-*`, `anthropic-ratelimit-*`,
   * `retry-after`, `retry-after-ms`), lower-cased; `undefined` when it sent none.
   */
  headers: Record<string, string> | undefined = undefined;

  /** @internal */ clock: Clock | undefined = undefined;
  /** @internal */ observer: EvidenceObserver | undefined = undefined;
  /** @internal The limiter's ticket this call was booked under. */ ticket: unknown = undefined;
  /** @internal Set once the call returned: later requests in its async context are not its own. */
  closed = false;
  /** @internal A fetch wrapper ran in this call: `create` events found only by AsyncLocalStorage are not its own. */
  wrapped = false;
  /** @internal Store work started from channel events, awaited before the call returns. */
  pending: Promise<void> | undefined = undefined;

  /** Whether a request was written to the wire (or handed to a non-undici fetch). */
  get sent(): boolean {
    return this.sentAt !== undefined;
  }

  /** Whether a response (any status) came back. */
  get responded(): boolean {
    return this.respondedAt !== undefined;
  }

  /**
   * Reports a send that the channels cannot see (a custom transport): the request was written
   * out at `at` (default now on the limiter's clock). Only the first send of a call counts.
   */
  recordSent(at?: number, origin?: string): void {
    const t = at ?? this.now();
    this.noteSent(t, "caller", origin);
    this.noteWritten(t);
  }

  /** Reports a response that the channels cannot see (a custom transport). */
  recordResponse(status: number, headers: HeaderSource, at?: number): void {
    this.noteResponse(at ?? this.now(), status, headers);
  }

  /** @internal The first byte went out. */
  noteSent(at: number, by: "socket" | "fetch" | "caller", origin?: string): void {
    if (this.closed || this.sentAt !== undefined) return;
    this.sentAt = at;
    this.sentBy = by;
    if (origin !== undefined && this.origin === undefined) this.origin = origin;
  }

  /** @internal The last byte went out. */
  noteWritten(at: number): void {
    if (this.closed || this.writtenAt !== undefined || this.sentAt === undefined) return;
    this.writtenAt = at;
    this.observer?.onSent(this);
  }

  /** @internal */
  noteResponse(at: number, status: number, headers: HeaderSource): void {
    if (this.closed) return;
    this.status = status;
    this.readHeaders(headers);
    this.responded0(at);
  }

  /** @internal A response as undici's `headers` channel gives it: `[name, value, ...]`, Buffers or strings. */
  noteRawResponse(at: number, status: number, raw: ReadonlyArray<Buffer | string>): void {
    if (this.closed) return;
    this.status = status;
    const picked: Picked = { headers: undefined, processingMs: undefined };
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      // Cheap rejects before any string is made: every name we want is 11+ characters and starts
      // with x, a, r or o.
      if (name.length < 11) continue;
      const c = typeof name === "string" ? name.charCodeAt(0) | 0x20 : name[0]! | 0x20;
      if (c !== 0x78 && c !== 0x61 && c !== 0x72 && c !== 0x6f) continue;
      pick(
        picked,
        (typeof name === "string" ? name : name.toString("latin1")).toLowerCase(),
        String(raw[i + 1]),
      );
    }
    this.keep(picked);
    this.responded0(at);
  }

  private responded0(at: number): void {
    const first = this.respondedAt === undefined;
    if (first) this.respondedAt = at;
    this.observer?.onResponse(this, first);
  }

  private readHeaders(headers: HeaderSource): void {
    const picked: Picked = { headers: undefined, processingMs: undefined };
    if (typeof (headers as Headers).get === "function") {
      (headers as Headers).forEach((value, key) => {
        pick(picked, key.toLowerCase(), value);
      });
    } else {
      for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
        const value = Array.isArray(v) ? v[0] : v;
        if (value !== undefined) pick(picked, k.toLowerCase(), value);
      }
    }
    this.keep(picked);
  }

  private keep(picked: Picked): void {
    this.headers = picked.headers;
    const ms = picked.processingMs;
    this.processingMs = ms !== undefined && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
  }

  private now(): number {
    return this.clock ? this.clock.now() : Date.now();
  }
}

/** The headers of one response that the limiter reads. */
interface Picked {
  headers: Record<string, string> | undefined;
  processingMs: number | undefined;
}

function pick(into: Picked, key: string, value: string): void {
  if (key === "openai-processing-ms") into.processingMs = Number(value);
  else if (
    key.startsWith("x-ratelimit-") ||
    key.startsWith("anthropic-ratelimit-") ||
    key.startsWith("retry-after")
  ) {
    into.headers ??= {};
    into.headers[key] = value.trim();
  }
}

/** The call whose inner work is running (AsyncLocalStorage: right at `fetch()` time). */
const scope = new AsyncLocalStorage<SendEvidence>();
/** Set by the fetch wrapper around the synchronous part of the base fetch: what `create` sees first. */
let marker: SendEvidence | undefined;
/** undici request -> the call that created it. */
const byRequest = new WeakMap<object, SendEvidence>();

interface UndiciRequest {
  method?: string;
  origin?: string;
}

function onCreate(message: unknown): void {
  const request = (message as { request?: UndiciRequest }).request;
  if (!request || request.method === "CONNECT") return; // a proxy tunnel, not the call
  let ev = marker;
  if (ev === undefined) {
    // No wrapper on the stack: the call's async context. Not for a call whose fetch is wrapped:
    // its requests always come through the marker, so a `create` seen only here belongs to a
    // request another call queued in a limited pool.
    ev = scope.getStore();
    if (ev === undefined || ev.wrapped) return;
  }
  if (ev.closed) return;
  ev.requests++;
  if (ev.origin === undefined && typeof request.origin === "string") ev.origin = request.origin;
  byRequest.set(request, ev);
}

function onSendHeaders(message: unknown): void {
  const request = (message as { request?: object }).request;
  const ev = request && byRequest.get(request);
  if (ev?.clock) ev.noteSent(ev.clock.now(), "socket");
}

function onBodySent(message: unknown): void {
  const request = (message as { request?: object }).request;
  const ev = request && byRequest.get(request);
  if (ev?.clock) ev.noteWritten(ev.clock.now());
}

function onHeaders(message: unknown): void {
  const { request, response } = message as {
    request?: object;
    response?: { statusCode?: number; headers?: ReadonlyArray<Buffer | string> };
  };
  const ev = request && byRequest.get(request);
  if (!ev?.clock || !response) return;
  ev.noteRawResponse(ev.clock.now(), response.statusCode ?? 0, response.headers ?? []);
}

/** A subscriber that throws becomes an uncaughtException in the process: never let one escape. */
function guarded(fn: (message: unknown) => void): (message: unknown, name: string | symbol) => void {
  return (message) => {
    try {
      fn(message);
    } catch {
      // Bookkeeping must never break a request.
    }
  };
}

let subscribed = false;

/** Subscribes to the undici channels once per process (they publish only while someone listens). */
function ensureSubscribed(): void {
  if (subscribed) return;
  subscribed = true;
  // The top-level subscribe keeps the channel alive (a Channel object alone can be collected).
  subscribe("undici:request:create", guarded(onCreate));
  subscribe("undici:client:sendHeaders", guarded(onSendHeaders));
  subscribe("undici:request:bodySent", guarded(onBodySent));
  subscribe("undici:request:headers", guarded(onHeaders));
}

/**
 * Runs `fn` with `evidence` collecting what its HTTP requests do, then closes it: requests started
 * later in the same async context (a timer the call left behind) are not the call's. @internal
 */
export async function collectEvidence<T>(evidence: SendEvidence, fn: () => Promise<T>): Promise<T> {
  ensureSubscribed();
  try {
    return await scope.run(evidence, fn);
  } finally {
    evidence.closed = true;
    // Work queued while we waited is chained onto the same promise; wait until none is left.
    for (let p = evidence.pending; p; p = evidence.pending === p ? undefined : evidence.pending) await p;
  }
}

/** The evidence of the call running in this async context, if any. @internal */
export function currentEvidence(): SendEvidence | undefined {
  const ev = scope.getStore();
  return ev === undefined || ev.closed ? undefined : ev;
}

/**
 * Calls `baseFetch(input, init)` with `evidence` as the marker the undici `create` channel reads;
 * resolves with the response. When no undici request was created synchronously (not undici, or a
 * pool that queued it), reports the fetch call and its resolution instead. @internal
 */
export async function fetchWithEvidence(
  evidence: SendEvidence | undefined,
  baseFetch: typeof fetch,
  input: Parameters<typeof fetch>[0],
  init: Parameters<typeof fetch>[1],
): Promise<Response> {
  if (evidence === undefined) return baseFetch(input, init);
  ensureSubscribed();
  evidence.wrapped = true;
  const createdBefore = evidence.requests;
  const calledAt = evidence.clock ? evidence.clock.now() : Date.now();
  const previous = marker;
  marker = evidence;
  let pending: Promise<Response>;
  try {
    pending = baseFetch(input, init);
  } finally {
    marker = previous;
  }
  const response = await pending;
  if (evidence.requests === createdBefore && !evidence.closed) {
    // Not seen on the wire: fetch's own call and resolution (at the response headers) bound it.
    evidence.requests++;
    evidence.noteSent(calledAt, "fetch", originOf(input));
    evidence.noteWritten(calledAt);
    evidence.noteResponse(
      evidence.clock ? evidence.clock.now() : Date.now(),
      response.status,
      response.headers,
    );
  }
  return response;
}

function originOf(input: Parameters<typeof fetch>[0]): string | undefined {
  try {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
