/** Shared helpers for the simulator tests. */

/** Runs `work` and returns what it threw; fails the test if it resolved. */
export async function caught(work: () => Promise<unknown>): Promise<Record<string, unknown> & Error> {
  try {
    await work();
  } catch (error) {
    return error as Record<string, unknown> & Error;
  }
  throw new Error("expected the call to throw");
}

/** Parses a Go duration as printed by the simulator ("4m12.172s", "20ms", "1h0m0s") to milliseconds. */
export function parseGoDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(re)) {
    const value = Number(match[1]);
    const unit = match[2];
    total +=
      unit === "h" ? value * 3_600_000 : unit === "m" ? value * 60_000 : unit === "s" ? value * 1000 : value;
    consumed += match[0].length;
  }
  if (consumed !== text.length || consumed === 0) throw new Error(`not a Go duration: ${text}`);
  return Math.round(total);
}

/** Waits (real time, in event-loop turns) until `condition` holds. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !condition(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!condition()) throw new Error("condition never held");
}

/** Gemini error details, looked up by `@type` rather than by position. */
export function detail(details: unknown, type: string): Record<string, unknown> | undefined {
  if (!Array.isArray(details)) return undefined;
  return details.find((d) => typeof d === "object" && d !== null && String(d["@type"]).endsWith(type));
}
