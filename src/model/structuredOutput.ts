import type {
  BaseLanguageModelInput,
  StructuredOutputMethodOptions,
} from "@langchain/core/language_models/base";
import type { BindToolsInput } from "@langchain/core/language_models/chat_models";
import type { AIMessageChunk, BaseMessage } from "@langchain/core/messages";
import { JsonOutputKeyToolsParser } from "@langchain/core/output_parsers/openai_tools";
import { type Runnable, RunnableMap, RunnablePassthrough } from "@langchain/core/runnables";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import { getSchemaDescription, type InteropZodType, isInteropZodSchema } from "@langchain/core/utils/types";
import { AutoPickerConfigError } from "../errors";

type BindTools = (
  tools: BindToolsInput[],
  kwargs: Record<string, unknown>,
) => Runnable<BaseLanguageModelInput, AIMessageChunk>;

/**
 * Structured output through a forced tool call, portable across providers: the schema becomes one
 * tool, `tool_choice` forces it, and the tool call's arguments are parsed (with the zod schema when
 * one is given). The base implementation only accepts streamed chunks and does not force the tool.
 */
export function structuredOutput<RunOutput extends Record<string, unknown>>(
  bindTools: BindTools,
  outputSchema: InteropZodType<RunOutput> | Record<string, unknown>,
  config: StructuredOutputMethodOptions<boolean> | undefined,
):
  | Runnable<BaseLanguageModelInput, RunOutput>
  | Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }> {
  if (config?.method === "jsonMode") {
    throw new AutoPickerConfigError(
      'withStructuredOutput method "jsonMode" is not portable across providers; use "functionCalling" (default).',
    );
  }
  const isZod = isInteropZodSchema(outputSchema);
  const schema = outputSchema as Record<string, unknown>;
  const name =
    config?.name ??
    (!isZod && typeof schema.title === "string" ? schema.title : undefined) ??
    (!isZod && typeof schema.name === "string" ? schema.name : "extract");
  const parameters = isZod
    ? toJsonSchema(outputSchema)
    : ((schema.parameters as object | undefined) ?? schema);
  const description =
    (isZod ? getSchemaDescription(outputSchema) : (schema.description as string | undefined)) ??
    "Return the answer in this structure.";
  const llm = bindTools([{ type: "function", function: { name, description, parameters } }], {
    tool_choice: name,
    ...(config?.strict !== undefined ? { strict: config.strict } : {}),
    ls_structured_output_format: { kwargs: { method: "functionCalling" }, schema: parameters },
  });
  const parser = new JsonOutputKeyToolsParser<RunOutput>({
    keyName: name,
    returnSingle: true,
    ...(isZod ? { zodSchema: outputSchema as InteropZodType<RunOutput> } : {}),
  });
  if (!config?.includeRaw) return llm.pipe(parser).withConfig({ runName: "StructuredOutput" });
  const parseRaw = RunnablePassthrough.assign({
    parsed: (input: { raw: BaseMessage }, cfg) => parser.invoke(input.raw, cfg),
  }) as Runnable<{ raw: BaseMessage }, { raw: BaseMessage; parsed: RunOutput | null }>;
  const keepRaw = RunnablePassthrough.assign({ parsed: () => null }) as Runnable<
    { raw: BaseMessage },
    { raw: BaseMessage; parsed: RunOutput | null }
  >;
  const withParsed = parseRaw.withFallbacks({ fallbacks: [keepRaw] });
  const pickRaw = RunnableMap.from<BaseLanguageModelInput, { raw: BaseMessage }>({ raw: llm });
  return pickRaw.pipe(withParsed).withConfig({ runName: "StructuredOutputRunnable" }) as Runnable<
    BaseLanguageModelInput,
    { raw: BaseMessage; parsed: RunOutput }
  >;
}
