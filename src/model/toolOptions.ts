import type { BaseChatModel, BindToolsInput } from "@langchain/core/language_models/chat_models";

/** Call options that configure tools and travel with `bindTools(tools, kwargs)`. */
export const TOOL_OPTION_KEYS = [
  "tool_choice",
  "strict",
  "parallel_tool_calls",
  "allowedFunctionNames",
] as const;

// RunnableConfig keys: never copied from an inner binding back into call options.
const CONFIG_KEYS = new Set([
  "callbacks",
  "tags",
  "metadata",
  "runName",
  "runId",
  "configurable",
  "recursionLimit",
  "maxConcurrency",
  "signal",
  "timeout",
]);

type Options = Record<string, unknown>;

/**
 * Options for one inner model: the raw tools are converted by that model's own `bindTools`
 * (OpenAI function format, Gemini function declarations, ...), so each provider gets tools in the
 * shape it expects and `tool_choice` keeps its provider-specific meaning.
 */
export class ToolOptionsConverter {
  // Keyed by the tools array: createAgent rebinds every turn, often with the same array.
  private readonly cache = new WeakMap<readonly unknown[], Map<BaseChatModel, Options>>();

  forModel(model: BaseChatModel, options: Options): Options {
    const tools = options.tools;
    if (!Array.isArray(tools) || tools.length === 0 || typeof model.bindTools !== "function") return options;
    const kwargs: Options = {};
    for (const key of TOOL_OPTION_KEYS) if (options[key] !== undefined) kwargs[key] = options[key];
    let perModel = this.cache.get(tools);
    if (!perModel) {
      perModel = new Map();
      this.cache.set(tools, perModel);
    }
    const cacheKey = JSON.stringify(kwargs);
    let converted = perModel.get(model);
    if (!converted || converted.__kwargs !== cacheKey) {
      const binding = model.bindTools(tools as BindToolsInput[], kwargs) as unknown as {
        config?: Options;
        kwargs?: Options;
      };
      converted = { __kwargs: cacheKey };
      for (const source of [binding.kwargs, binding.config]) {
        for (const [k, v] of Object.entries(source ?? {})) if (!CONFIG_KEYS.has(k)) converted[k] = v;
      }
      perModel.set(model, converted);
    }
    const { __kwargs: _ignored, ...toolOptions } = converted;
    return { ...options, ...toolOptions };
  }
}
