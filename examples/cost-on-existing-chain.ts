/**
 * The cost handler on an ordinary LangChain chain: no AutoPickerChatModel involved.
 * `npx tsx examples/cost-on-existing-chain.ts` (simulator) — with OPENAI_API_KEY it calls OpenAI.
 */
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { ChatOpenAI } from "@langchain/openai";
import { CostTrackingCallbackHandler } from "langchain-autopicker";
import { ProviderSimulator } from "langchain-autopicker/testing";

async function main(): Promise<void> {
  const sim = process.env.OPENAI_API_KEY
    ? undefined
    : new ProviderSimulator({ models: { "gpt-4o-mini": { provider: "openai", promptCaching: true } } });
  await sim?.start();
  const model = new ChatOpenAI({
    model: "gpt-4o-mini",
    ...(sim ? { apiKey: "sk-simulated", configuration: { baseURL: sim.openaiBaseURL } } : {}),
  });

  const costs = new CostTrackingCallbackHandler({
    groupByMetadata: ["userId"],
    onCost: (r) =>
      console.log(
        `${r.model}: ${r.status} $${r.costUsd?.toFixed(8) ?? "?"} (${r.usage?.inputTokens ?? 0} in)`,
      ),
  });
  const chain = ChatPromptTemplate.fromTemplate("{text}\n\nSummarise the text above for {audience}.")
    .pipe(model)
    .pipe(new StringOutputParser());

  // A long shared prefix: from the second call on, OpenAI (and the simulator) bill it as cached input.
  const text = "LangChain agents resend their whole conversation on every step. ".repeat(120);
  for (const [i, audience] of ["engineers", "managers", "lawyers"].entries()) {
    await chain.invoke({ audience, text }, { callbacks: [costs], metadata: { userId: `u-${i % 2}` } });
  }
  for await (const _ of await chain.stream({ audience: "students", text }, { callbacks: [costs] })) {
    // streamed runs are priced too
  }

  const stats = costs.getUsageStats();
  console.log(
    `\ntotal $${stats.total.costUsd.toFixed(8)} over ${stats.total.requests} calls, ${stats.total.cachedInputTokens} cached input tokens`,
  );
  for (const [user, totals] of Object.entries(stats.byMetadata.userId ?? {}))
    console.log(`  ${user}: $${totals.costUsd.toFixed(8)}`);
  await sim?.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
