/**
 * One name per model across the package: `provider/model-id` ("openai/gpt-4o-mini",
 * "gemini/gemini-2.5-flash"). The picker derives entry names this way, and the cost handler keys
 * calls of plain chains the same way, so one model is one key whichever path served it.
 */

// LangSmith `ls_provider` values (and class-derived names) to the prefix used in names.
const PROVIDER_ALIASES: Readonly<Record<string, string>> = {
  openai: "openai",
  azure_openai: "azure",
  azure: "azure",
  google_genai: "gemini",
  googlegenerativeai: "gemini",
  google: "gemini",
  google_vertexai: "vertex",
  vertexai: "vertex",
  anthropic: "anthropic",
  groq: "groq",
};

/** The name prefix for a LangSmith provider id or a class-derived provider ("google_genai" -> "gemini"). */
export function providerPrefix(provider: string): string {
  const p = provider.toLowerCase();
  return PROVIDER_ALIASES[p] ?? p;
}

const KNOWN_PREFIXES = new Set(Object.values(PROVIDER_ALIASES));

/**
 * "openai" + "gpt-4o-mini" -> "openai/gpt-4o-mini". Gemini's "models/" prefix is dropped; a name
 * that already has the prefix stays; a provider this table does not know (a custom model class)
 * leaves the id bare rather than inventing a prefix.
 */
export function qualifiedModelName(provider: string | undefined, modelId: string): string {
  const id = modelId.replace(/^models\//, "");
  const prefix = provider ? providerPrefix(provider) : undefined;
  if (!prefix || !KNOWN_PREFIXES.has(prefix)) return id;
  return id.startsWith(`${prefix}/`) ? id : `${prefix}/${id}`;
}
