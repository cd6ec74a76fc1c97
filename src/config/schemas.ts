import { z } from "zod";
import { didYouMean, type OwnIssueKind } from "./messages";

/*
 * Schema builders whose issues read as requirements ("must be a whole number >= 1"), so
 * `formatIssues` can say "<path> <requirement>, got <value>". zod 4 rejects NaN and +-Infinity in
 * z.number() already; every builder here repeats its requirement for each way a value can fail
 * (wrong type, fraction, too small), so the message never depends on which check tripped.
 */

/** A whole number >= `min`. */
export function wholeNumber(min: number, unit = "") {
  const must = `must be a whole number${unit ? ` of ${unit}` : ""} >= ${min}`;
  return z.number({ error: must }).int({ error: must }).min(min, { error: must });
}

/** A finite number within bounds (`gt` is exclusive, `min` inclusive). */
export function finiteNumber(bounds: { min?: number; gt?: number; max?: number } = {}, unit = "") {
  const parts: string[] = [];
  if (bounds.gt !== undefined) parts.push(`> ${bounds.gt}`);
  if (bounds.min !== undefined) parts.push(`>= ${bounds.min}`);
  if (bounds.max !== undefined) parts.push(`<= ${bounds.max}`);
  const must = `must be a finite number${unit ? ` of ${unit}` : ""}${parts.length ? ` ${parts.join(" and ")}` : ""}`;
  let schema = z.number({ error: must });
  if (bounds.gt !== undefined) schema = schema.gt(bounds.gt, { error: must });
  if (bounds.min !== undefined) schema = schema.min(bounds.min, { error: must });
  if (bounds.max !== undefined) schema = schema.max(bounds.max, { error: must });
  return schema;
}

/** One of `values`, listed in the message. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}` });
}

/** A boolean. */
export function flag() {
  return z.boolean({ error: "must be true or false" });
}

/** A non-empty string. */
export function nonEmptyString() {
  return z.string({ error: "must be a non-empty string" }).min(1, { error: "must be a non-empty string" });
}

/** A function. */
export function callback(what = "a function") {
  return z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", {
    error: `must be ${what}`,
  });
}

/** An object with the named methods (duck-typed, so another copy of this package's classes passes too). */
export function withMethods<T>(methods: readonly string[], what: string) {
  return z.custom<T>(
    (v) =>
      typeof v === "object" &&
      v !== null &&
      methods.every((m) => typeof (v as Record<string, unknown>)[m] === "function"),
    { error: `must be ${what} (an object with ${methods.map((m) => `${m}()`).join(", ")})` },
  );
}

/** Anything (for values LangChain validates itself, such as `callbacks`). */
export function passThrough() {
  return z.custom<unknown>(() => true);
}

/**
 * Keys a caller may mean for a model, not for the picker. Rejected with a message that says where
 * they go: each provider names them differently (maxTokens / maxOutputTokens, stop /
 * stopSequences), so the picker cannot forward one value to every model faithfully.
 */
export const CALL_PARAMETERS: readonly string[] = [
  "model",
  "modelName",
  "apiKey",
  "temperature",
  "maxTokens",
  "max_tokens",
  "maxCompletionTokens",
  "maxOutputTokens",
  "topP",
  "top_p",
  "topK",
  "top_k",
  "stop",
  "stopSequences",
  "frequencyPenalty",
  "presencePenalty",
  "seed",
  "n",
  "logprobs",
  "topLogprobs",
  "streaming",
  "streamUsage",
  "timeout",
  "responseFormat",
  "reasoning",
  "reasoningEffort",
  "safetySettings",
];

export interface StrictOptionsConfig {
  /** Reject {@link CALL_PARAMETERS} with "set it on each inner model". */
  callParameters?: boolean;
  /** What the value must be when it is not an object at all. Default "must be an object of options". */
  must?: string;
}

/**
 * An object whose unknown keys are errors, each with a "did you mean" when a known key is close
 * (edit distance), else the list of known keys.
 */
export function strictOptions<S extends z.ZodRawShape>(shape: S, config: StrictOptionsConfig = {}) {
  const known = Object.keys(shape);
  return z
    .looseObject(shape, { error: config.must ?? "must be an object of options" })
    .superRefine((value, ctx) => {
      for (const key of Object.keys(value)) {
        if (Object.hasOwn(shape, key)) continue;
        if (config.callParameters && CALL_PARAMETERS.includes(key)) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            params: { kind: "call_parameter" satisfies OwnIssueKind },
            message:
              `"${key}" is a parameter of each model, not of the picker: set it on every inner model ` +
              "(e.g. new ChatOpenAI({ model, temperature, maxTokens }); Gemini names its cap maxOutputTokens), " +
              "or pass it per call (llm.invoke(input, { stop })) where the models accept it.",
          });
          continue;
        }
        const suggestion = didYouMean(key, known);
        ctx.addIssue({
          code: "custom",
          path: [key],
          params: { kind: "unknown_key" satisfies OwnIssueKind },
          message: suggestion
            ? `unknown option (did you mean ${suggestion}?)`
            : `unknown option (known: ${known.join(", ")})`,
        });
      }
    }) as unknown as z.ZodType<z.infer<z.ZodObject<S>>>;
}
