import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AutoPickerConfigError } from "../errors";
import { bareModelId } from "./modelId";

/*
 * Context windows (input tokens) by bare model id, first match wins, so specific patterns precede
 * general ones. Used only when the model's own `profile` does not know the id (dated snapshots,
 * other providers, older integrations). Sources: the providers' model pages and the profiles
 * bundled with @langchain/openai 1.5 / @langchain/google-genai 2.3 (checked November 2026).
 * gpt-5's 400k (what the profile reports too) is its total window: OpenAI documents a 272k input
 * cap, which holds only when the caller reserves the default 128k output allowance.
 */
const CATALOG: ReadonlyArray<readonly [RegExp, number]> = [
  // OpenAI
  [/^gpt-4\.1/, 1_047_576],
  [/^gpt-5\.[45]/, 1_050_000],
  [/^gpt-5(?:\.\d)?-chat/, 128_000],
  [/^gpt-5/, 400_000],
  [/^gpt-4\.5/, 128_000],
  [/^(?:chatgpt-)?gpt-4o|^chatgpt-4o/, 128_000],
  [/^gpt-4-(?:turbo|\d{4}-preview|vision)/, 128_000],
  [/^gpt-4-32k/, 32_768],
  [/^gpt-4(?:-\d{4})?$/, 8_192],
  [/^gpt-3\.5-turbo-instruct/, 4_096],
  [/^gpt-3\.5-turbo/, 16_385],
  [/^o1-(?:mini|preview)/, 128_000],
  [/^o[134](?:-|$)/, 200_000],
  [/^codex-mini/, 200_000],
  [/^gpt-oss/, 131_072],
  // Google
  [/^gemini-.*(?:-image|-tts)/, 32_768],
  [/^gemini-1\.5-pro/, 2_097_152],
  [/^gemini-(?:1\.5|2\.\d|3(?:\.\d)?)-(?:flash|pro)|^gemini-(?:flash|pro)(?:-lite)?-latest/, 1_048_576],
  [/^gemma-3/, 131_072],
  // Anthropic (also Bedrock / Vertex ids such as "anthropic.claude-3-5-sonnet-20240620-v1:0")
  [/claude/, 200_000],
  // Groq, Together, Fireworks and friends
  [/llama-?4|llama-3\.[1-3]|llama-v3p[1-3]|llama3\.[1-3]/, 131_072],
  [/llama-?3/, 8_192],
  [/mixtral-8x22b/, 65_536],
  [/mixtral-8x7b/, 32_768],
  [/mistral-large|mistral-medium|mistral-small|codestral/, 131_072],
  [/deepseek-(?:chat|reasoner|v3|r1)/, 128_000],
  [/qwen3|qwen-?2\.5/, 131_072],
  [/kimi-k2/, 131_072],
  [/gemma2/, 8_192],
];

// The catalog is consulted per model name from a fixed configuration; memoise the regex walk.
const catalogMemo = new Map<string, number | undefined>();

/** The catalog's context window for an entry name or model id, if known. */
export function catalogContextWindow(name: string): number | undefined {
  if (catalogMemo.has(name)) return catalogMemo.get(name);
  const id = bareModelId(name);
  const window = CATALOG.find(([pattern]) => pattern.test(id))?.[1];
  if (catalogMemo.size > 1000) catalogMemo.clear();
  catalogMemo.set(name, window);
  return window;
}

function positive(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** The model id a LangChain chat model instance was configured with (`model` or legacy `modelName`). */
function modelIdOf(model: BaseChatModel): string | undefined {
  const m = model as unknown as { model?: unknown; modelName?: unknown };
  if (typeof m.model === "string") return m.model;
  return typeof m.modelName === "string" ? m.modelName : undefined;
}

/**
 * The context window (maximum input tokens) of `model`, known as `name` in the configuration:
 * the caller's `override`, else the model's own `profile.maxInputTokens` (@langchain/core >= 1.0.5;
 * ChatOpenAI and ChatGoogleGenerativeAI know their current models), else the built-in catalog by
 * `name`, then by the instance's model id, else `undefined` (the caller decides: treat as unlimited
 * or refuse). Throws {@link AutoPickerConfigError} for an override that is not a positive number.
 */
export function resolveContextWindow(
  model: BaseChatModel,
  name: string,
  override?: number,
): number | undefined {
  if (override !== undefined) {
    const valid = positive(override);
    if (valid === undefined) {
      throw new AutoPickerConfigError(
        `contextWindow for "${name}" must be a positive number, got ${override}.`,
      );
    }
    return valid;
  }
  let profileWindow: number | undefined;
  try {
    profileWindow = positive((model as { profile?: { maxInputTokens?: unknown } }).profile?.maxInputTokens);
  } catch {
    // A third-party profile getter that throws must not break model selection.
  }
  if (profileWindow !== undefined) return profileWindow;
  const byName = catalogContextWindow(name);
  if (byName !== undefined) return byName;
  const id = modelIdOf(model);
  return id === undefined ? undefined : catalogContextWindow(id);
}

// Per-call options win over constructor fields; each provider spells the limit differently.
const OUTPUT_KEYS = [
  "maxTokens",
  "maxOutputTokens",
  "maxCompletionTokens",
  "max_completion_tokens",
  "max_tokens",
  "max_output_tokens",
] as const;

function firstLimit(source: unknown): number | undefined {
  if (source === null || typeof source !== "object") return undefined;
  const record = source as Record<string, unknown>;
  for (const key of OUTPUT_KEYS) {
    // ChatOpenAI uses -1 for "no limit"; any non-positive value means unset.
    const value = positive(record[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * The output-token limit a call will run with: a limit in `callOptions` (`maxTokens`,
 * `maxOutputTokens`, `max_completion_tokens`, ...), else one on the model instance (ChatOpenAI
 * `maxTokens`, ChatGoogleGenerativeAI `maxOutputTokens`, ChatAnthropic `maxTokens`, or
 * `modelKwargs.max_completion_tokens`), else `undefined` (the provider's default applies; the caller
 * may fall back to `profile.maxOutputTokens` for a worst case).
 */
export function resolveMaxOutputTokens(
  model: BaseChatModel,
  callOptions?: Record<string, unknown>,
): number | undefined {
  return (
    firstLimit(callOptions) ??
    firstLimit(model) ??
    firstLimit((model as unknown as { modelKwargs?: unknown }).modelKwargs)
  );
}
