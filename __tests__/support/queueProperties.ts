/**
 * Priority and fair-share properties of a RateLimitStore, parameterised by store so the memory
 * store and the Redis store are held to the same checks. A driver books calls of random classes
 * and tenants, sends every waiting booking when its slot comes (confirm, then commit), follows
 * every slot a later reservation moved, and checks, over the whole history:
 *  1. no window of any limit ever holds more than the limit (sent calls, at their send instants);
 *  2. within one class and tenant, calls are sent in the order they were booked;
 *  3. a higher-class call is never sent after a lower-class call that was still waiting when it
 *     arrived, unless that call had aged past being moved by the time the higher call's slot was
 *     last decided (requests-only limits, so a cheaper call never legitimately fits first);
 *  4. a tenant's `maxShare` holds in every window of every limit.
 */
import fc from "fast-check";
import type { RateLimitStore, StorePlace, WindowSpec } from "../../src/limits";

const SCALE = Number(process.env.PROPERTY_RUNS ?? 1);
const runsOf = (n: number) => Math.max(1, Math.round(n * SCALE));

/** Builds a fresh, empty store (and a fresh key) for one property run. */
export type QueueStoreFactory = () => Promise<{ store: RateLimitStore; key: string }>;

interface Call {
  index: number;
  entryId: string;
  place: StorePlace;
  arrivedAt: number;
  /** When its slot was last decided: its booking, or the latest reservation that moved it. */
  placedAt: number;
  start: number;
  sentAt?: number;
  cancelled?: boolean;
}

const TENANTS = ["a", "b", "capped"] as const;

const reserveArb = fc.record({
  t: fc.constant("reserve" as const),
  rank: fc.integer({ min: 0, max: 2 }),
  tenant: fc.integer({ min: 0, max: 2 }),
  maxWaitMs: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 0, max: 30_000 })),
});
type ReserveOp = typeof reserveArb extends fc.Arbitrary<infer R> ? R : never;

const scenarioArb = fc.record({
  limit: fc.integer({ min: 1, max: 5 }),
  intervalMs: fc.integer({ min: 100, max: 2000 }),
  /** A second, longer window, so a call can be held by either. */
  longLimit: fc.integer({ min: 3, max: 12 }),
  weights: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
  maxShare: fc.constantFrom(0.25, 0.5, 1),
  agingMs: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 500, max: 20_000 })),
  ops: fc.array(
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({ t: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 1500 }) }),
      },
      { weight: 6, arbitrary: reserveArb },
      {
        weight: 2,
        arbitrary: fc.record({
          t: fc.constant("burst" as const),
          calls: fc.array(reserveArb, { minLength: 2, maxLength: 6 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ t: fc.constant("cancel" as const), pick: fc.nat() }) },
    ),
    { minLength: 1, maxLength: 60 },
  ),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

function placeOf(sc: Scenario, op: ReserveOp): StorePlace {
  const tenant = TENANTS[op.tenant]!;
  return {
    rank: op.rank,
    tenant,
    weight: tenant === "capped" ? 1 : sc.weights[op.tenant]!,
    agingMs: sc.agingMs,
    ...(tenant === "capped" ? { maxShare: sc.maxShare } : {}),
  };
}

