/**
 * Local-midnight arithmetic for per-day limits that reset on a calendar (Gemini: midnight in
 * America/Los_Angeles). Uses only `Intl.DateTimeFormat`, so DST days (23 h or 25 h long) and
 * zones whose midnight is skipped are handled by the platform's time-zone data.
 */

const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  /** The local wall-clock time read as if it were UTC, in epoch ms (whole seconds). */
  wallMs: number;
}

function localTime(t: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(t)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const year = parts.year!;
  const month = parts.month!;
  const day = parts.day!;
  return {
    year,
    month,
    day,
    wallMs: Date.UTC(year, month - 1, day, parts.hour!, parts.minute!, parts.second!),
  };
}

/** The zone's UTC offset at instant `t`, in ms (local = UTC + offset). */
function offsetAt(t: number, timeZone: string): number {
  const wholeSecond = Math.floor(t / 1000) * 1000;
  return localTime(wholeSecond, timeZone).wallMs - wholeSecond;
}

/** The first instant of the local calendar day that contains `t`. */
export function startOfZonedDay(t: number, timeZone: string): number {
  const local = localTime(t, timeZone);
  const wallMidnight = Date.UTC(local.year, local.month - 1, local.day);
  // The offset at midnight may differ from the offset at `t` (a DST change in between); try both
  // and keep the earliest candidate that still falls on the same local date.
  const first = wallMidnight - offsetAt(t, timeZone);
  const second = wallMidnight - offsetAt(first, timeZone);
  let best = Number.POSITIVE_INFINITY;
  for (const c of [first, second]) {
    const l = localTime(c, timeZone);
    if (l.year === local.year && l.month === local.month && l.day === local.day && c <= t) {
      best = Math.min(best, c);
    }
  }
  return Number.isFinite(best) ? best : first;
}

/** The first instant of the local calendar day after the one that starts at `dayStart`. */
export function startOfNextZonedDay(dayStart: number, timeZone: string): number {
  // Local days last 23 to 25 hours; 26 h after a day's start is always inside the next day.
  return startOfZonedDay(dayStart + 26 * HOUR_MS, timeZone);
}

const dayCache = new Map<string, readonly number[]>();

/**
 * Four ascending local midnights: the start of the day containing `t` and the next three. Enough
 * for any wait a caller would accept on a daily limit; beyond them the store treats the last
 * period as open-ended, which only over-counts. Cached per zone while `t` stays in the same day.
 */
export function zonedDayBoundaries(t: number, timeZone: string): readonly number[] {
  const hit = dayCache.get(timeZone);
  if (hit && t >= hit[0]! && t < hit[1]!) return hit;
  const out = [startOfZonedDay(t, timeZone)];
  while (out.length < 4) out.push(startOfNextZonedDay(out[out.length - 1]!, timeZone));
  dayCache.set(timeZone, out);
  return out;
}
