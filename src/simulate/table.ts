import { FAILURE_WORDS } from "./conclusion";
import { formatDuration, formatPercent, formatUsd } from "./metrics";
import type { FailureReason, ResolvedWorkload, ScenarioResult } from "./types";

/** One row of the comparison: what it measures and how to read it from a scenario. */
interface Metric {
  label: string;
  value: (s: ScenarioResult) => string;
}

const FAILURE_ORDER: FailureReason[] = ["rate_limit", "quota_exhausted", "context_length", "budget", "error"];

/**
 * The side-by-side comparison, one column per configuration and one row per measure (narrow enough
 * for a phone or an 80-column terminal with a few configurations), shared by the HTML and text
 * output. Failure reasons get a row each when any configuration failed for that reason.
 */
export function comparisonRows(scenarios: readonly ScenarioResult[]): {
  headers: string[];
  rows: string[][];
} {
  const reasons = FAILURE_ORDER.filter((r) => scenarios.some((s) => (s.failures[r] ?? 0) > 0));
  const metrics: Metric[] = [
    { label: "max wait", value: (s) => `${s.settings.maxWaitSeconds} s` },
    { label: "retries", value: (s) => String(s.settings.maxRetries) },
    { label: "served by primary", value: (s) => formatPercent(s.primaryShare) },
    { label: "served by fallbacks", value: (s) => formatPercent(s.fallbackShare) },
    { label: "failed", value: (s) => String(s.failed) },
    ...reasons.map((r) => ({
      label: `  on ${FAILURE_WORDS[r]}`,
      value: (s: ScenarioResult) => String(s.failures[r] ?? 0),
    })),
    { label: "p50 latency", value: (s) => formatDuration(s.latency.p50) },
    { label: "p99 latency", value: (s) => formatDuration(s.latency.p99) },
    { label: "calls that waited", value: (s) => String(s.callsThatWaited) },
    { label: "p99 wait", value: (s) => formatDuration(s.wait.p99) },
    { label: "provider 429s", value: (s) => String(s.provider429s) },
    { label: "HTTP requests", value: (s) => String(s.providerRequests) },
    {
      label: "cost",
      value: (s) => formatUsd(s.costUsd) + (s.unpricedCalls ? ` (+${s.unpricedCalls} unpriced)` : ""),
    },
    { label: "makespan", value: (s) => formatDuration(s.makespanMs) },
  ];
  return {
    headers: ["", ...scenarios.map((s) => s.name)],
    rows: metrics.map((m) => [m.label, ...scenarios.map((s) => m.value(s))]),
  };
}

/** "300 calls, 50 callers back to back" / "300 calls arriving at 120/min (Poisson), at most 50 in flight". */
export function workloadText(w: ResolvedWorkload): string {
  const a = w.arrivals;
  let shape: string;
  if (!a) shape = `${w.concurrency} callers back to back`;
  else if (a.pattern === "bursts") shape = `in bursts of ${a.size} every ${a.everySeconds} s`;
  else shape = `arriving at ${a.perMinute}/min (${a.pattern === "poisson" ? "Poisson" : "steady"})`;
  const cap = a && w.concurrency !== undefined ? `, at most ${w.concurrency} in flight` : "";
  return `${w.calls} calls, ${shape}${cap}, ~${w.promptTokens} prompt + ${w.outputTokens} output tokens each`;
}

/** Pads a table into aligned plain-text columns with a rule under the header. */
export function plainTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
