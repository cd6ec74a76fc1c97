import { AlertMonitor, type AlertMonitorOptions, type AutoPickerAlert } from "../src/cost";
import { AutoPickerConfigError } from "../src/errors";
import { VirtualClock } from "../src/testing/virtualClock";
import { memoryLogger } from "./cost.helpers";

const HOUR = 3_600_000;

function setup(options: AlertMonitorOptions = {}) {
  const clock = new VirtualClock({ startMs: Date.UTC(2026, 10, 22), autoAdvance: false });
  const alerts: AutoPickerAlert[] = [];
  const logger = memoryLogger();
  const monitor = new AlertMonitor({ clock, logger, onAlert: (a) => alerts.push(a), ...options });
  const requests = (n: number, fallback: boolean) => {
    for (let i = 0; i < n; i++) monitor.recordRequest({ model: fallback ? "backup" : "primary", fallback });
  };
  return { clock, alerts, logger, monitor, requests };
}

describe("fallback_rate_high", () => {
  test("needs the minimum sample size before judging a rate", () => {
    const { alerts, requests } = setup();
    requests(19, true); // 100% but only 19 requests
    expect(alerts).toHaveLength(0);
    requests(1, false); // 19/20 = 95% with 20 samples
    expect(alerts.map((a) => a.type)).toEqual(["fallback_rate_high"]);
  });

  test("raised above 20%, not at 20%", () => {
    const { alerts, requests } = setup();
    requests(16, false);
    requests(4, true); // exactly 20%
    expect(alerts).toHaveLength(0);
    requests(1, true); // 5/21
    expect(alerts).toEqual([
      expect.objectContaining({
        type: "fallback_rate_high",
        fallbacks: 5,
        requests: 21,
        threshold: 0.2,
        windowMs: HOUR,
      }),
    ]);
  });

  test("at most once per window, again once the window has passed", async () => {
    const { alerts, requests, clock, logger } = setup();
    requests(15, false);
    requests(10, true);
    await clock.advance(30 * 60_000);
    requests(10, true);
    expect(alerts).toHaveLength(1);
    expect(logger.lines).toEqual([expect.stringMatching(/^\[autopicker\] \d+\.\d% of requests fell back/)]);
    await clock.advance(HOUR);
    requests(15, false);
    requests(10, true);
    expect(alerts.map((a) => a.type)).toEqual(["fallback_rate_high", "fallback_rate_high"]);
  });

  test("the window slides: old fallbacks stop counting", async () => {
    const { alerts, requests, clock, monitor } = setup({ fallbackRateThreshold: 0.5 });
    requests(10, true);
    await clock.advance(HOUR + 60_000);
    requests(20, false);
    expect(monitor.snapshot()).toMatchObject({ requests: 20, fallbacks: 0 });
    requests(5, true); // 5/25 in the window: below 50%
    expect(alerts).toHaveLength(0);
  });
});

describe("rate-limit alerts", () => {
  test("rate_limit_waits_frequent when more than 30% of requests waited, once per window", async () => {
    const { alerts, monitor, requests, clock } = setup();
    for (let i = 0; i < 6; i++) monitor.recordWait(1_000);
    requests(20, false); // 6/20 = 30%: not above
    expect(alerts).toHaveLength(0);
    monitor.recordWait(1_000); // 7/20
    expect(alerts).toEqual([
      expect.objectContaining({ type: "rate_limit_waits_frequent", waits: 7, requests: 20 }),
    ]);
    monitor.recordWait(1_000);
    expect(alerts).toHaveLength(1);
    await clock.advance(HOUR);
    for (let i = 0; i < 10; i++) monitor.recordWait(500);
    requests(20, false);
    expect(alerts).toHaveLength(2);
  });

  test("rate_limit_wait_long for a single wait above the threshold, once per window", async () => {
    const { alerts, monitor, clock } = setup({ longWaitMs: 60_000 });
    monitor.recordWait(60_000);
    expect(alerts).toHaveLength(0);
    monitor.recordWait(61_000);
    monitor.recordWait(90_000);
    expect(alerts).toEqual([
      expect.objectContaining({ type: "rate_limit_wait_long", waitMs: 61_000, thresholdMs: 60_000 }),
    ]);
    await clock.advance(HOUR);
    monitor.recordWait(90_000);
    expect(alerts).toHaveLength(2);
  });

  test("zero waits are not waits", () => {
    const { monitor } = setup();
    monitor.recordWait(0);
    expect(monitor.snapshot().waits).toBe(0);
  });
});

test("invalid options are rejected", () => {
  expect(() => new AlertMonitor({ fallbackRateThreshold: 2 })).toThrow(AutoPickerConfigError);
  expect(() => new AlertMonitor({ windowMs: 0 })).toThrow(AutoPickerConfigError);
});
