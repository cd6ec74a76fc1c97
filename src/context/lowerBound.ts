import type { EncodingName } from "./tokenizerFamily";

/*
 * A lower bound of a string's exact token count under o200k_base and cl100k_base, from one pass
 * over its characters and no tokenizer. It lets an input that cannot fit any window be refused in
 * milliseconds instead of after seconds of BPE (a 5 MB prompt: ~2.4 s on js-tiktoken).
 *
 * Why it is a lower bound. Both encodings first split text with a regex (the "pre-tokenizer"), then
 * encode every piece on its own, into at least one token. So tokens >= pieces, and it is enough to
 * find pieces that must be distinct. Reading the two patterns (js-tiktoken's `pat_str`), a piece is
 * one of: (a) letters, with at most one non-letter, non-digit, non-newline character P in front and
 * (o200k) an `'s`-style contraction behind, or (cl100k) a contraction alone; (b) 1-3 digits (\p{N});
 * (c) an optional space, a run of symbols S = [^\s\p{L}\p{N}], then (o200k) [\r\n/]* or (cl100k)
 * [\r\n]*; (d) whitespace only. Only ASCII is classified; every non-ASCII character is "unknown" and
 * may belong to any class, so it never separates anything. Counted, in disjoint sets of pieces:
 *
 * - Words: maximal runs of ASCII letters, apostrophes and non-ASCII characters that contain an ASCII
 *   letter. A piece containing an ASCII letter is of kind (a); apart from P, all its characters are
 *   letters, marks or a contraction's apostrophe, so its ASCII letters lie in one word: every word
 *   needs its own piece.
 * - Digit groups: maximal runs of ASCII digits and non-ASCII characters; a group of d ASCII digits
 *   needs ceil(d / 3) pieces of kind (b), which hold nothing but \p{N}.
 * - Symbol groups: maximal runs of ASCII symbols, \r, \n and non-ASCII characters, counted once when
 *   they hold an ASCII symbol X followed by an ASCII non-letter or by the end of the string. X can
 *   then be neither P (P is followed by a letter or mark) nor a contraction's apostrophe, so its
 *   piece is of kind (c); and a kind (c) piece lies within one symbol group, apart from a leading
 *   space.
 *
 * None of these arguments depends on where the string is cut before encoding, so they survive the
 * estimator's long-run guard (which encodes runs over 64 characters in slices).
 *
 * Separately, bytes: a token is a run of the text's UTF-8 bytes, and the rank tables say how many
 * bytes of a kind any one token holds at most ({@link MAX_PER_TOKEN}, checked against the tables
 * by a test). Every character of a class brings exactly one lead byte of that class, so
 * tokens >= ceil(characters of the class / that maximum), for each class:
 * - all non-ASCII bytes (at most 60 per o200k token: a Thai word),
 * - CJK ideographs U+4000-U+9FFF (lead bytes E4-E9: at most 10 per o200k token, 6 per cl100k),
 * - Hangul and Yi U+A000-U+D7FF (lead bytes EA-ED: 7 and 3),
 * - characters beyond the BMP, emoji included (lead bytes F0-F4: at most 1 per token).
 * The bound is the largest of these: pieces give ~75-90% of the exact count on English prose, code
 * and JSON; on Chinese the ideograph class gives ~1/8 of it, so a huge Chinese prompt is ruled out
 * for a 128k window but not for a 1M one.
 */

/** Per encoding, the most bytes of each class in any single token (see the module comment). */
export const MAX_PER_TOKEN: Readonly<
  Record<EncodingName, { highBytes: number; ideographs: number; hangul: number; astral: number }>
> = {
  o200k_base: { highBytes: 60, ideographs: 10, hangul: 7, astral: 1 },
  cl100k_base: { highBytes: 48, ideographs: 6, hangul: 3, astral: 1 },
};

const SPACE = 0;
const LETTER = 1;
const DIGIT = 2;
const SYMBOL = 3; // [^\s\p{L}\p{N}], apostrophe included
const NEWLINE = 4; // \r and \n

// Built from the same Unicode classes the patterns use, so the table cannot drift from them.
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ASCII_CLASS[c] =
    ch === "\r" || ch === "\n"
      ? NEWLINE
      : /\s/.test(ch)
        ? SPACE
        : /\p{L}/u.test(ch)
          ? LETTER
          : /\p{N}/u.test(ch)
            ? DIGIT
            : SYMBOL;
}
const APOSTROPHE = 0x27;

