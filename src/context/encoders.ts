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

/*
 * BPE never merges across the pre-tokenizer's pieces, so a text's count is the sum of its pieces'
 * counts, and long natural text repeats its pieces (words, keys, indentation) over and over.
 * Counting each distinct piece once is exact and, on 5 MB of prose, code or JSON, 5-20x faster
 * than js-tiktoken's own loop (~1000x on repetitive CJK); on text with few repeats it is ~2x
 * slower, so a long text whose first pieces rarely repeat is handed back to js-tiktoken whole.
 * Short texts (every agent turn) never take this path.
 */
const MEMO_MIN_LENGTH = 16_384;
/** Distinct pieces remembered per encoding (~100k words and symbols: a few MB). */
const MEMO_MAX_PIECES = 100_000;
/** After this many pieces, a text with a hit rate under {@link MEMO_MIN_HIT_RATE} is encoded directly. */
const MEMO_PROBE_PIECES = 4_096;
const MEMO_MIN_HIT_RATE = 0.5;
const pieceCounts = new Map<EncodingName, Map<string, number>>();
/** Switch for benchmarks that compare against js-tiktoken's own loop; not part of the public API. */
export const pieceMemo = { enabled: true };
const splitters = new Map<EncodingName, RegExp>();

function countByPieces(enc: Tiktoken, encoding: EncodingName, text: string): number {
  let memo = pieceCounts.get(encoding);
  let splitter = splitters.get(encoding);
  if (!memo || !splitter) {
    memo = new Map();
    pieceCounts.set(encoding, memo);
    splitter = new RegExp(RANKS[encoding].pat_str, "gu"); // js-tiktoken's own pre-tokenizer
    splitters.set(encoding, splitter);
  }
  splitter.lastIndex = 0;
  let total = 0;
  let pieces = 0;
  let hits = 0;
  for (let m = splitter.exec(text); m !== null; m = splitter.exec(text)) {
    const piece = m[0];
    let count = memo.get(piece);
    if (count !== undefined) hits++;
    else {
      count = encodeLength(enc, piece);
      if (memo.size < MEMO_MAX_PIECES) memo.set(piece, count);
    }
    total += count;
    // The pattern only looks ahead, so the rest of the text splits the same on its own.
    if (++pieces === MEMO_PROBE_PIECES && hits < MEMO_PROBE_PIECES * MEMO_MIN_HIT_RATE) {
      return total + encodeLength(enc, text.slice(splitter.lastIndex));
    }
  }
  return total;
}

function countSegment(enc: Tiktoken, encoding: EncodingName, text: string, memo: boolean): number {
  return memo && pieceMemo.enabled && text.length >= MEMO_MIN_LENGTH
    ? countByPieces(enc, encoding, text)
    : encodeLength(enc, text);
}

/**
 * Exact count of `text` with the long-run guard; `memo` allows counting long texts piece by
 * piece. Exported for tests (the two paths must agree); use {@link encodingTokens}.
 */
export function countGuarded(text: string, encoding: EncodingName, memo = true): number {
  const enc = encoder(encoding);
  LONG_RUN.lastIndex = 0;
  let match = LONG_RUN.exec(text);
  if (match === null) return countSegment(enc, encoding, text, memo);
  let total = 0;
  let segmentStart = 0;
  while (match !== null) {
    const runEnd = match.index + match[0].length;
    let cut = match.index + MAX_RUN;
    while (cut < runEnd) {
      if (isLowSurrogate(text.charCodeAt(cut))) cut++; // never split a surrogate pair
      total += countSegment(enc, encoding, text.slice(segmentStart, cut), memo);
      segmentStart = cut;
      cut += MAX_RUN;
    }
    match = LONG_RUN.exec(text);
  }
  return total + countSegment(enc, encoding, text.slice(segmentStart), memo);
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
  if (text.length < MIN_CACHED_LENGTH) return countGuarded(text, encoding);
  let cache = textCaches.get(encoding);
  if (!cache) {
    cache = new LruCache<string, number>(4096, 4_000_000);
    textCaches.set(encoding, cache);
  }
  let count = cache.get(text);
  if (count === undefined) {
    count = countGuarded(text, encoding);
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
