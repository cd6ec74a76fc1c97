/**
 * Once a provider has answered, nothing after it may lose that answer: a failure injected at each
 * bookkeeping step (estimator, rate limiter, budget store, listeners, callback handlers) still
 * returns the answer, logs one warning, and leaves no budget reservation held. Usage the provider
 * did not report settles from the estimate and says so.
 */
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import type { UsageMetadata } from "@langchain/core/messages";
import { TokenEstimator } from "../src/context";
import { type BudgetCounter, BudgetManager, MemoryBudgetStore } from "../src/cost";
import { MemoryRateLimitStore, RateLimiter, type StoreCommitRequest } from "../src/limits";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";
import { getDecisionTrail } from "../src/model/trail";
import { ScriptedChatModel, usage } from "./cost.helpers";
import { OPENAI_NAME, startWorld } from "./support/picker";

let w: Awaited<ReturnType<typeof startWorld>>;
beforeEach(async () => {
  w = await startWorld();
});
afterEach(() => w.stop());

const LIMIT_USD = 1;
const RESERVATION_USD = (1024 * 0.6) / 1e6;

/** A budget whose store fails the first `add` (the settle) and then works. */
function flakyBudget() {
  class FailingOnce extends MemoryBudgetStore {
    failures = 0;
    override async add(counters: readonly BudgetCounter[], delta: number): Promise<number[]> {
      if (this.failures++ === 0) throw new Error("store down");
      return super.add(counters, delta);
    }
  }
  const store = new FailingOnce();
  return new BudgetManager({ dailyLimitUsd: LIMIT_USD, store, logger: { warn: () => undefined } });
}

type Injection = (warnings: string[]) => {
  llm: AutoPickerChatModel;
  budget: BudgetManager;
  spy?: () => void;
};

const injections: Record<string, Injection> = {
  "the estimator throws": (warnings) => {
    const spy = jest.spyOn(TokenEstimator.prototype, "learn").mockImplementation(() => {
      throw new Error("estimator bug");
    });
    const budget = new BudgetManager({ dailyLimitUsd: LIMIT_USD });
    // A token limit makes the picker estimate, so the estimator learns afterwards.
    const llm = w.picker({
      primary: { model: w.openai(), limits: { tokensPerMinute: 1_000_000 } },
      budget,
      logger: { warn: (m) => warnings.push(m) },
    });
    return { llm, budget, spy: () => spy.mockRestore() };
  },
  "the rate-limit store throws on commit": (warnings) => {
    class FailingCommit extends MemoryRateLimitStore {
      override async commit(_req: StoreCommitRequest): Promise<void> {
        throw new Error("limiter store down");
      }
    }
    const budget = new BudgetManager({ dailyLimitUsd: LIMIT_USD });
    const llm = w.picker({
      rateLimiter: new RateLimiter({ store: new FailingCommit(), clock: w.clock }),
      budget,
      logger: { warn: (m) => warnings.push(m) },
    });
    return { llm, budget };
  },
  "the budget store throws on settle": (warnings) => {
    const budget = flakyBudget();
    return { llm: w.picker({ budget, logger: { warn: (m) => warnings.push(m) } }), budget };
  },
  "an onServed listener throws": (warnings) => {
    const budget = new BudgetManager({ dailyLimitUsd: LIMIT_USD });
    const llm = w.picker({ budget, logger: { warn: (m) => warnings.push(m) } });
    llm.onServed(() => {
      throw new Error("listener bug");
    });
    return { llm, budget };
  },
};

describe("a failure after the provider answered never loses the answer", () => {
  for (const [name, inject] of Object.entries(injections)) {
    for (const mode of ["invoke", "stream"] as const) {
      it(`${name} (${mode})`, async () => {
        const warnings: string[] = [];
        const { llm, budget, spy } = inject(warnings);
        try {
          let text: string;
          if (mode === "invoke") text = String((await llm.invoke("hi")).content);
          else {
            text = "";
            for await (const c of await llm.stream("hi")) text += c.content;
          }
          expect(text).toMatch(/Simulated answer/);
          expect(warnings).toHaveLength(1);
          // No reservation is left held: the budget holds the settled cost or nothing.
          const spent = LIMIT_USD - (await budget.remaining()).day!;
          expect(spent).toBeGreaterThanOrEqual(0);
          // The call's real cost is a few millionths; a held reservation would be its worst case
          // (1024 output tokens at gpt-4o-mini's $0.60/1M = $0.0006).
          expect(spent).toBeLessThan(RESERVATION_USD / 10);
        } finally {
          spy?.();
        }
      });
    }
  }

  it("a callback handler that throws in handleLLMEnd does not lose the answer", async () => {
    // Core logs a failing handler itself; keep the test output quiet and check that it did.
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const llm = w.picker();
    const res = await llm.invoke("hi", {
      callbacks: [
        {
          handleLLMEnd: () => {
            throw new Error("handler bug");
          },
        },
      ],
    });
    await awaitAllCallbacks();
    expect(String(res.content)).toMatch(/Simulated answer/);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/handleLLMEnd: Error: handler bug/),
    ]);
    warn.mockRestore();
  });
});

describe("an answer without usage", () => {
  // What ChatOpenAI yields when a host omits `usage`: usage_metadata with no token counts.
  const NO_COUNTS = {
    input_tokens: undefined,
    output_tokens: undefined,
    total_tokens: Number.NaN,
  } as unknown as UsageMetadata;

  for (const mode of ["invoke", "stream"] as const) {
    it(`is returned, settled from the estimate and flagged (${mode})`, async () => {
      const warnings: string[] = [];
      const budget = new BudgetManager({ dailyLimitUsd: LIMIT_USD });
      const model = new ScriptedChatModel([{ text: "an answer", usage: NO_COUNTS }], {
        model: "gpt-4o-mini",
      });
      const llm = new AutoPickerChatModel({
        primary: {
          model,
          name: "scripted/no-usage",
          maxInputTokens: 100_000,
          limits: { tokensPerMinute: 100_000 },
          pricing: { inputPer1M: 1, outputPer1M: 1 },
        },
        budget,
        clock: w.clock,
        logger: { warn: (m) => warnings.push(m) },
      });
      let message: Awaited<ReturnType<typeof llm.invoke>> | undefined;
      if (mode === "invoke") message = await llm.invoke("hi");
      else for await (const c of await llm.stream("hi")) message = message ? message.concat(c) : c;
      expect(String(message!.content)).toBe("an answer");
      expect(getDecisionTrail(message)?.usage_estimated).toBe(true);
      expect(warnings).toEqual([
        expect.stringMatching(/answered without token usage.*settled from the estimate/),
      ]);
      // The reservation stands as the spend (the estimate), never $0.
      const spent = LIMIT_USD - (await budget.remaining()).day!;
      expect(spent).toBeGreaterThan(0);
      // The limiter kept the estimate: the booking is still counted.
      const status = await llm.rateLimiter.status("scripted/no-usage");
      expect(status.dimensions.find((d) => d.unit === "tokens")?.used).toBeGreaterThan(0);
    });
  }
});

it("the fixtures name the models they mean", () => {
  expect(OPENAI_NAME).toBe("openai/gpt-4o-mini");
  expect(usage(1, 1).total_tokens).toBe(2);
});
