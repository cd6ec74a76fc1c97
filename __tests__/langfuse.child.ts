/**
 * Runs one AutoPicker call with real Langfuse tracing in a plain Node process (via tsx), for
 * `langfuse.e2e.test.ts`. The OTLP HTTP exporter loads `http` with a dynamic `import()`, which Jest's
 * CommonJS sandbox cannot run, so the network path is exercised here, outside Jest.
 *
 * Env: SIM_OPENAI, SIM_GEMINI (simulator URLs), LANGFUSE_BASE_URL, LANGFUSE_TIMEOUT_S.
 * Prints one JSON line: { ok, model, callMs, shutdownMs, warnings, unhandled }.
 */
import { HumanMessage } from "@langchain/core/messages";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import { AutoPickerLangfuseHandler } from "../src/langfuse/handler";
import { setupLangfuseTracing } from "../src/langfuse/setup";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";

const unhandled: string[] = [];
process.on("unhandledRejection", (e) => unhandled.push(String(e)));
process.on("uncaughtException", (e) => unhandled.push(String(e)));

const warnings: string[] = [];
const tracing = setupLangfuseTracing({
  publicKey: "pk-lf-test",
  secretKey: "sk-lf-test",
  timeout: Number(process.env.LANGFUSE_TIMEOUT_S ?? 2),
  flushTimeoutMs: Number(process.env.FLUSH_TIMEOUT_MS ?? 3000),
  logger: { warn: (m) => warnings.push(m) },
});
const llm = new AutoPickerChatModel({
  primary: new ChatOpenAI({
    model: "gpt-4o-mini",
    apiKey: "sk-test",
    configuration: { baseURL: process.env.SIM_OPENAI },
  }),
  fallbacks: [
    new ChatGoogleGenerativeAI({
      model: "gemini-2.5-flash",
      apiKey: "test",
      baseUrl: process.env.SIM_GEMINI,
    }),
  ],
  logger: { warn: () => undefined },
});
const handler = new AutoPickerLangfuseHandler({ logger: { warn: (m) => warnings.push(m) } });
const t0 = performance.now();
let ok = false;
let model: unknown;
const callMs: number[] = [];
for (const text of ["hello", "again"]) {
  const t = performance.now();
  const res = await llm.invoke([new HumanMessage(text)], { callbacks: [handler] });
  callMs.push(Math.round(performance.now() - t));
  model = res.response_metadata.model_name;
  ok = true;
}
const t1 = performance.now();
await tracing.shutdown();
const shutdownMs = Math.round(performance.now() - t1);
console.log(
  JSON.stringify({ ok, model, callMs, totalMs: Math.round(t1 - t0), shutdownMs, warnings, unhandled }),
);
