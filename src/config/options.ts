import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { z } from "zod";
import type { Tier } from "../limits";
import { isValidTimeZone } from "../limits/calendar";
import { PRIORITIES } from "../limits/priority";
import { isChatModel } from "../model/innerModel";
import type { AutoPickerChatModelInput } from "../model/types";
import {
  callback,
  finiteNumber,
  flag,
  nonEmptyString,
  oneOf,
  passThrough,
  strictOptions,
  wholeNumber,
  withMethods,
} from "./schemas";

/** Every tier the built-in catalog knows (`src/limits/catalog.ts`). */
export const KNOWN_TIERS = [
  "free",
  "tier1",
  "tier2",
  "tier3",
  "tier4",
  "tier5",
] as const satisfies readonly Tier[];
// Fails to compile when catalog.ts gains a tier this list lacks.
const _everyTier: Exclude<Tier, (typeof KNOWN_TIERS)[number]> extends never ? true : never = true;
void _everyTier;

export const tierSchema = oneOf(KNOWN_TIERS);

/** At least one unit per window: a limit below 1 could never admit a call (`requestsPerMinute: 0.5`). */
const perWindow = (unit: string) => finiteNumber({ min: 1 }, unit);

export const limitWindowSchema = strictOptions({
  unit: oneOf(["requests", "tokens"]),
  limit: perWindow("units per window"),
  intervalMs: finiteNumber({ gt: 0 }, "milliseconds"),
});

/** `ModelLimits`: every field optional; present ones positive, finite, at least one per window. */
export const limitsSchema = strictOptions({
  requestsPerMinute: perWindow("requests").optional(),
  tokensPerMinute: perWindow("tokens").optional(),
  requestsPerDay: perWindow("requests").optional(),
  tokensPerDay: perWindow("tokens").optional(),
  windows: z
    .array(limitWindowSchema, { error: "must be an array of { unit, limit, intervalMs }" })
    .optional(),
  dailyResetTimeZone: z
    .string({ error: 'must be an IANA time zone (e.g. "America/Los_Angeles")' })
    .refine(isValidTimeZone, { error: 'must be an IANA time zone (e.g. "America/Los_Angeles")' })
    .optional(),
});

const chatModelMust = "must be a LangChain chat model (e.g. new ChatOpenAI(...))";
// Duck-typed like the router (another copy of @langchain/core must pass too).
const chatModel = z.custom<BaseChatModel>(isChatModel, { error: chatModelMust });

export const pricingSchema = strictOptions({
  inputPer1M: finiteNumber({ min: 0 }, "USD"),
  outputPer1M: finiteNumber({ min: 0 }, "USD"),
  cachedInputPer1M: finiteNumber({ min: 0 }, "USD").optional(),
});

export const modelEntrySchema = strictOptions(
  {
    model: chatModel,
    name: nonEmptyString().optional(),
    limits: limitsSchema.optional(),
    tier: tierSchema.optional(),
    maxInputTokens: wholeNumber(1, "tokens").optional(),
    pricing: pricingSchema.optional(),
    quality: finiteNumber().optional(),
  },
  { must: "must be a LangChain chat model or an entry { model, name?, limits?, ... }" },
);

/** A bare chat model or an entry; a bare model is checked as `{ model }`. */
const modelItem = z.preprocess((v) => (isChatModel(v) ? { model: v } : v), modelEntrySchema);

export const circuitBreakerSchema = strictOptions({
  failureThreshold: wholeNumber(1).optional(),
  cooldownSeconds: finiteNumber({ gt: 0 }, "seconds").optional(),
});

const taskRoute = z.union(
  [
    oneOf(["quality", "balanced", "cost"]),
    strictOptions({ models: z.array(nonEmptyString(), { error: "must be an array of model names" }) }),
  ],
  { error: 'must be "quality", "balanced", "cost" or { models: [...] }' },
);

/** `TenantOptions`: `{ weight?, maxShare? }`. */
export const tenantSchema = strictOptions({
  weight: finiteNumber({ gt: 0 }).optional(),
  maxShare: z
    .number({ error: "must be in (0, 1]" })
    .gt(0, { error: "must be in (0, 1]" })
    .max(1, { error: "must be in (0, 1]" })
    .optional(),
});

const agingMust = "must be a number of seconds > 0 (Infinity: never)";

/** `PriorityOptions`: `{ maxWaitSeconds?, agingSeconds? }` (aging may be Infinity). */
export const priorityOptionsSchema = strictOptions({
  maxWaitSeconds: finiteNumber({ min: 0 }, "seconds").optional(),
  agingSeconds: z.custom<number>((v) => typeof v === "number" && v > 0, { error: agingMust }).optional(),
});

/** The `priorities` option: one entry per class, unknown classes rejected with a "did you mean". */
export const prioritiesSchema = strictOptions(
  Object.fromEntries(PRIORITIES.map((p) => [p, priorityOptionsSchema.optional()])) as Record<
    (typeof PRIORITIES)[number],
    z.ZodOptional<typeof priorityOptionsSchema>
  >,
  { must: `must be an object of classes (${PRIORITIES.join(", ")})` },
);

