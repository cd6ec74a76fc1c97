import { CostTrackingCallbackHandler } from "../cost";
import type { Pricing } from "../cost/pricing";
import { PRIORITIES } from "../limits/priority";
import { AutoPickerChatModel } from "../model/AutoPickerChatModel";
import type { ModelEntry } from "../model/types";
import { ProviderSimulator, type SimModelConfig } from "../testing/simulator";
import { VirtualClock } from "../testing/virtualClock";
import { costsOf } from "./callEvents";
import { clientFor } from "./clients";
import { conclude } from "./conclusion";
import { type ResolvedConfig, type ResolvedModel, type ResolvedScenario, resolveConfig } from "./config";
import { distribution } from "./metrics";
import { fixedLengthResponder } from "./prompt";
import { arrivalTimes, jitterSource, sampleLatency } from "./random";
import type {
  CallRecord,
  FailureReason,
  GroupOutcome,
  ModelOutcome,
  ScenarioResult,
  SimulationConfig,
  SimulationResult,
} from "./types";
import { type CallPlace, runWorkload } from "./workload";

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** Called when a scenario starts and when it ends. */
  onScenario?: (event: { scenario: string; phase: "start" | "end"; index: number; total: number }) => void;
}

/**
 * Runs the workload once per scenario with the real `AutoPickerChatModel` and the real LangChain
 * clients against a local {@link ProviderSimulator}, in virtual time (minutes of rate limiting take
 * about a second), and measures who served, waits, fallbacks, 429s, failures, latency and cost.
 * Every scenario sees the same arrivals and the same latency for the same call on the same model.
 * The config is validated first: a mistake is an `AutoPickerConfigError` naming its path.
 *
 * @example
 * ```ts
 * const result = await simulate({
 *   models: [{ model: "gpt-4o-mini", limits: { requestsPerMinute: 60 } }, { model: "gemini-2.5-flash" }],
 *   workload: { calls: 300, concurrency: 50 },
 *   compare: ["wait-first", "fallback-first"],
 * });
 * ```
 */
export async function simulate(
  config: SimulationConfig,
  options: SimulateOptions = {},
): Promise<SimulationResult> {
  const resolved = resolveConfig(config);
  const mixed = resolved.workload.streams ? mixedArrivals(resolved) : undefined;
  const arrivals = resolved.workload.arrivals
    ? arrivalTimes(resolved.workload.arrivals, resolved.workload.calls, resolved.seed)
    : mixed?.arrivals;
  const scenarios: ScenarioResult[] = [];
  for (const [index, scenario] of resolved.scenarios.entries()) {
    const total = resolved.scenarios.length;
    options.onScenario?.({ scenario: scenario.name, phase: "start", index, total });
    scenarios.push(await runScenario(resolved, scenario, arrivals, mixed?.places));
    options.onScenario?.({ scenario: scenario.name, phase: "end", index, total });
  }
  const result = {
    title: resolved.title,
    workload: resolved.workload,
    seed: resolved.seed,
    scenarios,
    generatedAt: new Date().toISOString(),
  };
  return { ...result, conclusion: conclude(result) };
}

/** Every stream's arrivals merged into one schedule (ties in stream order), with each call's place. */
function mixedArrivals(config: ResolvedConfig): { arrivals: number[]; places: CallPlace[] } {
  const calls = (config.workload.streams ?? []).flatMap((st, stream) =>
    arrivalTimes(st.arrivals, st.calls, config.seed, stream).map((at) => ({
      at,
      place: { stream, priority: st.priority, ...(st.tenant ? { tenant: st.tenant } : {}) },
    })),
  );
  calls.sort((a, b) => a.at - b.at || a.place.stream - b.place.stream);
  return { arrivals: calls.map((c) => c.at), places: calls.map((c) => c.place) };
}

