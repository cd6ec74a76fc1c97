/**
 * The fault matrix: every untidy answer a provider sends, through the real ChatOpenAI and
 * ChatGoogleGenerativeAI clients against the simulator, invoke and stream, each provider as the
 * primary with the other as the fallback. Each row asserts who served, the attempts on each model
 * (their outcomes), the error class where one is thrown, and that no unhandled rejection escaped.
 */
import { type AIMessageChunk, HumanMessage } from "@langchain/core/messages";
import { AllModelsFailedError, ContentFilteredError, StreamInterruptedError } from "../src/errors";
import { contentFilterReason } from "../src/model/answerCheck";
import { getDecisionTrail } from "../src/model/trail";
import type { DecisionTrail } from "../src/model/types";
import type { SimFault } from "../src/testing/faults";
import { GEMINI, GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

type Provider = "openai" | "gemini";
type Mode = "invoke" | "stream";

/** What a row expects: who answered and the primary's attempt outcomes, or the error thrown. */
type Expect =
  | { served: "primary" | "fallback"; primaryOutcomes: string[]; usageEstimated?: boolean }
  | { throws: new (...args: never[]) => Error; primaryOutcomes?: string[] };

interface Row {
  what: string;
  fault: SimFault;
  /** How many requests in a row get the fault. */
  times?: number;
  expect: (p: Provider, m: Mode) => Expect;
}

const MALFORMED_TWICE: Expect = {
  served: "fallback",
  primaryOutcomes: ["malformed_response", "malformed_response"],
};

const rows: Row[] = [
  ...(["no_choices", "empty_object", "null_message"] as const).map(
    (shape): Row => ({
      what: `HTTP 200 without a usable answer (${shape})`,
      fault: { kind: "empty_answer", shape },
      times: 2,
      expect: () => MALFORMED_TWICE,
    }),
  ),
  {
    what: "HTTP 200 with a proxy's HTML page",
    fault: { kind: "html_page" },
    times: 2,
    expect: () => MALFORMED_TWICE,
  },
  {
    what: "a valid answer without usage",
    fault: { kind: "no_usage" },
    expect: () => ({ served: "primary", primaryOutcomes: ["ok"], usageEstimated: true }),
  },
  {
    what: "a stream cut after some chunks",
    fault: { kind: "stream_cut", afterChunks: 2 },
    // Streaming: the caller has part of the answer, so it surfaces, typed. Invoke: a transient
    // error, retried on the same model.
    expect: (_p, m) =>
      m === "stream"
        ? { throws: StreamInterruptedError }
        : { served: "primary", primaryOutcomes: ["transient", "ok"] },
  },
  {
    what: "a stream cut before the first chunk",
    fault: { kind: "stream_cut", afterChunks: 0 },
    // OpenAI's role chunk comes first (no content yet); Gemini sends nothing: both retry.
    expect: () => ({ served: "primary", primaryOutcomes: ["transient", "ok"] }),
  },
  {
    what: "content filtered, no content",
    fault: { kind: "content_filter" },
    times: 2,
    // On Gemini streams too: LangChain skips the content-less SAFETY event; the picker's guard
    // gives it an empty content so the finish reason arrives (see src/model/geminiGuard.ts).
    expect: () => ({ served: "fallback", primaryOutcomes: ["content_filter"] }),
  },
  {
    what: "content filtered after part of the answer",
    fault: { kind: "content_filter", partial: true },
    expect: (_p, m) =>
      m === "invoke"
        ? { served: "fallback", primaryOutcomes: ["content_filter"] }
        : { throws: ContentFilteredError },
  },
  {
    what: "a prompt blocked by the provider",
    fault: { kind: "prompt_blocked" },
    times: 2,
    expect: () => ({ served: "fallback", primaryOutcomes: ["content_filter"] }),
  },
];

const simModel = { openai: OPENAI, gemini: GEMINI } as const;
const entryName = { openai: OPENAI_NAME, gemini: GEMINI_NAME } as const;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => process.on("unhandledRejection", onUnhandled));
afterAll(async () => {
  // Give a late rejection from an abandoned SDK promise the time to surface.
  await new Promise((r) => setTimeout(r, 50));
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
});

let w: Awaited<ReturnType<typeof startWorld>>;
beforeEach(async () => {
  w = await startWorld();
});
afterEach(() => w.stop());

function picker(primary: Provider) {
  const models = { openai: w.openai(), gemini: w.gemini() };
  const fallback: Provider = primary === "openai" ? "gemini" : "openai";
  return w.picker({ primary: models[primary], fallbacks: [models[fallback]], maxRetries: 1 });
}

async function call(primary: Provider, mode: Mode): Promise<{ trail?: DecisionTrail; error?: unknown }> {
  const llm = picker(primary);
  try {
    if (mode === "invoke") return { trail: getDecisionTrail(await llm.invoke("tell me about the fault")) };
    let message: AIMessageChunk | undefined;
    for await (const chunk of await llm.stream("tell me about the fault"))
      message = message ? message.concat(chunk) : chunk;
    return { trail: getDecisionTrail(message) };
  } catch (error) {
    return { error };
  }
}

