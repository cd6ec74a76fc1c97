import type { SimResponder } from "../testing/responder";

/** OpenAI's chat overhead for one user message: 3 per message + 3 reply priming (see testing/tokens). */
const CHAT_OVERHEAD_TOKENS = 6;

/** Text of exactly `tokens` o200k_base tokens (`"word word ..."`; each word is one token). */
export function textOfTokens(tokens: number): string {
  return tokens <= 0 ? "" : "word" + " word".repeat(tokens - 1);
}

/** A user prompt the simulator bills at about `promptTokens` tokens; `index` makes each call distinct. */
export function promptOfTokens(promptTokens: number, index: number): string {
  const tag = `#${index}:`;
  // The tag costs a few tokens of its own; the body fills the rest.
  return `${tag}${textOfTokens(Math.max(1, promptTokens - CHAT_OVERHEAD_TOKENS - 4))}`;
}

/** A responder whose answer is `outputTokens` tokens long (the simulator bills what it sends). */
export function fixedLengthResponder(outputTokens: number): SimResponder {
  const text = "ok" + " ok".repeat(Math.max(0, outputTokens - 1));
  return () => ({ text });
}
