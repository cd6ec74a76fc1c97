import { type Clock, systemClock } from "../clock";
import { AutoPickerConfigError } from "../errors";
import {
  type Dimension,
  dimensionKey,
  dimensionName,
  MINUTE_MS,
  resolveDimensions,
  windowSpecs,
} from "./dimensions";
import { parseRateLimitHeaders } from "./headers";
import { MemoryRateLimitStore, RETRY_HINT_DIMENSION } from "./memoryStore";
import { DEFAULT_PLACE, priorityOfRank, priorityRank, type QueuePlace } from "./priority";
import { collectEvidence, type EvidenceObserver, SendEvidence } from "./sendEvidence";
import type {
  RateLimitStore,
  StoreConfirmResult,
  StorePlace,
  StoreReserveResult,
  StoreTarget,
} from "./store";
import { TransitMargin } from "./transitMargin";
import {
  type LimiterStatus,
  type LimitUnit,
  type ModelLimits,
  PRIORITY_DIMENSION,
  type ProviderRateLimitState,
  type ReservationTicket,
  type ReserveDecision,
} from "./types";

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Where bookings live; default an in-process {@link MemoryRateLimitStore}. */
  store?: RateLimitStore;
  /** Every time read goes through this clock; default the system clock. */
  clock?: Clock;
  /**
   * Transit allowance, ms: how long after a request is written to the socket the provider may
   * still be about to stamp it. Each slot is booked at the request's real send instant plus this
   * (a number, or a function of the model's shortest sliding window); it is where learning starts
   * (see {@link RateLimiterOptions.learnArrivalMargin}). Default {@link defaultArrivalMargin}:
   * 1% of the window, at least 25 ms, at most 1 s.
   */
  arrivalMarginMs?: number | ((intervalMs: number) => number);
  /**
   * Learn the allowance per model and endpoint from the provider's answers: narrower while
   * responses bound the transit tightly and the provider's `x-ratelimit-remaining-*` agrees with
   * the local log, wider after a 429 the local log did not predict. Default true.
   */
  learnArrivalMargin?: boolean;
}

const OPTION_KEYS = new Set(["store", "clock", "arrivalMarginMs", "learnArrivalMargin"]);

/** The default {@link RateLimiterOptions.arrivalMarginMs}. */
export function defaultArrivalMargin(intervalMs: number): number {
  return Math.min(1000, Math.max(25, Math.ceil(intervalMs * 0.01)));
}

/** A cap within this of the current stamp moves nothing (earlier by less is not worth a store call). */
const STAMP_SLACK_MS = 1;

/** What the limiter knows about one model's limits. */
interface ModelEntry {
  /** From `configure()`. */
  configured: Dimension[];
  /** Learned from provider headers, by {@link dimensionKey}: only ever lowered. */
  learned: Map<string, { unit: LimitUnit; intervalMs: number; limit: number }>;
  /** Bumped on every block, so a sleeper can tell a new retry hint arrived while it slept. */
  blockEpoch: number;
  /** The effective dimensions (configured lowered by learned), rebuilt when either changes. */
  dims: Dimension[] | undefined;
  /** The base transit allowance for `dims`. */
  base: number;
  /** Transit allowance learned per endpoint (origin). */
  margins: Map<string, TransitMargin>;
  /** The endpoint the model's calls went to last. */
  origin: string;
  /** The latest retry-hint block set through this limiter. */
  blockedUntil: number;
}

/** A ticket as this limiter issues it: the public fields plus where its slot stands. */
class Ticket implements ReservationTicket {
  constructor(
    readonly model: string,
    readonly id: string,
    readonly tokens: number,
    public startAt: number,
    /** Where its entries stand now (the arrival estimate), on the limiter's clock. */
    public at: number,
    /** Whether the store booked entries for it (the model had limits). */
    readonly booked: boolean,
  ) {}

  /** Confirmed provisionally and not stamped since: the store holds it at "not sent yet". */
  provisional = false;
  /** Told when a higher-class reservation moved the slot later (`startAt` is already the new one). */
  onMoved: (() => void) | undefined;
}

