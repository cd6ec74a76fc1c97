/** OutageTracker: one warning per outage, and a call that waited out an outage starts no new one. */
import { OutageTracker } from "../src/redis/outage";

describe("OutageTracker", () => {
  it("warns once per outage; a call begun before Redis answered again starts no new outage", () => {
    const warnings: string[] = [];
    const outage = new OutageTracker("Rate limits", { warn: (m) => warnings.push(m) }, 1000);
    const err = new Error("Redis did not answer reserve within 250 ms.");
    // A call queued behind a hung one began before the recovery and times out after it.
    const before = performance.now() - 1;
    expect(outage.failed(err, "failing open", performance.now())).toBe(true);
    expect(outage.failed(err, "failing open", performance.now())).toBe(false);
    expect(outage.succeeded()).toBe(true);
    expect(outage.failed(err, "failing open", before)).toBe(false);
    expect(outage.isDown).toBe(false);
    expect(warnings).toHaveLength(1);
    // A call begun after the recovery that fails is a new outage.
    expect(outage.failed(err, "failing open", performance.now())).toBe(true);
    expect(warnings).toHaveLength(2);
  });
});
