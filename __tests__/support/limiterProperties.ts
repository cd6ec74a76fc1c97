/**
 * The limiter's property tests, parameterised by store so the memory store and the Redis store
 * are held to the same brute-force oracle: (1) no window of any dimension ever holds more than its
 * limit, (2) every start is the earliest the limits allow, (3) bookings queue FIFO and never share
 * a slot. Each fast-check run gets a fresh store from `makeStore`.
 */
import fc from "fast-check";
import {
  RateLimiter,
  type RateLimitStore,
  type ReservationTicket,
  SendEvidence,
  type WindowSpec,
} from "../../src/limits";
import { VirtualClock } from "../../src/testing/virtualClock";

/** `PROPERTY_RUNS=n` multiplies every run count here by n (long local runs). */
const SCALE = Number(process.env.PROPERTY_RUNS ?? 1);
const runsOf = (n: number) => Math.max(1, Math.round(n * SCALE));

/** Builds a fresh, empty store for one property run (staleBookingMs must be infinite). */
export type StoreFactory = (clock: VirtualClock) => RateLimitStore | Promise<RateLimitStore>;

interface Dim {
  unit: "requests" | "tokens";
  limit: number;
  intervalMs: number;
}

interface Booking {
  index: number;
  ticket: ReservationTicket;
  start: number;
  estimate: number;
  /** Number of bookings made before it was committed/cancelled: bookings from that index on see it. */
  committedAt?: number;
  actual?: number;
  cancelledAt?: number;
}

type Op =
  | { t: "advance"; ms: number }
  | { t: "reserve"; tokens: number; maxWaitMs: number }
  | { t: "commit"; pick: number; actualFraction: number }
  | { t: "cancel"; pick: number };

const limitsArb = fc.record({
  rpm: fc.integer({ min: 1, max: 8 }),
  tpm: fc.integer({ min: 20, max: 2000 }),
  shortLimit: fc.integer({ min: 1, max: 4 }),
  shortMs: fc.integer({ min: 50, max: 5000 }),
});

const opArb = (tpm: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ t: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 4000 }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ t: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 130_000 }) }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant("reserve" as const),
        // Up to 20% above the token limit, so some calls can never fit.
        tokens: fc.integer({ min: 0, max: Math.ceil(tpm * 1.2) }),
        maxWaitMs: fc.oneof(fc.integer({ min: 0, max: 400_000 }), fc.constant(Number.POSITIVE_INFINITY)),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant("commit" as const),
        pick: fc.nat(),
        actualFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("cancel" as const), pick: fc.nat() }) },
  );

function costOn(d: Dim, tokens: number): number {
  return d.unit === "requests" ? 1 : tokens;
}

/** The booking's time and cost in the limiter's eyes just before booking number `at` is made. */
function viewAt(b: Booking, d: Dim, at: number): { time: number; cost: number } | undefined {
  if (b.cancelledAt !== undefined && b.cancelledAt <= at) return undefined;
  // A commit reconciles the cost; the entry stays where it was booked (no re-stamp at response time).
  if (b.committedAt !== undefined && b.committedAt <= at)
    return { time: b.start, cost: costOn(d, b.actual!) };
  return { time: b.start, cost: costOn(d, b.estimate) };
}

/** Brute force: does a call of `tokens` fit every dimension at instant `t`? */
function fitsAt(t: number, tokens: number, dims: Dim[], bookings: Booking[], at: number): boolean {
  return dims.every((d) => {
    let sum = costOn(d, tokens);
    for (const b of bookings) {
      const v = viewAt(b, d, at);
      if (v && v.cost > 0 && v.time > t - d.intervalMs) sum += v.cost;
    }
    return sum <= d.limit;
  });
}

/** Brute force: the earliest start the limits and the FIFO floor allow. */
function oracleStart(now: number, tokens: number, dims: Dim[], bookings: Booking[], at: number): number {
  const open = bookings.filter((b) => b.committedAt === undefined && b.cancelledAt === undefined);
  const floor = Math.max(now, ...open.map((b) => b.start));
  // The answer is the floor or the instant some entry leaves some window.
  const candidates = [floor];
  for (const d of dims) {
    for (const b of bookings) {
      const v = viewAt(b, d, at);
      if (v && v.time + d.intervalMs > floor) candidates.push(v.time + d.intervalMs);
    }
  }
  candidates.sort((a, b) => a - b);
  for (const c of candidates) if (fitsAt(c, tokens, dims, bookings, at)) return c;
  throw new Error("oracle found no start");
}

