import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { parseOrThrow } from "../config/messages";
import { envFactoryOptionsSchema, envTokenCount, tierSchema } from "../config/options";
import { catalogContextWindow } from "../context";
import { AutoPickerConfigError } from "../errors";
import { rateLimitHeadersFetch, type Tier } from "../limits";
import { AutoPickerChatModel } from "../model/AutoPickerChatModel";
import type { AutoPickerChatModelInput, AutoPickerLogger, ModelEntry } from "../model/types";

/** Providers the factory knows. Groq, Together and Fireworks go through their OpenAI-compatible APIs. */
export type EnvProvider = "openai" | "gemini" | "groq" | "together" | "fireworks";

interface ProviderSpec {
  keyVars: string[];
  modelVar: string;
  defaultModel: string;
  /** OpenAI-compatible endpoint; absent for the native clients. */
  baseURL?: string;
}

const PROVIDERS: Record<EnvProvider, ProviderSpec> = {
  openai: { keyVars: ["OPENAI_API_KEY"], modelVar: "OPENAI_MODEL", defaultModel: "gpt-4o-mini" },
  gemini: {
    keyVars: ["GOOGLE_API_KEY", "GEMINI_API_KEY"],
    modelVar: "GEMINI_MODEL",
    defaultModel: "gemini-2.5-flash-lite",
  },
  groq: {
    keyVars: ["GROQ_API_KEY"],
    modelVar: "GROQ_MODEL",
    defaultModel: "llama-3.1-8b-instant",
    baseURL: "https://api.groq.com/openai/v1",
  },
  together: {
    keyVars: ["TOGETHER_API_KEY"],
    modelVar: "TOGETHER_MODEL",
    defaultModel: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    baseURL: "https://api.together.xyz/v1",
  },
  fireworks: {
    keyVars: ["FIREWORKS_API_KEY"],
    modelVar: "FIREWORKS_MODEL",
    defaultModel: "accounts/fireworks/models/llama-v3p1-8b-instruct",
    baseURL: "https://api.fireworks.ai/inference/v1",
  },
};

/** The order fallbacks are tried in, after the primary. */
const FALLBACK_ORDER: EnvProvider[] = ["openai", "gemini", "groq", "together", "fireworks"];

// Values copied from .env templates ("your_actual_openai_api_key", "sk-...", "<key>") are not keys.
const PLACEHOLDER =
  /^(|your[_-].*|.*placeholder.*|changeme|change[_-]me|xxx+|todo|none|null|sk-\.\.\.|<.*>|\.\.\.)$/i;

export interface CreateFromEnvOptions
  extends Partial<Omit<AutoPickerChatModelInput, "primary" | "fallbacks">> {
  /** Where to read variables from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Published tier whose catalog limits apply to every model. Default: the `LLM_TIER` variable, if set. */
  tier?: Tier;
}

/** What the factory decided, for logs and tests. */
export interface EnvSelection {
  primary: EnvProvider;
  providers: Array<{ provider: EnvProvider; model: string }>;
  skipped: Array<{ provider: EnvProvider; reason: string }>;
}

/**
 * Builds an {@link AutoPickerChatModel} from environment variables, as the design documents' setup
 * does: `LLM_PROVIDER` picks the primary; every provider with a key (`OPENAI_API_KEY`,
 * `GOOGLE_API_KEY`/`GEMINI_API_KEY`, `GROQ_API_KEY`, `TOGETHER_API_KEY`, `FIREWORKS_API_KEY`) and
 * its `*_MODEL` becomes a fallback. `*_BASE_URL` points a provider elsewhere (a proxy, a gateway);
 * `*_MAX_INPUT_TOKENS` gives a context window the catalog does not know. Providers without a key, or
 * with a placeholder, are skipped with a log line. Needs `@langchain/openai` (and
 * `@langchain/google-genai` for Gemini) installed.
 *
 * @throws AutoPickerConfigError when no provider has a usable key, naming the variables.
 */
