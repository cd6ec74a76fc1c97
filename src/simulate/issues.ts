/**
 * Turning zod issues into messages a user can act on: the option's path, what it must be, what it
 * got, and for a misspelt key or value the closest known one (the suggestion and the path come from
 * the shared `config/` layer). The simulate config reports every problem of a file at once.
 */
import * as z from "zod";
import { formatPath, didYouMean as suggest } from "../config/messages";
import { AutoPickerConfigError } from "../errors";

/** A value as it should appear in a message: strings quoted, objects as short JSON. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value);
  return json.length > 40 ? `${json.slice(0, 37)}...` : json;
}

/** ` (did you mean "x"?)` or `""`. */
function didYouMean(word: string, known: readonly string[]): string {
  const s = suggest(word, known);
  return s === undefined ? "" : ` (did you mean ${JSON.stringify(s)}?)`;
}

/**
 * A strict object: an unknown key is an error that names the closest known key, or lists them all.
 * Use it for every object a user writes.
 */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== "unrecognized_keys") return undefined;
      const keys = issue.keys as string[];
      const first = keys[0]!;
      const hint = suggest(first, known);
      const more = keys.length > 1 ? ` (and ${keys.slice(1).map(show).join(", ")})` : "";
      return hint !== undefined
        ? `has unknown key ${show(first)}${more}: did you mean ${JSON.stringify(hint)}?`
        : `has unknown key ${show(first)}${more}; known keys: ${known.join(", ")}`;
    },
  });
}

/**
 * A number field whose every failure (wrong type, NaN, Infinity, out of range, not whole) says the
 * whole rule, e.g. "must be a whole number >= 1, got 0.5". The rule's words are its `description`.
 */
export function numberField(rule: { whole?: boolean; min?: number; above?: number; max?: number }) {
  const words = [
    rule.whole ? "a whole number" : "a number",
    rule.min !== undefined ? `>= ${rule.min}` : "",
    rule.above !== undefined ? `> ${rule.above}` : "",
    rule.max !== undefined ? `<= ${rule.max}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const message = (issue: { input?: unknown }) =>
    issue.input === undefined ? `is required: ${words}` : `must be ${words}, got ${show(issue.input)}`;
  let schema = z.number({ error: message });
  if (rule.whole) schema = schema.int({ error: message });
  if (rule.min !== undefined) schema = schema.min(rule.min, { error: message });
  if (rule.above !== undefined) schema = schema.gt(rule.above, { error: message });
  if (rule.max !== undefined) schema = schema.max(rule.max, { error: message });
  return schema.describe(words);
}

/** One of `values`; a misspelt one gets the closest, otherwise the list. */
export function enumField<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) => {
      const list = values.join(", ");
      if (issue.input === undefined) return `is required: one of ${list}`;
      const hint = typeof issue.input === "string" ? didYouMean(issue.input, values) : "";
      return `must be one of ${list}, got ${show(issue.input)}${hint}`;
    },
  });
}

/** Fallback wording for issues no field customised (objects, lists, strings). */
const genericMessages: z.core.$ZodErrorMap = (issue) => {
  const got = `, got ${show(issue.input)}`;
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) return "is required";
      const expected: Record<string, string> = {
        object: "an object",
        array: "a list",
        string: "a string",
        boolean: "true or false",
        number: "a number",
      };
      return `must be ${expected[issue.expected] ?? issue.expected}${got}`;
    }
    case "too_small":
      if (issue.origin === "array")
        return `needs at least ${issue.minimum} entr${issue.minimum === 1 ? "y" : "ies"}`;
      if (issue.origin === "string") return "must not be empty";
      return `must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}${got}`;
    case "invalid_value":
      return `must be ${issue.values.map((v) => show(v)).join(" or ")}${got}`;
    default:
      return undefined;
  }
};

/** Every problem of a failed parse, one message each, `root` naming the whole input. */
export function issueMessages(error: z.ZodError, root: string): string[] {
  return error.issues.flatMap((issue) => messagesOf(issue, [], root));
}

function messagesOf(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[], root: string): string[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    // Report the branch the input was meant for: the first whose root accepted the input's type.
    const meant = issue.errors.find((branch) => !branch.some((i) => i.path.length === 0 && typeMismatch(i)));
    if (meant) return meant.flatMap((i) => messagesOf(i, path, root));
  }
  if (issue.code === "invalid_union" && "discriminator" in issue) {
    const options = (issue as { options?: unknown[] }).options ?? [];
    const input = (issue.input as Record<string, unknown> | undefined)?.[String(issue.discriminator)];
    const names = options.map(String);
    const hint = typeof input === "string" ? didYouMean(input, names) : "";
    return [`${formatPath(path) || root} must be one of ${names.join(", ")}, got ${show(input)}${hint}`];
  }
  return [`${formatPath(path) || root} ${issue.message}`];
}

/**
 * Parses `input` with `schema`, or throws one `AutoPickerConfigError` listing every problem, each
 * with its path from `root` (e.g. `models[0].limits.requestsPerMinute must be ...`).
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, root: string): z.output<S> {
  const parsed = schema.safeParse(input, { error: genericMessages, reportInput: true });
  if (parsed.success) return parsed.data;
  throw new AutoPickerConfigError(joinProblems(issueMessages(parsed.error, root)));
}

/** Whether the issue says the input is of the wrong kind altogether (not just a wrong value). */
function typeMismatch(issue: z.core.$ZodIssue): boolean {
  if (issue.code === "invalid_type") return true;
  return issue.code === "invalid_value" && !issue.values.some((v) => typeof v === typeof issue.input);
}

/** One problem as a sentence; several as a list. */
export function joinProblems(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  if (unique.length === 1) return /[.?!]$/.test(unique[0]!) ? unique[0]! : `${unique[0]}.`;
  return `${unique.length} problems:\n${unique.map((m) => `  - ${m}`).join("\n")}`;
}