/**
 * Invariant (1): for every window of every dimension, what was booked in it, as known when its
 * last member was booked, stays within the limit. With `finalCosts`, the final (actual) costs of
 * the calls that were really sent must also fit: true whenever actual <= estimate.
 */
function assertWindowsWithinLimits(dims: Dim[], bookings: Booking[], finalCosts: boolean): void {
  const sent = bookings.filter((b) => b.cancelledAt === undefined);
  for (const d of dims) {
    for (const end of sent) {
      const members = bookings.filter((b) => b.start > end.start - d.intervalMs && b.start <= end.start);
      const last = Math.max(...members.map((b) => b.index));
      const known = members.reduce((s, b) => s + (viewAt(b, d, last)?.cost ?? 0), 0);
      if (known > d.limit) {
        throw new Error(`${d.unit}/${d.intervalMs}ms: ${known} booked in window ending ${end.start}`);
      }
      if (finalCosts) {
        const actual = members
          .filter((b) => b.cancelledAt === undefined)
          .reduce((s, b) => s + costOn(d, b.actual ?? b.estimate), 0);
        if (actual > d.limit) throw new Error(`${d.unit}/${d.intervalMs}ms: ${actual} sent in window`);
      }
    }
  }
}

interface Limits {
  rpm: number;
  tpm: number;
  shortLimit: number;
  shortMs: number;
}

async function run(l: Limits, ops: Op[], debts: boolean, makeStore: StoreFactory) {
  const clock = new VirtualClock({ autoAdvance: false });
  const limiter = new RateLimiter({ arrivalMarginMs: 0, clock, store: await makeStore(clock) });
  const dims: Dim[] = [
    { unit: "requests", limit: l.rpm, intervalMs: 60_000 },
    { unit: "tokens", limit: l.tpm, intervalMs: 60_000 },
    { unit: "requests", limit: l.shortLimit, intervalMs: l.shortMs },
  ];
  limiter.configure("m", {
    requestsPerMinute: l.rpm,
    tokensPerMinute: l.tpm,
    windows: [{ unit: "requests", limit: l.shortLimit, intervalMs: l.shortMs }],
  });
  const bookings: Booking[] = [];
  let index = 0;
  for (const op of ops) {
    const now = clock.now();
    if (op.t === "advance") {
      await clock.advance(op.ms);
    } else if (op.t === "reserve") {
      const at = index;
      const d = await limiter.reserve("m", { tokens: op.tokens }, { maxWaitMs: op.maxWaitMs });
      if (op.tokens > l.tpm) {
        expect(d).toEqual({
          kind: "never_fits",
          dimension: "tokens/min",
          requested: op.tokens,
          limit: l.tpm,
        });
        continue;
      }
      // (2) exactness: the oracle's earliest start, to the millisecond.
      const expected = oracleStart(now, op.tokens, dims, bookings, at);
      if (expected - now > op.maxWaitMs) {
        expect(d).toMatchObject({ kind: "wait_too_long", waitMs: expected - now });
        continue;
      }
      if (d.kind !== "granted") throw new Error(`expected a grant at ${expected}, got ${JSON.stringify(d)}`);
      expect(d.startAt).toBe(expected);
      expect(d.waitMs).toBe(expected - now);
      // ...and one millisecond earlier would break a limit or jump the queue.
      const open = bookings.filter((b) => b.committedAt === undefined && b.cancelledAt === undefined);
      const floor = Math.max(now, ...open.map((b) => b.start));
      if (d.startAt > floor) expect(fitsAt(d.startAt - 1, op.tokens, dims, bookings, at)).toBe(false);
      // (3) FIFO: never ahead of a booking still waiting or in flight.
      for (const b of open) expect(d.startAt).toBeGreaterThanOrEqual(b.start);
      bookings.push({ index: index++, ticket: d.ticket, start: d.startAt, estimate: op.tokens });
    } else {
      // Only calls that have started can come back; any open call can be cancelled.
      const candidates = bookings.filter(
        (b) =>
          b.committedAt === undefined && b.cancelledAt === undefined && (op.t === "cancel" || b.start <= now),
      );
      const b = candidates[op.pick % Math.max(1, candidates.length)];
      if (!b) continue;
      if (op.t === "cancel") {
        await limiter.cancel(b.ticket);
        b.cancelledAt = index;
      } else {
        const cap = debts ? l.tpm : b.estimate;
        const actual = Math.floor(op.actualFraction * cap);
        await limiter.commit(b.ticket, actual);
        b.committedAt = index;
        b.actual = actual;
      }
    }
  }
  assertWindowsWithinLimits(dims, bookings, !debts);
}

