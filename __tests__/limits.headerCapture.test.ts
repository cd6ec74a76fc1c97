import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ChatOpenAI } from "@langchain/openai";
import { parseRateLimitHeaders, rateLimitHeadersFetch, withHeaderSink } from "../src/limits";

let server: Server;
let base: string;
/** Resolves the streaming endpoint's second chunk; set per streaming request. */
let releaseStream: (() => void) | undefined;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://x");
  if (url.pathname === "/stream") {
    res.writeHead(200, { "content-type": "text/plain", "x-ratelimit-remaining-requests": "41" });
    res.write("first;");
    // The body stays open until the test has seen the headers and the first chunk.
    releaseStream = () => res.end("second");
    return;
  }
  if (url.pathname === "/v1/chat/completions") {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, {
        "content-type": "application/json",
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-remaining-requests": "499",
        "x-ratelimit-reset-requests": "120ms",
      });
      res.end(
        JSON.stringify({
          id: "chatcmpl-1",
          object: "chat.completion",
          created: 0,
          model: "gpt-4o-mini",
          choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        }),
      );
    });
    return;
  }
  const tag = url.searchParams.get("tag") ?? "none";
  // Answer the two concurrent requests in reverse order, so contexts cross in time.
  setTimeout(
    () => {
      res.writeHead(200, { "x-tag": tag, "content-type": "text/plain" });
      res.end(`body-${tag}`);
    },
    tag === "a" ? 30 : 5,
  );
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("rateLimitHeadersFetch + withHeaderSink (real fetch, local server)", () => {
  const fetchWithHeaders = rateLimitHeadersFetch();

  it("reports each response's headers to the sink of its own context, body untouched", async () => {
    const seen: Record<string, string[]> = { a: [], b: [] };
    const call = (tag: "a" | "b") =>
      withHeaderSink(
        (h) => seen[tag]!.push(h.get("x-tag") ?? "?"),
        async () => (await fetchWithHeaders(`${base}/plain?tag=${tag}`)).text(),
      );
    const [a, b] = await Promise.all([call("a"), call("b")]);
    expect([a, b]).toEqual(["body-a", "body-b"]);
    expect(seen).toEqual({ a: ["a"], b: ["b"] });
  });

  it("is a plain fetch outside any sink context, and a throwing sink never fails the call", async () => {
    expect(await (await fetchWithHeaders(`${base}/plain?tag=x`)).text()).toBe("body-x");
    const text = await withHeaderSink(
      () => {
        throw new Error("sink bug");
      },
      async () => (await fetchWithHeaders(`${base}/plain?tag=y`)).text(),
    );
    expect(text).toBe("body-y");
  });

  it("does not consume or delay a streamed body: headers arrive while the body is still open", async () => {
    let remaining: number | undefined;
    await withHeaderSink(
      (h) => {
        remaining = parseRateLimitHeaders(h).remainingRequests;
      },
      async () => {
        const res = await fetchWithHeaders(`${base}/stream`);
        expect(remaining).toBe(41);
        const reader = res.body!.getReader();
        const decoder = new TextDecoder();
        const first = await reader.read();
        expect(decoder.decode(first.value)).toBe("first;");
        releaseStream!();
        let rest = "";
        for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value);
        expect(rest).toBe("second");
      },
    );
  });

  it("reaches the sink through ChatOpenAI's own client (context survives the SDK)", async () => {
    const model = new ChatOpenAI({
      model: "gpt-4o-mini",
      apiKey: "test-key",
      maxRetries: 0,
      configuration: { baseURL: `${base}/v1`, fetch: rateLimitHeadersFetch() },
    });
    const states: ReturnType<typeof parseRateLimitHeaders>[] = [];
    const reply = await withHeaderSink(
      (h) => states.push(parseRateLimitHeaders(h)),
      () => model.invoke("hello"),
    );
    expect(reply.content).toBe("hi");
    expect(states).toEqual([{ limitRequests: 500, remainingRequests: 499, resetRequestsMs: 120 }]);
  });
});
