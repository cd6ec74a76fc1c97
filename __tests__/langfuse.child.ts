/**
 * Runs two AutoPicker calls with real Langfuse tracing in a plain Node process (via tsx), for
 * `langfuse.e2e.int.test.ts`. The OTLP HTTP exporter loads `http` with a dynamic `import()`, which
 * Jest's CommonJS sandbox cannot run, so the network path is exercised here, outside Jest.
 *
 * Env: SIM_OPENAI, SIM_GEMINI (simulator URLs), LANGFUSE_BASE_URL, LANGFUSE_TIMEOUT_S, FLUSH_TIMEOUT_MS.
 * Spans are exported only by `shutdown()` (an hour's flush interval), so what Langfuse receives and
 * what is warned about does not depend on how fast the calls were.
 * Prints one JSON line: { ok, model, warnings, unhandled, versions }.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HumanMessage } from "@langchain/core/messages";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import { AutoPickerLangfuseHandler } from "../src/langfuse/handler";
import { setupLangfuseTracing } from "../src/langfuse/setup";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";

const unhandled: string[] = [];
process.on("unhandledRejection", (e) => unhandled.push(String(e)));
process.on("uncaughtException", (e) => unhandled.push(String(e)));

/** The version of `pkg` this process resolves (through the oldest-version resolve hook, if loaded). */
function resolvedVersion(pkg: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(pkg)));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version: string };
      if (manifest.name === pkg) return manifest.version;
    }
    dir = dirname(dir);
  }
}

const warnings: string[] = [];
const tracing = setupLangfuseTracing({
  publicKey: "pk-lf-test",
  secretKey: "sk-lf-test",
  timeout: Number(process.env.LANGFUSE_TIMEOUT_S ?? 2),
  flushInterval: 3600,
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
let ok = false;
let model: unknown;
for (const text of ["hello", "again"]) {
  const res = await llm.invoke([new HumanMessage(text)], { callbacks: [handler] });
  model = res.response_metadata.model_name;
  ok = true;
}
await tracing.shutdown();
const versions = Object.fromEntries(
  ["@langfuse/langchain", "@langfuse/tracing", "@langfuse/otel", "@opentelemetry/sdk-trace-node"].map((p) => [
    p,
    resolvedVersion(p),
  ]),
);
console.log(JSON.stringify({ ok, model, warnings, unhandled, versions }));
