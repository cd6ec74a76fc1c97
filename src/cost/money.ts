/**
 * Money as integers. Sums of float dollars drift (0.1 + 0.2 !== 0.3) and a budget compared against
 * a drifting sum can let one call too many through, so every amount that is accumulated or compared
 * is converted to an integer count of a small unit first.
 */

/** Micro-dollars per dollar. Budgets are kept in micro-dollars (what a Redis `INCRBY` holds). */
export const MICROS_PER_USD = 1_000_000;

/**
 * Nano-dollars per dollar. Usage statistics are kept in nano-dollars: catalog prices have at most
 * three decimals per million tokens (e.g. $0.075 / 1M = 75 nano-dollars per token), so every
 * per-token cost is a whole number of nano-dollars and sums are exact. Number.MAX_SAFE_INTEGER
 * nano-dollars is about $9 million, far above what one process aggregates.
 */
export const NANOS_PER_USD = 1_000_000_000;

/** Rounds up, so a reservation or a settled charge never under-counts what a call may cost. */
export function usdToMicrosCeil(usd: number): number {
  // Subtracting a hair before ceil keeps float noise (2.0000000000000004) from adding a micro-dollar.
  return Math.max(0, Math.ceil(usd * MICROS_PER_USD - 1e-6));
}

/** Rounds down, so a limit is never raised by rounding. */
export function usdToMicrosFloor(usd: number): number {
  return Math.max(0, Math.floor(usd * MICROS_PER_USD + 1e-6));
}

/** Converts integer micro-dollars back to dollars. */
export function microsToUsd(micros: number): number {
  return micros / MICROS_PER_USD;
}

/** Rounds to the nearest nano-dollar (exact for catalog prices; see {@link NANOS_PER_USD}). */
export function usdToNanos(usd: number): number {
  return Math.round(usd * NANOS_PER_USD);
}

/** Converts integer nano-dollars back to dollars. */
export function nanosToUsd(nanos: number): number {
  return nanos / NANOS_PER_USD;
}
