import {
  AIMessage,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from "@langchain/core/messages";
import { ContextWindowExceededError } from "../src/errors";
import type { DecisionTrail } from "../src/model/types";
import { defaultResponder, type SimMessage } from "../src/testing/responder";
import { EventLog, GEMINI, GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

const SMALL = 1000;
const models = {
  [OPENAI]: { provider: "openai" as const, contextWindow: SMALL },
  [GEMINI]: { provider: "gemini" as const },
};
const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i % 97}`).join(" ");

type World = Awaited<ReturnType<typeof startWorld>>;
let w: World;
let received: SimMessage[][] = [];
beforeEach(async () => {
  received = [];
  w = await startWorld(models, {}, (req) => {
    received.push(req.messages);
    return defaultResponder(req);
  });
});
afterEach(() => w.stop());

const small = () => ({ model: w.openai(), maxInputTokens: SMALL });

describe("context windows with the real clients", () => {
  it("a prompt too large for the primary goes to the larger fallback, with zero requests to the primary", async () => {
    const log = new EventLog();
    const prompt = words(1500);
    const res = await w.picker({ primary: small() }).invoke(prompt, { callbacks: [log] });
    expect((res.response_metadata.autopicker as DecisionTrail).model).toBe(GEMINI_NAME);
    expect(w.sim.stats(OPENAI).requests).toBe(0);
    const [event] = log.named("context_length_fallback");
    expect(event).toMatchObject({
      original_model: OPENAI_NAME,
      fallback_model: GEMINI_NAME,
      original_max_context: SMALL,
      fallback_max_context: 1_048_576,
    });
    // The estimate is what the simulator counts for the same prompt on OpenAI (exact o200k).
    const onOpenAI = await w
      .picker({ primary: { model: w.openai(), maxInputTokens: 100_000 } })
      .invoke(prompt);
    expect(event!.estimated_tokens).toBe(onOpenAI.usage_metadata!.input_tokens);
  });

  it("counts context fallbacks in stats", async () => {
    const llm = w.picker({ primary: small() });
    await llm.invoke(words(1500));
    expect(llm.stats).toMatchObject({ contextFallbacks: 1, fallbackRequests: 1, primaryRequests: 0 });
  });

  it('"error" strategy throws ContextWindowExceededError before any request', async () => {
    const err = await w
      .picker({ primary: small(), contextStrategy: "error" })
      .invoke(words(1500))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContextWindowExceededError);
    expect((err as ContextWindowExceededError).windows).toEqual({ [OPENAI_NAME]: SMALL });
    expect(w.sim.stats(OPENAI).requests + w.sim.stats(GEMINI).requests).toBe(0);
  });

  it("input larger than every window: ContextWindowExceededError, no request sent", async () => {
    const llm = w.picker({ primary: small(), fallbacks: [{ model: w.gemini(), maxInputTokens: SMALL }] });
    await expect(llm.invoke(words(1500))).rejects.toBeInstanceOf(ContextWindowExceededError);
    expect(w.sim.stats(OPENAI).requests + w.sim.stats(GEMINI).requests).toBe(0);
  });

  it('"truncate" keeps the system message, the first question and recent turns, never splitting a tool call from its result', async () => {
    const history: BaseMessage[] = [
      new SystemMessage("You are terse."),
      new HumanMessage(`First question. ${words(100)}`),
    ];
    for (let i = 0; i < 12; i++) {
      history.push(
        new AIMessage({ content: "", tool_calls: [{ id: `c${i}`, name: "lookup", args: { q: words(20) } }] }),
        new ToolMessage({ tool_call_id: `c${i}`, content: words(60) }),
        new AIMessage(words(20)),
        new HumanMessage(`Follow-up ${i}`),
      );
    }
    const res = await w.picker({ primary: small(), contextStrategy: "truncate" }).invoke(history);
    expect((res.response_metadata.autopicker as DecisionTrail).model).toBe(OPENAI_NAME);
    const sent = received[0]!;
    expect(sent[0]!.role).toBe("system");
    expect(sent[1]!.text).toMatch(/^First question/);
    expect(sent.at(-1)!.text).toBe("Follow-up 11");
    expect(sent.length).toBeLessThan(history.length);
    sent.forEach((m, i) => {
      if (m.role === "tool") expect(["assistant", "tool"]).toContain(sent[i - 1]!.role);
      if (m.role === "assistant" && /lookup\(/.test(m.text)) expect(sent[i + 1]!.role).toBe("tool");
    });
    expect(res.usage_metadata!.input_tokens).toBeLessThanOrEqual(SMALL);
  });

  it("a provider context error after a wrong estimate falls forward to the larger model", async () => {
    // The primary claims a larger window than the provider really has.
    const llm = w.picker({ primary: { model: w.openai(), maxInputTokens: 100_000 } });
    const log = new EventLog();
    const res = await llm.invoke(words(1500), { callbacks: [log] });
    expect(res.response_metadata.autopicker as DecisionTrail).toMatchObject({
      model: GEMINI_NAME,
      fallback_reason: "context_length",
    });
    expect(w.sim.stats(OPENAI).requests).toBe(1);
    expect(log.named("context_length_fallback")[0]).toMatchObject({
      original_model: OPENAI_NAME,
      original_max_context: 100_000,
    });
  });

  it("a model with no known context window is a configuration error at construction", () => {
    expect(() => w.picker({ primary: w.openai("my-private-finetune") })).toThrow(/maxInputTokens/);
  });
});
