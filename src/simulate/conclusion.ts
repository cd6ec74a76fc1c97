/**
 * The report's conclusion in words, derived from the numbers: which limit binds (from the workload
 * and the limits: what the primary admits per minute against what the workload sends), what falling
 * back costs (the most-waiting configuration against the most-falling-back one, as measured), and
 * what to change (a tier from the catalog that fits, a fallback, fewer callers).
 */
import { catalogLimits, type Tier } from "../limits";
import { formatDuration, formatUsd, peak, trailingWindowSeries } from "./metrics";
import { meanLatency } from "./random";
import { TIERS } from "./schema";
import type { FailureReason, ModelOutcome, ScenarioResult, SimulatedLimits, SimulationResult } from "./types";

const MINUTE = 60_000;

/** Words for a failure reason, plural ("3 calls failed on rate limits"). */
export const FAILURE_WORDS: Record<FailureReason, string> = {
  rate_limit: "rate limits",
  quota_exhausted: "exhausted quotas",
  context_length: "input too long",
  budget: "the budget",
  error: "errors",
};

/** What one model admits, in calls, and which limit decides it. */
interface Capacity {
  /** Calls per minute (Infinity when nothing per-minute is limited). */
  perMinute: number;
  /** The per-minute limit that decides `perMinute`, in words ("60 requests/min"). */
  limit?: string;
  /** Calls per day (Infinity when unlimited). */
  perDay: number;
  /** Tokens booked per call in the token window (see {@link bookedTokens}). */
  tokensPerCall: number;
  /** What Gemini itself counts, when the picker books more than that (it adds the output allowance). */
  providerTokensPerCall?: number;
}

/** How hard the workload pushes, in calls per minute, if nothing held it back. */
interface Demand {
  /** Sustained rate. */
  perMinute: number;
  /** The busiest minute. */
  peakPerMinute: number;
  /** Closed loop: callers; open loop: arrivals. */
  closedLoop: boolean;
}

type Input = Omit<SimulationResult, "conclusion">;

/** The conclusion paragraph of a simulation result. */
export function conclude(result: Input): string {
  const first = result.scenarios[0];
  if (!first) return "Nothing was simulated.";
  const primary = first.models[0]!;
  const cap = capacityOf(primary, result);
  const demand = demandOf(result, primary);
  const calls = result.workload.calls;
  const binding = bindingSentence(primary, cap, demand, calls, result);
  const outcome = outcomeSentence(result);
  const change = changeSentence(result, primary, cap, demand, binding.binds);
  return [binding.text, outcome, change].filter(Boolean).join(" ");
}

/** Per-minute and per-day capacity of `m` in calls, for this workload's call size. */
export function capacityOf(
  m: Pick<ModelOutcome, "name" | "provider" | "limits" | "knownToPicker">,
  result: Input,
): Capacity {
  const booked = bookedTokens(m, result);
  return {
    ...capacityFromLimits(m.limits, booked.tokens),
    ...(booked.provider !== booked.tokens ? { providerTokensPerCall: booked.provider } : {}),
  };
}

function capacityFromLimits(limits: SimulatedLimits, tokensPerCall: number): Capacity {
  let perMinute = Number.POSITIVE_INFINITY;
  let limit: string | undefined;
  if (limits.requestsPerMinute !== undefined) {
    perMinute = limits.requestsPerMinute;
    limit = `${n(limits.requestsPerMinute)} requests/min`;
  }
  if (limits.tokensPerMinute !== undefined) {
    const byTokens = Math.floor(limits.tokensPerMinute / Math.max(1, tokensPerCall));
    if (byTokens < perMinute) {
      perMinute = byTokens;
      limit = `${n(limits.tokensPerMinute)} tokens/min`;
    }
  }
  return {
    perMinute,
    ...(limit ? { limit } : {}),
    perDay: limits.requestsPerDay ?? Number.POSITIVE_INFINITY,
    tokensPerCall,
  };
}

/**
 * Tokens per call in the token window: what the provider counts (OpenAI: prompt + `max_tokens`;
 * Gemini: the prompt), which is also what the picker books when it knows the limit (it adds the
 * output allowance only where the provider counts it).
 */
