/**
 * Formats whole milliseconds the way Go's `time.Duration.String()` does, which is what OpenAI puts
 * in `x-ratelimit-reset-*` headers and in "Please try again in …" messages: `0s`, `20ms`, `1s`,
 * `1.05s`, `6m0s`, `4m12.172s`, `1h0m0s`. Fractional milliseconds are rounded up so a client that
 * waits the printed time is never early.
 */
export function formatGoDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return "0s";
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = formatSeconds(total % 60_000);
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** `12172` -> `"12.172"`, `6000` -> `"6"`, `1050` -> `"1.05"` (trailing zeros trimmed, as Go does). */
function formatSeconds(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const frac = ms % 1000;
  if (frac === 0) return String(whole);
  return `${whole}.${String(frac).padStart(3, "0").replace(/0+$/, "")}`;
}
