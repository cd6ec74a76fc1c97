import { FAILURE_WORDS } from "./conclusion";
import { formatDuration, formatPercent } from "./metrics";
import { comparisonRows, plainTable, workloadText } from "./table";
import type { FailureReason, GroupOutcome, LatencySpec, ScenarioResult, SimulationResult } from "./types";

/** The terminal summary: the conclusion, the comparison table, and per-model traffic of each scenario. */
export function renderTextSummary(result: SimulationResult): string {
  const lines = [
    result.title,
    wrap(`${workloadText(result.workload)} (virtual time, seed ${result.seed})`, 100),
    "",
    wrap(result.conclusion, 100),
    "",
  ];
  const { headers, rows } = comparisonRows(result.scenarios);
  lines.push(plainTable(headers, rows), "");
  for (const s of result.scenarios) {
    const perModel = s.models.map((m) => [
      m.name + (m.isPrimary ? " (primary)" : ""),
      limitText(m.limits),
      latencyText(m.latencyMs),
      String(m.served),
      formatPercent(s.calls ? m.served / s.calls : 0),
      String(m.providerRequests),
      String(m.provider429s),
    ]);
    lines.push(
      `${s.name}: makespan ${formatDuration(s.makespanMs)}, simulated in ${formatDuration(s.wallMs)}` +
        (s.failed ? `; ${failureText(s)}` : ""),
      plainTable(["model", "limits", "latency", "served", "share", "requests", "429s"], perModel),
      "",
    );
    for (const [what, groups] of [
      ["class", s.byClass],
      ["tenant", s.byTenant],
    ] as const) {
      if (groups?.length) lines.push(plainTable(GROUP_HEADERS(what), groups.map(groupRow)), "");
    }
  }
  return lines.join("\n");
}

/** Headers of the per-class and per-tenant tables. */
export function GROUP_HEADERS(what: "class" | "tenant"): string[] {
  return [what, "calls", "served", "share of served", "failed", "p50 wait", "p99 wait"];
}

/** One class's or tenant's row: calls, served, its share of all served calls, failures, waits. */
export function groupRow(g: GroupOutcome): string[] {
  return [
    g.name || "(no tenant)",
    String(g.calls),
    String(g.served),
    formatPercent(g.servedShare),
    String(g.failed),
    formatDuration(g.wait.p50),
    formatDuration(g.wait.p99),
  ];
}

/** "143 failed: 140 on rate limits, 3 on errors". */
export function failureText(s: ScenarioResult): string {
  const parts = Object.entries(s.failures)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${n} on ${FAILURE_WORDS[r as FailureReason]}`);
  return `${s.failed} failed: ${parts.join(", ")}`;
}

/** `60 rpm, 40000 tpm` or `unlimited`. */
export function limitText(limits: {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  requestsPerDay?: number;
}): string {
  const parts: string[] = [];
  if (limits.requestsPerMinute !== undefined) parts.push(`${limits.requestsPerMinute} rpm`);
  if (limits.tokensPerMinute !== undefined) parts.push(`${limits.tokensPerMinute} tpm`);
  if (limits.requestsPerDay !== undefined) parts.push(`${limits.requestsPerDay} rpd`);
  return parts.length ? parts.join(", ") : "unlimited";
}

/** `800 ms` or `median 800 ms, p99 4 s`. */
export function latencyText(spec: LatencySpec): string {
  return typeof spec === "number"
    ? formatDuration(spec)
    : `median ${formatDuration(spec.median)}, p99 ${formatDuration(spec.p99)}`;
}

/** Greedy word wrap that keeps a unit with its number ("4 s", "60 requests/min"). */
function wrap(text: string, width: number): string {
  const out: string[] = [];
  let line = "";
  const words: string[] = [];
  for (const w of text.split(" ")) {
    if (words.length && /^(ms|s|min|h|requests\/|tokens\/)/.test(w)) words[words.length - 1] += ` ${w}`;
    else words.push(w);
  }
  for (const word of words) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join("\n");
}
