import fc from "fast-check";
import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";
import { countGuarded, encodingTokens } from "../src/context/encoders";

// Long texts are counted piece by piece with a memo; that must be exactly what js-tiktoken
// counts for the same (guarded) segments, for any text, repetitive or not.
const fragment = fc.oneof(
  fc.constantFrom(
    "the ",
    "of ",
    "Hello, world! ",
    "  indent\n",
    "\r\n",
    '{"id":42,"ok":true}',
    "don't ",
    "1234567 ",
    "大型语言模型的上下文窗口，",
    "😊👍🏽 ",
    "naïve café — ",
    "<|endoftext|>",
    "a".repeat(70),
  ),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 6 }),
);
const longText = fc
  .array(fragment, { minLength: 1, maxLength: 40 })
  .chain((parts) =>
    fc
      .array(fc.integer({ min: 0, max: parts.length - 1 }), { minLength: 2_000, maxLength: 4_000 })
      .map((picks) => picks.map((i) => parts[i]).join("")),
  )
  .filter((s) => s.length >= 16_384);

test("the piece memo counts long texts exactly as js-tiktoken does (property)", () => {
  fc.assert(
    fc.property(longText, (text) => {
      expect(countGuarded(text, "o200k_base", true)).toBe(countGuarded(text, "o200k_base", false));
      expect(countGuarded(text, "cl100k_base", true)).toBe(countGuarded(text, "cl100k_base", false));
    }),
    { numRuns: 25 },
  );
});

test("text with few repeats falls back to js-tiktoken and still counts exactly", () => {
  let seed = 1;
  const random = () => {
    seed = (seed * 48271) % 2147483647;
    return seed.toString(36);
  };
  const text = Array.from({ length: 6_000 }, () => `${random()} `).join("");
  expect(encodingTokens(text, "o200k_base")).toBe(new Tiktoken(o200k).encode(text, [], []).length);
});
