import fc from "fast-check";
import {
  type AutoPickerAlert,
  type BudgetCounter,
  BudgetManager,
  type BudgetStore,
  type LimitedBudgetCounter,
  MemoryBudgetStore,
  type StoreReservation,
} from "../src/cost";
import { AutoPickerConfigError } from "../src/errors";
import { VirtualClock } from "../src/testing/virtualClock";
import { memoryLogger } from "./cost.helpers";

const NOV_22 = Date.UTC(2026, 10, 22, 12);

/** A store whose every operation takes a random few milliseconds, like a network round trip. */
class SlowStore implements BudgetStore {
  readonly inner: MemoryBudgetStore;
  constructor(clock: VirtualClock) {
    this.inner = new MemoryBudgetStore({ clock });
  }
  private async delay(): Promise<void> {
    await new Promise((r) => setTimeout(r, Math.random() * 5));
  }
  async reserve(counters: readonly LimitedBudgetCounter[], amount: number): Promise<StoreReservation> {
    await this.delay();
    const result = await this.inner.reserve(counters, amount);
    await this.delay();
    return result;
  }
  async add(counters: readonly BudgetCounter[], delta: number): Promise<number[]> {
    await this.delay();
    return this.inner.add(counters, delta);
  }
  read(keys: readonly string[]): Promise<number[]> {
    return this.inner.read(keys);
  }
  claimOnce(key: string, expiresAt: number): Promise<boolean> {
    return this.inner.claimOnce(key, expiresAt);
  }
}

function setup(options: ConstructorParameters<typeof BudgetManager>[0] = {}) {
  const clock = new VirtualClock({ startMs: NOV_22, autoAdvance: false });
  const alerts: AutoPickerAlert[] = [];
  const logger = memoryLogger();
  const budget = new BudgetManager({ clock, logger, onAlert: (a) => alerts.push(a), ...options });
  return { clock, alerts, logger, budget };
}

