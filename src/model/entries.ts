import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { resolveContextWindow } from "../context";
import { AutoPickerConfigError } from "../errors";
import type { ModelLimits, Tier } from "../limits";
import { catalogLimits } from "../limits";
import { providerPrefix } from "../modelNames";
import type { ModelHealth } from "./health";
import { isChatModel, withoutRetries } from "./innerModel";
import type { EntryPricing, ModelEntry } from "./types";

/** An entry with everything resolved once, at construction. */
export interface ResolvedEntry {
  name: string;
  /** The user's model, as given (tool conversion, LangSmith params). */
  model: BaseChatModel;
  /** What the picker calls: the user's model seen with its own retries off (see `withoutRetries`). */
  inner: BaseChatModel;
  /** Breaker and known outages, for as long as the picker lives. */
  health: ModelHealth;
  /** The provider's model id ("gpt-4o-mini"), used for tokenizer choice and stamping. */
  modelId: string;
  contextWindow: number;
  limits?: ModelLimits;
  pricing?: EntryPricing;
  /** Provider-qualified id prices are looked up by ("openai/gpt-4o-mini"), whatever the entry is called. */
  priceModel: string;
  /** Higher is better; used by the "quality" preference. Defaults to list order (primary highest). */
  quality: number;
  /**
   * Whether the provider's token limit counts the output too. OpenAI books prompt + `max_tokens`
   * against TPM; Gemini's quota counts input tokens only, so booking the output allowance there
   * would hold calls back for room the provider never uses.
   */
  tokenLimitCountsOutput: boolean;
  index: number;
}

/** "openai/gpt-4o-mini" from a ChatOpenAI, "gemini/gemini-2.5-flash" from a ChatGoogleGenerativeAI. */
export function deriveName(model: BaseChatModel): { name: string; modelId: string } {
  const fields = model as unknown as { model?: unknown; modelName?: unknown };
  const modelId =
    typeof fields.model === "string"
      ? fields.model
      : typeof fields.modelName === "string"
        ? fields.modelName
        : "";
  let provider = "";
  try {
    provider = String(model.getLsParams({} as never).ls_provider ?? "");
  } catch {
    provider = model._llmType();
  }
  provider = provider ? providerPrefix(provider) : model._llmType();
  const id = modelId.replace(/^models\//, "");
  // Any provider prefixes an entry name, known or not: names only need to be unique and readable.
  return { name: id ? `${provider}/${id}` : provider, modelId: id };
}

/** Normalises and validates every entry; throws `AutoPickerConfigError` with what to fix. */
export function resolveEntries(
  items: Array<ModelEntry | BaseChatModel>,
  defaults: { tier?: Tier; keepInnerRetries: boolean; health: (name: string) => ModelHealth },
): ResolvedEntry[] {
  const seen = new Set<string>();
  return items.map((item, index) => {
    const entry: ModelEntry = isChatModel(item) ? { model: item } : item;
    if (!entry || !isChatModel(entry.model)) {
      throw new AutoPickerConfigError(
        `Model entry #${index} is not a LangChain chat model. Pass a chat model (e.g. new ChatOpenAI(...)) or { model, name?, limits? }.`,
      );
    }
    const derived = deriveName(entry.model);
    const name = entry.name ?? derived.name;
    if (seen.has(name)) {
      throw new AutoPickerConfigError(
        `Two models are both named "${name}". Give each entry a distinct \`name\`; limits, stats and events are keyed by it.`,
      );
    }
    seen.add(name);
    const contextWindow = resolveContextWindow(entry.model, derived.modelId || name, entry.maxInputTokens);
    if (contextWindow === undefined || !(contextWindow > 0)) {
      throw new AutoPickerConfigError(
        `No context window is known for model "${name}". Set \`maxInputTokens\` on its entry, e.g. { model, name: "${name}", maxInputTokens: 128000 }.`,
      );
    }
    const tier = entry.tier ?? defaults.tier;
    const limits = entry.limits ?? (tier ? catalogLimits(derived.modelId || name, tier) : undefined);
    return {
      name,
      model: entry.model,
      inner: defaults.keepInnerRetries ? entry.model : withoutRetries(entry.model),
      health: defaults.health(name),
      modelId: derived.modelId || name,
      contextWindow,
      limits,
      pricing: entry.pricing,
      priceModel: derived.name,
      quality: entry.quality ?? items.length - index,
      tokenLimitCountsOutput: !/^(gemini|vertex)\//.test(derived.name),
      index,
    };
  });
}
