/**
 * `npm run demo`: a tool-calling agent (langchain's createAgent) over AutoPickerChatModel.
 *
 * Without API keys it runs against the built-in provider simulator, with the primary's limits
 * scaled down (5 requests per 2 s) so you can watch it wait, retry and fall back in a few seconds.
 * With OPENAI_API_KEY (and optionally GOOGLE_API_KEY) it runs the same agent on the real APIs.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import { createAgent } from "langchain";
import {
  AutoPickerChatModel,
  CostTrackingCallbackHandler,
  getDecisionTrail,
  type ModelEntry,
  rateLimitHeadersFetch,
  type WaitCause,
} from "langchain-autopicker";
import { ProviderSimulator } from "langchain-autopicker/testing";
import { z } from "zod";

const TASKS = 8;
const started = Date.now();
const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s]`;
const say = (line: string) => console.log(`${stamp()} ${line}`);

const weather = tool(async ({ city }) => `It is 21°C and sunny in ${city}.`, {
  name: "get_weather",
  description: "Current weather for a city",
  schema: z.object({ city: z.string().describe("City name") }),
});
const convert = tool(async ({ celsius }) => `${((celsius * 9) / 5 + 32).toFixed(1)}°F`, {
  name: "celsius_to_fahrenheit",
  description: "Convert a temperature",
  schema: z.object({ celsius: z.number() }),
});

async function buildModels(): Promise<{
  primary: ModelEntry;
  fallback: BaseChatModel;
  sim?: ProviderSimulator;
}> {
  if (process.env.OPENAI_API_KEY) {
    say("OPENAI_API_KEY found: running on the real APIs (tier1 limits from the catalog).");
    const primary: ModelEntry = {
      model: new ChatOpenAI({ model: "gpt-4o-mini", configuration: { fetch: rateLimitHeadersFetch() } }),
      tier: "tier1",
    };
    const fallback = process.env.GOOGLE_API_KEY
      ? new ChatGoogleGenerativeAI({ model: "gemini-2.5-flash-lite" })
      : new ChatOpenAI({ model: "gpt-4.1-nano", configuration: { fetch: rateLimitHeadersFetch() } });
    return { primary, fallback };
  }
  const sim = new ProviderSimulator({
    models: {
      "gpt-4o-mini": {
        provider: "openai",
        windows: [{ unit: "requests", limit: 5, intervalMs: 2000 }],
        latencyMs: 40,
      },
      "gemini-2.5-flash-lite": { provider: "gemini", latencyMs: 60 },
    },
  });
  await sim.start();
  // Provider hiccups the picker must absorb without bothering the agent: a 429 with a hint (waited
  // out), a 503 (retried with backoff), and an error nobody can classify, twice (the second falls back).
  sim.enqueueFault("gpt-4o-mini", { kind: "rate_limit", retryAfterMs: 1500 });
  sim.enqueueFault("gpt-4o-mini", { kind: "server_error", status: 503 });
  sim.enqueueFault("gpt-4o-mini", { kind: "unknown", status: 418 }, { times: 2 });
  say(
    `No API keys: using the provider simulator at ${sim.openaiBaseURL} (primary limited to 5 requests / 2 s).`,
  );
  return {
    sim,
    primary: {
      model: new ChatOpenAI({
        model: "gpt-4o-mini",
        apiKey: "sk-simulated",
        configuration: { baseURL: sim.openaiBaseURL, fetch: rateLimitHeadersFetch() },
      }),
      limits: { windows: [{ unit: "requests", limit: 5, intervalMs: 2000 }] },
    },
    fallback: new ChatGoogleGenerativeAI({
      model: "gemini-2.5-flash-lite",
      apiKey: "simulated",
      baseUrl: sim.geminiBaseUrl,
    }),
  };
}

async function main(): Promise<void> {
  const { primary, fallback, sim } = await buildModels();
  const llm = new AutoPickerChatModel({
    primary,
    fallbacks: [fallback],
    maxWaitSeconds: 5, // waits up to 5 s; a longer wait goes to the fallback
    backoffInitialSeconds: 0.5,
  });
  // Waits and fallbacks as they happen, from the picker's typed events.
  const why: Record<WaitCause, string> = {
    rate_limit: "rate limit",
    backoff: "backoff after an error",
    moved: "moved behind a higher class",
  };
  llm.onWait((e) => say(`waiting ${(e.waitMs / 1000).toFixed(1)}s for ${e.model} (${why[e.cause]})`));
  llm.onFallback((e) => say(`fallback ${e.from} -> ${e.to} (reason: ${e.reason})`));
  const agent = createAgent({ model: llm, tools: [weather, convert] });
  const cost = new CostTrackingCallbackHandler();
  let done = 0;

  say(`Starting ${TASKS} agent runs at once (each one calls a tool, then answers).`);
  const cities = [
    "Paris",
    "Lagos",
    "Lima",
    "Oslo",
    "Kyoto",
    "Quito",
    "Perth",
    "Cairo",
    "Dubai",
    "Hanoi",
    "Porto",
    "Turin",
  ];
  await Promise.all(
    cities.slice(0, TASKS).map(async (city, i) => {
      const result = await agent.invoke(
        { messages: [new HumanMessage(`What is the weather in ${city}?`)] },
        { callbacks: [cost], metadata: { userId: `user-${i % 3}` } },
      );
      done++;
      const trail = getDecisionTrail(result.messages.at(-1));
      say(`run ${String(i + 1).padStart(2)} done (${done}/${TASKS}), answered by ${trail?.model ?? "?"}`);
    }),
  );

  const s = llm.stats;
  const usage = cost.getUsageStats();
  console.log("\n=== Report ===");
  console.log(
    `requests ${s.totalRequests}: primary ${s.primaryRequests}, fallback ${s.fallbackRequests} ` +
      `(${((100 * s.fallbackRequests) / Math.max(1, s.totalRequests)).toFixed(0)}%), ` +
      `waits ${s.rateLimitWaits} totalling ${s.totalWaitSeconds.toFixed(1)}s, fallbacks ${JSON.stringify(s.fallbacksByReason)}`,
  );
  console.log("by model:");
  for (const [model, m] of Object.entries(s.byModel)) {
    const spent = usage.byModel[model]?.costUsd ?? 0;
    console.log(
      `  ${model.padEnd(28)} served ${String(m.served).padStart(3)}  attempts ${String(m.attempts).padStart(3)}  errors ${JSON.stringify(m.errors)}  cost $${spent.toFixed(6)}`,
    );
  }
  console.log(
    `total cost $${usage.total.costUsd.toFixed(6)} for ${usage.total.inputTokens} input / ${usage.total.outputTokens} output tokens`,
  );
  for (const status of await llm.getProviderStatus()) {
    console.log(
      `status ${status.name}: ${status.available ? "available" : "unavailable"}, circuit ${status.circuit.state}`,
    );
  }
  if (sim) {
    const seen = sim.stats("gpt-4o-mini");
    console.log(
      `provider side: primary saw ${seen.requests} requests, sent ${seen.rateLimited} rate-limit 429s (1 scripted; the limiter caused none)`,
    );
    await sim.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