/**
 * Told before a call sleeps for its slot: how long, from now. `movedByMs` when the sleep is the
 * rest of a wait already told whose slot the queue moved: by how much (> 0 later, behind a
 * higher-class arrival; < 0 earlier, when a re-slot finds an earlier gap).
 */
export type WaitListener = (waitMs: number, movedByMs?: number) => void | Promise<void>;

/**
 * Tells one reservation's wait: the first slot as a wait, each later slot as a move by the
 * difference from the last one told (so a move that lands while nobody sleeps, or one learned
 * only at send time, is told exactly once, by the right amount).
 */
class WaitTeller {
  private toldAt: number | undefined = undefined;

  constructor(
    private readonly clock: Clock,
    private readonly listener: WaitListener | undefined,
  ) {}

  /**
   * Tells `startAt` if it is in the future and differs from what was told. Synchronous when
   * there is nothing to tell or nobody listens (a sleep is then armed without a microtask hop).
   */
  tell(startAt: number): void | Promise<void> {
    const waitMs = startAt - this.clock.now();
    if (waitMs <= 0 || startAt === this.toldAt) return;
    const movedByMs = this.toldAt === undefined ? undefined : startAt - this.toldAt;
    this.toldAt = startAt;
    return this.listener?.(waitMs, movedByMs);
  }
}

/** Why a sleep ended early: the slot moved, sleep again to the new instant. */
const MOVED = Symbol("moved");

/**
 * Knows each model's limits and answers "when may this call go?" with the exact earliest instant,
 * booking it so concurrent callers queue in order with one sleep each. It never sleeps itself
 * (except in {@link RateLimiter.acquire}); the caller sleeps `waitMs` and sends.
 *
 * The guarantee: for every dimension, the calls booked in any span of its interval (any 60 s for a
 * per-minute limit; any local day for a calendar limit) never exceed its limit, where each call
 * counts from the latest instant the provider can have stamped it: its request's real send
 * instant plus a transit allowance, or the first byte of its answer minus the server's own
 * processing time when that is earlier (see {@link RateLimiter.send}).
 */
