import { defaultArrivalMargin } from "../src/limits";
import type { DecisionTrail } from "../src/model/types";
import { GEMINI, OPENAI, OPENAI_NAME, startWorld } from "./support/picker";

const trail = (m: { response_metadata: Record<string, unknown> }) =>
  m.response_metadata.autopicker as DecisionTrail;

describe("the limiter in front of the real ChatOpenAI (virtual time)", () => {
  it("a burst of 3x the RPM limit: zero 429s, every call served by the primary, minimum makespan", async () => {
    const w = await startWorld({
      [OPENAI]: { provider: "openai", requestsPerMinute: 20 },
      [GEMINI]: { provider: "gemini" },
    });
    try {
      const llm = w.picker({ primary: { model: w.openai(), limits: { requestsPerMinute: 20 } } });
      const t0 = w.clock.now();
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => llm.invoke(`q${i}`)));
      expect(w.sim.stats(OPENAI).rateLimited).toBe(0);
      expect(results.every((r) => trail(r).model === OPENAI_NAME)).toBe(true);
      expect(w.sim.stats(GEMINI).requests).toBe(0);
      // (ceil(60/20) - 1) windows of 60 s, each widened by the arrival margin: 1% over the minimum.
      expect(w.clock.now() - t0).toBe(2 * (60_000 + defaultArrivalMargin(60_000)));
      // Never more than 20 arrivals in any 60 s span.
      const arrivals = w.sim.stats(OPENAI).arrivals;
      for (const a of arrivals)
        expect(arrivals.filter((b) => b >= a && b < a + 60_000).length).toBeLessThanOrEqual(20);
      expect(llm.stats).toMatchObject({ primaryRequests: 60, rateLimitWaits: 40 });
    } finally {
      await w.stop();
    }
  });

  it("Gemini TPM counts input only: the picker books the prompt, not the output allowance", async () => {
    const w = await startWorld({
      [OPENAI]: { provider: "openai" },
      [GEMINI]: { provider: "gemini", tokensPerMinute: 2_000 },
    });
    try {
      const gemini = {
        model: w.gemini(GEMINI, { maxOutputTokens: 1_000 }),
        limits: { tokensPerMinute: 2_000 },
      };
      const llm = w.picker({ primary: gemini, fallbacks: [] });
      const prompt = "word ".repeat(300); // ~300 tokens; with the 1,000-token allowance two calls would not fit
      await Promise.all(Array.from({ length: 5 }, () => llm.invoke(prompt)));
      // Five ~300-token prompts fit one minute of 2,000 input tokens: nobody waited, no 429.
      expect(llm.stats.rateLimitWaits).toBe(0);
      expect(w.sim.stats(GEMINI).rateLimited).toBe(0);
      const used = (await llm.rateLimiter.status(`gemini/${GEMINI}`)).dimensions.find(
        (d) => d.unit === "tokens",
      )!.used;
      expect(used).toBeLessThan(5 * 400);
    } finally {
      await w.stop();
    }
  });

  it("TPM: token-heavy calls are spaced by tokens, not requests", async () => {
    const w = await startWorld({
      [OPENAI]: { provider: "openai", tokensPerMinute: 2000 },
      [GEMINI]: { provider: "gemini" },
    });
    try {
      const llm = w.picker({
        primary: { model: w.openai(OPENAI, { maxTokens: 100 }), limits: { tokensPerMinute: 2000 } },
      });
      const prompt = Array.from({ length: 400 }, (_, i) => `w${i}`).join(" ");
      await Promise.all(Array.from({ length: 6 }, () => llm.invoke(prompt)));
      expect(w.sim.stats(OPENAI).rateLimited).toBe(0);
      expect(w.sim.stats(GEMINI).requests).toBe(0);
    } finally {
      await w.stop();
    }
  });

  it("a call whose tokens exceed the TPM bucket is refused at once and falls back", async () => {
    const w = await startWorld();
    try {
      const llm = w.picker({ primary: { model: w.openai(), limits: { tokensPerMinute: 50 } } });
      const res = await llm.invoke(Array.from({ length: 200 }, (_, i) => `w${i}`).join(" "));
      expect(trail(res).attempts[0]!.outcome).toMatch(/never_fits/);
      expect(w.sim.stats(OPENAI).requests).toBe(0);
    } finally {
      await w.stop();
    }
  });

  it("limits unknown to the library: header learning keeps 429s to the first few calls", async () => {
    const w = await startWorld({
      [OPENAI]: { provider: "openai", requestsPerMinute: 10 },
      [GEMINI]: { provider: "gemini" },
    });
    try {
      const llm = w.picker({ maxRetries: 5 });
      // Sequential first call teaches the limit, then a burst.
      await llm.invoke("warm-up");
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => llm.invoke(`q${i}`)));
      expect(results.every((r) => trail(r).model === OPENAI_NAME)).toBe(true);
      expect(w.sim.stats(OPENAI).rateLimited).toBeLessThanOrEqual(3);
    } finally {
      await w.stop();
    }
  });

  it("daily limit: a wait of hours is a fallback, not a sleep", async () => {
    const w = await startWorld();
    try {
      const llm = w.picker({ primary: { model: w.openai(), limits: { requestsPerDay: 2 } } });
      await llm.invoke("1");
      await llm.invoke("2");
      const t0 = w.clock.now();
      const third = await llm.invoke("3");
      expect(trail(third).fallback_reason).toBe("rate_limit");
      expect(w.clock.now()).toBe(t0);
    } finally {
      await w.stop();
    }
  });
});