export async function createAutoPickerFromEnv(
  options: CreateFromEnvOptions = {},
): Promise<AutoPickerChatModel & { selection: EnvSelection }> {
  parseOrThrow(envFactoryOptionsSchema, options, { intro: "Invalid createAutoPickerFromEnv options:" });
  const { env = process.env, tier, ...rest } = options;
  const logger: AutoPickerLogger = rest.logger ?? { warn: (m) => console.warn(`[autopicker] ${m}`) };
  const info = (m: string) => (logger.debug ?? logger.warn).call(logger, m);

  const available: EnvProvider[] = [];
  const skipped: EnvSelection["skipped"] = [];
  for (const provider of FALLBACK_ORDER) {
    const spec = PROVIDERS[provider];
    const key = spec.keyVars.map((v) => env[v]?.trim()).find((v) => v !== undefined);
    if (key === undefined) skipped.push({ provider, reason: `no ${spec.keyVars.join(" or ")}` });
    else if (PLACEHOLDER.test(key))
      skipped.push({ provider, reason: `${spec.keyVars[0]} looks like a placeholder` });
    else available.push(provider);
  }
  for (const s of skipped) info(`skipping ${s.provider}: ${s.reason}`);
  if (available.length === 0) {
    throw new AutoPickerConfigError(
      `No LLM provider has an API key. Set at least one of ${FALLBACK_ORDER.flatMap((p) => PROVIDERS[p].keyVars).join(", ")} ` +
        `(and optionally LLM_PROVIDER to choose the primary).`,
    );
  }

  const wanted = env.LLM_PROVIDER?.trim().toLowerCase();
  if (wanted && !(wanted in PROVIDERS)) {
    throw new AutoPickerConfigError(
      `LLM_PROVIDER="${wanted}" is not one of ${Object.keys(PROVIDERS).join(", ")}.`,
    );
  }
  let primary = (wanted as EnvProvider | undefined) ?? available[0]!;
  if (!available.includes(primary)) {
    logger.warn(`LLM_PROVIDER=${primary} has no usable key; using ${available[0]} as the primary instead.`);
    primary = available[0]!;
  }
  const order = [primary, ...available.filter((p) => p !== primary)];
  const effectiveTier = tier ?? envTier(env);

  const entries: ModelEntry[] = [];
  for (const provider of order) entries.push(await entryFor(provider, env, effectiveTier));
  const llm = new AutoPickerChatModel({ ...rest, logger, primary: entries[0]!, fallbacks: entries.slice(1) });
  const selection: EnvSelection = {
    primary,
    providers: order.map((provider) => ({ provider, model: modelOf(provider, env) })),
    skipped,
  };
  info(
    `primary ${primary}/${selection.providers[0]!.model}; fallbacks: ${order.slice(1).join(", ") || "none"}`,
  );
  return Object.assign(llm, { selection });
}

function modelOf(provider: EnvProvider, env: Record<string, string | undefined>): string {
  const spec = PROVIDERS[provider];
  return (
    env[spec.modelVar]?.trim() ||
    (provider === "gemini" ? env.GOOGLE_MODEL?.trim() : undefined) ||
    spec.defaultModel
  );
}

async function entryFor(
  provider: EnvProvider,
  env: Record<string, string | undefined>,
  tier: Tier | undefined,
): Promise<ModelEntry> {
  const spec = PROVIDERS[provider];
  const model = modelOf(provider, env);
  const apiKey = spec.keyVars.map((v) => env[v]?.trim()).find((v) => v !== undefined)!;
  const upper = provider.toUpperCase();
  const baseURL = env[`${upper}_BASE_URL`]?.trim() || spec.baseURL;
  const windowVar = `${upper}_MAX_INPUT_TOKENS`;
  const maxInputTokens = env[windowVar]?.trim()
    ? parseOrThrow(envTokenCount, env[windowVar], { subject: windowVar })
    : undefined;

  let chat: BaseChatModel;
  if (provider === "gemini") {
    const { ChatGoogleGenerativeAI } =
      await importPeer<typeof import("@langchain/google-genai")>("@langchain/google-genai");
    chat = new ChatGoogleGenerativeAI({
      model,
      apiKey,
      maxRetries: 0,
      ...(baseURL ? { baseUrl: baseURL } : {}),
    });
  } else {
    const { ChatOpenAI } = await importPeer<typeof import("@langchain/openai")>("@langchain/openai");
    chat = new ChatOpenAI({
      model,
      apiKey,
      maxRetries: 0,
      configuration: { ...(baseURL ? { baseURL } : {}), fetch: rateLimitHeadersFetch() },
    });
  }
  if (spec.baseURL && maxInputTokens === undefined && catalogContextWindow(model) === undefined) {
    throw new AutoPickerConfigError(
      `No context window is known for ${provider} model "${model}". Set ${windowVar} (its context length in tokens).`,
    );
  }
  return {
    model: chat,
    name: `${provider}/${model}`,
    ...(maxInputTokens ? { maxInputTokens } : {}),
    ...(tier ? { tier } : {}),
  };
}

/** `LLM_TIER`, checked against the catalog's tiers (`LLM_TIER=gold` is an error, not "no limits"). */
function envTier(env: Record<string, string | undefined>): Tier | undefined {
  const raw = env.LLM_TIER?.trim();
  if (!raw) return undefined;
  return parseOrThrow(tierSchema, raw.toLowerCase(), { subject: "LLM_TIER" });
}

async function importPeer<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch {
    throw new AutoPickerConfigError(`createAutoPickerFromEnv needs ${name}: npm install ${name}`);
  }
}
