import { FAILURE_WORDS } from "./conclusion";
import { formatDuration, formatPercent, formatUsd } from "./metrics";
import type { Arrivals, FailureReason, GroupOutcome, ResolvedWorkload, ScenarioResult } from "./types";

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
    ...groupMetrics(scenarios),
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

/**
 * Mixed workloads: a row per class with its p99 wait, and per tenant its share of the calls served,
 * so classes and tenants read side by side across configurations.
 */
function groupMetrics(scenarios: readonly ScenarioResult[]): Metric[] {
  const names = (pick: (s: ScenarioResult) => GroupOutcome[] | undefined) => [
    ...new Set(scenarios.flatMap((s) => (pick(s) ?? []).map((g) => g.name))),
  ];
  const find = (groups: GroupOutcome[] | undefined, name: string) => groups?.find((g) => g.name === name);
  return [
    ...names((s) => s.byClass).map((c) => ({
      label: `  ${c}`,
      value: (s: ScenarioResult) => {
        const g = find(s.byClass, c);
        return g ? formatDuration(g.wait.p99) : "-";
      },
    })),
    ...names((s) => s.byTenant).map((t) => ({
      label: `share served, ${t || "no tenant"}`,
      value: (s: ScenarioResult) => {
        const g = find(s.byTenant, t);
        return g ? formatPercent(g.servedShare) : "-";
      },
    })),
  ];
}

/** "in bursts of 600 every 60 s" / "arriving at 120/min (Poisson)". */
function arrivalText(a: Arrivals): string {
  if (a.pattern === "bursts") return `in bursts of ${a.size} every ${a.everySeconds} s`;
  return `arriving at ${a.perMinute}/min (${a.pattern === "poisson" ? "Poisson" : "steady"})`;
}

/**
 * "300 calls, 50 callers back to back" / "300 calls arriving at 120/min (Poisson), at most 50 in
 * flight" / "620 calls in 2 streams: interactive, 20 arriving at 30/min (Poisson); batch acme, ...".
 */
export function workloadText(w: ResolvedWorkload): string {
  const a = w.arrivals;
  let shape: string;
  if (w.streams) {
    const each = w.streams.map((st) => `${st.name}, ${st.calls} ${arrivalText(st.arrivals)}`);
    shape = `in ${w.streams.length} stream${w.streams.length > 1 ? "s" : ""} (${each.join("; ")})`;
  } else if (!a) shape = `${w.concurrency} callers back to back`;
  else shape = arrivalText(a);
  const cap = (a || w.streams) && w.concurrency !== undefined ? `, at most ${w.concurrency} in flight` : "";
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