function bookedTokens(
  m: Pick<ModelOutcome, "name" | "provider" | "knownToPicker">,
  result: Input,
): { tokens: number; provider: number } {
  let input = 0;
  let served = 0;
  for (const s of result.scenarios) {
    const o = s.models.find((x) => x.name === m.name);
    if (o) {
      input += o.inputTokens;
      served += o.served;
    }
  }
  const prompt = served > 0 ? input / served : result.workload.promptTokens;
  const provider = Math.round(prompt + (m.provider === "openai" ? result.workload.outputTokens : 0));
  return { tokens: provider, provider };
}

function demandOf(result: Input, primary: ModelOutcome): Demand {
  const w = result.workload;
  if (!w.arrivals && !w.streams) {
    // Back-to-back callers: each sends a call per answer time, if nothing makes them wait.
    const perCaller = MINUTE / Math.max(1, meanLatency(primary.latencyMs));
    const rate = (w.concurrency ?? 10) * perCaller;
    return { perMinute: rate, peakPerMinute: Math.min(rate, w.calls), closedLoop: true };
  }
  // A mixed workload pushes with every stream at once.
  const rate = (w.streams?.map((st) => st.arrivals) ?? (w.arrivals ? [w.arrivals] : [])).reduce(
    (sum, a) => sum + (a.pattern === "bursts" ? (a.size * MINUTE) / (a.everySeconds * 1000) : a.perMinute),
    0,
  );
  const releases = result.scenarios[0]!.records.map((r) => [r.releasedAt, 1] as const);
  return {
    perMinute: Math.min(rate, w.calls),
    peakPerMinute: peak(trailingWindowSeries(releases, MINUTE)),
    closedLoop: false,
  };
}

/** "The primary's 60 requests/min limit binds: ...". */
function bindingSentence(
  primary: ModelOutcome,
  cap: Capacity,
  demand: Demand,
  calls: number,
  result: Input,
): { text: string; binds: "day" | "sustained" | "peak" | undefined } {
  const who = "The primary's";
  if (calls > cap.perDay) {
    return {
      binds: "day",
      text:
        `${who} ${n(cap.perDay)} requests/day quota binds: it covers ${n(cap.perDay)} of the ${n(calls)} calls, ` +
        `so ${n(calls - cap.perDay)} can only be answered by a fallback.`,
    };
  }
  const asBooked =
    cap.providerTokensPerCall !== undefined
      ? ` as the picker books them (prompt plus output allowance; the provider counts ~${n(cap.providerTokensPerCall)})`
      : "";
  const tokens =
    cap.limit?.includes("tokens") === true
      ? ` at ~${n(cap.tokensPerCall)} tokens a call${asBooked} it admits ${n(cap.perMinute)} calls a minute, so`
      : "";
  const sends = demand.closedLoop
    ? `${result.workload.concurrency} callers could send ${n(Math.round(demand.perMinute))} a minute`
    : `calls arrive at ${n(Math.round(demand.perMinute))} a minute`;
  if (cap.limit && Math.min(demand.perMinute, calls) > cap.perMinute) {
    const windows = Math.ceil(calls / cap.perMinute);
    return {
      binds: "sustained",
      text: `${who} ${cap.limit} limit binds:${tokens} ${n(calls)} calls need ${windows} one-minute windows, while ${sends}.`,
    };
  }
  if (cap.limit && demand.peakPerMinute > cap.perMinute) {
    return {
      binds: "peak",
      text:
        `${who} ${cap.limit} limit binds at peaks: the busiest minute brings ${n(demand.peakPerMinute)} calls ` +
        `against ${n(cap.perMinute)} admitted, though on average ${sends}.`,
    };
  }
  const waited = Math.max(...result.scenarios.map((s) => s.callsThatWaited));
  if (!cap.limit) {
    return {
      binds: undefined,
      text: `The primary (${shortName(primary)}) has no per-minute limit here, so nothing binds.`,
    };
  }
  return {
    binds: undefined,
    text:
      `No limit binds: the workload peaks at ${n(Math.round(demand.peakPerMinute))} calls a minute, within the ${n(cap.perMinute)} ` +
      `the primary admits (${cap.limit})` +
      (waited > 0 ? `; only momentary crowding made ${n(waited)} calls wait.` : "."),
  };
}

/**
 * The most-waiting configuration and the most-falling-back one (by primary share; ties go by
 * failures, then makespan, then `maxWaitSeconds`), or just one when they serve alike.
 */
