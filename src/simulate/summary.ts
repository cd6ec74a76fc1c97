import { formatDuration, formatPercent } from "./metrics";
import { comparisonRows, plainTable } from "./table";
import type { SimulationResult } from "./types";

/** The terminal summary: workload, the comparison table, and per-model traffic of each scenario. */
export function renderTextSummary(result: SimulationResult): string {
  const w = result.workload;
  const shape =
    w.arrivalsPerMinute !== undefined
      ? `${w.arrivalsPerMinute} arrivals/min`
      : `concurrency ${w.concurrency}`;
  const lines = [
    result.title,
    `${w.calls} calls, ${shape}, ~${w.promptTokens} prompt + ${w.outputTokens} output tokens each (virtual time)`,
    "",
  ];
  const { headers, rows } = comparisonRows(result.scenarios);
  lines.push(plainTable(headers, rows), "");
  for (const s of result.scenarios) {
    const perModel = s.models.map((m) => [
      m.name + (m.isPrimary ? " (primary)" : ""),
      limitText(m.limits),
      String(m.served),
      formatPercent(s.calls ? m.served / s.calls : 0),
      String(m.providerRequests),
      String(m.provider429s),
    ]);
    const errors = Object.entries(s.errors).map(([e, n]) => `${n} × ${e}`);
    lines.push(
      `${s.name}: makespan ${formatDuration(s.makespanMs)}, simulated in ${formatDuration(s.wallMs)}` +
        (errors.length ? `; failed: ${errors.join(", ")}` : ""),
      plainTable(["model", "limits", "served", "share", "requests", "429s"], perModel),
      "",
    );
  }
  return lines.join("\n");
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
