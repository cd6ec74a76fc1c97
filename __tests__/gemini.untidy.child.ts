/**
 * Runs ChatGoogleGenerativeAI against the simulator's untidy answers in a plain Node process (via
 * tsx), for `simulator.gemini.test.ts`: Jest reports an unhandled rejection as a failure of
 * whatever test is running and wraps errors thrown across its sandbox's realm, so the facts "which
 * error class reaches the caller" and "which rejection leaks" are observed here, as users see them.
 * Prints one JSON line: { [case]: { error?: { ctor, message }, chunks, unhandled: string[] } }.
 */
import { GenerativeModel } from "@google/generative-ai";
import { HumanMessage } from "@langchain/core/messages";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ProviderSimulator, type SimFault } from "../src/testing";

const unhandled: string[] = [];
process.on("unhandledRejection", (e) => unhandled.push(String((e as Error)?.message ?? e)));

const MODEL = "gemini-2.5-flash";
const sim = new ProviderSimulator({ models: { [MODEL]: { provider: "gemini" } } });
await sim.start();
const client = () =>
  new ChatGoogleGenerativeAI({ model: MODEL, apiKey: "test", maxRetries: 0, baseUrl: sim.geminiBaseUrl });

async function observe(fault: SimFault, mode: "invoke" | "stream") {
  sim.enqueueFault(MODEL, fault);
  const before = unhandled.length;
  let chunks = 0;
  let error: { ctor: string; message: string } | undefined;
  try {
    if (mode === "invoke") await client().invoke([new HumanMessage("Hi")]);
    else for await (const _ of await client().stream([new HumanMessage("Hi")])) chunks++;
  } catch (e) {
    error = { ctor: (e as Error).constructor.name, message: (e as Error).message };
  }
  // Unhandled rejections are reported once the microtask queue drains.
  await new Promise((r) => setTimeout(r, 20));
  return { ...(error ? { error } : {}), chunks, unhandled: unhandled.slice(before) };
}

const report: Record<string, unknown> = {
  "html_page invoke": await observe({ kind: "html_page" }, "invoke"),
  "html_page stream": await observe({ kind: "html_page" }, "stream"),
  "stream_cut invoke": await observe({ kind: "stream_cut" }, "invoke"),
  "stream_cut 0 stream": await observe({ kind: "stream_cut", afterChunks: 0 }, "stream"),
  "stream_cut 2 stream": await observe({ kind: "stream_cut", afterChunks: 2 }, "stream"),
};
// The leak comes from the SDK's aggregate `response` promise, which LangChain never reads: marking
// it handled is the only lever, and it works.
const original = GenerativeModel.prototype.generateContentStream;
GenerativeModel.prototype.generateContentStream = async function (...args) {
  const result = await original.apply(this, args);
  result.response.catch(() => undefined);
  return result;
};
report["stream_cut 2 stream, response handled"] = await observe(
  { kind: "stream_cut", afterChunks: 2 },
  "stream",
);
GenerativeModel.prototype.generateContentStream = original;
await sim.stop();
console.log(JSON.stringify(report));
