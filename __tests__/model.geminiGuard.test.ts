/**
 * The Gemini stream guard against an exact event sequence (a local server speaking Gemini's SSE):
 * a content-less closing event is surfaced as an empty chunk without counting usage twice, and the
 * events with content pass through untouched.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AIMessageChunk } from "@langchain/core/messages";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";
import { surfaceWithheld } from "../src/model/geminiGuard";

const MODEL = "gemini-2.5-flash";
let events: unknown[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const e of events) res.write(`data: ${JSON.stringify(e)}\r\n\r\n`);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const text = (t: string) => ({ content: { role: "model", parts: [{ text: t }] }, index: 0 });

async function streamed(): Promise<AIMessageChunk> {
  const llm = new AutoPickerChatModel({
    primary: new ChatGoogleGenerativeAI({ model: MODEL, apiKey: "test", maxRetries: 0, baseUrl }),
    logger: { warn: () => undefined },
  });
  let message: AIMessageChunk | undefined;
  for await (const c of await llm.stream("hi")) message = message ? message.concat(c) : c;
  return message!;
}

describe("the Gemini stream guard", () => {
  it("surfaces a closing event without content or usage as an empty chunk, counting usage once", async () => {
    events = [
      {
        candidates: [text("Hello ")],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 2, totalTokenCount: 12 },
      },
      {
        candidates: [text("there")],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
      },
      { candidates: [{ finishReason: "STOP", index: 0 }] },
    ];
    const message = await streamed();
    expect(message.content).toBe("Hello there");
    expect(message.usage_metadata).toMatchObject({ input_tokens: 10, output_tokens: 5, total_tokens: 15 });
    expect(message.response_metadata.finishReason).toBe("STOP");
  });

  it("leaves events with content, and events it need not change, as they are", () => {
    const withContent = { candidates: [{ ...text("x"), finishReason: "STOP" }] };
    expect(surfaceWithheld(withContent)).toBe(withContent);
    const nothing = { candidates: [] };
    expect(surfaceWithheld(nothing)).toBe(nothing);
    expect(surfaceWithheld({ candidates: [{ finishReason: "SAFETY" }] })).toEqual({
      candidates: [{ finishReason: "SAFETY", content: { role: "model", parts: [] } }],
    });
    expect(surfaceWithheld({ promptFeedback: { blockReason: "SAFETY" } })).toEqual({
      promptFeedback: { blockReason: "SAFETY" },
      candidates: [{ content: { role: "model", parts: [] }, promptFeedback: { blockReason: "SAFETY" } }],
    });
  });
});
