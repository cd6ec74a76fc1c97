/**
 * SendEvidence over real HTTP: Node's fetch (undici) reports when each request was written to the
 * socket and what came back, for the real ChatOpenAI and ChatGoogleGenerativeAI clients with and
 * without the fetch wrapper, and each call sees only its own requests (concurrent calls,
 * keep-alive reuse, requests a call left behind).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import { RateLimiter, type RateLimitStore, rateLimitHeadersFetch, SendEvidence } from "../src/limits";
import { MemoryRateLimitStore } from "../src/limits/memoryStore";
import { ProviderSimulator } from "../src/testing/simulator";
import { VirtualClock } from "../src/testing/virtualClock";

const OPENAI = "gpt-4o-mini";
const GEMINI = "gemini-2.5-flash";

let sim: ProviderSimulator;
let server: Server;
let base: string;

/** Answers `/tag/<status>` with that status, the slower the earlier the tag (contexts cross in time). */
function handle(req: IncomingMessage, res: ServerResponse): void {
  const status = Number((req.url ?? "").split("/")[2] ?? "200");
  req.resume();
  req.on("end", () =>
    setTimeout(
      () => {
        res.writeHead(status, {
          "content-type": "text/plain",
          "x-ratelimit-remaining-requests": String(status),
        });
        res.end(String(status));
      },
      status === 201 ? 30 : 2,
    ),
  );
}

beforeAll(async () => {
  sim = new ProviderSimulator({
    models: {
      [OPENAI]: { provider: "openai", requestsPerMinute: 100 },
      [GEMINI]: { provider: "gemini" },
    },
  });
  await sim.start();
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await sim.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function limiterFor(model: string, store: RateLimitStore = new MemoryRateLimitStore()) {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ clock, store });
  limiter.configure(model, { requestsPerMinute: 100 });
  return { clock, limiter };
}

async function granted(limiter: RateLimiter, model: string) {
  const d = await limiter.acquire(model, { tokens: 0 }, { maxWaitMs: 1e9 });
  if (d.kind !== "granted") throw new Error(d.kind);
  return d.ticket;
}

describe("SendEvidence from Node's fetch", () => {
  it("plain ChatOpenAI, no fetch wrapper: the socket send, status and rate-limit headers reach the call", async () => {
    const { clock, limiter } = limiterFor(OPENAI);
    const model = new ChatOpenAI({
      model: OPENAI,
      apiKey: "sk-test",
      maxRetries: 0,
      configuration: { baseURL: sim.openaiBaseURL },
    });
    const evidence = new SendEvidence();
    const reply = await limiter.send(await granted(limiter, OPENAI), () => model.invoke("hi"), evidence);
    expect(reply.content).not.toBe("");
    expect(evidence).toMatchObject({
      requests: 1,
      sent: true,
      sentBy: "socket",
      sentAt: clock.now(),
      responded: true,
      status: 200,
      origin: new URL(sim.openaiBaseURL).origin,
      processingMs: 1,
    });
    expect(evidence.headers?.["x-ratelimit-limit-requests"]).toBe("100");
    // Learned without the wrapper: the provider's remaining count became a local fact.
    expect((await limiter.status(OPENAI)).dimensions[0]).toMatchObject({ name: "requests/min", used: 1 });
  });

  it("ChatOpenAI through rateLimitHeadersFetch: still the socket, and the wrapper's sink still works", async () => {
    const { limiter } = limiterFor(OPENAI);
    const model = new ChatOpenAI({
      model: OPENAI,
      apiKey: "sk-test",
      maxRetries: 0,
      configuration: { baseURL: sim.openaiBaseURL, fetch: rateLimitHeadersFetch() },
    });
    const evidence = new SendEvidence();
    await limiter.send(await granted(limiter, OPENAI), () => model.invoke("hi"), evidence);
    expect(evidence).toMatchObject({ requests: 1, sentBy: "socket", status: 200 });
  });

  it("a fetch that is not undici: the wrapper reports its own call and resolution", async () => {
    const { limiter } = limiterFor(OPENAI);
    let calls = 0;
    const fake: typeof fetch = async () => {
      calls++;
      return new Response("{}", { status: 503, headers: { "retry-after": "3" } });
    };
    const evidence = new SendEvidence();
    const res = await limiter.send(
      await granted(limiter, OPENAI),
      () => rateLimitHeadersFetch(fake)(`${base}/x/200`),
      evidence,
    );
    expect(res.status).toBe(503);
    expect(calls).toBe(1);
    expect(evidence).toMatchObject({
      requests: 1,
      sentBy: "fetch",
      status: 503,
      headers: { "retry-after": "3" },
    });
  });

  it("ChatGoogleGenerativeAI (no fetch hook at all): seen through the channels", async () => {
    const { limiter } = limiterFor(GEMINI);
    const model = new ChatGoogleGenerativeAI({ model: GEMINI, apiKey: "test", baseUrl: sim.geminiBaseUrl });
    const evidence = new SendEvidence();
    await limiter.send(await granted(limiter, GEMINI), () => model.invoke("hi"), evidence);
    expect(evidence).toMatchObject({ requests: 1, sentBy: "socket", status: 200 });
  });

  it("a 429 is seen with its hint; a call refused before any request shows none", async () => {
    const { limiter } = limiterFor(OPENAI);
    sim.enqueueFault(OPENAI, { kind: "rate_limit", retryAfterMs: 2500 });
    const model = new ChatOpenAI({
      model: OPENAI,
      apiKey: "sk-test",
      maxRetries: 0,
      configuration: { baseURL: sim.openaiBaseURL },
    });
    const limited = new SendEvidence();
    await expect(
      limiter.send(await granted(limiter, OPENAI), () => model.invoke("hi"), limited),
    ).rejects.toThrow();
    expect(limited).toMatchObject({ requests: 1, sent: true, status: 429 });
    expect(limited.headers?.["retry-after-ms"]).toBe("2500");

    const refused = new SendEvidence();
    const boom = new Error("refused client-side");
    await expect(
      limiter.send(
        await granted(limiter, OPENAI),
        async () => {
          throw boom;
        },
        refused,
      ),
    ).rejects.toBe(boom);
    expect(refused).toMatchObject({ requests: 0, sent: false, responded: false });
  });
});