export class RateLimiter {
  private readonly store: RateLimitStore;
  /** The store is this limiter's own in-process one: nobody else books or blocks in it. */
  private readonly ownStore: boolean;
  private readonly clock: Clock;
  private readonly models = new Map<string, ModelEntry>();
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);
  private readonly margin: (intervalMs: number) => number;
  private readonly learnMargin: boolean;
  /** Booked, not sent yet, by `model \0 entryId`: a reservation that moves one tells its sleeper. */
  private readonly waiting = new Map<string, Ticket>();
  private readonly observer: EvidenceObserver = {
    onSent: (ev) => this.onSent(ev),
    onResponse: (ev, first) => this.onResponse(ev, first),
  };

  constructor(options: RateLimiterOptions = {}) {
    for (const k of Object.keys(options)) {
      if (!OPTION_KEYS.has(k)) {
        throw new AutoPickerConfigError(
          `RateLimiter: unknown option "${k}" (known: ${[...OPTION_KEYS].join(", ")}).`,
        );
      }
    }
    this.store = options.store ?? new MemoryRateLimitStore();
    this.ownStore = options.store === undefined;
    this.clock = options.clock ?? systemClock;
    const margin = options.arrivalMarginMs ?? defaultArrivalMargin;
    if (typeof margin === "number" && !(Number.isFinite(margin) && margin >= 0)) {
      throw new AutoPickerConfigError(
        `arrivalMarginMs must be a non-negative number of ms, got ${String(margin)}.`,
      );
    }
    this.margin = typeof margin === "number" ? () => margin : margin;
    this.learnMargin = options.learnArrivalMargin ?? true;
  }

  /**
   * Sets (or with `undefined`, clears) a model's limits, and forgets limits learned from headers.
   * @throws AutoPickerConfigError when a number is not positive and finite, a field is unknown or
   *   the time zone is not an IANA zone.
   */
  configure(model: string, limits: ModelLimits | undefined): void {
    if (typeof model !== "string" || model === "")
      throw new AutoPickerConfigError("Model name must be non-empty.");
    const configured = limits === undefined ? [] : resolveDimensions(model, limits);
    const prev = this.models.get(model);
    this.models.set(model, {
      configured,
      learned: new Map(),
      blockEpoch: prev?.blockEpoch ?? 0,
      dims: undefined,
      base: 0,
      margins: prev?.margins ?? new Map(),
      origin: prev?.origin ?? "",
      blockedUntil: prev?.blockedUntil ?? 0,
    });
  }

  /**
   * Books one request plus `cost.tokens` on every dimension of its unit, at the earliest instant
   * they all allow. Books nothing when that is more than `maxWaitMs` away or can never happen.
   */
  async reserve(
    model: string,
    cost: { tokens: number },
    options: {
      maxWaitMs: number;
      /** Where the call queues when the model is saturated; default `normal`, no tenant. */
      place?: Partial<QueuePlace>;
    },
  ): Promise<ReserveDecision> {
    const tokens = checkTokens(cost.tokens);
    const maxWaitMs = Math.max(0, options.maxWaitMs);
    const target = this.target(model);
    const booked = target.windows.length > 0;
    if (!booked && this.ownStore) {
      // Nothing to book: without windows a booking only waits for a retry hint, and every hint
      // in this store came through this limiter.
      const start = Math.max(target.now, this.entry(model).blockedUntil);
      const waitMs = start - target.now;
      if (waitMs > maxWaitMs) return { kind: "wait_too_long", waitMs, dimension: RETRY_HINT_DIMENSION };
      const ticket = new Ticket(model, this.idPrefix + ":", tokens, start, start, false);
      return { kind: "granted", waitMs, startAt: start, ticket };
    }
    const arrivalMarginMs = booked ? this.marginFor(model) : 0;
    const place = storePlace(options.place);
    const r = await this.store.reserve({
      ...target,
      tokens,
      maxWaitMs,
      arrivalMarginMs,
      ...(place ? { place } : {}),
    });
    if (r.kind !== "granted") return r;
    const ticket = new Ticket(
      model,
      `${this.idPrefix}:${r.entryId}`,
      tokens,
      r.startAt,
      r.startAt + arrivalMarginMs,
      booked,
    );
    // Only a slot after "now" can be moved: the others need no sleeper to tell.
    if (booked && r.startAt > target.now) this.waiting.set(waitingKey(model, r.entryId), ticket);
    this.moveSleepers(model, r, arrivalMarginMs);
    return { kind: "granted", waitMs: r.waitMs, startAt: r.startAt, ticket };
  }

  /** The ticket is sent or given back: reservations no longer tell it of moves. */
  private forget(ticket: ReservationTicket): void {
    const entryId = this.entryId(ticket);
    if (entryId !== undefined) this.waiting.delete(waitingKey(ticket.model, entryId));
  }

  /** Bookings of ours the reservation moved later: their sleepers sleep on to the new start. */
  private moveSleepers(model: string, r: StoreReserveResult & { kind: "granted" }, margin: number): void {
    for (const m of r.moved ?? []) {
      const t = this.waiting.get(waitingKey(model, m.entryId));
      if (!t) continue; // another process's: it learns at its confirm
      t.startAt = m.startAt;
      t.at = m.startAt + margin;
      t.onMoved?.();
    }
  }

  /**
   * {@link reserve}, then sleeps until the slot (honouring `signal`). If a provider's retry hint
   * arrived during the sleep and blocks the slot, gives the slot back and queues again within
   * what is left of `maxWaitMs`. On abort the slot is refunded and the signal's reason is thrown.
   * A granted answer's `waitMs` is the total time waited.
   */
  async acquire(
    model: string,
    cost: { tokens: number },
    options: {
      maxWaitMs: number;
      signal?: AbortSignal;
      /** Told the wait before each sleep (progress displays, `rate_limit_wait` events). */
      onWait?: WaitListener;
      /** Where the call queues when the model is saturated; default `normal`, no tenant. */
      place?: Partial<QueuePlace>;
    },
  ): Promise<ReserveDecision> {
    const began = this.clock.now();
    for (;;) {
      options.signal?.throwIfAborted();
      const left = options.maxWaitMs - (this.clock.now() - began);
      // Taken before reserving, so a hint that lands while the store answers is not missed.
      const epoch = this.entry(model).blockEpoch;
      const reserveOptions = {
        maxWaitMs: Math.max(0, left),
        ...(options.place ? { place: options.place } : {}),
      };
      const d = await this.reserve(model, cost, reserveOptions);
      if (d.kind !== "granted") return d;
      const ticket = d.ticket as Ticket;
      // A call due at once that a move delays is simply waiting: its first slot told is a wait.
      const teller = new WaitTeller(this.clock, options.onWait);
      try {
        const moved = await this.sleepToSlot(ticket, began, options, teller);
        if (moved) return moved;
      } catch (err) {
        await this.cancel(d.ticket);
        throw err;
      }
      if (this.entry(model).blockEpoch !== epoch) {
        const { blockedUntil } = await this.status(model);
        if (blockedUntil !== undefined && blockedUntil > this.clock.now()) {
          await this.cancel(d.ticket);
          continue;
        }
      }
      const late = await this.confirmAtSend(model, ticket, began, options, teller);
      if (late === "lost") continue; // the store forgot the booking: queue again
      if (late) return late;
      this.forget(ticket); // on its way: nothing moves it any more
      return { ...d, startAt: ticket.startAt, waitMs: this.clock.now() - began };
    }
  }

  /**
   * One sleep to the ticket's slot. When a higher-class reservation moves the slot later, the
   * sleep is re-armed to the new instant (no wake-up at the old one), or, past `maxWaitMs`, the
   * slot is given back and the call refused as today.
   */
  private async sleepToSlot(
    ticket: Ticket,
    began: number,
    options: { maxWaitMs: number; signal?: AbortSignal },
    teller: WaitTeller,
  ): Promise<ReserveDecision | undefined> {
    const { signal } = options;
    for (;;) {
      // Told before each sleep; a move while the listener ran is told before the sleep too.
      for (let at = Number.NaN; at !== ticket.startAt; ) {
        at = ticket.startAt;
        const told = teller.tell(at);
        if (told) await told;
      }
      // Sleep to the booked instant, not for `waitMs`: time passed while the store answered.
      const sleepMs = ticket.startAt - this.clock.now();
      // Due now: nothing can move it any more (only slots after "now" move).
      if (sleepMs <= 0) return undefined;
      // One controller per sleep, aborted by a move or by the caller's signal (its listener
      // removed right after, rather than a composite AbortSignal.any per sleep).
      const wake = new AbortController();
      const onAbort = () => wake.abort(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      ticket.onMoved = () => wake.abort(MOVED);
      try {
        signal?.throwIfAborted();
        await this.clock.sleep(sleepMs, wake.signal);
        return undefined;
      } catch (err) {
        if (wake.signal.reason !== MOVED) throw err;
      } finally {
        ticket.onMoved = undefined;
        signal?.removeEventListener("abort", onAbort);
      }
      const waitMs = ticket.startAt - began;
      if (waitMs > options.maxWaitMs) {
        await this.cancel(ticket);
        return { kind: "wait_too_long", waitMs, dimension: PRIORITY_DIMENSION };
      }
    }
  }

  /**
   * Runs `fn`, the inner call of a granted ticket, and stamps the ticket's slot from evidence of
   * when its request really reached the provider: booked at the instant the request was written
   * to the socket plus the transit allowance (a busy event loop can send hundreds of ms after the
   * decision to send), then bounded by the first byte of the answer minus the server's reported
   * processing time. It never holds the slot until the answer is complete. The response's
   * rate-limit headers are learned on the way (any client on Node's fetch, no wrapper needed).
   *
   * Resolves or rejects exactly as `fn` does: bookkeeping never fails the call. Pass `evidence`
   * to read afterwards what the call did on the wire (whether a request was sent, the status).
   */
  async send<T>(
    ticket: ReservationTicket,
    fn: () => Promise<T>,
    evidence: SendEvidence = new SendEvidence(),
  ): Promise<T> {
    evidence.clock = this.clock;
    const own = ticket instanceof Ticket && this.entryId(ticket) !== undefined ? ticket : undefined;
    if (own) this.forget(own);
    evidence.ticket = own;
    evidence.observer = own ? this.observer : undefined;
    try {
      return await collectEvidence(evidence, fn);
    } finally {
      // Not seen written out: the first byte's instant, else the decision's, stands (and the slot
      // stops being provisional).
      if (own?.provisional) {
        const at = evidence.sentAt === undefined ? own.at : evidence.sentAt + this.marginFor(own.model);
        this.restamp(evidence, own, Math.max(own.at, at));
        if (evidence.pending) await evidence.pending;
      }
    }
  }

  /**
   * Re-checks a granted booking when it is about to be sent and stamps it then (see
   * {@link RateLimitStore.confirm}); sleeps the extra if calls booked before it left late.
   * Returns a refusal only when that extra would exceed `maxWaitMs`.
   */
  private async confirmAtSend(
    model: string,
    ticket: Ticket,
    began: number,
    options: { maxWaitMs: number; signal?: AbortSignal },
    teller: WaitTeller,
  ): Promise<ReserveDecision | "lost" | undefined> {
    const entryId = this.entryId(ticket);
    if (!this.store.confirm || !entryId) return undefined;
    for (;;) {
      let r: StoreConfirmResult;
      const target = this.target(model);
      const arrivalMarginMs = ticket.booked ? this.marginFor(model) : 0;
      // Provisional until `send` sees the request on the wire (or the call ends without it).
      const provisional = ticket.booked && this.store.stamp !== undefined;
      try {
        r = await this.store.confirm({ ...target, entryId, arrivalMarginMs, provisional });
      } catch (err) {
        // A fail-closed store refused: give the slot back rather than leave it booked until expiry.
        await this.cancel(ticket).catch(() => undefined);
        throw err;
      }
      if (r.ok) {
        ticket.at = target.now + arrivalMarginMs;
        ticket.provisional = provisional;
        this.forget(ticket);
        return undefined;
      }
      if (r.lost) return "lost";
      if (r.retryAt - began > options.maxWaitMs) {
        await this.cancel(ticket);
        const dimension = r.moved ? PRIORITY_DIMENSION : "send_lag";
        return { kind: "wait_too_long", waitMs: r.retryAt - began, dimension };
      }
      if (r.moved) ticket.startAt = r.retryAt;
      try {
        // Moved by another replica's higher-class call: learned only now, told like a local move.
        const told = r.moved ? teller.tell(r.retryAt) : undefined;
        if (told) await told;
        await this.clock.sleep(r.retryAt - this.clock.now(), options.signal);
      } catch (err) {
        await this.cancel(ticket);
        throw err;
      }
    }
  }

  /**
   * The call came back: replace the token estimate by `actualTokens` (a refund or a debt). The
   * slot stays where evidence of the request's arrival put it (see {@link send}). Idempotent: a
   * second commit does nothing.
   */
  async commit(ticket: ReservationTicket, actualTokens?: number): Promise<void> {
    const actual = actualTokens === undefined ? undefined : checkTokens(actualTokens);
    const entryId = this.entryId(ticket);
    if (!entryId) return;
    this.forget(ticket);
    await this.store.commit({
      ...this.target(ticket.model),
      entryId,
      ...(actual === undefined ? {} : { actualTokens: actual }),
    });
  }

  /** The call was never sent (aborted while waiting): give its slot back entirely. */
  async cancel(ticket: ReservationTicket): Promise<void> {
    const entryId = this.entryId(ticket);
    if (!entryId) return;
    this.forget(ticket);
    await this.store.cancel({ ...this.target(ticket.model), entryId });
  }

  /**
   * Takes in what a provider reported (success or 429 headers). Never believes in more room than
   * the provider: when it reports fewer remaining than the local log, a phantom booking holds the
   * difference until its reset. A reported limit fills in a missing dimension or lowers a
   * configured one; it never raises one. And the provider's own "when" wins over a longer local
   * prediction: `retryAfterMs` blocks the model like {@link blockUntil} and frees one call's room
   * by then; a `reset` with nothing remaining frees the whole window by then.
   */
  async learn(model: string, state: ProviderRateLimitState): Promise<void> {
    const now = this.clock.now();
    await this.absorb(model, state, now, now, undefined);
  }

  /**
   * {@link learn}, with `sentBefore` (only calls sent by then are the provider's to vouch for) and
   * the tokens of the call answered. Resolves whether `remaining-*` figures agreed with the local
   * log (`undefined`: none were given).
   */
  private async absorb(
    model: string,
    state: ProviderRateLimitState,
    now: number,
    sentBefore: number,
    tokens: number | undefined,
  ): Promise<boolean | undefined> {
    const entry = this.entry(model);
    const release = this.store.release?.bind(this.store);
    const facts = [
      [
        "requests",
        state.limitRequests,
        state.remainingRequests,
        state.resetRequestsMs,
        state.requestsIntervalMs,
      ],
      ["tokens", state.limitTokens, state.remainingTokens, state.resetTokensMs, state.tokensIntervalMs],
    ] as const;
    // Limits first: the room the provider promises below is room within them.
    for (const [unit, limit, , , interval] of facts) {
      const intervalMs = isNonNegative(interval) && interval > 0 ? interval : MINUTE_MS;
      const key = dimensionKey(unit, intervalMs);
      if (isNonNegative(limit) && limit > 0) {
        const prev = entry.learned.get(key);
        if (!prev || limit < prev.limit) {
          entry.learned.set(key, { unit, intervalMs, limit });
          entry.dims = undefined;
        }
      }
    }
    if (isNonNegative(state.retryAfterMs) && state.retryAfterMs > 0) {
      const until = now + state.retryAfterMs;
      await this.blockUntil(model, until);
      // Room for the next call then: the provider said so, whatever the local log predicts.
      if (release) {
        for (const window of windowSpecs(this.dimensions(model), now)) {
          const amount = window.unit === "requests" ? 1 : (tokens ?? 0);
          if (window.kind === "sliding" && amount > 0) {
            await release({ key: model, window, at: until, amount, sentBefore, now });
          }
        }
      }
    }
    let agreed: boolean | undefined;
    for (const [unit, , remaining, resetMs, interval] of facts) {
      if (!isNonNegative(remaining)) continue;
      const intervalMs = isNonNegative(interval) && interval > 0 ? interval : MINUTE_MS;
      const window = windowSpecs(this.dimensions(model), now).find(
        (w) => w.unit === unit && w.intervalMs === intervalMs,
      );
      if (!window) continue;
      const reset = isNonNegative(resetMs) ? resetMs : intervalMs;
      if (Math.floor(remaining) === 0 && isNonNegative(resetMs) && resetMs > 0 && release) {
        // Nothing left, full again at the reset: the window empties then, as the provider says.
        await release({
          key: model,
          window,
          at: now + reset,
          amount: Number.POSITIVE_INFINITY,
          sentBefore,
          now,
        });
      }
      const r = await this.store.constrain({
        key: model,
        window,
        remaining: Math.floor(remaining),
        resetAt: now + reset,
        now,
      });
      const agrees = !r || r.deficit <= 0;
      agreed = (agreed ?? true) && agrees;
    }
    return agreed;
  }

  /** A provider's retry hint: nothing for `model` starts before `untilMs` (epoch ms). */
  async blockUntil(model: string, untilMs: number): Promise<void> {
    if (!Number.isFinite(untilMs)) return;
    const entry = this.entry(model);
    entry.blockEpoch++;
    entry.blockedUntil = Math.max(entry.blockedUntil, untilMs);
    await this.store.block({ key: model, until: untilMs });
  }

  /** The model's dimensions with their current use, and any retry-hint block. */
  async status(model: string): Promise<LimiterStatus> {
    const target = this.target(model);
    const s = await this.store.status(target);
    const dimensions = target.windows.map((w, i) => {
      const ws = s.windows[i];
      const base = {
        name: w.name,
        unit: w.unit,
        limit: w.limit,
        intervalMs: w.intervalMs,
        used: ws?.used ?? 0,
      };
      return ws?.nextFreeAt === undefined ? base : { ...base, nextFreeAt: ws.nextFreeAt };
    });
    const queue = (s.queue ?? [])
      .filter((q) => q.waiting > 0)
      .map((q) => ({ priority: priorityOfRank(q.rank), tenant: q.tenant, waiting: q.waiting }))
      .sort(
        (a, b) => priorityRank(a.priority) - priorityRank(b.priority) || a.tenant.localeCompare(b.tenant),
      );
    return s.blockedUntil === undefined
      ? { dimensions, queue }
      : { blockedUntil: s.blockedUntil, dimensions, queue };
  }

  /** Whether any of the model's limits (configured or learned) counts tokens, so callers know to estimate them. */
  countsTokens(model: string): boolean {
    return this.dimensions(model).some((d) => d.unit === "tokens");
  }

  /**
   * The transit allowance a call of `model` is booked with now (at `origin`, default the
   * endpoint its last call went to), ms.
   */
  arrivalMargin(model: string, origin?: string): number {
    return this.marginFor(model, origin);
  }

  private marginFor(model: string, origin?: string): number {
    const entry = this.entry(model);
    this.dimensions(model);
    if (!this.learnMargin) return entry.base;
    const learned = entry.margins.get(origin ?? entry.origin);
    return learned ? learned.value(entry.base) : entry.base;
  }

  private learner(model: string, origin: string | undefined): TransitMargin | undefined {
    if (!this.learnMargin) return undefined;
    const entry = this.entry(model);
    const key = origin ?? entry.origin;
    let m = entry.margins.get(key);
    if (!m) {
      m = new TransitMargin();
      entry.margins.set(key, m);
    }
    return m;
  }

  private onSent(ev: SendEvidence): void {
    const t = ev.ticket as Ticket;
    if (ev.origin !== undefined) this.entry(t.model).origin = ev.origin;
    if (!t.booked || !this.store.stamp || ev.writtenAt === undefined) return;
    const at = ev.writtenAt + this.marginFor(t.model, ev.origin);
    // Only later: the decision-time stamp already stands, and moving earlier needs a hard bound.
    // A provisional booking is stamped in any case: it is on the wire now.
    if (at > t.at || t.provisional) this.restamp(ev, t, Math.max(at, t.at));
  }

  private onResponse(ev: SendEvidence, first: boolean): void {
    const t = ev.ticket as Ticket;
    if (first && ev.sentAt !== undefined && ev.respondedAt !== undefined) {
      // The provider had the request before its first byte came back, minus its own time.
      const upper = ev.respondedAt - (ev.processingMs ?? 0);
      this.learner(t.model, ev.origin)?.bound(upper - (ev.writtenAt ?? ev.sentAt));
      const cap = Math.max(ev.sentAt, upper);
      if (t.booked && this.store.stamp && cap < t.at - STAMP_SLACK_MS) this.restamp(ev, t, cap);
    }
    const headers = ev.headers;
    const limited = ev.status === 429 && t.booked;
    if (headers === undefined && !limited) return;
    const respondedAt = ev.respondedAt ?? this.clock.now();
    const origin = ev.origin;
    chain(ev, async () => {
      if (limited) this.learner(t.model, origin)?.widen();
      if (headers === undefined) return;
      await this.clock.busy(this.learnFrom(t, headers, respondedAt, origin, limited));
    });
  }

  private async learnFrom(
    t: Ticket,
    headers: Record<string, string>,
    respondedAt: number,
    origin: string | undefined,
    limited: boolean,
  ): Promise<void> {
    const state = parseRateLimitHeaders(headers, { now: respondedAt });
    const agreed = await this.absorb(t.model, state, respondedAt, t.at, t.tokens);
    if (agreed !== undefined && !limited) this.learner(t.model, origin)?.headers(agreed);
  }

  private restamp(ev: SendEvidence, t: Ticket, at: number): void {
    t.at = at;
    t.provisional = false;
    const entryId = this.entryId(t);
    const stamp = this.store.stamp?.bind(this.store);
    if (!entryId || !stamp) return;
    chain(ev, () => this.clock.busy(stamp({ ...this.target(t.model), entryId, at })));
  }

  /** Effective dimensions: configured ones lowered by learned limits, plus learned-only ones. */
  private dimensions(model: string): Dimension[] {
    const entry = this.models.get(model);
    if (!entry) return [];
    if (entry.dims) return entry.dims;
    let out = entry.configured;
    if (entry.learned.size > 0) {
      out = entry.configured.map((d) => {
        const l = entry.learned.get(dimensionKey(d.unit, d.intervalMs));
        return l && l.limit < d.limit ? { ...d, limit: l.limit } : d;
      });
      for (const [key, l] of entry.learned) {
        if (!entry.configured.some((d) => dimensionKey(d.unit, d.intervalMs) === key)) {
          out.push({
            name: dimensionName(l.unit, l.intervalMs),
            unit: l.unit,
            limit: l.limit,
            intervalMs: l.intervalMs,
          });
        }
      }
    }
    entry.dims = out;
    const sliding = out.filter((d) => !d.timeZone).map((d) => d.intervalMs);
    entry.base = sliding.length > 0 ? Math.max(0, this.margin(Math.min(...sliding))) : 0;
    return out;
  }

  private target(model: string): StoreTarget {
    const now = this.clock.now();
    return { key: model, windows: windowSpecs(this.dimensions(model), now), now };
  }

  private entry(model: string): ModelEntry {
    let e = this.models.get(model);
    if (!e) {
      e = {
        configured: [],
        learned: new Map(),
        blockEpoch: 0,
        dims: undefined,
        base: 0,
        margins: new Map(),
        origin: "",
        blockedUntil: 0,
      };
      this.models.set(model, e);
    }
    return e;
  }

  /** The store's id inside one of our tickets; `undefined` for a ticket another limiter issued. */
  private entryId(ticket: ReservationTicket): string | undefined {
    const prefix = `${this.idPrefix}:`;
    return ticket.id.startsWith(prefix) ? ticket.id.slice(prefix.length) : undefined;
  }
}