describe("the fault matrix", () => {
  for (const row of rows) {
    for (const primary of ["openai", "gemini"] as const) {
      for (const mode of ["invoke", "stream"] as const) {
        const expected = row.expect(primary, mode);
        const fallback: Provider = primary === "openai" ? "gemini" : "openai";
        const label =
          "throws" in expected
            ? `throws ${expected.throws.name}`
            : `${expected.served} serves (primary: ${expected.primaryOutcomes.join(", ")})`;
        it(`${row.what} | ${primary} primary, ${mode}: ${label}`, async () => {
          w.sim.enqueueFault(simModel[primary], row.fault, { times: row.times ?? 1 });
          const { trail, error } = await call(primary, mode);
          if ("throws" in expected) {
            expect(error).toBeInstanceOf(expected.throws);
            expect(w.sim.stats(simModel[fallback]).requests).toBe(0);
            return;
          }
          if (error) throw error;
          const servedBy = expected.served === "primary" ? primary : fallback;
          expect(trail?.model).toBe(entryName[servedBy]);
          const outcomes = trail!.attempts
            .filter((a) => a.model === entryName[primary])
            .map((a) => a.outcome);
          expect(outcomes).toEqual(expected.primaryOutcomes);
          expect(w.sim.stats(simModel[primary]).requests).toBe(expected.primaryOutcomes.length);
          if (expected.served === "fallback") {
            expect(trail!.fallback_reason).toBe(
              expected.primaryOutcomes[0] === "content_filter" ? "content_filter" : "malformed_response",
            );
          }
          expect(trail!.usage_estimated ?? false).toBe(expected.usageEstimated ?? false);
        });
      }
    }
  }

  const withheld: [string, SimFault][] = [
    ["content filtered, no content", { kind: "content_filter" }],
    ["content filtered after part of the answer", { kind: "content_filter", partial: true }],
    ["a prompt blocked by the provider", { kind: "prompt_blocked" }],
  ];
  for (const [what, fault] of withheld) {
    for (const primary of ["openai", "gemini"] as const) {
      for (const mode of ["invoke", "stream"] as const) {
        it(`onContentFilter "return": ${what} | ${primary} primary, ${mode}: returned as it is, the reason in its metadata`, async () => {
          w.sim.enqueueFault(simModel[primary], fault);
          const models = { openai: w.openai(), gemini: w.gemini() };
          const llm = w.picker({
            primary: models[primary],
            fallbacks: [models[primary === "openai" ? "gemini" : "openai"]],
            maxRetries: 1,
            onContentFilter: "return",
          });
          let message: AIMessageChunk | undefined;
          if (mode === "invoke") message = await llm.invoke("tell me about the fault");
          else
            for await (const chunk of await llm.stream("tell me about the fault"))
              message = message ? message.concat(chunk) : chunk;
          const trail = getDecisionTrail(message);
          expect(trail?.model).toBe(entryName[primary]);
          expect(trail?.attempts.map((a) => a.outcome)).toEqual(["ok"]);
          expect(contentFilterReason(message)).toBeDefined();
          const partial = "partial" in fault && fault.partial === true;
          expect(String(message!.content)).toMatch(partial ? /^Simulated answer/ : /^$/);
          expect(w.sim.stats(simModel[primary === "openai" ? "gemini" : "openai"]).requests).toBe(0);
        });
      }
    }
  }

  for (const mode of ["invoke", "stream"] as const) {
    it(`a client-side refusal (ChatOpenAI and a URL file block) | ${mode}: no retry, nothing sent, the next model answers`, async () => {
      const message = new HumanMessage({
        content: [
          { type: "text", text: "read this" },
          {
            type: "file",
            source_type: "url",
            url: "https://example.com/a.pdf",
            mime_type: "application/pdf",
          },
        ] as never,
      });
      // ChatOpenAI warns about a file block's missing filename before it refuses the block.
      const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
      const llm = picker("openai");
      let trail: DecisionTrail | undefined;
      if (mode === "invoke") trail = getDecisionTrail(await llm.invoke([message]));
      else {
        let m: AIMessageChunk | undefined;
        for await (const c of await llm.stream([message])) m = m ? m.concat(c) : c;
        trail = getDecisionTrail(m);
      }
      expect(trail?.model).toBe(GEMINI_NAME);
      expect(trail?.attempts.map((a) => `${a.model}:${a.outcome}`)).toEqual([
        `${OPENAI_NAME}:client_rejected`,
        `${GEMINI_NAME}:ok`,
      ]);
      expect(trail?.fallback_reason).toBe("client_rejected");
      expect(w.sim.stats(OPENAI).requests).toBe(0);
      expect(warn.mock.calls.every((c) => /filename/.test(String(c[0])))).toBe(true);
      warn.mockRestore();
    });
  }

  it("every model answering badly: AllModelsFailedError lists each attempt", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "empty_answer" }, { times: 2 });
    w.sim.enqueueFault(GEMINI, { kind: "empty_answer" }, { times: 2 });
    const { error } = await call("openai", "invoke");
    expect(error).toBeInstanceOf(AllModelsFailedError);
    expect((error as AllModelsFailedError).attempts.map((a) => a.outcome)).toEqual([
      "malformed_response",
      "malformed_response",
      "malformed_response",
      "malformed_response",
    ]);
  });

  it("a stream cut keeps what was streamed on the error", async () => {
    w.sim.enqueueFault(OPENAI, { kind: "stream_cut", afterChunks: 3 });
    const llm = picker("openai");
    let text = "";
    const error = await (async () => {
      for await (const chunk of await llm.stream("tell me")) text += chunk.content;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect(text.length).toBeGreaterThan(0);
    expect((error as StreamInterruptedError).partialText).toBe(text);
  });
});
