import fc from "fast-check";
import { MemoryRateLimitStore } from "../src/limits/memoryStore";
import type { WindowSpec } from "../src/limits/store";

const KEY = "m";
const windows = (limit: number, intervalMs: number): WindowSpec[] => [
  { kind: "sliding", name: "requests", unit: "requests", limit, intervalMs },
];

async function book(store: MemoryRateLimitStore, w: WindowSpec[], now: number) {
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

describe("confirm: check-and-stamp at send time", () => {
  it("a call queued behind a batch that left late waits for the batch's real window", async () => {
    const store = new MemoryRateLimitStore();
    const w = windows(2, 1000);
    const [a, b, c, d] = [
      await book(store, w, 0),
      await book(store, w, 0),
      await book(store, w, 0),
      await book(store, w, 0),
    ];
    expect([a.startAt, b.startAt, c.startAt, d.startAt]).toEqual([0, 0, 1000, 1000]);
    // The first batch actually leaves 100 ms late (a busy event loop)...
    await expect(store.confirm({ key: KEY, windows: w, now: 100, entryId: a.entryId })).resolves.toEqual({
      ok: true,
    });
    await expect(store.confirm({ key: KEY, windows: w, now: 100, entryId: b.entryId })).resolves.toEqual({
      ok: true,
    });
    // ...so the second batch, on time, would put 4 calls in (100, 1100]: it must wait until 1100.
    await expect(store.confirm({ key: KEY, windows: w, now: 1000, entryId: c.entryId })).resolves.toEqual({
      ok: false,
      retryAt: 1100,
    });
    await expect(store.confirm({ key: KEY, windows: w, now: 1100, entryId: c.entryId })).resolves.toEqual({
      ok: true,
    });
    await expect(store.confirm({ key: KEY, windows: w, now: 1100, entryId: d.entryId })).resolves.toEqual({
      ok: true,
    });
  });

  it("property: whatever the send lags, stamped send times never exceed the limit in any window", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 50, max: 2000 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 40 }),
        async (limit, intervalMs, lags) => {
          const store = new MemoryRateLimitStore();
          const w = windows(limit, intervalMs);
          const bookings = [];
          for (const _ of lags) bookings.push(await book(store, w, 0));
          // Each call wakes at its booked time plus a lag, then confirms until allowed.
          const pending = bookings.map((b, i) => ({ id: b.entryId, at: b.startAt + lags[i]! }));
          const sent: number[] = [];
          while (pending.length > 0) {
            pending.sort((x, y) => x.at - y.at);
            const next = pending.shift()!;
            const r = await store.confirm({ key: KEY, windows: w, now: next.at, entryId: next.id });
            if (r.ok) sent.push(next.at);
            else pending.push({ id: next.id, at: r.retryAt });
          }
          for (const t of sent) {
            expect(sent.filter((s) => s > t - intervalMs && s <= t).length).toBeLessThanOrEqual(limit);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
