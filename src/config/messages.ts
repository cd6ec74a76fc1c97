import type { z } from "zod";
import { AutoPickerConfigError } from "../errors";

/**
 * Turning zod issues into messages a user can act on: the option's path
 * (`fallbacks[1].limits.requestsPerMinute`), what it must be, and what was given, with strings
 * quoted so `"30"` is visibly not `30`. Unknown keys come with a "did you mean" from edit distance.
 * Shared by every validated input (constructor options, BudgetManager, env variables, JSON files).
 */

/** `issue.params.kind` of the issues the helpers here add themselves. */
type OwnIssueKind = "unknown_key" | "call_parameter";

/** `a.b[0].c` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/**
 * A short, safe rendering of a value for an error message: strings quoted (and cut at 40
 * characters), numbers as JavaScript prints them (`NaN`, `-1`), objects by their class name. Never
 * the content of an object, which could hold an API key.
 */
export function formatValue(value: unknown): string {
  if (typeof value === "string") {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return value.length === 0 ? "an empty array" : `an array of ${value.length}`;
  if (typeof value === "symbol") return "a symbol";
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "Object" && name !== "" ? `a ${name}` : "an object";
}

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions: `maxWiat`), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known name closest to `name`, if it is plausibly a typo of it: the same word in another case
 * or separator style (`max_wait_seconds`), one a prefix of the other (`maxWait`), or within a small
 * edit distance (a third of its length, at least 1). `undefined` when nothing is close.
 */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");
  const w = norm(name);
  if (w === "") return undefined;
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of known) {
    const c = norm(candidate);
    let score: number;
    if (c === w) score = 0;
    else if (w.length >= 4 && (c.startsWith(w) || w.startsWith(c))) score = 1;
    else {
      const d = editDistance(w, c);
      if (d > Math.max(1, Math.floor(Math.max(w.length, c.length) / 3))) continue;
      score = 1 + d;
    }
    if (!best || score < best.score) best = { candidate, score };
  }
  return best?.candidate;
}

/** The value at `path` inside `input`, for "got ..." (undefined when the path leaves the input). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/**
 * One message per issue: `circuitBreaker.failureThreshold must be a whole number >= 1, got -1.`
 * Schemas built with the builders in `schemas.ts` carry requirement messages ("must be ...");
 * issues without one fall back to zod's own wording. `subject` prefixes top-level messages
 * (`Budget dailyLimitUsd must ...`).
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  subject?: string,
): string[] {
  return issues.map((issue) => {
    const path = formatPath(issue.path);
    const where = [subject, path].filter(Boolean).join(" ");
    const kind = (issue as { params?: { kind?: OwnIssueKind } }).params?.kind;
    if (kind === "unknown_key" || kind === "call_parameter") return `${where}: ${issue.message}`;
    const requirement = issue.message.startsWith("must ") ? issue.message : `is invalid: ${issue.message}`;
    const value = valueAt(input, issue.path);
    // A misspelt choice ("tire1") gets the closest allowed one.
    const choices = issue.code === "invalid_value" ? issue.values.filter((v) => typeof v === "string") : [];
    const close = typeof value === "string" ? didYouMean(value, choices as string[]) : undefined;
    const hint = close !== undefined ? ` (did you mean ${JSON.stringify(close)}?)` : "";
    return `${where || "The value"} ${requirement}, got ${formatValue(value)}${hint}.`;
  });
}

/**
 * Parses `input` with `schema`, or throws one {@link AutoPickerConfigError} listing every problem
 * (one per line after the first), each naming the option's path.
 */
export function parseOrThrow<T>(
  schema: z.ZodType<T>,
  input: unknown,
  options: { subject?: string; intro?: string } = {},
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const messages = formatIssues(result.error.issues, input, options.subject);
  const intro = options.intro ? `${options.intro} ` : "";
  throw new AutoPickerConfigError(
    messages.length === 1
      ? `${intro}${messages[0]}`
      : `${intro}${messages.length} problems:\n- ${messages.join("\n- ")}`,
  );
}

export type { OwnIssueKind };
