import type { ModelLimits } from "./types";

/** Usage tiers. Gemini has Free and Tiers 1-3; `tier4`/`tier5` map to its Tier 3. */
export type Tier = "free" | "tier1" | "tier2" | "tier3" | "tier4" | "tier5";

type Row = [rpm: number, tpm: number, rpd?: number];
type TierTable = Partial<Record<Tier, Row>>;

/*
 * Published limits, transcribed by hand; providers change them without notice, so treat them as
 * a starting point and let the limiter learn the real ones from response headers.
 * - Seeds (user's MODEL_CONFIGS, seed 003): gpt-4o tier1/tier2, gpt-4o-mini tier1,
 *   gemini-2.5-flash-lite free.
 * - OpenAI: per-model "Rate limits" tables on platform.openai.com/docs/models (as published in
 *   2025). The free tier serves none of these except gpt-4o-mini.
 * - Gemini: ai.google.dev/gemini-api/docs/rate-limits (as published mid-2025, before Google's
 *   December 2025 free-tier cuts, which third-party reports put at 50-80% lower: check AI Studio).
 *   Daily quotas reset at midnight Pacific time.
 */
const OPENAI: Record<string, TierTable> = {
  "gpt-4o": {
    tier1: [500, 30_000, 10_000],
    tier2: [5_000, 450_000, 10_000],
    tier3: [5_000, 800_000],
    tier4: [10_000, 2_000_000],
    tier5: [10_000, 30_000_000],
  },
  "gpt-4o-mini": {
    free: [3, 40_000, 200],
    tier1: [500, 200_000, 10_000],
    tier2: [5_000, 2_000_000],
    tier3: [5_000, 4_000_000],
    tier4: [10_000, 10_000_000],
    tier5: [30_000, 150_000_000],
  },
  "gpt-4.1": {
    tier1: [500, 30_000],
    tier2: [5_000, 450_000],
    tier3: [5_000, 800_000],
    tier4: [10_000, 2_000_000],
    tier5: [10_000, 30_000_000],
  },
  "gpt-4.1-mini": {
    tier1: [500, 200_000],
    tier2: [5_000, 2_000_000],
    tier3: [5_000, 4_000_000],
    tier4: [10_000, 10_000_000],
    tier5: [30_000, 150_000_000],
  },
  "gpt-4.1-nano": {
    tier1: [500, 200_000],
    tier2: [5_000, 2_000_000],
    tier3: [5_000, 4_000_000],
    tier4: [10_000, 10_000_000],
    tier5: [30_000, 150_000_000],
  },
  o3: {
    tier1: [500, 30_000],
    tier2: [5_000, 450_000],
    tier3: [5_000, 800_000],
    tier4: [10_000, 2_000_000],
    tier5: [10_000, 30_000_000],
  },
  "o4-mini": {
    tier1: [1_000, 100_000],
    tier2: [2_000, 2_000_000],
    tier3: [5_000, 4_000_000],
    tier4: [10_000, 10_000_000],
    tier5: [30_000, 150_000_000],
  },
};

const GEMINI: Record<string, TierTable> = {
  "gemini-2.5-pro": {
    free: [5, 250_000, 100],
    tier1: [150, 2_000_000, 10_000],
    tier2: [1_000, 5_000_000, 50_000],
    tier3: [2_000, 8_000_000],
  },
  "gemini-2.5-flash": {
    free: [10, 250_000, 250],
    tier1: [1_000, 1_000_000, 10_000],
    tier2: [2_000, 3_000_000, 100_000],
    tier3: [10_000, 8_000_000],
  },
  "gemini-2.5-flash-lite": {
    free: [15, 250_000, 1_000],
    tier1: [4_000, 4_000_000],
    tier2: [10_000, 10_000_000],
    tier3: [30_000, 30_000_000],
  },
  "gemini-2.0-flash": {
    free: [15, 1_000_000, 200],
    tier1: [2_000, 4_000_000],
    tier2: [10_000, 10_000_000],
    tier3: [30_000, 30_000_000],
  },
  "gemini-2.0-flash-lite": {
    free: [30, 1_000_000, 200],
    tier1: [4_000, 4_000_000],
    tier2: [10_000, 10_000_000],
    tier3: [30_000, 30_000_000],
  },
};

/** Gemini's per-day quotas reset at midnight in this zone. */
export const GEMINI_DAILY_RESET_TIME_ZONE = "America/Los_Angeles";

const PROVIDER_PREFIX = /^(openai|gemini|google|google-genai|google_genai|models)\//;
/** Snapshot suffixes that keep the base model's limits: `-2024-07-18`, `-001`, `-latest`. */
const SNAPSHOT_SUFFIX = /^-(\d{4}-\d{2}-\d{2}|\d{3}|latest)$/;

/**
 * Published limits of a known model at a tier, or `undefined` if the model is unknown or not
 * served at that tier. Accepts `"gpt-4o-mini"`, `"openai/gpt-4o-mini"`, `"gemini/gemini-2.5-pro"`,
 * `"models/gemini-2.5-flash"` and dated snapshots (`"gpt-4o-2024-08-06"`).
 */
export function catalogLimits(model: string, tier: Tier): ModelLimits | undefined {
  let name = model.trim().toLowerCase();
  while (PROVIDER_PREFIX.test(name)) name = name.replace(PROVIDER_PREFIX, "");
  const hit = lookup(OPENAI, name);
  if (hit) return toLimits(hit[tier]);
  const gemini = lookup(GEMINI, name);
  if (!gemini) return undefined;
  const geminiTier: Tier = tier === "tier4" || tier === "tier5" ? "tier3" : tier;
  return toLimits(gemini[geminiTier], GEMINI_DAILY_RESET_TIME_ZONE);
}

function lookup(table: Record<string, TierTable>, name: string): TierTable | undefined {
  const exact = table[name];
  if (exact) return exact;
  // Longest base name first, so "gpt-4o-mini-2024-07-18" is not read as "gpt-4o".
  const base = Object.keys(table)
    .filter((k) => name.startsWith(k) && SNAPSHOT_SUFFIX.test(name.slice(k.length)))
    .sort((a, b) => b.length - a.length)[0];
  return base === undefined ? undefined : table[base];
}

function toLimits(row: Row | undefined, dailyResetTimeZone?: string): ModelLimits | undefined {
  if (!row) return undefined;
  const [requestsPerMinute, tokensPerMinute, requestsPerDay] = row;
  return {
    requestsPerMinute,
    tokensPerMinute,
    ...(requestsPerDay === undefined ? {} : { requestsPerDay }),
    ...(requestsPerDay !== undefined && dailyResetTimeZone ? { dailyResetTimeZone } : {}),
  };
}
