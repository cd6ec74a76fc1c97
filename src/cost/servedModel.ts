import type { Serialized } from "@langchain/core/load/serializable";
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
  /** e.g. `"openai/gpt-4o-mini"` or `"gemini-2.5-flash"`; `null` if nothing named it. */
  model: string | null;
  provider?: string;
  /** The pricing override `AutoPickerChatModel` stamped for the entry that served. */
  pricing?: Pricing;
  /** Provider-qualified id to look prices up by (`autopicker.price_model`), when `model` is a user-chosen entry name. */
  priceAs?: string;
}

/**
 * The served model, most trustworthy source first: the AutoPickerChatModel stamp
 * (`response_metadata.autopicker.model` / `.pricing`), then the provider's own `model_name` /
 * `model` (the exact snapshot that served), then what the run asked for at start.
 */
export function identifyServedModel(
  responseMetadata: Record<string, unknown>,
  start?: RunStartInfo,
): ServedModel {
  const stamp = asRecord(responseMetadata.autopicker);
  const pricing = asPricing(stamp.pricing);
  const model =
    nonEmpty(stamp.model) ??
    nonEmpty(responseMetadata.model_name) ??
    nonEmpty(responseMetadata.model) ??
    start?.requestedModel ??
    start?.lsModelName ??
    null;
  const priceAs = nonEmpty(stamp.price_model);
  // With a stamp, the run's ls_provider is the primary's, not necessarily the serving model's.
  const provider = nonEmpty(stamp.model) ? undefined : start?.provider;
  return {
    model,
    ...(provider ? { provider } : {}),
    ...(pricing ? { pricing } : {}),
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

function asPricing(value: unknown): Pricing | undefined {
  const p = asRecord(value);
  if (typeof p.inputPer1M !== "number" || typeof p.outputPer1M !== "number") return undefined;
  return {
    inputPer1M: p.inputPer1M,
    outputPer1M: p.outputPer1M,
    ...(typeof p.cachedInputPer1M === "number" ? { cachedInputPer1M: p.cachedInputPer1M } : {}),
  };
}