/** Says so when a scenario sets lane options this picker does not take (they are left out). */
/** One scenario in a fresh world: its own clock, simulator, picker and cost tracker. */
async function runScenario(
  config: ResolvedConfig,
  scenario: ResolvedScenario,
  arrivals: readonly number[] | undefined,
  places: readonly CallPlace[] | undefined,
): Promise<ScenarioResult> {
  const wallStart = Date.now();
  const clock = new VirtualClock();
  const sim = new ProviderSimulator({
    clock,
    models: Object.fromEntries(config.models.map((m) => [m.model, simModel(m)])),
    responder: fixedLengthResponder(config.workload.outputTokens),
    count429s: config.count429s,
  });
  await sim.start();
  try {
    const entries: ModelEntry[] = await Promise.all(
      config.models.map(async (m) => ({
        model: await clientFor(m, sim, config.workload.outputTokens),
        name: m.name,
        ...(m.knownToPicker && Object.keys(m.limits).length > 0 ? { limits: { ...m.limits } } : {}),
        ...(m.pricing ? { pricing: m.pricing } : {}),
      })),
    );
    const quiet = { warn: () => undefined };
    const picker = new AutoPickerChatModel({
      primary: entries[0]!,
      fallbacks: entries.slice(1),
      clock,
      logger: quiet,
      // Seeded jitter: the same config gives the same run, backoff included.
      random: jitterSource(config.seed),
      ...scenario.settings,
    });
    const cost = new CostTrackingCallbackHandler({
      clock,
      pricing: pricingOverrides(config.models),
      logger: quiet,
    });
    const start = clock.now();
    const modelIndex = new Map(config.models.map((m, i) => [m.name, i]));
    const records = await runWorkload({
      picker,
      clock,
      workload: config.workload,
      ...(arrivals ? { arrivals } : {}),
      ...(places ? { places } : {}),
      latencyMs: (name, call) => {
        const i = modelIndex.get(name);
        return i === undefined ? 0 : sampleLatency(config.models[i]!.latencyMs, config.seed, i, call);
      },
      callbacks: [cost],
    });
    const costs = costsOf(cost);
    const models = config.models.map((m, i): ModelOutcome => {
      const s = sim.stats(m.model);
      return {
        name: m.name,
        model: m.model,
        provider: m.provider,
        isPrimary: i === 0,
        ...(m.tier ? { tier: m.tier } : {}),
        limits: m.limits,
        knownToPicker: m.knownToPicker,
        latencyMs: m.latencyMs,
        served: records.filter((r) => r.servedBy === m.name).length,
        providerRequests: s.requests,
        provider429s: s.rateLimited,
        arrivals: s.arrivals.map((t) => t - start),
        tokenArrivals: records
          .filter((r) => r.servedBy === m.name && r.answeredAt !== undefined)
          .map((r): [number, number] => [r.answeredAt!, r.tokens]),
        costUsd: costs.byModel(m.name, m.model),
        inputTokens: s.inputTokens,
        outputTokens: s.outputTokens,
      };
    });
    const summary = summarize(scenario, records, models, costs.totalUsd, costs.unpricedCalls, wallStart);
    return places ? { ...summary, ...groupOutcomes(records) } : summary;
  } finally {
    await sim.stop();
  }
}

function summarize(
  scenario: ResolvedScenario,
  records: CallRecord[],
  models: ModelOutcome[],
  costUsd: number,
  unpricedCalls: number,
  wallStart: number,
): ScenarioResult {
  const calls = records.length;
  const ok = records.filter((r) => r.servedBy !== undefined);
  const primary = models[0]!.name;
  const primaryServed = ok.filter((r) => r.servedBy === primary).length;
  const fallbackReasons: Record<string, number> = {};
  for (const r of records)
    for (const reason of r.fallbackReasons) fallbackReasons[reason] = (fallbackReasons[reason] ?? 0) + 1;
  const failures: Partial<Record<FailureReason, number>> = {};
  for (const r of records) if (r.failure) failures[r.failure] = (failures[r.failure] ?? 0) + 1;
  return {
    name: scenario.name,
    settings: scenario.settings,
    calls,
    succeeded: ok.length,
    failed: calls - ok.length,
    failures,
    primaryShare: calls ? primaryServed / calls : 0,
    fallbackShare: calls ? (ok.length - primaryServed) / calls : 0,
    fallbackReasons,
    latency: distribution(ok.map((r) => r.latencyMs)),
    wait: distribution(records.map((r) => r.waitMs)),
    callsThatWaited: records.filter((r) => r.waits > 0).length,
    provider429s: models.reduce((s, m) => s + m.provider429s, 0),
    providerRequests: models.reduce((s, m) => s + m.providerRequests, 0),
    costUsd,
    unpricedCalls,
    makespanMs: records.reduce((m, r) => Math.max(m, r.finishedAt), 0),
    wallMs: Date.now() - wallStart,
    models,
    records,
  };
}

/** Waits and shares per class (highest first) and, when calls name tenants, per tenant. */
function groupOutcomes(records: readonly CallRecord[]): Pick<ScenarioResult, "byClass" | "byTenant"> {
  const servedTotal = records.filter((r) => r.servedBy !== undefined).length;
  const group = (name: string, of: readonly CallRecord[]): GroupOutcome => {
    const served = of.filter((r) => r.servedBy !== undefined).length;
    return {
      name,
      calls: of.length,
      served,
      failed: of.length - served,
      servedShare: servedTotal ? served / servedTotal : 0,
      wait: distribution(of.map((r) => r.waitMs)),
    };
  };
  const byClass = PRIORITIES.filter((p) => records.some((r) => r.priority === p)).map((p) =>
    group(
      p,
      records.filter((r) => r.priority === p),
    ),
  );
  const tenants = [...new Set(records.map((r) => r.tenant ?? ""))];
  if (tenants.length === 1 && tenants[0] === "") return { byClass };
  const byTenant = tenants.map((t) =>
    group(
      t,
      records.filter((r) => (r.tenant ?? "") === t),
    ),
  );
  return { byClass, byTenant };
}

function simModel(m: ResolvedModel): SimModelConfig {
  return { provider: m.provider, ...m.limits };
}

function pricingOverrides(models: readonly ResolvedModel[]): Record<string, Pricing> {
  const out: Record<string, Pricing> = {};
  for (const m of models) {
    if (!m.pricing) continue;
    out[m.name] = m.pricing;
    out[m.model] = m.pricing;
  }
  return out;
}
