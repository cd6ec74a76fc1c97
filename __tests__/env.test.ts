import { createAutoPickerFromEnv } from "../src/env/createFromEnv";
import { AutoPickerConfigError } from "../src/errors";
import type { DecisionTrail } from "../src/model/types";
import { ProviderSimulator } from "../src/testing/simulator";
import { VirtualClock } from "../src/testing/virtualClock";

let sim: ProviderSimulator;
const clock = new VirtualClock();
beforeAll(async () => {
  sim = new ProviderSimulator({
    clock,
    models: {
      "gpt-4o-mini": { provider: "openai" },
      "gpt-4o": { provider: "openai" },
      "gemini-2.5-flash-lite": { provider: "gemini" },
    },
  });
  await sim.start();
});
afterAll(() => sim.stop());

const quiet = { warn: () => undefined, debug: () => undefined };

describe("createAutoPickerFromEnv", () => {
  it("LLM_PROVIDER picks the primary, keyed providers become fallbacks, placeholders are skipped", async () => {
    const logs: string[] = [];
    const llm = await createAutoPickerFromEnv({
      clock,
      logger: { warn: (m) => logs.push(m), debug: (m) => logs.push(m) },
      env: {
        LLM_PROVIDER: "gemini",
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: sim.openaiBaseURL,
        GEMINI_API_KEY: "test",
        GEMINI_BASE_URL: sim.geminiBaseUrl,
        GROQ_API_KEY: "your_actual_groq_api_key",
        TOGETHER_API_KEY: "tk-real-looking",
        TOGETHER_BASE_URL: sim.openaiBaseURL,
        TOGETHER_MODEL: "gpt-4o",
      },
    });
    expect(llm.selection.providers).toEqual([
      { provider: "gemini", model: "gemini-2.5-flash-lite" },
      { provider: "openai", model: "gpt-4o-mini" },
      { provider: "together", model: "gpt-4o" },
    ]);
    expect(llm.selection.skipped.map((s) => s.provider)).toEqual(["groq", "fireworks"]);
    expect(logs.some((m) => /skipping groq: GROQ_API_KEY looks like a placeholder/.test(m))).toBe(true);
    expect(logs.join("\n")).not.toContain("your_actual_groq_api_key");
    const res = await llm.invoke("hi");
    expect((res.response_metadata.autopicker as DecisionTrail).model).toBe("gemini/gemini-2.5-flash-lite");
    // Inner clients never retry on their own.
    for (const e of llm.models)
      expect((e.model as unknown as { caller: { maxRetries: number } }).caller.maxRetries).toBe(0);
  });

  it("falls over to a fallback provider through its OpenAI-compatible endpoint", async () => {
    sim.enqueueFault("gpt-4o-mini", { kind: "insufficient_quota" });
    const llm = await createAutoPickerFromEnv({
      clock,
      logger: quiet,
      env: {
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: sim.openaiBaseURL,
        TOGETHER_API_KEY: "tk",
        TOGETHER_BASE_URL: sim.openaiBaseURL,
        TOGETHER_MODEL: "gpt-4o",
      },
    });
    const res = await llm.invoke("hi");
    expect((res.response_metadata.autopicker as DecisionTrail).model).toBe("together/gpt-4o");
  });

  it("no key at all is a clear error naming the variables", async () => {
    const err = await createAutoPickerFromEnv({ env: { OPENAI_API_KEY: "sk-..." }, logger: quiet }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(AutoPickerConfigError);
    expect(String(err.message)).toMatch(/OPENAI_API_KEY, GOOGLE_API_KEY, GEMINI_API_KEY, GROQ_API_KEY/);
  });

  it("bad configuration says what to set", async () => {
    await expect(
      createAutoPickerFromEnv({ env: { LLM_PROVIDER: "mistral", OPENAI_API_KEY: "sk-test" }, logger: quiet }),
    ).rejects.toThrow(/LLM_PROVIDER="mistral" is not one of/);
    await expect(
      createAutoPickerFromEnv({
        env: { GROQ_API_KEY: "gsk_realkey", GROQ_MODEL: "my-private-model" },
        logger: quiet,
      }),
    ).rejects.toThrow(/Set GROQ_MAX_INPUT_TOKENS/);
  });

  it("LLM_TIER applies catalog limits", async () => {
    const llm = await createAutoPickerFromEnv({
      clock,
      logger: quiet,
      env: { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: sim.openaiBaseURL, LLM_TIER: "tier1" },
    });
    const status = await llm.rateLimiter.status("openai/gpt-4o-mini");
    expect(status.dimensions.map((d) => d.name)).toContain("requests/min");
  });
});