describe("BudgetManager.reserve", () => {
  test("50 concurrent reservations against a budget allowing 10 never overspend", async () => {
    const clock = new VirtualClock({ startMs: NOV_22, autoAdvance: false });
    const store = new SlowStore(clock);
    const budget = new BudgetManager({ dailyLimitUsd: 1, clock, store, logger: memoryLogger() });
    const results = await Promise.all(Array.from({ length: 50 }, () => budget.reserve(0.1)));
    expect(results.filter((r) => r.kind === "ok")).toHaveLength(10);
    expect(results.filter((r) => r.kind === "over")).toHaveLength(40);
    expect(await store.inner.read(["day:2026-11-22"])).toEqual([1_000_000]);
    expect(await budget.remaining()).toEqual({ day: 0 });
  });

  test("property: whatever the amounts, granted reservations fit and refused ones would not", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 400_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 2_000_000 }),
        async (amountsMicros, limitMicros) => {
          const clock = new VirtualClock({ startMs: NOV_22, autoAdvance: false });
          const budget = new BudgetManager({
            dailyLimitUsd: limitMicros / 1e6,
            clock,
            logger: memoryLogger(),
          });
          const results = await Promise.all(amountsMicros.map((m) => budget.reserve(m / 1e6)));
          const granted = results.reduce((sum, r) => sum + (r.kind === "ok" ? r.ticket.amountMicros : 0), 0);
          expect(granted).toBeLessThanOrEqual(limitMicros);
          for (const r of results) {
            if (r.kind === "over")
              expect(Math.round(r.spentUsd * 1e6 + r.requestedUsd * 1e6)).toBeGreaterThan(limitMicros);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  test("over reports the period, limit, spend and what is left", async () => {
    const { budget } = setup({ dailyLimitUsd: 10, monthlyLimitUsd: 1 });
    expect((await budget.reserve(0.7)).kind).toBe("ok");
    const over = await budget.reserve(0.5);
    expect(over).toEqual({
      kind: "over",
      period: "month",
      limitUsd: 1,
      spentUsd: 0.7,
      remainingUsd: 0.3,
      requestedUsd: 0.5,
    });
    expect(await budget.remaining()).toEqual({ day: 9.3, month: 0.3 });
  });

  test("settle replaces the estimate with the actual cost; release returns it; both are idempotent", async () => {
    const { budget } = setup({ dailyLimitUsd: 1 });
    const a = await budget.reserve(0.4);
    const b = await budget.reserve(0.4);
    if (a.kind !== "ok" || b.kind !== "ok") throw new Error("expected reservations");
    await budget.settle(a.ticket, 0.1);
    await budget.settle(a.ticket, 0.1);
    await budget.release(a.ticket);
    expect((await budget.remaining()).day).toBeCloseTo(0.5, 12);
    await budget.release(b.ticket);
    await budget.release(b.ticket);
    expect((await budget.remaining()).day).toBeCloseTo(0.9, 12);
  });

  test("record books unreserved spend and is never refused", async () => {
    const { budget } = setup({ dailyLimitUsd: 1, mode: "warn" });
    await budget.record(0.6);
    await budget.record(0.6);
    expect(await budget.remaining()).toEqual({ day: 0 });
    expect((await budget.reserve(0.01)).kind).toBe("over");
  });

  test("a new UTC day starts from zero; the month keeps counting", async () => {
    const { budget, clock } = setup({ dailyLimitUsd: 1, monthlyLimitUsd: 5 });
    await budget.record(1);
    expect((await budget.reserve(0.1)).kind).toBe("over");
    await clock.setTime(Date.UTC(2026, 10, 23, 0, 0, 1));
    expect((await budget.reserve(0.1)).kind).toBe("ok");
    expect(await budget.remaining()).toEqual({ day: 0.9, month: 3.9 });
  });

  test("a ticket settles on the day it was reserved, even after midnight", async () => {
    const clock = new VirtualClock({ startMs: Date.UTC(2026, 10, 22, 23, 59, 59), autoAdvance: false });
    const store = new MemoryBudgetStore({ clock });
    const budget = new BudgetManager({ dailyLimitUsd: 1, clock, store, logger: memoryLogger() });
    const r = await budget.reserve(0.5);
    if (r.kind !== "ok") throw new Error("expected ok");
    await clock.setTime(Date.UTC(2026, 10, 23, 0, 0, 5));
    await budget.settle(r.ticket, 0.2);
    expect(await store.read(["day:2026-11-22", "day:2026-11-23"])).toEqual([200_000, 0]);
    expect((await budget.remaining()).day).toBe(1);
  });

  test("no limits: everything fits, remaining is empty", async () => {
    const { budget } = setup();
    expect((await budget.reserve(1_000)).kind).toBe("ok");
    expect(await budget.remaining()).toEqual({});
  });

  test("invalid configuration and amounts are rejected", () => {
    expect(() => new BudgetManager({ dailyLimitUsd: -1 })).toThrow(AutoPickerConfigError);
    expect(() => new BudgetManager({ alertThreshold: 1.5 })).toThrow(AutoPickerConfigError);
    expect(() => new BudgetManager({ mode: "nope" as "warn" })).toThrow(AutoPickerConfigError);
    const { budget } = setup({ dailyLimitUsd: 1 });
    return expect(budget.reserve(Number.NaN)).rejects.toThrow(AutoPickerConfigError);
  });

  test("mode is exposed for the model to read", () => {
    expect(setup({ mode: "downgrade" }).budget.mode).toBe("downgrade");
    expect(setup().budget.mode).toBe("block");
  });
});

describe("budget alerts", () => {
  test("threshold alert once per period, to onAlert and the logger", async () => {
    const { budget, alerts, logger, clock } = setup({ dailyLimitUsd: 1 });
    await budget.record(0.5);
    expect(alerts).toHaveLength(0);
    await budget.record(0.3); // 80%
    await budget.record(0.05);
    const r = await budget.reserve(0.1);
    if (r.kind === "ok") await budget.settle(r.ticket, 0.1);
    expect(alerts.map((a) => a.type)).toEqual(["budget_threshold"]);
    expect(alerts[0]).toMatchObject({
      period: "day",
      periodKey: "day:2026-11-22",
      limitUsd: 1,
      threshold: 0.8,
    });
    expect(logger.lines).toEqual([expect.stringMatching(/^\[autopicker\] Daily budget 80% used/)]);

    await clock.setTime(Date.UTC(2026, 10, 23, 1));
    await budget.record(0.9);
    expect(alerts.map((a) => a.type)).toEqual(["budget_threshold", "budget_threshold"]);
    expect(alerts[1]).toMatchObject({ periodKey: "day:2026-11-23" });
  });

  test("refused reservations raise budget_exceeded once per period, with the mode", async () => {
    const { budget, alerts } = setup({ monthlyLimitUsd: 1, mode: "downgrade", alertThreshold: 1 });
    await budget.record(0.95);
    await budget.reserve(0.1);
    await budget.reserve(0.2);
    expect(alerts).toEqual([
      expect.objectContaining({
        type: "budget_exceeded",
        period: "month",
        periodKey: "month:2026-11",
        mode: "downgrade",
      }),
    ]);
  });

  test("alerts are claimed through the store, so two managers sharing it alert once", async () => {
    const clock = new VirtualClock({ startMs: NOV_22, autoAdvance: false });
    const store = new MemoryBudgetStore({ clock });
    const alerts: AutoPickerAlert[] = [];
    const make = () =>
      new BudgetManager({
        dailyLimitUsd: 1,
        clock,
        store,
        logger: memoryLogger(),
        onAlert: (a) => alerts.push(a),
      });
    const [a, b] = [make(), make()];
    await a.record(0.85);
    await b.record(0.01);
    expect(alerts.map((x) => x.type)).toEqual(["budget_threshold"]);
  });

  test("a throwing listener does not break the call", async () => {
    const logger = memoryLogger();
    const budget = new BudgetManager({
      dailyLimitUsd: 1,
      logger,
      onAlert: () => {
        throw new Error("pager down");
      },
    });
    await expect(budget.record(0.9)).resolves.toBeUndefined();
    expect(logger.lines.some((l) => l.includes("pager down"))).toBe(true);
  });
});

describe("MemoryBudgetStore", () => {
  test("forgets counters after they expire", async () => {
    const clock = new VirtualClock({ startMs: 1_000, autoAdvance: false });
    const store = new MemoryBudgetStore({ clock });
    await store.add([{ key: "k", expiresAt: 2_000 }], 5);
    expect(await store.read(["k"])).toEqual([5]);
    await clock.advance(1_000);
    expect(await store.read(["k"])).toEqual([0]);
  });

  test("never goes below zero", async () => {
    const store = new MemoryBudgetStore();
    expect(await store.add([{ key: "k", expiresAt: Date.now() + 60_000 }], -5)).toEqual([0]);
  });
});
