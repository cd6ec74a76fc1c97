import { AutoPickerConfigError } from "../errors";
import { isValidTimeZone, zonedDayBoundaries } from "./calendar";
import type { WindowSpec } from "./store";
import type { LimitUnit, ModelLimits } from "./types";

/** Milliseconds in a minute and in a day. */
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** One limit of a model, before calendar boundaries are resolved for a given instant. */
export interface Dimension {
  name: string;
  unit: LimitUnit;
  limit: number;
  intervalMs: number;
  /** Set for a per-day limit that resets at local midnight in this zone. */
  timeZone?: string;
}

const KNOWN_KEYS = new Set([
  "requestsPerMinute",
  "tokensPerMinute",
  "requestsPerDay",
  "tokensPerDay",
  "windows",
  "dailyResetTimeZone",
]);

/** `"requests/min"`, `"tokens/day (America/Los_Angeles)"`, `"requests/1000ms"`... */
export function dimensionName(unit: LimitUnit, intervalMs: number, timeZone?: string): string {
  const span =
    intervalMs === MINUTE_MS
      ? "min"
      : intervalMs === DAY_MS
        ? "day"
        : intervalMs === 3_600_000
          ? "hour"
          : intervalMs === 1000
            ? "s"
            : `${intervalMs}ms`;
  return `${unit}/${span}${timeZone ? ` (${timeZone})` : ""}`;
}

/** The same unit and span (calendar or not): two such limits are one dimension, the lower wins. */
export function dimensionKey(unit: LimitUnit, intervalMs: number): string {
  return `${unit}:${intervalMs}`;
}

/**
 * Validates `limits` for `model` and turns them into dimensions. Throws
 * {@link AutoPickerConfigError} naming the field and the fix.
 */
export function resolveDimensions(model: string, limits: ModelLimits): Dimension[] {
  const fail = (msg: string): never => {
    throw new AutoPickerConfigError(`Rate limits for "${model}": ${msg}`);
  };
  if (typeof limits !== "object" || limits === null) fail("expected an object of limits.");
  for (const k of Object.keys(limits)) {
    if (!KNOWN_KEYS.has(k)) fail(`unknown field "${k}" (known: ${[...KNOWN_KEYS].join(", ")}).`);
  }
  const positive = (value: unknown, field: string): number => {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      return fail(
        `${field} must be a positive finite number, got ${String(value)}. Omit the field for "no limit".`,
      );
    }
    return value;
  };

  const tz = limits.dailyResetTimeZone;
  if (tz !== undefined && (typeof tz !== "string" || !isValidTimeZone(tz))) {
    fail(`dailyResetTimeZone "${String(tz)}" is not an IANA time zone (e.g. "America/Los_Angeles").`);
  }

  const raw: Array<{ unit: LimitUnit; limit: number; intervalMs: number }> = [];
  const named: Array<[keyof ModelLimits, LimitUnit, number]> = [
    ["requestsPerMinute", "requests", MINUTE_MS],
    ["tokensPerMinute", "tokens", MINUTE_MS],
    ["requestsPerDay", "requests", DAY_MS],
    ["tokensPerDay", "tokens", DAY_MS],
  ];
  for (const [field, unit, intervalMs] of named) {
    if (limits[field] !== undefined) raw.push({ unit, limit: positive(limits[field], field), intervalMs });
  }
  if (limits.windows !== undefined) {
    if (!Array.isArray(limits.windows)) fail("windows must be an array of { unit, limit, intervalMs }.");
    limits.windows.forEach((w, i) => {
      if (w?.unit !== "requests" && w?.unit !== "tokens") {
        fail(`windows[${i}].unit must be "requests" or "tokens", got ${String(w?.unit)}.`);
      }
      raw.push({
        unit: w.unit,
        limit: positive(w.limit, `windows[${i}].limit`),
        intervalMs: positive(w.intervalMs, `windows[${i}].intervalMs`),
      });
    });
  }

  const byKey = new Map<string, Dimension>();
  for (const r of raw) {
    const key = dimensionKey(r.unit, r.intervalMs);
    const prev = byKey.get(key);
    if (prev && prev.limit <= r.limit) continue;
    const timeZone = r.intervalMs === DAY_MS ? tz : undefined;
    byKey.set(key, {
      name: dimensionName(r.unit, r.intervalMs, timeZone),
      ...r,
      ...(timeZone ? { timeZone } : {}),
    });
  }
  return [...byKey.values()];
}

/** The store's view of `dims` at instant `now` (calendar dimensions get their period boundaries). */
export function windowSpecs(dims: readonly Dimension[], now: number): WindowSpec[] {
  return dims.map((d) =>
    d.timeZone
      ? {
          kind: "calendar",
          name: d.name,
          unit: d.unit,
          limit: d.limit,
          intervalMs: d.intervalMs,
          periodStarts: zonedDayBoundaries(now, d.timeZone),
        }
      : { kind: "sliding", name: d.name, unit: d.unit, limit: d.limit, intervalMs: d.intervalMs },
  );
}