/** The `tenants` option: tenant names (non-empty) to their options. */
export const tenantsSchema = z
  .record(z.string(), tenantSchema, { error: "must be an object of tenants: { acme: { weight: 3 } }" })
  .superRefine((tenants, ctx) => {
    if (Object.hasOwn(tenants, ""))
      ctx.addIssue({ code: "custom", message: 'must name each tenant with a non-empty string (not "")' });
  });

/** The class and tenant of one call (`autopicker.priority`, `metadata.autopicker_tenant`, ...). */
export const prioritySchema = oneOf(PRIORITIES);

/** LangChain's own model options (BaseChatModelParams), accepted and passed to the base class. */
const langchainOptions = {
  callbacks: passThrough().optional(),
  callbackManager: passThrough().optional(),
  tags: z.array(z.string(), { error: "must be an array of strings" }).optional(),
  metadata: z.record(z.string(), z.unknown(), { error: "must be an object" }).optional(),
  verbose: flag().optional(),
  cache: passThrough().optional(),
  maxConcurrency: wholeNumber(1, "calls").optional(),
  onFailedAttempt: callback().optional(),
  disableStreaming: flag().optional(),
  outputVersion: oneOf(["v0", "v1"]).optional(),
};

/** Every option of `AutoPickerChatModelInput` except `primary` and `fallbacks`. */
export const pickerOptionsShape = {
  ...langchainOptions,
  maxWaitSeconds: finiteNumber({ min: 0 }, "seconds").optional(),
  maxRetries: wholeNumber(0, "retries").optional(),
  backoffBase: finiteNumber({ min: 1 }).optional(),
  backoffInitialSeconds: finiteNumber({ gt: 0 }, "seconds").optional(),
  backoffMaxSeconds: finiteNumber({ gt: 0 }, "seconds").optional(),
  jitter: oneOf(["full", "equal", "none"]).optional(),
  random: callback("a function returning a number in [0, 1)").optional(),
  contextStrategy: oneOf(["fallback", "truncate", "error"]).optional(),
  onContentFilter: oneOf(["fallback", "return"]).optional(),
  tier: tierSchema.optional(),
  circuitBreaker: circuitBreakerSchema.optional(),
  quotaCooldownSeconds: finiteNumber({ gt: 0 }, "seconds").optional(),
  rateLimiter: withMethods(["acquire", "configure"], "a RateLimiter").optional(),
  clock: withMethods(["now", "sleep", "busy"], "a Clock").optional(),
  logger: withMethods(["warn"], "a logger").optional(),
  onAllFailed: callback().optional(),
  budget: withMethods(["reserve", "settle", "release"], "a BudgetManager").optional(),
  alerts: withMethods(["recordRequest", "recordWait"], "an AlertMonitor").optional(),
  fallbackOrder: oneOf(["listed", "cheapest"]).optional(),
  tasks: z.record(z.string(), taskRoute, { error: "must be an object of named task routes" }).optional(),
  defaultOutputTokens: wholeNumber(0, "tokens").optional(),
  healthStore: withMethods(
    ["markUnavailable", "openCircuit", "closeCircuit", "get"],
    "a ModelHealthStore",
  ).optional(),
  keepInnerRetries: flag().optional(),
  tenants: tenantsSchema.optional(),
  priorities: prioritiesSchema.optional(),
};

/** `AutoPickerChatModelInput`. */
export const autoPickerInputSchema = strictOptions(
  {
    primary: modelItem,
    fallbacks: z.array(modelItem, { error: "must be an array of chat models or entries" }).optional(),
    ...pickerOptionsShape,
  },
  { callParameters: true, must: "must be an object: { primary: new ChatOpenAI(...), fallbacks?: [...] }" },
);

/** `BudgetManagerOptions`. */
export const budgetOptionsSchema = strictOptions({
  dailyLimitUsd: finiteNumber({ min: 0 }, "USD").optional(),
  monthlyLimitUsd: finiteNumber({ min: 0 }, "USD").optional(),
  alertThreshold: finiteNumber({ gt: 0, max: 1 }).optional(),
  mode: oneOf(["block", "downgrade", "warn"]).optional(),
  store: withMethods(["reserve", "add", "read"], "a BudgetStore").optional(),
  scope: z.string({ error: "must be a string" }).optional(),
  clock: withMethods(["now", "sleep", "busy"], "a Clock").optional(),
  onAlert: callback().optional(),
  logger: withMethods(["warn"], "a logger").optional(),
});

/** `CreateFromEnvOptions`: the picker's options (models come from the environment), plus `env`. */
export const envFactoryOptionsSchema = strictOptions(
  {
    ...pickerOptionsShape,
    env: z.record(z.string(), z.string().optional(), { error: "must be an object of strings" }).optional(),
  },
  { callParameters: true },
);

/** An environment variable holding a whole number of tokens: `"128000"`. */
export const envTokenCount = z
  .string()
  .regex(/^\s*\d+\s*$/, { error: "must be a whole number >= 1" })
  .transform(Number)
  .pipe(wholeNumber(1));

/*
 * Compile-time guard: every key of `AutoPickerChatModelInput` has a schema here, so a new option
 * added to the type without one fails `npm run typecheck` instead of being rejected as unknown.
 */
type SchemaKeys = "primary" | "fallbacks" | keyof typeof pickerOptionsShape;
type UncheckedKeys = Exclude<keyof AutoPickerChatModelInput, SchemaKeys>;
const _everyOption: UncheckedKeys extends never ? true : UncheckedKeys = true;
void _everyOption;
