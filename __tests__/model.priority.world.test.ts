/**
 * Priority lanes and tenant shares through the real ChatOpenAI and ChatGoogleGenerativeAI clients,
 * over HTTP against the provider simulator (virtual time): the simulator enforces the limit, so a
 * queue that jumped wrongly would show up as a 429.
 */
import { defaultArrivalMargin } from "../src/limits";
import { getDecisionTrail } from "../src/model/trail";
import { GEMINI, GEMINI_NAME, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

const RPM = 10;
const WINDOW = 60_000 + defaultArrivalMargin(60_000);

describe.each([
  ["ChatOpenAI", "openai"],
  ["ChatGoogleGenerativeAI", "gemini"],
] as const)("priority lanes through the real %s", (_label, provider) => {
  const served = provider === "openai" ? OPENAI_NAME : GEMINI_NAME;
  const start = () =>
    startWorld({
      [OPENAI]: { provider: "openai", ...(provider === "openai" ? { requestsPerMinute: RPM } : {}) },
      [GEMINI]: { provider: "gemini", ...(provider === "gemini" ? { requestsPerMinute: RPM } : {}) },
    });

  it("interactive calls (invoke and stream) behind 4 windows of batch calls go in the next window; zero 429s", async () => {
    const w = await start();
    try {
      const model = provider === "openai" ? w.openai() : w.gemini();
      const other = provider === "openai" ? w.gemini() : w.openai();
      const llm = w.picker({
        primary: { model, limits: { requestsPerMinute: RPM } },
        fallbacks: [other],
        priorities: { batch: { maxWaitSeconds: 3600 } },
      });
      const t0 = w.clock.now();
      const done = (p: Promise<unknown>) => p.then(() => w.clock.now() - t0);
      const batch = Array.from({ length: 4 * RPM }, (_, i) =>
        done(llm.invoke(`batch ${i}`, { autopicker: { priority: "batch", tenant: "nightly" } })),
      );
      await new Promise((r) => setImmediate(r));
      const chat = done(llm.invoke("chat", { autopicker: { priority: "interactive", tenant: "acme" } }));
      const streamed = done(
        (async () => {
          const stream = await llm.stream("chat, streamed", { autopicker: { priority: "interactive" } });
          let text = "";
          for await (const chunk of stream) text += String(chunk.content);
          expect(text.length).toBeGreaterThan(0);
        })(),
      );
      const [chatAt, streamedAt, ...batchAt] = await Promise.all([chat, streamed, ...batch]);
      // The first window went at once; the interactive calls took the first slots of the second.
      expect(chatAt).toBeLessThan(WINDOW + 5_000);
      expect(streamedAt).toBeLessThan(WINDOW + 5_000);
      // The two slots they took pushed two batch calls into a fifth window: nothing was lost.
      expect(batchAt.filter((t) => t >= 4 * WINDOW - 1).length).toBe(2);
      const stats = w.sim.stats(provider === "openai" ? OPENAI : GEMINI);
      expect(stats.rateLimited).toBe(0);
      expect(stats.requests).toBe(4 * RPM + 2);
      expect(llm.stats.fallbackRequests).toBe(0);
      expect(llm.stats.waitsByPriority.interactive.rateLimitWaits).toBe(2);
    } finally {
      await w.stop();
    }
  });

  it("two tenants with weights 3:1 share a saturated model 3:1; each tenant's calls stay in order", async () => {
    const w = await start();
    try {
      const model = provider === "openai" ? w.openai() : w.gemini();
      const llm = w.picker({
        primary: { model, limits: { requestsPerMinute: RPM } },
        fallbacks: [],
        maxWaitSeconds: 3600,
        tenants: { acme: { weight: 3 }, free: { weight: 1 } },
      });
      const t0 = w.clock.now();
      const calls = ["acme", "free"].flatMap((tenant) =>
        Array.from({ length: 3 * RPM }, (_, i) =>
          llm.invoke(`${tenant} ${i}`, { autopicker: { tenant } }).then((m) => ({
            tenant,
            i,
            at: w.clock.now() - t0,
            model: getDecisionTrail(m)?.model,
          })),
        ),
      );
      const results = await Promise.all(calls);
      expect(results.every((r) => r.model === served)).toBe(true);
      // The first four windows hold 40 calls: 30 for acme, 10 for free.
      const early = results.filter((r) => r.at < 4 * WINDOW - 1);
      expect(early.length).toBe(4 * RPM);
      expect(early.filter((r) => r.tenant === "acme").length).toBe(3 * RPM);
      for (const tenant of ["acme", "free"]) {
        const mine = results.filter((r) => r.tenant === tenant);
        for (let k = 1; k < mine.length; k++) expect(mine[k]!.at).toBeGreaterThanOrEqual(mine[k - 1]!.at);
      }
      expect(w.sim.stats(provider === "openai" ? OPENAI : GEMINI).rateLimited).toBe(0);
    } finally {
      await w.stop();
    }
  });
});
