import { formatDuration, formatPercent, formatUsd } from "./metrics";
import type { ScenarioResult } from "./types";

/** One column of the comparison table: header and how to read a scenario. */
interface Column {
  header: string;
  value: (s: ScenarioResult) => string;
}

const COLUMNS: Column[] = [
  { header: "configuration", value: (s) => s.name },
  { header: "max wait", value: (s) => `${s.settings.maxWaitSeconds} s` },
  { header: "retries", value: (s) => String(s.settings.maxRetries) },
  { header: "primary share", value: (s) => formatPercent(s.primaryShare) },
  { header: "fallback share", value: (s) => formatPercent(s.fallbackShare) },
  { header: "failed", value: (s) => String(s.failed) },
  { header: "p50 latency", value: (s) => formatDuration(s.latency.p50) },
  { header: "p99 latency", value: (s) => formatDuration(s.latency.p99) },
  { header: "calls that waited", value: (s) => String(s.callsThatWaited) },
  { header: "p99 wait", value: (s) => formatDuration(s.wait.p99) },
  { header: "provider 429s", value: (s) => String(s.provider429s) },
  { header: "HTTP requests", value: (s) => String(s.providerRequests) },
  {
    header: "cost",
    value: (s) => formatUsd(s.costUsd) + (s.unpricedCalls ? ` (+${s.unpricedCalls} unpriced)` : ""),
  },
  { header: "makespan", value: (s) => formatDuration(s.makespanMs) },
];

/** The side-by-side comparison as header + rows of strings (shared by the HTML and text output). */
export function comparisonRows(scenarios: readonly ScenarioResult[]): {
  headers: string[];
  rows: string[][];
} {
  return {
    headers: COLUMNS.map((c) => c.header),
    rows: scenarios.map((s) => COLUMNS.map((c) => c.value(s))),
  };
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