/** Registers the property suites for one store. */
export function limiterProperties(
  label: string,
  makeStore: StoreFactory,
  runs: { sequential: number; burst: number } = { sequential: 150, burst: 100 },
): void {
  describe(`RateLimiter properties on ${label} (virtual time, brute-force oracle)`, () => {
    it("refunds only: every window holds at most its limit (booked and actually sent); starts are exact and FIFO", async () => {
      await fc.assert(
        fc.asyncProperty(
          limitsArb.chain((l) =>
            fc.tuple(fc.constant(l), fc.array(opArb(l.tpm), { maxLength: 120, size: "medium" })),
          ),
          ([l, ops]) => run(l, ops, false, makeStore),
        ),
        { numRuns: runsOf(runs.sequential) },
      );
    });

    it("debts (actual above estimate): later bookings absorb the debt; starts stay exact and FIFO", async () => {
      await fc.assert(
        fc.asyncProperty(
          limitsArb.chain((l) =>
            fc.tuple(fc.constant(l), fc.array(opArb(l.tpm), { maxLength: 120, size: "medium" })),
          ),
          ([l, ops]) => run(l, ops, true, makeStore),
        ),
        { numRuns: runsOf(runs.sequential) },
      );
    });
  });

  describe(`RateLimiter on ${label} under concurrent reserve() (one Promise.all burst)`, () => {
    it("grants in call order (FIFO), never shares a slot and keeps every window within its limit", async () => {
      await fc.assert(
        fc.asyncProperty(
          limitsArb,
          fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 60, size: "medium" }),
          async (l, costs) => {
            const clock = new VirtualClock({ autoAdvance: false });
            const limiter = new RateLimiter({ arrivalMarginMs: 0, clock, store: await makeStore(clock) });
            limiter.configure("m", {
              requestsPerMinute: l.rpm,
              tokensPerMinute: l.tpm,
              windows: [{ unit: "requests", limit: l.shortLimit, intervalMs: l.shortMs }],
            });
            const fitting = costs.filter((c) => c <= l.tpm);
            const ds = await Promise.all(
              fitting.map((tokens) =>
                limiter.reserve("m", { tokens }, { maxWaitMs: Number.POSITIVE_INFINITY }),
              ),
            );
            const bookings: Booking[] = ds.map((d, index) => {
              if (d.kind !== "granted") throw new Error(d.kind);
              return { index, ticket: d.ticket, start: d.startAt, estimate: fitting[index]! };
            });
            for (let i = 1; i < bookings.length; i++) {
              expect(bookings[i]!.start).toBeGreaterThanOrEqual(bookings[i - 1]!.start);
            }
            const dims: Dim[] = [
              { unit: "requests", limit: l.rpm, intervalMs: 60_000 },
              { unit: "tokens", limit: l.tpm, intervalMs: 60_000 },
              { unit: "requests", limit: l.shortLimit, intervalMs: l.shortMs },
            ];
            assertWindowsWithinLimits(dims, bookings, true);
            // Exact too: each start is the oracle's answer given the bookings before it.
            bookings.forEach((b, i) => {
              expect(b.start).toBe(oracleStart(clock.now(), b.estimate, dims, bookings.slice(0, i), i));
            });
          },
        ),
        { numRuns: runsOf(runs.burst) },
      );
    });
  });
}

/** Builds a fresh, empty store for one confirm run; the caller's `now` must be used as is. */
export type ConfirmStoreFactory = () => RateLimitStore | Promise<RateLimitStore>;