describe("the simulator's per-reply latency (used by the benchmarks)", () => {
  it("is asked per reply, with the request and the reply's status", async () => {
    const seen: Array<[string, number]> = [];
    const local = new ProviderSimulator({
      models: {
        [OPENAI]: {
          provider: "openai",
          requestsPerMinute: 1,
          latencyMs: (request, status) => {
            seen.push([request.messages.at(-1)?.text ?? "", status]);
            return 0;
          },
        },
      },
    });
    await local.start();
    try {
      const model = new ChatOpenAI({
        model: OPENAI,
        apiKey: "sk-test",
        maxRetries: 0,
        configuration: { baseURL: local.openaiBaseURL },
      });
      await model.invoke("first");
      await expect(model.invoke("second")).rejects.toThrow();
      expect(seen).toEqual([
        ["first", 200],
        ["second", 429],
      ]);
    } finally {
      await local.stop();
    }
  });
});

describe("SendEvidence: each call sees only its own requests", () => {
  const store = new MemoryRateLimitStore();
  const { limiter } = limiterFor("m", store);

  async function call(status: number, via: "wrapper" | "plain") {
    const evidence = new SendEvidence();
    const f = via === "wrapper" ? rateLimitHeadersFetch() : globalThis.fetch;
    const body = await limiter.send(
      await granted(limiter, "m"),
      async () => (await f(`${base}/tag/${status}`, { method: "POST", body: "{}" })).text(),
      evidence,
    );
    return { body, evidence };
  }

  it.each(["wrapper", "plain"] as const)("concurrent calls and keep-alive reuse (%s fetch)", async (via) => {
    // Answered in reverse order, then a sequential call on a reused keep-alive socket.
    const [a, b] = await Promise.all([call(201, via), call(202, via)]);
    const c = await call(203, via);
    for (const [r, status] of [
      [a, 201],
      [b, 202],
      [c, 203],
    ] as const) {
      expect(r.body).toBe(String(status));
      expect(r.evidence).toMatchObject({ requests: 1, status, sentBy: "socket" });
      expect(r.evidence.headers?.["x-ratelimit-remaining-requests"]).toBe(String(status));
    }
  });

  it("a request a call left behind (a timer in its context) is not the call's", async () => {
    const evidence = new SendEvidence();
    let late: Promise<unknown> | undefined;
    await limiter.send(
      await granted(limiter, "m"),
      async () => {
        await (await fetch(`${base}/tag/200`)).text();
        late = new Promise((resolve) => setTimeout(resolve, 5)).then(() =>
          fetch(`${base}/tag/204`).then((r) => r.text()),
        );
      },
      evidence,
    );
    await late;
    expect(evidence).toMatchObject({ requests: 1, status: 200 });
  });

  it("a store that fails to stamp never fails the call", async () => {
    const broken = new MemoryRateLimitStore();
    broken.stamp = async () => {
      throw new Error("store down");
    };
    const clock = new VirtualClock();
    const l = new RateLimiter({ clock, store: broken });
    l.configure("m", { requestsPerMinute: 10 });
    const d = await l.acquire("m", { tokens: 0 }, { maxWaitMs: 0 });
    if (d.kind !== "granted") throw new Error(d.kind);
    await expect(l.send(d.ticket, async () => (await fetch(`${base}/tag/200`)).text())).resolves.toBe("200");
  });
});
