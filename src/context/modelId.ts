/**
 * Reduces an entry name or provider model id to the bare, lower-case model id that catalogs and
 * tokenizer families are keyed by: `"openai/gpt-4o-mini"` → `"gpt-4o-mini"`,
 * `"models/gemini-2.5-flash"` → `"gemini-2.5-flash"`, `"ft:gpt-4o-mini-2024-07-18:org::abc"` →
 * `"gpt-4o-mini-2024-07-18"`, `"meta-llama/Llama-3.3-70B-Instruct-Turbo"` → `"llama-3.3-70b-instruct-turbo"`.
 *
 * Everything up to the last `/` is a provider or organisation prefix (`openai/`, `gemini/`,
 * `google/`, `groq/`, `openrouter/anthropic/`...): no catalog entry depends on it.
 */
export function bareModelId(name: string): string {
  let id = name.trim().toLowerCase();
  const slash = id.lastIndexOf("/");
  if (slash >= 0) id = id.slice(slash + 1);
  // OpenAI fine-tunes: "ft:<base>:<org>:<suffix>:<id>"; the base model decides window and tokenizer.
  if (id.startsWith("ft:")) id = id.slice(3).split(":")[0] ?? id;
  return id;
}
