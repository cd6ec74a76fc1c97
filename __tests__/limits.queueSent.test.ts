import { MemoryRateLimitStore, type WindowSpec } from "../src/limits";

const windows: WindowSpec[] = [
  { kind: "sliding", name: "requests/s", unit: "requests", limit: 1, intervalMs: 1000 },
];
const place = (rank: number) => ({ rank, tenant: "", weight: 1, agingMs: Number.POSITIVE_INFINITY });

it("a booking confirmed before its start keeps its queue place when a higher class cuts in ahead of it", async () => {
  const store = new MemoryRateLimitStore({ staleBookingMs: 10_000 });
  const t = (now: number) => ({ key: "m", windows, now });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await store.reserve({ ...t(0), tokens: 0, maxWaitMs: 1e9, place: place(2) });
    if (r.kind === "granted") ids.push(r.entryId);
  }
  expect(await store.confirm({ ...t(0), entryId: ids[2]! })).toEqual({ ok: true }); // sent early
  const cut = await store.reserve({ ...t(0), tokens: 0, maxWaitMs: 1e9, place: place(0) });
  expect(cut.kind).toBe("granted");
  // Long after, the stale booking is forgotten like any other: its confirm says so.
  await store.status(t(1e6));
  expect(await store.confirm({ ...t(1e6), entryId: ids[2]! })).toEqual({
    ok: false,
    retryAt: 1e6,
    lost: true,
  });
});
