import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import { rateLimitHeadersFetch } from "../../src/limits";
import { AutoPickerChatModel } from "../../src/model/AutoPickerChatModel";
import type { AutoPickerChatModelInput } from "../../src/model/types";
import type { SimResponder } from "../../src/testing/responder";
import { ProviderSimulator, type SimModelConfig } from "../../src/testing/simulator";
import { VirtualClock } from "../../src/testing/virtualClock";

export const OPENAI = "gpt-4o-mini";
export const GEMINI = "gemini-2.5-flash";
export const OPENAI_NAME = `openai/${OPENAI}`;
export const GEMINI_NAME = `gemini/${GEMINI}`;

/** A simulator with one OpenAI and one Gemini model, on a virtual clock, and the real clients pointed at it. */
export async function startWorld(
  models: Record<string, SimModelConfig> = {
    [OPENAI]: { provider: "openai" },
    [GEMINI]: { provider: "gemini" },
  },
  clockOptions: ConstructorParameters<typeof VirtualClock>[0] = {},
  responder?: SimResponder,
) {
  const clock = new VirtualClock(clockOptions);
  const sim = new ProviderSimulator({ clock, models, ...(responder ? { responder } : {}) });
  await sim.start();
  const openai = (model = OPENAI, extra: Record<string, unknown> = {}) =>
    new ChatOpenAI({
      model,
      apiKey: "sk-test",
      configuration: { baseURL: sim.openaiBaseURL, fetch: rateLimitHeadersFetch() },
      ...extra,
    });
  const gemini = (model = GEMINI, extra: Record<string, unknown> = {}) =>
    new ChatGoogleGenerativeAI({ model, apiKey: "test", baseUrl: sim.geminiBaseUrl, ...extra });
  const picker = (options: Partial<AutoPickerChatModelInput> = {}) =>
    new AutoPickerChatModel({
      primary: openai(),
      fallbacks: [gemini()],
      clock,
      jitter: "none",
      logger: { warn: () => undefined },
      ...options,
    });
  return { clock, sim, openai, gemini, picker, stop: () => sim.stop() };
}

/** Collects the custom events a run dispatches. */
export class EventLog extends BaseCallbackHandler {
  name = "event-log";
  readonly events: Array<{ name: string; data: Record<string, unknown> }> = [];
  override awaitHandlers = true;
  override async handleCustomEvent(name: string, data: unknown): Promise<void> {
    this.events.push({ name, data: data as Record<string, unknown> });
  }
  named(name: string) {
    return this.events.filter((e) => e.name === name).map((e) => e.data);
  }
}
