import { systemClock } from "../src/clock";
import { VirtualClock } from "../src/testing/virtualClock";

describe("VirtualClock", () => {
  it("wakes sleepers in wake-time order and jumps time when nothing is in flight", async () => {
    const clock = new VirtualClock({ startMs: 0 });
    const woke: Array<[string, number]> = [];
    await Promise.all([
      clock.sleep(60_000).then(() => woke.push(["a", clock.now()])),
      clock.sleep(30_000).then(() => woke.push(["b", clock.now()])),
      clock.sleep(30_000).then(() => woke.push(["c", clock.now()])),
    ]);
    expect(woke).toEqual([
      ["b", 30_000],
      ["c", 30_000],
      ["a", 60_000],
    ]);
  });

  it("does not move time while busy() work is pending", async () => {
    const clock = new VirtualClock({ startMs: 0 });
    let release!: () => void;
    const work = clock.busy(new Promise<void>((r) => (release = r)));
    let woke = false;
    const sleeper = clock.sleep(1000).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(false);
    expect(clock.now()).toBe(0);
    release();
    await work;
    await sleeper;
    expect(clock.now()).toBe(1000);
  });

  it("rejects a sleep when its signal aborts, and drops the timer", async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const ac = new AbortController();
    const p = clock.sleep(10_000, ac.signal);
    ac.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
    expect(clock.pendingTimers).toBe(0);
  });

  it("advance() only wakes what is due", async () => {
    const clock = new VirtualClock({ startMs: 0, autoAdvance: false });
    let woke = 0;
    void clock.sleep(100).then(() => woke++);
    void clock.sleep(300).then(() => woke++);
    await clock.advance(200);
    expect(woke).toBe(1);
    expect(clock.now()).toBe(200);
  });
});

describe("systemClock", () => {
  it("rejects at once on an already-aborted signal and on abort mid-wait", async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(systemClock.sleep(10, ac.signal)).rejects.toMatchObject({ name: "AbortError" });
    const ac2 = new AbortController();
    const p = systemClock.sleep(60_000, ac2.signal);
    ac2.abort(new Error("cancelled"));
    await expect(p).rejects.toThrow("cancelled");
  });
});
