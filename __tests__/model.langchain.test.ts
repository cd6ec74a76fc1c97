import { InMemoryCache } from "@langchain/core/caches";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { type AIMessage, type AIMessageChunk, HumanMessage } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { createAgent } from "langchain";
import { z } from "zod";
import type { DecisionTrail } from "../src/model/types";
import { GEMINI, GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

type World = Awaited<ReturnType<typeof startWorld>>;
let w: World;
beforeEach(async () => {
  w = await startWorld();
});
afterEach(() => w.stop());

const calls: string[] = [];
const getWeather = tool(
  async ({ city }: { city: string }) => {
    calls.push(city);
    return `Sunny in ${city}`;
  },
  { name: "get_weather", description: "Weather for a city", schema: z.object({ city: z.string() }) },
);

/** Counts chat-model runs: delegation must produce exactly one per call. */
class RunCounter extends BaseCallbackHandler {
  name = "run-counter";
  override awaitHandlers = true;
  starts = 0;
  ends = 0;
  tokens = 0;
  override async handleChatModelStart() {
    this.starts++;
  }
  override async handleLLMEnd() {
    this.ends++;
  }
  override async handleLLMNewToken() {
    this.tokens++;
  }
}

const lastAi = (messages: unknown[]) => messages.at(-1) as AIMessage;

describe("works unchanged inside LangChain", () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it("createAgent (langchain 1.x) runs a tool loop to a final answer, rebinding tools every turn", async () => {
    const llm = w.picker();
    const agent = createAgent({ model: llm, tools: [getWeather] });
    const result = await agent.invoke({ messages: [new HumanMessage("Weather in Paris?")] });
    expect(calls).toEqual(["sim"]); // the simulator fills string args with "sim"
    const final = lastAi(result.messages);
    expect(final.tool_calls ?? []).toHaveLength(0);
    expect(String(final.content)).toMatch(/Simulated answer/);
    expect(w.sim.stats(OPENAI).served).toBe(2);
  });

  it("createAgent keeps working when the primary is rate limited mid-run (tools forwarded to the fallback)", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "insufficient_quota" });
    const agent = createAgent({ model: w.picker(), tools: [getWeather] });
    const result = await agent.invoke({ messages: [new HumanMessage("Weather in Paris?")] });
    expect(calls).toEqual(["sim"]);
    expect((lastAi(result.messages).response_metadata.autopicker as DecisionTrail).model).toBe(GEMINI_NAME);
    expect(w.sim.stats(GEMINI).served).toBe(2);
  });

  it("createReactAgent (langgraph) runs with tools to a final answer", async () => {
    const agent = createReactAgent({ llm: w.picker(), tools: [getWeather] });
    const result = await agent.invoke({ messages: [new HumanMessage("Weather in Rome?")] });
    expect(calls).toEqual(["sim"]);
    expect(String(lastAi(result.messages).content)).toMatch(/Simulated answer/);
  });

  it(".pipe() with a prompt and an output parser", async () => {
    const chain = ChatPromptTemplate.fromTemplate("Say hi to {name}")
      .pipe(w.picker())
      .pipe(new StringOutputParser());
    await expect(chain.invoke({ name: "Ada" })).resolves.toMatch(/Simulated answer from gpt-4o-mini/);
  });

  it(".batch() serves every input", async () => {
    const out = await w.picker().batch(["a", "b", "c"]);
    expect(out).toHaveLength(3);
    expect(w.sim.stats(OPENAI).served).toBe(3);
  });

  it(".stream() yields several chunks and reports each token through the one run", async () => {
    const counter = new RunCounter();
    const chunks = [];
    for await (const c of await w.picker().stream("tell me a long story", { callbacks: [counter] }))
      chunks.push(c);
    expect(chunks.length).toBeGreaterThan(2);
    expect(counter.starts).toBe(1);
    expect(counter.tokens).toBeGreaterThan(2);
  });

  it(".stream() concatenated reads like the served client's own stream: one model name", async () => {
    for (const [model, id] of [
      [w.openai(), "gpt-4o-mini"],
      [w.gemini(), "gemini-2.5-flash"],
    ] as const) {
      let message: AIMessageChunk | undefined;
      for await (const c of await w.picker({ primary: model, fallbacks: [] }).stream("hi"))
        message = message ? message.concat(c) : c;
      expect(message?.response_metadata.model_name).toBe(id);
    }
  });

  it("streamEvents sees on_chat_model_stream events and the custom fallback event", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "auth" });
    const names: string[] = [];
    for await (const e of w.picker().streamEvents("hello", { version: "v2" })) {
      names.push(e.event === "on_custom_event" ? `custom:${e.name}` : e.event);
    }
    expect(names).toContain("on_chat_model_stream");
    expect(names).toContain("custom:error_fallback");
  });

  it("withStructuredOutput works on invoke, served by OpenAI or by Gemini", async () => {
    const schema = z.object({ city: z.string(), temperature: z.number() });
    const viaOpenAI = await w.picker().withStructuredOutput(schema).invoke("Weather?");
    expect(viaOpenAI).toEqual({ city: "sim", temperature: 1 });
    w.sim.enqueueFault(OPENAI, { kind: "auth" });
    const viaGemini = await w.picker().withStructuredOutput(schema, { name: "weather" }).invoke("Weather?");
    expect(viaGemini).toEqual({ city: "sim", temperature: 1 });
    const raw = await w.picker().withStructuredOutput(schema, { includeRaw: true }).invoke("Weather?");
    expect(raw.parsed).toEqual({ city: "sim", temperature: 1 });
    expect(raw.raw).toBeDefined();
  });

  it("bindTools forwards tool_choice to whichever model serves", async () => {
    const other = tool(async () => "x", {
      name: "other",
      description: "Other",
      schema: z.object({ n: z.number() }),
    });
    const bound = w.picker().bindTools([getWeather, other], { tool_choice: "other" });
    const viaOpenAI = await bound.invoke("?");
    expect(viaOpenAI.tool_calls?.[0]?.name).toBe("other");
    w.sim.enqueueFault(OPENAI, { kind: "auth" });
    const viaGemini = await w.picker().bindTools([getWeather, other], { tool_choice: "other" }).invoke("?");
    expect(viaGemini.tool_calls?.[0]?.name).toBe("other");
    expect((viaGemini.response_metadata.autopicker as DecisionTrail).model).toBe(GEMINI_NAME);
  });

  it("delegates: one chat-model run per call, with the usage of the model that served", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "server_error" });
    const counter = new RunCounter();
    const res = await w.picker().invoke("hi", { callbacks: [counter] });
    expect(counter.starts).toBe(1);
    expect(counter.ends).toBe(1);
    expect(res.usage_metadata?.input_tokens).toBe(w.sim.stats(OPENAI).inputTokens);
  });

  it("LangChain's cache option still works: a repeated prompt never reaches a provider", async () => {
    const llm = w.picker({ cache: new InMemoryCache() });
    await llm.invoke("same question");
    await llm.invoke("same question");
    expect(w.sim.stats(OPENAI).requests + w.sim.stats(GEMINI).requests).toBe(1);
  });

  it("tags, metadata and runName reach callbacks; the response names the model that served", async () => {
    const seen: Array<{ tags?: string[]; metadata?: Record<string, unknown>; name?: string }> = [];
    const handler = BaseCallbackHandler.fromMethods({
      handleChatModelStart(_llm, _msgs, _runId, _parent, _extra, tags, metadata, name) {
        seen.push({ tags, metadata, name });
      },
    });
    const res = await w
      .picker()
      .invoke("hi", { callbacks: [handler], tags: ["t1"], metadata: { userId: "u1" }, runName: "picker" });
    expect(seen[0]).toMatchObject({ tags: ["t1"], name: "picker" });
    expect(seen[0]!.metadata).toMatchObject({ userId: "u1", ls_provider: "openai", ls_model_name: OPENAI });
    expect(res.response_metadata.model_name).toMatch(/^gpt-4o-mini/);
    expect((res.response_metadata.autopicker as DecisionTrail).model).toBe(OPENAI_NAME);
  });

  it("the timeout option aborts a hanging call", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "hang" });
    await expect(w.picker().invoke("hi", { timeout: 200 })).rejects.toThrow(/abort|timeout/i);
    expect(w.sim.stats(GEMINI).requests).toBe(0);
  });

  it("getNumTokens works offline", async () => {
    await expect(w.picker().getNumTokens("hello world")).resolves.toBe(2);
  });
});
