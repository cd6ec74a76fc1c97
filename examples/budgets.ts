/**
 * A daily budget that downgrades to the cheaper model instead of overspending, plus per-call routing.
 * `npx tsx examples/budgets.ts` (simulator).
 */
import { ChatOpenAI } from "@langchain/openai";
import { AutoPickerChatModel, BudgetManager, type DecisionTrail } from "langchain-autopicker";
import { ProviderSimulator } from "langchain-autopicker/testing";

async function main(): Promise<void> {
  const sim = new ProviderSimulator({
    models: { "gpt-4o": { provider: "openai" }, "gpt-4o-mini": { provider: "openai" } },
  });
  await sim.start();
  const openai = (model: string) =>
    new ChatOpenAI({
      model,
      maxTokens: 200,
      apiKey: "sk-simulated",
      configuration: { baseURL: sim.openaiBaseURL },
    });

  const budget = new BudgetManager({
    dailyLimitUsd: 0.004,
    mode: "downgrade",
    onAlert: (alert) => console.log(`ALERT ${alert.type}: ${alert.message}`),
  });
  const llm = new AutoPickerChatModel({
    primary: openai("gpt-4o"),
    fallbacks: [openai("gpt-4o-mini")],
    budget,
    tasks: { classify: "cost" },
  });

  const served = (m: { response_metadata: Record<string, unknown> }) =>
    (m.response_metadata.autopicker as DecisionTrail).model;
  console.log(
    "classification step ->",
    served(await llm.invoke("Label: positive or negative?", { autopicker: { task: "classify" } })),
  );
  for (let i = 1; i <= 8; i++) {
    const answer = await llm.invoke(`Reasoning step ${i}: ${"think hard ".repeat(100)}`);
    const left = await budget.remaining();
    console.log(`step ${i} -> ${served(answer)}  (budget left today: $${left.day?.toFixed(5)})`);
  }
  await sim.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