/**
 * `RateLimitStore.confirm` (check-and-stamp at send time), as in limits.confirm.test.ts: the worked
 * example, and "whatever the send lags, stamped send times never exceed the limit in any window".
 */
export function confirmProperties(label: string, makeStore: ConfirmStoreFactory, numRuns = 150): void {
  const KEY = "m";
  const windows = (limit: number, intervalMs: number): WindowSpec[] => [
    { kind: "sliding", name: "requests", unit: "requests", limit, intervalMs },
  ];
  async function book(store: RateLimitStore, w: WindowSpec[], now: number) {
    const r = await store.reserve({
      key: KEY,
      windows: w,
      now,
      tokens: 0,
      maxWaitMs: Number.POSITIVE_INFINITY,
    });
    if (r.kind !== "granted") throw new Error(r.kind);
    return r;
  }
  async function confirm(store: RateLimitStore, w: WindowSpec[], now: number, entryId: string) {
    if (!store.confirm) throw new Error(`${label} has no confirm`);
    return store.confirm({ key: KEY, windows: w, now, entryId });
  }

  describe(`confirm on ${label}: check-and-stamp at send time`, () => {
    it("a call queued behind a batch that left late waits for the batch's real window", async () => {
      const store = await makeStore();
      const w = windows(2, 1000);
      const [a, b, c, d] = [
        await book(store, w, 0),
        await book(store, w, 0),
        await book(store, w, 0),
        await book(store, w, 0),
      ];
      expect([a.startAt, b.startAt, c.startAt, d.startAt]).toEqual([0, 0, 1000, 1000]);
      // The first batch leaves 100 ms late; the second, on time, must wait for (100, 1100].
      expect(await confirm(store, w, 100, a.entryId)).toEqual({ ok: true });
      expect(await confirm(store, w, 100, b.entryId)).toEqual({ ok: true });
      expect(await confirm(store, w, 1000, c.entryId)).toEqual({ ok: false, retryAt: 1100 });
      expect(await confirm(store, w, 1100, c.entryId)).toEqual({ ok: true });
      expect(await confirm(store, w, 1100, d.entryId)).toEqual({ ok: true });
      // A booking the store does not know (expired, lost in a restart) is never passed unchecked;
      // a retry-hint block answers its end.
      expect(await confirm(store, w, 1100, "999")).toEqual({ ok: false, retryAt: 1100, lost: true });
      const e = await book(store, w, 1100);
      await store.block({ key: KEY, until: 5000 });
      expect(await confirm(store, w, e.startAt, e.entryId)).toEqual({ ok: false, retryAt: 5000 });
      await store.cancel({ key: KEY, windows: w, now: 1100, entryId: e.entryId });
      expect(await confirm(store, w, 1100, e.entryId)).toEqual({ ok: false, retryAt: 1100, lost: true });
    });

    it("property: whatever the send lags, stamped send times never exceed the limit in any window", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 50, max: 2000 }),
          fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 40 }),
          async (limit, intervalMs, lags) => {
            const store = await makeStore();
            const w = windows(limit, intervalMs);
            const bookings = [];
            for (const _ of lags) bookings.push(await book(store, w, 0));
            const pending = bookings.map((b, i) => ({ id: b.entryId, at: b.startAt + lags[i]! }));
            const sent: number[] = [];
            while (pending.length > 0) {
              pending.sort((x, y) => x.at - y.at);
              const next = pending.shift()!;
              const r = await confirm(store, w, next.at, next.id);
              if (r.ok) sent.push(next.at);
              else pending.push({ id: next.id, at: r.retryAt });
            }
            for (const t of sent) {
              expect(sent.filter((s) => s > t - intervalMs && s <= t).length).toBeLessThanOrEqual(limit);
            }
          },
        ),
        { numRuns: runsOf(numRuns) },
      );
    });
  });
}

/** Builds a fresh, empty store for one arrival run; the caller's `now` must be used as is. */
export type ArrivalStoreFactory = (clock: VirtualClock) => RateLimitStore | Promise<RateLimitStore>;