/** What one pass over a string finds; combined per encoding by {@link lowerBoundTokens}. */
export interface LowerBoundCounts {
  /** Pieces that must be distinct (words + digit pieces + symbol groups). */
  pieces: number;
  /** UTF-8 bytes >= 0x80. */
  highBytes: number;
  /** Characters U+4000-U+9FFF (CJK ideographs). */
  ideographs: number;
  /** Characters U+A000-U+D7FF (Hangul, Yi). */
  hangul: number;
  /** Characters beyond U+FFFF (emoji, rare ideographs). */
  astral: number;
}

/** Counts the pieces and non-ASCII bytes of `text` (see the module comment). */
export function lowerBoundCounts(text: string): LowerBoundCounts {
  let pieces = 0;
  let highBytes = 0;
  let ideographs = 0;
  let hangul = 0;
  let astral = 0;
  let inWord = false;
  let wordHasLetter = false;
  let inDigits = false;
  let digits = 0;
  let inSymbols = false;
  let symbolWitness = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      // Unknown class: continues whatever run is open, separates nothing.
      if (c < 0x800) highBytes += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        highBytes += 4;
        astral++;
        i++;
      } else {
        highBytes += 3; // a BMP character, or a lone surrogate (encoded as U+FFFD)
        if (c >= 0x4000 && c <= 0x9fff) ideographs++;
        else if (c >= 0xa000 && c <= 0xd7ff) hangul++;
      }
      if (!inWord) {
        inWord = true;
        wordHasLetter = false;
      }
      if (!inDigits) {
        inDigits = true;
        digits = 0;
      }
      if (!inSymbols) {
        inSymbols = true;
        symbolWitness = false;
      }
      continue;
    }
    const cls = ASCII_CLASS[c]!;
    // Words: ASCII letters, apostrophes (contractions) and non-ASCII.
    if (cls === LETTER || c === APOSTROPHE) {
      if (!inWord) {
        inWord = true;
        wordHasLetter = false;
      }
      if (cls === LETTER && !wordHasLetter) {
        wordHasLetter = true;
        pieces++;
      }
    } else inWord = false;
    // Digit groups: ASCII digits and non-ASCII.
    if (cls === DIGIT) {
      if (!inDigits) {
        inDigits = true;
        digits = 0;
      }
      digits++;
    } else if (inDigits) {
      pieces += Math.ceil(digits / 3);
      inDigits = false;
    }
    // Symbol groups: ASCII symbols, \r, \n and non-ASCII.
    if (cls === SYMBOL || cls === NEWLINE) {
      if (!inSymbols) {
        inSymbols = true;
        symbolWitness = false;
      }
      if (cls === SYMBOL && !symbolWitness) {
        const next = i + 1 < n ? text.charCodeAt(i + 1) : -1;
        if (next < 0 || (next < 0x80 && ASCII_CLASS[next] !== LETTER)) symbolWitness = true;
      }
    } else if (inSymbols) {
      if (symbolWitness) pieces++;
      inSymbols = false;
    }
  }
  if (inDigits) pieces += Math.ceil(digits / 3);
  if (inSymbols && symbolWitness) pieces++;
  return { pieces, highBytes, ideographs, hangul, astral };
}

/** The lower bound of `text`'s exact token count under `encoding`, from its {@link lowerBoundCounts}. */
export function lowerBoundFromCounts(counts: LowerBoundCounts, encoding: EncodingName): number {
  const max = MAX_PER_TOKEN[encoding];
  return Math.max(
    counts.pieces,
    Math.ceil(counts.highBytes / max.highBytes),
    Math.ceil(counts.ideographs / max.ideographs),
    Math.ceil(counts.hangul / max.hangul),
    counts.astral / max.astral,
  );
}

/** A lower bound of `encodingTokens(text, encoding)`, without tokenizing (see the module comment). */
export function lowerBoundTokens(text: string, encoding: EncodingName): number {
  if (text.length === 0) return 0;
  return lowerBoundFromCounts(lowerBoundCounts(text), encoding);
}
