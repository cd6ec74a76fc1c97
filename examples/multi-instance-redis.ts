/**
 * Several replicas, one rate limit: three "replicas" (separate pickers with their own Redis
 * connections, as separate processes would have) share 6 requests per 3 s on one simulated
 * provider through Redis. Nobody gets a 429; the calls queue in order across the replicas.
 *
 * Run: `npx tsx examples/multi-instance-redis.ts` (needs Redis at REDIS_URL, default
 * redis://127.0.0.1:6379). In production each replica runs the same code with the same Redis and
 * key prefix; nothing else is shared.
 */
import { ChatOpenAI } from "@langchain/openai";
import { AutoPickerChatModel, BudgetManager, RateLimiter, rateLimitHeadersFetch } from "langchain-autopicker";
import {
  createRedisClient,
  RedisBudgetStore,
  RedisRateLimitStore,
  ResilientBudgetStore,
  ResilientRateLimitStore,
} from "langchain-autopicker/redis";
import { ProviderSimulator } from "langchain-autopicker/testing";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const keyPrefix = `autopicker-example:${Date.now()}:`;
const limit = { unit: "requests" as const, limit: 6, intervalMs: 3000 };

const sim = new ProviderSimulator({
  models: { "gpt-4o-mini": { provider: "openai", windows: [limit] }, "gpt-4o": { provider: "openai" } },
});
await sim.start();

/** What one replica builds at startup. */
function replica(name: string) {
  const client = createRedisClient(REDIS_URL);
  const rateLimiter = new RateLimiter({
    store: new ResilientRateLimitStore({
      store: new RedisRateLimitStore({ client, keyPrefix }),
      expectedReplicas: 3, // while Redis is down, each replica keeps to a third of each limit
    }),
  });
  const budget = new BudgetManager({
    dailyLimitUsd: 5,
    store: new ResilientBudgetStore({
      store: new RedisBudgetStore({ client, keyPrefix }),
      expectedReplicas: 3,
    }),
  });
  const llm = new AutoPickerChatModel({
    primary: {
      model: new ChatOpenAI({
        model: "gpt-4o-mini",
        apiKey: "sk-test",
        configuration: { baseURL: sim.openaiBaseURL, fetch: rateLimitHeadersFetch() },
      }),
      limits: { windows: [limit] },
    },
    rateLimiter,
    budget,
  });
  return { name, llm, budget, close: () => client.quit() };
}

const replicas = ["a", "b", "c"].map(replica);
// A cold process spends a second or more on its first call (tokenizer ranks, client setup) after
// the slot was booked; the provider would see that call late, inside the next window. Warm up on
// an unlimited model first (a real server is warm after its first request).
await new AutoPickerChatModel({
  primary: new ChatOpenAI({
    model: "gpt-4o",
    apiKey: "sk-test",
    configuration: { baseURL: sim.openaiBaseURL },
  }),
}).invoke("warm up");
const t0 = Date.now();
await Promise.all(
  replicas.flatMap((r) =>
    Array.from({ length: 5 }, async (_, i) => {
      await r.llm.invoke(`question ${i} from replica ${r.name}`);
      console.log(`replica ${r.name} call ${i} done at +${((Date.now() - t0) / 1000).toFixed(2)} s`);
    }),
  ),
);
const stats = sim.stats("gpt-4o-mini");
console.log(`\n${stats.served} served, ${stats.rateLimited} rate-limited (429) by the provider.`);
console.log(`Budget left today (shared): $${(await replicas[0]!.budget.remaining()).day?.toFixed(4)}`);

// An example should leave nothing behind: delete this run's keys (rate-limit logs expire within
// minutes, but budget keys live for the day and month they count).
const admin = createRedisClient(REDIS_URL);
let cursor = "0";
let deleted = 0;
do {
  const [next, keys] = await admin.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 500);
  cursor = next;
  if (keys.length > 0) deleted += await admin.unlink(...keys);
} while (cursor !== "0");
console.log(`Removed this example's ${deleted} Redis keys.`);
await admin.quit();
await Promise.all(replicas.map((r) => r.close()));
await sim.stop();