interface SimulatedCall {
  /** When the caller asks (ms after the start). */
  releaseMs: number;
  /** From the granted slot to the request written to the socket (a busy event loop, a slow pool). */
  lagMs: number;
  /** From the socket to the provider's stamp: at most the transit allowance. */
  transitFraction: number;
  /** From the socket to the first byte of the answer. */
  answerMs: number;
  /** How much of the time between arrival and answer the server reports as its own. */
  processingFraction: number;
}

const callArb: fc.Arbitrary<SimulatedCall> = fc.record({
  releaseMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 8000 })),
  lagMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 3000 })),
  transitFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  answerMs: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 30_000 })),
  processingFraction: fc.double({ min: 0, max: 1, noNaN: true }),
});

/**
 * Arrival-time stamping, end to end through `RateLimiter.acquire` + `send`: calls whose requests
 * leave late, travel up to the transit allowance and answer after seconds are stamped from that
 * evidence (send + allowance, capped by first byte - processing time), and the provider, stamping
 * each request on arrival, never sees more than the limit in any window.
 */
export function arrivalProperties(label: string, makeStore: ArrivalStoreFactory, numRuns = 60): void {
  describe(`arrival-time stamping on ${label} (virtual time)`, () => {
    async function run(
      l: { limit: number; intervalMs: number; marginMs: number },
      calls: SimulatedCall[],
      learn: boolean,
      fixedTransit: number | undefined,
    ) {
      const clock = new VirtualClock();
      const limiter = new RateLimiter({
        clock,
        store: await makeStore(clock),
        arrivalMarginMs: l.marginMs,
        learnArrivalMargin: learn,
      });
      limiter.configure("m", { windows: [{ unit: "requests", limit: l.limit, intervalMs: l.intervalMs }] });
      const arrivals: number[] = [];
      const t0 = clock.now();
      await Promise.all(
        calls.map(async (c) => {
          await clock.sleep(c.releaseMs);
          const d = await limiter.acquire("m", { tokens: 0 }, { maxWaitMs: Number.POSITIVE_INFINITY });
          if (d.kind !== "granted") throw new Error(d.kind);
          const evidence = new SendEvidence();
          await limiter.send(
            d.ticket,
            async () => {
              await clock.sleep(c.lagMs);
              evidence.recordSent();
              const transit = fixedTransit ?? Math.floor(c.transitFraction * l.marginMs);
              const arrival = clock.now() + transit;
              arrivals.push(arrival);
              const answerMs = Math.max(transit, c.answerMs);
              await clock.sleep(answerMs);
              // An honest server reports no more than the time it really had the request.
              const processing = Math.floor(c.processingFraction * (answerMs - transit));
              evidence.recordResponse(200, { "openai-processing-ms": String(processing) });
            },
            evidence,
          );
          await limiter.commit(d.ticket);
        }),
      );
      arrivals.sort((a, b) => a - b);
      for (const a of arrivals) {
        const inWindow = arrivals.filter((b) => b > a - l.intervalMs && b <= a).length;
        if (inWindow > l.limit) {
          throw new Error(`${inWindow} arrivals in the window ending ${a - t0} (limit ${l.limit})`);
        }
      }
    }

    const limitsArb = fc.record({
      limit: fc.integer({ min: 1, max: 5 }),
      intervalMs: fc.integer({ min: 200, max: 5000 }),
      marginMs: fc.integer({ min: 0, max: 300 }),
    });

    it("whatever the send lags, transits (up to the allowance) and answer times, arrivals stay within the limit", async () => {
      await fc.assert(
        fc.asyncProperty(
          limitsArb,
          fc.array(callArb, { minLength: 1, maxLength: 25, size: "medium" }),
          (l, calls) => run(l, calls, false, undefined),
        ),
        { numRuns: runsOf(numRuns) },
      );
    });

    it("with the allowance learned from honest responses (a steady transit), arrivals stay within the limit", async () => {
      await fc.assert(
        fc.asyncProperty(
          limitsArb,
          fc.array(callArb, { minLength: 1, maxLength: 25, size: "medium" }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          (l, calls, f) => run(l, calls, true, Math.floor(f * l.marginMs)),
        ),
        { numRuns: runsOf(numRuns) },
      );
    });
  });
}
