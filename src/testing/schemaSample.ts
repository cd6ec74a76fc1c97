/** A JSON Schema (or Gemini's OpenAPI-flavoured `Schema`), as received over the wire. */
export type JsonSchema = { [key: string]: unknown };

const MAX_DEPTH = 12;

/**
 * A deterministic value that fits `schema`: strings "sim", numbers 1 (moved into
 * minimum/maximum), booleans true, enums their first value, objects with their required
 * properties only, arrays with `max(1, minItems)` items. Understands `$ref` into `$defs` /
 * `definitions`, `anyOf`/`oneOf` (first non-null branch), `allOf` (merged), nullable type lists,
 * common string formats, and Gemini's upper-case type names.
 */
export function sampleFromSchema(schema: unknown): unknown {
  const root = isObject(schema) ? schema : {};
  return sample(root, root, 0);
}

function sample(schema: JsonSchema, root: JsonSchema, depth: number): unknown {
  if (depth > MAX_DEPTH) return null;
  const ref = schema.$ref;
  if (typeof ref === "string") return sample(resolveRef(ref, root), root, depth + 1);
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const branch = firstBranch(schema.anyOf) ?? firstBranch(schema.oneOf);
  if (branch) return sample(branch, root, depth + 1);
  if (Array.isArray(schema.allOf)) {
    const merged: JsonSchema = {};
    for (const part of schema.allOf) if (isObject(part)) Object.assign(merged, part);
    return sample(merged, root, depth + 1);
  }
  switch (typeOf(schema)) {
    case "string":
      return sampleString(schema);
    case "integer":
      return clampNumber(schema, true);
    case "number":
      return clampNumber(schema, false);
    case "boolean":
      return true;
    case "null":
      return null;
    case "array": {
      const items = isObject(schema.items) ? schema.items : {};
      const count = Math.max(1, typeof schema.minItems === "number" ? schema.minItems : 0);
      return Array.from({ length: count }, () => sample(items, root, depth + 1));
    }
    default: {
      const properties = isObject(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required) ? schema.required : [];
      const out: Record<string, unknown> = {};
      for (const key of required) {
        if (typeof key !== "string") continue;
        const prop = properties[key];
        out[key] = sample(isObject(prop) ? prop : {}, root, depth + 1);
      }
      return out;
    }
  }
}

function typeOf(schema: JsonSchema): string {
  const type = schema.type;
  if (typeof type === "string") return type.toLowerCase();
  if (Array.isArray(type)) {
    const first = type.find((t) => typeof t === "string" && t.toLowerCase() !== "null");
    if (typeof first === "string") return first.toLowerCase();
    return "null";
  }
  if (isObject(schema.properties)) return "object";
  if (schema.items !== undefined) return "array";
  return "object";
}

function sampleString(schema: JsonSchema): string {
  switch (schema.format) {
    case "date-time":
      return "2026-01-01T00:00:00Z";
    case "date":
      return "2026-01-01";
    case "time":
      return "00:00:00";
    case "email":
      return "sim@example.com";
    case "uri":
    case "url":
      return "https://example.com/sim";
    case "uuid":
      return "00000000-0000-4000-8000-000000000000";
  }
  const minLength = typeof schema.minLength === "number" ? schema.minLength : 0;
  return "sim".padEnd(Math.max(3, minLength), "m");
}

function clampNumber(schema: JsonSchema, integer: boolean): number {
  let value = 1;
  const min = numeric(schema.minimum);
  const max = numeric(schema.maximum);
  const exMin = numeric(schema.exclusiveMinimum);
  const exMax = numeric(schema.exclusiveMaximum);
  if (min !== undefined && value < min) value = min;
  if (exMin !== undefined && value <= exMin) value = integer ? Math.floor(exMin) + 1 : exMin + 1;
  if (max !== undefined && value > max) value = max;
  if (exMax !== undefined && value >= exMax) value = integer ? Math.ceil(exMax) - 1 : exMax - 1;
  return integer ? Math.round(value) : value;
}

function numeric(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

function firstBranch(branches: unknown): JsonSchema | undefined {
  if (!Array.isArray(branches)) return undefined;
  const objects = branches.filter(isObject);
  return objects.find((b) => typeOf(b) !== "null") ?? objects[0];
}

function resolveRef(ref: string, root: JsonSchema): JsonSchema {
  if (ref === "#") return root;
  const path = ref.replace(/^#\//, "").split("/");
  let node: unknown = root;
  for (const segment of path) {
    if (!isObject(node)) return {};
    node = node[segment.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return isObject(node) ? node : {};
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
