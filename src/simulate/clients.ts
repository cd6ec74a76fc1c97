import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AutoPickerConfigError } from "../errors";
import { rateLimitHeadersFetch } from "../limits";
import type { ProviderSimulator } from "../testing/simulator";
import type { ResolvedModel } from "./config";

/**
 * The real LangChain client for `model`, pointed at the simulator. The provider packages are
 * loaded on demand, so a simulation of OpenAI models only needs `@langchain/openai` installed.
 */
export async function clientFor(
  model: ResolvedModel,
  sim: ProviderSimulator,
  maxTokens: number,
): Promise<BaseChatModel> {
  if (model.provider === "openai") {
    const { ChatOpenAI } = await load<typeof import("@langchain/openai")>("@langchain/openai");
    return new ChatOpenAI({
      model: model.model,
      apiKey: "sk-simulated",
      maxTokens,
      configuration: { baseURL: sim.openaiBaseURL, fetch: rateLimitHeadersFetch() },
    });
  }
  const { ChatGoogleGenerativeAI } =
    await load<typeof import("@langchain/google-genai")>("@langchain/google-genai");
  return new ChatGoogleGenerativeAI({
    model: model.model,
    apiKey: "simulated",
    maxOutputTokens: maxTokens,
    baseUrl: sim.geminiBaseUrl,
  });
}

async function load<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    throw new AutoPickerConfigError(
      `The simulation needs the "${name}" package for this model: npm install ${name} (${String(error)})`,
    );
  }
}
