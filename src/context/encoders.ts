import { Tiktoken } from "js-tiktoken/lite";
import cl100kRanks from "js-tiktoken/ranks/cl100k_base";
import o200kRanks from "js-tiktoken/ranks/o200k_base";
import { LruCache } from "./lru";
import { type EncodingName, tokenizerFamily } from "./tokenizerFamily";

// The rank tables ship inside js-tiktoken, so nothing is downloaded; building an encoder from them
// still costs ~0.5-1 s, so each is built on first use and shared by every estimator.
const RANKS = { o200k_base: o200kRanks, cl100k_base: cl100kRanks } as const;
const encoders = new Map<EncodingName, Tiktoken>();

function encoder(encoding: EncodingName): Tiktoken {
  let enc = encoders.get(encoding);
  if (!enc) {
    enc = new Tiktoken(RANKS[encoding]);
    encoders.set(encoding, enc);
  }
  return enc;
}

/** Builds the encoder `model` needs now, so the first real call does not pay for it. */
export function preloadEncoder(model: string): void {
  encoder(tokenizerFamily(model).encoding);
}

/*
 * js-tiktoken merges byte pairs in O(n²) per pre-tokenized piece (measured: a 3,000-letter run takes
 * ~0.9 s, 300 Chinese characters without punctuation ~70 ms). Pieces are letter runs, symbol runs or
 * whitespace runs, so any such run longer than MAX_RUN is encoded in MAX_RUN-character chunks. Cuts
 * fall only inside long runs (never at their edges), costing at most a token or so per cut on text
 * that almost never occurs in prose, and keeping tokens <= UTF-8 bytes per chunk.
 */
const MAX_RUN = 64;
const LONG_RUN = /[\p{L}\p{M}]{65,}|[^\s\p{L}\p{N}]{65,}|\s{65,}/gu;

function encodeLength(enc: Tiktoken, text: string): number {
  // disallowedSpecial = [] makes "<|endoftext|>" in user text ordinary text, as the API treats it,
  // instead of an exception.
  return enc.encode(text, [], []).length;
}

function countGuarded(enc: Tiktoken, text: string): number {
  LONG_RUN.lastIndex = 0;
  let match = LONG_RUN.exec(text);
  if (match === null) return encodeLength(enc, text);
  let total = 0;
  let segmentStart = 0;
  while (match !== null) {
    const runEnd = match.index + match[0].length;
    let cut = match.index + MAX_RUN;
    while (cut < runEnd) {
      if (isLowSurrogate(text.charCodeAt(cut))) cut++; // never split a surrogate pair
      total += encodeLength(enc, text.slice(segmentStart, cut));
      segmentStart = cut;
      cut += MAX_RUN;
    }
    match = LONG_RUN.exec(text);
  }
  return total + encodeLength(enc, text.slice(segmentStart));
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

// Agents resend the whole history every turn, often as fresh message objects (state reducers,
// serialisation); keying by content lets those hit too. Bounded at ~8 MB of text per encoding.
const textCaches = new Map<EncodingName, LruCache<string, number>>();
const MIN_CACHED_LENGTH = 16; // shorter strings tokenize faster than a cache entry pays off

/** Exact token count of `text` under `encoding` (no chat overhead, no correction). */
export function encodingTokens(text: string, encoding: EncodingName): number {
  if (text.length === 0) return 0;
  if (text.length < MIN_CACHED_LENGTH) return countGuarded(encoder(encoding), text);
  let cache = textCaches.get(encoding);
  if (!cache) {
    cache = new LruCache<string, number>(4096, 4_000_000);
    textCaches.set(encoding, cache);
  }
  let count = cache.get(text);
  if (count === undefined) {
    count = countGuarded(encoder(encoding), text);
    cache.set(text, count, text.length);
  }
  return count;
}

/**
 * Tokens `text` costs on `model`: exact for OpenAI models, otherwise the o200k count scaled by the
 * model family's default correction (see `tokenizerFamily`). Use it to override a chat model's
 * `getNumTokens`, whose built-in version downloads rank files from the internet at run time.
 */
export function countTextTokens(text: string, model: string): number {
  const family = tokenizerFamily(model);
  return Math.ceil(encodingTokens(text, family.encoding) * family.defaultCorrection);
}

const nodeBuffer = (globalThis as { Buffer?: { byteLength(s: string, enc: "utf8"): number } }).Buffer;

/**
 * UTF-8 length of `text`. Every BPE token covers at least one byte, so this bounds the token
 * count of any byte-level BPE encoding from above without tokenizing.
 */
export function utf8Length(text: string): number {
  if (nodeBuffer) return nodeBuffer.byteLength(text, "utf8");
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3; // BMP character, or a lone surrogate (encoded as U+FFFD: 3 bytes)
  }
  return bytes;
}
