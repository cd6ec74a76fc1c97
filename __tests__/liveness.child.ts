/**
 * A batch script as users write them: calls in a loop, each of which must wait out a rate limit on
 * real time. Run by `liveness.int.test.ts` under tsx, as `MODE=tla` (top-level await) or
 * `MODE=main` (`main().catch()`); SIM_OPENAI is the simulator's base URL (in the parent process,
 * so nothing in this process but the wait itself can keep it alive between calls).
 * Prints one line per finished call ("call N ok"), then "done".
 */
import { ChatOpenAI } from "@langchain/openai";
import { AutoPickerChatModel } from "../src/model/AutoPickerChatModel";

const CALLS = 3;

async function main(): Promise<void> {
  const llm = new AutoPickerChatModel({
    primary: {
      model: new ChatOpenAI({
        model: "gpt-4o-mini",
        apiKey: "sk-test",
        configuration: { baseURL: process.env.SIM_OPENAI },
      }),
      // One request per 300 ms: every call after the first sleeps ~300 ms before it is sent.
      limits: { windows: [{ unit: "requests", limit: 1, intervalMs: 300 }] },
    },
  });
  for (let i = 1; i <= CALLS; i++) {
    await llm.invoke(`call ${i}`);
    console.log(`call ${i} ok`);
  }
  console.log("done");
}

if (process.env.MODE === "tla") {
  await main();
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