function contrast(result: Input): { waiting: ScenarioResult; fallingBack?: ScenarioResult } {
  const byPrimary = [...result.scenarios].sort(
    (a, b) =>
      b.primaryShare - a.primaryShare ||
      a.failed - b.failed ||
      a.makespanMs - b.makespanMs ||
      b.settings.maxWaitSeconds - a.settings.maxWaitSeconds,
  );
  const waiting = byPrimary[0]!;
  const fallingBack = byPrimary.at(-1)!;
  if (fallingBack === waiting || fallingBack.primaryShare === waiting.primaryShare) return { waiting };
  return { waiting, fallingBack };
}

/** "Wait-first serves all 300 calls from the primary in 5.1 min for $0.06; fallback-first ...". */
function outcomeSentence(result: Input): string {
  const { waiting, fallingBack } = contrast(result);
  const served =
    waiting.primaryShare === 1
      ? `all ${n(waiting.calls)} calls`
      : `${pct(waiting.primaryShare)} of the calls`;
  const waits = waiting.callsThatWaited > 0 ? ` (p99 wait ${formatDuration(waiting.wait.p99)})` : "";
  const serves = `serves ${served} from the primary in ${formatDuration(waiting.makespanMs)}${waits} for ${formatUsd(waiting.costUsd)}${failedPart(waiting)}`;
  if (!fallingBack) {
    return result.scenarios.length > 1
      ? `Every configuration ${serves}.`
      : `As configured, the picker ${serves}.`;
  }
  const f = fallingBack;
  const perCall = (s: ScenarioResult) => (s.succeeded ? s.costUsd / s.succeeded : 0);
  const ratio = perCall(waiting) > 0 ? perCall(f) / perCall(waiting) : undefined;
  const price =
    ratio === undefined
      ? ` for ${formatUsd(f.costUsd)}`
      : ratio > 1.005
        ? ` at ${ratio.toFixed(1)}× the cost per answered call (${formatUsd(f.costUsd)} in all)`
        : ratio < 0.995
          ? ` at ${pct(1 - ratio)} less per answered call (${formatUsd(f.costUsd)} in all)`
          : ` at the same cost per answered call (${formatUsd(f.costUsd)} in all)`;
  const why = fallbackLimitBinding(f, result);
  const fails = f.failed ? ` and fails ${n(f.failed)} (${reasonList(f)}${why ? `: ${why}` : ""})` : "";
  return (
    `Waiting (${waiting.name}) ${serves}. Falling back (${f.name}) finishes in ` +
    `${formatDuration(f.makespanMs)} but sends ${pct(f.fallbackShare)} of the calls to fallbacks${price}${fails}.`
  );
}

/** "rate limits" or "rate limits 140, errors 3". */
function reasonList(s: ScenarioResult): string {
  const entries = Object.entries(s.failures).sort((a, b) => b[1] - a[1]);
  return entries
    .map(([r, count]) => `${FAILURE_WORDS[r as FailureReason]}${entries.length > 1 ? ` ${count}` : ""}`)
    .join(", ");
}

/** `33%`, `0.4%`, `99.7%`: whole percents unless that would round to 0 or 100. */
function pct(share: number): string {
  const p = share * 100;
  if (p === 0 || p === 100) return `${p}%`;
  return p < 1 || p > 99 ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}

/** ", and fails 143 (rate limits)" or "". */
function failedPart(s: ScenarioResult): string {
  return s.failed === 0 ? "" : `, and fails ${n(s.failed)} (${reasonList(s)})`;
}

/** "gemini-2.5-flash's own 100 requests/min limit binds too", when a fallback ran at its limit. */
function fallbackLimitBinding(s: ScenarioResult, result: Input): string | undefined {
  if (!s.failures.rate_limit) return undefined;
  for (const m of s.models.slice(1)) {
    const cap = capacityOf(m, result);
    if (!cap.limit || m.providerRequests === 0) continue;
    const busiest = peak(
      trailingWindowSeries(
        m.arrivals.map((t) => [t, 1] as const),
        MINUTE,
      ),
    );
    if (busiest >= 0.9 * cap.perMinute) return `${shortName(m)}'s own ${cap.limit} limit binds too`;
  }
  return undefined;
}

