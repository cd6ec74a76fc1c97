/**
 * Langfuse tracing for an agent whose primary model falls back.
 *
 *   npx tsx examples/langfuse.ts
 *
 * Models: a local OpenAI + Gemini simulator (no LLM keys needed); the primary's quota is "gone", so
 * the agent is served by the fallback and a `rate_limit_fallback` event is recorded.
 * Langfuse: real Langfuse when LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are set (LANGFUSE_BASE_URL
 * optional); otherwise `startFakeLangfuseServer` from `langchain-autopicker/testing`, a local stand-in
 * that accepts the OTLP export and serves the public API, and the example prints what was exported.
 */
import { HumanMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import { LangfuseClient } from "@langfuse/client";
import { createAgent } from "langchain";
import { AutoPickerChatModel } from "langchain-autopicker";
import {
  AutoPickerLangfuseHandler,
  fallbackReport,
  setupLangfuseTracing,
} from "langchain-autopicker/langfuse";
import {
  type FakeLangfuseServer,
  ProviderSimulator,
  startFakeLangfuseServer,
} from "langchain-autopicker/testing";
import { z } from "zod";

const realLangfuse = Boolean(process.env.LANGFUSE_PUBLIC_KEY && process.env.LANGFUSE_SECRET_KEY);
const fake: FakeLangfuseServer | undefined = realLangfuse ? undefined : await startFakeLangfuseServer();
const langfuseOptions = fake
  ? { publicKey: "pk-lf-local", secretKey: "sk-lf-local", baseUrl: fake.baseUrl }
  : {};
console.log(
  realLangfuse ? "Exporting to Langfuse at" : "No LANGFUSE keys: exporting to a local fake at",
  fake?.baseUrl ?? process.env.LANGFUSE_BASE_URL ?? "https://cloud.langfuse.com",
);

// 1. Tracing first, so every span has somewhere to go.
const tracing = setupLangfuseTracing(langfuseOptions);

// 2. Models: the simulator stands in for OpenAI and Gemini.
const sim = new ProviderSimulator({
  models: { "gpt-4o-mini": { provider: "openai" }, "gemini-2.5-flash": { provider: "gemini" } },
});
await sim.start();
sim.enqueueFault("gpt-4o-mini", { kind: "insufficient_quota" });
const llm = new AutoPickerChatModel({
  primary: new ChatOpenAI({
    model: "gpt-4o-mini",
    apiKey: "sk-sim",
    configuration: { baseURL: sim.openaiBaseURL },
  }),
  fallbacks: [
    new ChatGoogleGenerativeAI({ model: "gemini-2.5-flash", apiKey: "sim", baseUrl: sim.geminiBaseUrl }),
  ],
});
const getWeather = tool(async ({ city }: { city: string }) => `Sunny in ${city}`, {
  name: "get_weather",
  description: "Weather for a city",
  schema: z.object({ city: z.string() }),
});

// 3. The run: one handler per request (or share one); it is a drop-in for @langfuse/langchain's.
const from = new Date(Date.now() - 60_000);
const agent = createAgent({ model: llm, tools: [getWeather] });
const langfuse = new AutoPickerLangfuseHandler({ sessionId: "example-session", tags: ["example"] });
const result = await agent.invoke(
  { messages: [new HumanMessage("Weather in Paris?")] },
  { callbacks: [langfuse] },
);
console.log("Agent answered:", String(result.messages.at(-1)?.content));

// 4. Flush before exit (serverless: after every request). Never throws.
await tracing.shutdown();
await sim.stop();

if (fake) {
  console.log("\nExported observations:");
  for (const o of fake.observations) {
    const cost = o.costDetails?.total !== undefined ? ` cost=$${o.costDetails.total.toFixed(8)}` : "";
    const model = o.model ? ` model=${o.model}` : "";
    const meta = o.type === "EVENT" ? ` ${JSON.stringify(o.metadata)}` : "";
    console.log(`  ${o.type.padEnd(10)} ${String(o.name).padEnd(24)}${model}${cost}${meta}`);
  }
  const client = new LangfuseClient(langfuseOptions);
  const report = await fallbackReport({ from, to: new Date(Date.now() + 60_000), client });
  console.log("\nfallbackReport:", JSON.stringify({ ...report, from: undefined, to: undefined }, null, 2));
  await fake.close();
} else {
  console.log(
    "Done. Open your Langfuse project: the trace has the generations with cost and the fallback event.",
  );
  console.log("Reports read the public API after ingestion (allow a minute): fallbackReport({ from, to }).");
}