function waitingKey(model: string, entryId: string): string {
  return `${model}\0${entryId}`;
}

/** The store's form of a place (a store treats an absent place as {@link DEFAULT_PLACE}). */
function storePlace(place: Partial<QueuePlace> | undefined): StorePlace | undefined {
  if (place === undefined) return undefined;
  const p = { ...DEFAULT_PLACE, ...place };
  return {
    rank: priorityRank(p.priority),
    tenant: p.tenant,
    weight: p.weight,
    agingMs: p.agingMs,
    ...(p.maxShare === undefined ? {} : { maxShare: p.maxShare }),
  };
}

/** Queues store work started from a channel event; it settles before the call returns. */
function chain(ev: SendEvidence, work: () => Promise<unknown>): void {
  const run = () =>
    work().then(
      () => undefined,
      () => undefined, // bookkeeping must never fail a call
    );
  ev.pending = ev.pending ? ev.pending.then(run) : run();
}

function isNonNegative(n: number | undefined): n is number {
  return typeof n === "number" && Number.isFinite(n) && n >= 0;
}

/** Token counts are whole, finite and non-negative; anything else is a programming error. */
function checkTokens(tokens: number): number {
  if (!isNonNegative(tokens)) {
    throw new AutoPickerConfigError(`Token count must be a finite number >= 0, got ${String(tokens)}.`);
  }
  return Math.ceil(tokens);
}
