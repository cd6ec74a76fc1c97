import { bareModelId } from "./modelId";

/** The js-tiktoken encodings this package bundles. */
export type EncodingName = "o200k_base" | "cl100k_base";

/** How to count tokens for one model: which encoding, and by how much to scale its counts. */
export interface TokenizerFamily {
  /** Family label, for logs and tests. */
  readonly family: string;
  readonly encoding: EncodingName;
  /**
   * Multiplier applied to the encoding's counts before `TokenEstimator.learn` has data. 1 means
   * exact (OpenAI models on their own encoding). Other providers use tokenizers we cannot run
   * offline; the factor errs high on purpose, because underestimating sends a request that
   * overflows the window while overestimating only falls back a little early, and `learn()`
   * removes the margin after a few real calls.
   */
  readonly defaultCorrection: number;
}

/*
 * Defaults, and why:
 * - OpenAI gpt-4o / 4.1 / 4.5 / gpt-5 / o-series: o200k_base, exact (1.00).
 * - OpenAI gpt-4 / gpt-4-turbo / gpt-3.5: cl100k_base, exact (1.00).
 * - Gemini / Gemma: SentencePiece with a 256k vocabulary; on English prose and code it lands close
 *   to o200k (both large vocabularies), on some scripts it differs either way. 1.10 = margin.
 * - Llama 3/4, gpt-oss, Qwen, DeepSeek: 128k-200k BPE vocabularies close to o200k. 1.10 = margin.
 * - Claude: Anthropic's tokenizer is smaller than o200k; public comparisons report 15-30% more
 *   tokens than OpenAI's for the same English text and code. 1.25.
 * - Mistral / Mixtral: 32k SentencePiece vocabulary (Tekken for newer ones), typically 15-30% more
 *   tokens than o200k. 1.25.
 * - Anything else: 1.20, an unknown tokenizer gets a wide margin.
 */
const FAMILIES: ReadonlyArray<readonly [RegExp, TokenizerFamily]> = [
  [
    /^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o\d|codex)/,
    { family: "openai-o200k", encoding: "o200k_base", defaultCorrection: 1 },
  ],
  [/^(?:gpt-4|gpt-3\.5|gpt-35)/, { family: "openai-cl100k", encoding: "cl100k_base", defaultCorrection: 1 }],
  [/gemini|gemma/, { family: "gemini", encoding: "o200k_base", defaultCorrection: 1.1 }],
  [/claude/, { family: "claude", encoding: "o200k_base", defaultCorrection: 1.25 }],
  [
    /mistral|mixtral|codestral|ministral|magistral/,
    { family: "mistral", encoding: "o200k_base", defaultCorrection: 1.25 },
  ],
  [/llama|qwen|deepseek|kimi/, { family: "open-bpe", encoding: "o200k_base", defaultCorrection: 1.1 }],
];
const UNKNOWN: TokenizerFamily = { family: "unknown", encoding: "o200k_base", defaultCorrection: 1.2 };

// Model names come from a short, fixed configuration; memoising them keeps regexes off the hot path.
const memo = new Map<string, TokenizerFamily>();

/** The tokenizer family for an entry name (`"openai/gpt-4o-mini"`) or a bare model id. */
export function tokenizerFamily(model: string): TokenizerFamily {
  let found = memo.get(model);
  if (found) return found;
  const id = bareModelId(model);
  found = FAMILIES.find(([pattern]) => pattern.test(id))?.[1] ?? UNKNOWN;
  if (memo.size > 1000) memo.clear(); // unbounded model names would be a leak, not a cache
  memo.set(model, found);
  return found;
}
