import type { Serialized } from "@langchain/core/load/serializable";
import { qualifiedModelName } from "../modelNames";
import { asRecord } from "./callUsage";
import type { Pricing } from "./pricing";

/** What a chat-model run told us about itself when it started. */
export interface RunStartInfo {
  /** `invocation_params.model` / `modelName`: the model the caller asked for. */
  requestedModel?: string;
  /** `ls_model_name` from the run's metadata. */
  lsModelName?: string;
  /** Provider from `ls_provider` metadata or the model's class. */
  provider?: string;
}

/** The model that actually answered, as well as we can tell. */
export interface ServedModel {
  /**
   * One key per model, whichever path served it: the provider-qualified id the call asked for
   * (`"openai/gpt-4o-mini"`, `"gemini/gemini-2.5-flash"`), the same through `AutoPickerChatModel`
   * (its `price_model`) as from a plain chain. `null` if nothing named it.
   */
  model: string | null;
  provider?: string;
  /** The pricing override `AutoPickerChatModel` stamped for the entry that served. */
  pricing?: Pricing;
  /** The id to look prices up by when it is more exact than `model` (the provider's snapshot name). */
  priceAs?: string;
}

/**
 * The served model: the AutoPickerChatModel stamp (`response_metadata.autopicker.price_model` /
 * `.pricing`) when there is one, else what the run asked for at start, qualified by its provider,
 * priced by the provider's own `model_name` (the exact snapshot that served) when it differs.
 */
export function identifyServedModel(
  responseMetadata: Record<string, unknown>,
  start?: RunStartInfo,
): ServedModel {
  const stamp = asRecord(responseMetadata.autopicker);
  const pricing = asPricing(stamp.pricing);
  const snapshot = nonEmpty(responseMetadata.model_name) ?? nonEmpty(responseMetadata.model);
  // Through the picker: its provider-qualified id of the entry that served (the run's
  // ls_provider and requested model are the primary's, not necessarily the serving model's).
  const picked = nonEmpty(stamp.price_model) ?? nonEmpty(stamp.model);
  if (picked) return { model: picked, ...(pricing ? { pricing } : {}) };
  const asked = start?.requestedModel ?? start?.lsModelName ?? snapshot;
  if (!asked) return { model: null, ...(start?.provider ? { provider: start.provider } : {}) };
  const model = qualifiedModelName(start?.provider, asked);
  const priceAs = snapshot && snapshot !== asked ? qualifiedModelName(start?.provider, snapshot) : undefined;
  return {
    model,
    ...(start?.provider ? { provider: start.provider } : {}),
    ...(priceAs ? { priceAs } : {}),
  };
}

/** Reads {@link RunStartInfo} from `handleChatModelStart` / `handleLLMStart` arguments. */
export function readRunStart(
  llm: Serialized,
  extraParams: Record<string, unknown> | undefined,
  metadata: Record<string, unknown> | undefined,
): RunStartInfo {
  const params = asRecord(extraParams?.invocation_params);
  const requestedModel = nonEmpty(params.model) ?? nonEmpty(params.modelName) ?? nonEmpty(params.model_name);
  const lsModelName = nonEmpty(metadata?.ls_model_name);
  const provider = nonEmpty(metadata?.ls_provider) ?? providerFromClass(llm);
  return {
    ...(requestedModel ? { requestedModel } : {}),
    ...(lsModelName ? { lsModelName } : {}),
    ...(provider ? { provider } : {}),
  };
}

// Class names whose provider id differs from the lower-cased name without "Chat".
const PROVIDER_BY_CLASS: Readonly<Record<string, string>> = {
  ChatOpenAI: "openai",
  AzureChatOpenAI: "azure",
  ChatGoogleGenerativeAI: "google",
  ChatVertexAI: "google",
  ChatAnthropic: "anthropic",
  ChatMistralAI: "mistral",
  ChatBedrockConverse: "aws",
};

/** `["langchain", "chat_models", "openai", "ChatOpenAI"]` -> `"openai"`. */
function providerFromClass(llm: Serialized): string | undefined {
  const className = llm.id?.[llm.id.length - 1];
  if (!className) return undefined;
  return (
    PROVIDER_BY_CLASS[className] ??
    (className.startsWith("Chat") ? className.slice(4).toLowerCase() : undefined)
  );
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** The trail's snake_case price override (`input_per_1m`, ...) as a {@link Pricing}. */
function asPricing(value: unknown): Pricing | undefined {
  const p = asRecord(value);
  if (typeof p.input_per_1m !== "number" || typeof p.output_per_1m !== "number") return undefined;
  return {
    inputPer1M: p.input_per_1m,
    outputPer1M: p.output_per_1m,
    ...(typeof p.cached_input_per_1m === "number" ? { cachedInputPer1M: p.cached_input_per_1m } : {}),
  };
}