/** Runs one scenario and returns every call with the instant it was sent. */
async function drive(
  make: QueueStoreFactory,
  sc: Scenario,
): Promise<{ calls: Call[]; windows: WindowSpec[] }> {
  const { store, key } = await make();
  const windows: WindowSpec[] = [
    { kind: "sliding", name: "requests/short", unit: "requests", limit: sc.limit, intervalMs: sc.intervalMs },
    {
      kind: "sliding",
      name: "requests/long",
      unit: "requests",
      limit: sc.longLimit,
      intervalMs: sc.intervalMs * 4,
    },
  ];
  let now = 1_000_000;
  const calls: Call[] = [];
  const byId = new Map<string, Call>();
  const waiting = () => calls.filter((c) => c.sentAt === undefined && !c.cancelled);

  // Sends every waiting call whose slot comes by `until`, in slot order, as a caller would.
  const runUntil = async (until: number) => {
    for (;;) {
      const due = waiting()
        .filter((c) => c.start <= until)
        .sort((x, y) => x.start - y.start || x.index - y.index)[0];
      if (!due) break;
      now = Math.max(now, due.start);
      const r = await store.confirm!({ key, windows, now, entryId: due.entryId });
      if (r.ok) {
        due.sentAt = now;
        await store.commit({ key, windows, now, entryId: due.entryId });
      } else if (r.lost) {
        due.cancelled = true;
      } else {
        due.start = Math.max(r.retryAt, now + 1);
      }
    }
    now = Math.max(now, until);
  };

  for (const op of sc.ops) {
    if (op.t === "advance") {
      await runUntil(now + op.ms);
    } else if (op.t === "reserve" || op.t === "burst") {
      // A burst: calls made at once, as a replica's concurrent callers do (the Redis store sends
      // them in one script call); booked in the order they were made.
      const ops = op.t === "reserve" ? [op] : op.calls;
      const places = ops.map((o) => placeOf(sc, o));
      const results = await Promise.all(
        ops.map((o, i) =>
          store.reserve({ key, windows, now, tokens: 1, maxWaitMs: o.maxWaitMs, place: places[i]! }),
        ),
      );
      for (const [i, r] of results.entries()) {
        if (r.kind !== "granted") continue;
        const call: Call = {
          index: calls.length,
          entryId: r.entryId,
          place: places[i]!,
          arrivedAt: now,
          placedAt: now,
          start: r.startAt,
        };
        calls.push(call);
        byId.set(r.entryId, call);
      }
      for (const r of results) {
        if (r.kind !== "granted") continue;
        for (const m of r.moved ?? []) {
          const c = byId.get(m.entryId);
          expect(c).toBeDefined();
          expect(c!.sentAt).toBeUndefined();
          if (m.startAt === Number.POSITIVE_INFINITY) c!.cancelled = true;
          else {
            c!.start = m.startAt;
            c!.placedAt = now;
          }
        }
      }
    } else {
      const open = waiting();
      const c = open[op.pick % Math.max(1, open.length)];
      if (c) {
        c.cancelled = true;
        await store.cancel({ key, windows, now, entryId: c.entryId });
      }
    }
  }
  await runUntil(Number.MAX_SAFE_INTEGER / 2);
  return { calls, windows };
}

function sentTimes(calls: Call[], filter: (c: Call) => boolean): number[] {
  return calls
    .filter((c) => c.sentAt !== undefined && filter(c))
    .map((c) => c.sentAt!)
    .sort((a, b) => a - b);
}

/** The most any span `(t - interval, t]` holds of `times`. */
function busiest(times: number[], intervalMs: number): number {
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[lo]! <= times[hi]! - intervalMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

export function queueProperties(label: string, make: QueueStoreFactory, numRuns = 120): void {
  describe(`${label}: priority lanes and fair shares`, () => {
    it("keeps every window within its limit and every tenant within its maxShare", async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (sc) => {
          const { calls, windows } = await drive(make, sc);
          for (const w of windows) {
            expect(
              busiest(
                sentTimes(calls, () => true),
                w.intervalMs,
              ),
            ).toBeLessThanOrEqual(w.limit);
            const cap = Math.floor(w.limit * sc.maxShare + 1e-9);
            const capped = sentTimes(calls, (c) => c.place.tenant === "capped");
            expect(busiest(capped, w.intervalMs)).toBeLessThanOrEqual(cap);
          }
        }),
        { numRuns: runsOf(numRuns) },
      );
    });

    it("sends calls of one class and tenant in booking order", async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (sc) => {
          const { calls } = await drive(make, sc);
          const last = new Map<string, Call>();
          for (const c of calls) {
            if (c.sentAt === undefined) continue;
            const lane = `${c.place.rank}/${c.place.tenant}`;
            const prev = last.get(lane);
            if (prev) expect(c.sentAt).toBeGreaterThanOrEqual(prev.sentAt!);
            last.set(lane, c);
          }
        }),
        { numRuns: runsOf(numRuns) },
      );
    });

    it("never sends a higher-class call after a lower-class call that was waiting when it arrived", async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (sc) => {
          const { calls } = await drive(make, sc);
          for (const hi of calls) {
            // A capped tenant's call may wait for its own share: other calls go in the meantime.
            if (hi.sentAt === undefined || hi.place.tenant === "capped") continue;
            for (const lo of calls) {
              if (lo.sentAt === undefined || lo.place.rank <= hi.place.rank) continue;
              const waitingThen = lo.arrivedAt <= hi.arrivedAt && lo.sentAt > hi.arrivedAt;
              // Aged by the time the higher call's slot was last decided: a later, still higher
              // call can push it behind a call that has since become unmovable.
              const aged = hi.placedAt - lo.arrivedAt >= lo.place.agingMs;
              // Sent at the very instant the higher call arrived: it was already on its way.
              if (!waitingThen || aged || lo.start <= hi.arrivedAt) continue;
              expect(hi.sentAt).toBeLessThanOrEqual(lo.sentAt);
            }
          }
        }),
        { numRuns: runsOf(numRuns) },
      );
    });
  });
}
