import { formatDuration, formatPercent, formatUsd, trailingWindowSeries, waitHistogram } from "./metrics";
import { failureText, GROUP_HEADERS, groupRow, latencyText, limitText } from "./summary";
import { barChart, escapeXml, lineChart, PALETTE, stackedBars } from "./svg";
import { comparisonRows, workloadText } from "./table";
import type { GroupOutcome, ModelOutcome, ScenarioResult, SimulationResult } from "./types";

const MINUTE = 60_000;
const FAILED_COLOR = "#999999";
/** Per-configuration bars use one neutral colour so they are not mistaken for a model's. */
const SCENARIO_COLOR = "#4C566A";

/**
 * A self-contained HTML report (inline CSS and SVG; no scripts, no network): the conclusion in
 * words, the comparison table, served-by and cost charts across configurations, and per
 * configuration each model's request (and token) rate over time against its limits plus the
 * wait-time distribution. Reads on a 600 px wide screen: the table has a column per configuration
 * and the charts scale down.
 */
export function renderHtmlReport(result: SimulationResult): string {
  const modelNames = result.scenarios[0]?.models.map((m) => m.name) ?? [];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(result.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeXml(result.title)}</h1>
<p class="meta">${escapeXml(workloadText(result.workload))}. Simulated in virtual time (seed ${result.seed}) with the real AutoPickerChatModel and LangChain clients against a local provider simulator; generated ${escapeXml(result.generatedAt)}.</p>
<p id="conclusion">${escapeXml(result.conclusion)}</p>
<h2>Configurations side by side</h2>
<div class="wide">${comparisonTable(result.scenarios)}</div>
<div class="charts">
${servedByChart(result.scenarios, modelNames)}
${barChart({
  kind: "cost",
  title: "Cost per configuration",
  bars: result.scenarios.map((s) => ({ label: s.name, value: s.costUsd, color: SCENARIO_COLOR })),
  formatValue: formatUsd,
  formatTick: (v) => (v === 0 ? "$0" : `$${+v.toPrecision(3)}`),
  yLabel: "USD",
})}
</div>
<h2>Models</h2>
<div class="wide">${modelsTable(result.scenarios[0]?.models ?? [])}</div>
${result.scenarios.map((s) => scenarioSection(s)).join("\n")}
<p class="meta">Latency is release-to-answer in virtual time: queueing for a slot, the picker's waits, and each model's answer time (drawn per call from its latency distribution, the same draw in every configuration). Provider 429s are the rejections the simulated providers sent; HTTP requests include retries and fallback calls. A failed call's reason is why the last model tried gave up on it.</p>
</body>
</html>
`;
}

function comparisonTable(scenarios: readonly ScenarioResult[]): string {
  const { headers, rows } = comparisonRows(scenarios);
  const head = headers
    .map((h, i) => (i === 0 ? `<td></td>` : `<th scope="col">${escapeXml(h)}</th>`))
    .join("");
  const body = rows
    .map((r) => {
      const sub = r[0]!.startsWith("  ");
      const label = `<th scope="row"${sub ? ' class="sub"' : ""}>${escapeXml(r[0]!.trim())}</th>`;
      return `<tr>${label}${r
        .slice(1)
        .map((c) => `<td>${escapeXml(c)}</td>`)
        .join("")}</tr>`;
    })
    .join("\n");
  return `<table id="comparison"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function modelsTable(models: readonly ModelOutcome[]): string {
  const rows = models
    .map((m) => {
      const role = m.isPrimary ? "primary" : "fallback";
      const limits = limitText(m.limits) + (m.tier ? ` (${m.tier})` : "");
      const told = m.knownToPicker ? "yes" : "no: learns them from headers and 429s";
      return `<tr><th scope="row">${escapeXml(m.name)} <span class="role">${role}</span></th><td>${escapeXml(limits)}</td><td>${told}</td><td>${escapeXml(latencyText(m.latencyMs))}</td></tr>`;
    })
    .join("\n");
  return `<table id="models"><thead><tr><th>model</th><th>provider limits</th><th>picker told the limits</th><th>answer time</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function servedByChart(scenarios: readonly ScenarioResult[], modelNames: readonly string[]): string {
  return stackedBars({
    kind: "served-by",
    title: "Who served the calls (fallback rate)",
    rows: scenarios.map((s) => ({
      label: s.name,
      segments: [
        ...s.models.map((m) => ({
          label: m.name,
          value: m.served,
          color: PALETTE[modelNames.indexOf(m.name) % PALETTE.length]!,
        })),
        { label: "failed", value: s.failed, color: FAILED_COLOR },
      ],
    })),
  });
}

function scenarioSection(s: ScenarioResult): string {
  const xMax = Math.max(s.makespanMs, MINUTE);
  const charts: string[] = [];
  s.models.forEach((m, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    if (m.providerRequests === 0) {
      charts.push(`<p class="note">${escapeXml(m.name)}: no requests.</p>`);
      return;
    }
    charts.push(
      lineChart({
        kind: "requests",
        title: `${m.name}: requests in the trailing minute`,
        series: [
          {
            label: "requests/min",
            color,
            points: trailingWindowSeries(
              m.arrivals.map((t) => [t, 1] as const),
              MINUTE,
            ),
          },
        ],
        references:
          m.limits.requestsPerMinute !== undefined
            ? [
                {
                  label: `limit ${m.limits.requestsPerMinute} rpm`,
                  value: m.limits.requestsPerMinute,
                  color: "#D55E00",
                },
              ]
            : [],
        xMax,
        xLabel: "virtual time since start",
        yLabel: "requests / 60 s",
      }),
    );
    if (m.limits.tokensPerMinute !== undefined) {
      charts.push(
        lineChart({
          kind: "tokens",
          title: `${m.name}: tokens in the trailing minute`,
          series: [
            { label: "tokens/min (billed)", color, points: trailingWindowSeries(m.tokenArrivals, MINUTE) },
          ],
          references: [
            {
              label: `limit ${m.limits.tokensPerMinute} tpm`,
              value: m.limits.tokensPerMinute,
              color: "#D55E00",
            },
          ],
          xMax,
          xLabel: "virtual time since start",
          yLabel: "tokens / 60 s",
        }),
      );
    }
  });
  charts.push(
    barChart({
      kind: "wait-histogram",
      title: "Total wait per call",
      bars: waitHistogram(s.records.map((r) => r.waitMs)).map((b) => ({ label: b.label, value: b.count })),
      formatValue: (v) => String(v),
      yLabel: "calls",
    }),
  );
  const reasons = Object.entries(s.fallbackReasons)
    .map(([r, n]) => `${escapeXml(r)} ${n}`)
    .join(", ");
  if (s.byClass?.length) {
    charts.push(
      barChart({
        kind: "class-wait",
        title: "p99 wait per class",
        bars: s.byClass.map((g) => ({ label: g.name, value: g.wait.p99, color: SCENARIO_COLOR })),
        formatValue: formatDuration,
        formatTick: formatDuration,
        yLabel: "wait",
      }),
    );
  }
  const groups = [
    s.byClass?.length ? groupTable("class", s.byClass) : "",
    s.byTenant?.length ? groupTable("tenant", s.byTenant) : "",
  ].join("");
  return `<section class="scenario" data-scenario="${escapeXml(s.name)}">
<h2>${escapeXml(s.name)}</h2>
<p class="meta">max wait ${s.settings.maxWaitSeconds} s, ${s.settings.maxRetries} retries, backoff ×${s.settings.backoffBase}.
Primary ${formatPercent(s.primaryShare)}, fallbacks ${formatPercent(s.fallbackShare)}${reasons ? ` (fallbacks by reason: ${reasons})` : ""}; ${s.failed ? escapeXml(failureText(s)) : "none failed"};
${s.callsThatWaited} calls waited (mean ${formatDuration(s.wait.mean)}, p99 ${formatDuration(s.wait.p99)}); ${s.provider429s} provider 429s; cost ${formatUsd(s.costUsd)}; makespan ${formatDuration(s.makespanMs)}.</p>
${groups ? `<div class="wide">${groups}</div>\n` : ""}<div class="charts">
${charts.join("\n")}
</div>
</section>`;
}

/** Waits and shares per class or per tenant of a mixed workload. */
function groupTable(what: "class" | "tenant", groups: readonly GroupOutcome[]): string {
  const head = GROUP_HEADERS(what)
    .map((h) => `<th>${escapeXml(h)}</th>`)
    .join("");
  const rows = groups
    .map((g) => {
      const [name, ...cells] = groupRow(g);
      return `<tr><th scope="row">${escapeXml(name!)}</th>${cells.map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`;
    })
    .join("\n");
  return `<table class="groups" data-by="${what}"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

const CSS = `
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1340px; color: #222; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta, .note { color: #555; font-size: 13px; }
#conclusion { font-size: 15px; background: #f3f6fa; border-left: 4px solid #0072B2; padding: 10px 14px; max-width: 72em; }
.wide { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; overflow-wrap: break-word; }
thead th { background: #f5f5f5; text-align: center; }
tbody th { text-align: left; font-weight: 600; }
tbody th.sub { font-weight: normal; padding-left: 20px; }
#models td { text-align: left; }
.role { display: block; font-weight: normal; color: #555; font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.charts svg { border: 1px solid #eee; background: #fff; max-width: 100%; height: auto; }
`;