/** What to change, or that nothing needs to. */
function changeSentence(
  result: Input,
  primary: ModelOutcome,
  cap: Capacity,
  demand: Demand,
  binds: "day" | "sustained" | "peak" | undefined,
): string {
  const { waiting, fallingBack } = contrast(result);
  const hasFallback = primary !== result.scenarios[0]!.models.at(-1);
  const ideas: string[] = [];
  if (binds) {
    const needed =
      binds === "peak" ? demand.peakPerMinute : Math.min(result.workload.calls, demand.perMinute);
    const tier = tierThatFits(primary, cap.tokensPerCall, needed, result.workload.calls);
    const limitName =
      binds === "day" ? "requests/day quota" : (cap.limit?.replace(/^[\d,]+ /, "") ?? "limit");
    ideas.push(
      tier
        ? `raise ${shortName(primary)} to ${tier.tier} (${tier.words}), which admits this workload without waiting`
        : binds === "day"
          ? `raise the primary's requests/day quota to at least ${n(result.workload.calls)}`
          : `raise the primary's ${limitName} limit to fit ${n(Math.ceil(needed))} calls a minute`,
    );
  }
  const failing = result.scenarios.filter((s) => s.failed > 0);
  if ((waiting.failures.rate_limit ?? 0) > 0 && (binds === "sustained" || binds === "peak")) {
    ideas.push(
      `raise maxWaitSeconds (now ${waiting.settings.maxWaitSeconds} s) so calls wait for the primary's next window instead of failing`,
    );
  }
  if (waiting.failed > 0) {
    ideas.push(
      hasFallback
        ? "add a fallback or raise the fallbacks' limits: even the most patient configuration fails calls"
        : "add a fallback: with none, every call the primary can't take fails",
    );
  } else if (!hasFallback && binds) {
    ideas.push("add a fallback if callers can't wait");
  }
  if (binds && demand.closedLoop && waiting.wait.p50 >= 5_000 && Number.isFinite(cap.perMinute)) {
    const enough = Math.max(1, Math.ceil((cap.perMinute * meanLatency(primary.latencyMs)) / MINUTE));
    if (enough < (result.workload.concurrency ?? 10)) {
      ideas.push(
        `lower concurrency to ${enough} if each call's wait matters more than the total: ` +
          `${enough === 1 ? "one caller already keeps" : `${enough} callers already keep`} the primary at its ` +
          `${n(cap.perMinute)} calls a minute, the others only queue in the picker (p50 wait now ${formatDuration(waiting.wait.p50)})`,
      );
    }
  }
  let verdict = "";
  if (fallingBack) {
    if (
      fallingBack.failed === 0 &&
      fallingBack.makespanMs < waiting.makespanMs &&
      fallingBack.costUsd <= waiting.costUsd
    ) {
      verdict = `Here ${fallingBack.name} is the better choice: it fails nothing, finishes sooner and costs no more.`;
    } else if (waiting.failed === 0 && fallingBack.failed > 0) {
      verdict = `Prefer ${waiting.name} if every call must be answered.`;
    } else if (waiting.failed === 0 && fallingBack.failed === 0) {
      verdict = `Choose ${fallingBack.name} if finishing sooner is worth the fallback's price, ${waiting.name} otherwise.`;
    }
  }
  if (ideas.length === 0 && failing.length === 0) {
    return verdict
      ? `${verdict} Nothing else needs to change for this workload.`
      : "Nothing needs to change for this workload.";
  }
  const todo = ideas.length ? `To change: ${joinOr(ideas)}.` : "";
  return [verdict, todo].filter(Boolean).join(" ");
}

/** The lowest catalog tier above the primary's own whose limits admit `perMinute` calls and `calls` a day. */
function tierThatFits(
  m: ModelOutcome,
  tokensPerCall: number,
  perMinute: number,
  calls: number,
): { tier: Tier; words: string } | undefined {
  const from = m.tier ? TIERS.indexOf(m.tier) + 1 : 0;
  for (const tier of TIERS.slice(from)) {
    const limits = catalogLimits(m.model, tier);
    if (!limits) continue;
    const cap = capacityFromLimits(limits, tokensPerCall);
    if (cap.perMinute >= perMinute && cap.perDay >= calls) {
      const words = [
        limits.requestsPerMinute !== undefined ? `${n(limits.requestsPerMinute)} requests/min` : "",
        limits.tokensPerMinute !== undefined ? `${n(limits.tokensPerMinute)} tokens/min` : "",
      ]
        .filter(Boolean)
        .join(", ");
      return { tier, words };
    }
  }
  return undefined;
}

function shortName(m: Pick<ModelOutcome, "name">): string {
  return m.name.replace(/^[^/]+\//, "");
}

/** `1,234`. */
function n(v: number): string {
  return Math.round(v).toLocaleString("en-US");
}

function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join("; ")}; or ${items.at(-1)}`;
}
