import { encodeText } from "./tokens";

/** OpenAI caches prompts from 1024 tokens on, in 128-token increments. */
const MIN_CACHED_TOKENS = 1024;
const CACHE_STEP_TOKENS = 128;
/** How many earlier prompts are remembered per model; old ones are forgotten first. */
const MAX_REMEMBERED_PROMPTS = 32;

/**
 * A deterministic stand-in for automatic prompt caching: the cached part of a prompt is the
 * longest token prefix it shares with any earlier prompt to the same model, counted only from
 * 1024 tokens and rounded down to a multiple of 128 above that.
 */
export class PromptCache {
  private readonly seen: number[][] = [];

  /** Cached tokens for `promptText`, then remembers it for later prompts. */
  lookupAndStore(promptText: string, promptTokens: number): number {
    const tokens = encodeText(promptText);
    let longest = 0;
    for (const earlier of this.seen) longest = Math.max(longest, commonPrefixLength(earlier, tokens));
    this.seen.push(tokens);
    if (this.seen.length > MAX_REMEMBERED_PROMPTS) this.seen.shift();
    if (longest < MIN_CACHED_TOKENS) return 0;
    const cached =
      MIN_CACHED_TOKENS + Math.floor((longest - MIN_CACHED_TOKENS) / CACHE_STEP_TOKENS) * CACHE_STEP_TOKENS;
    return Math.min(cached, promptTokens);
  }

  clear(): void {
    this.seen.length = 0;
  }
}

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
