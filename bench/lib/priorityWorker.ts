/**
 * A replica of `bench/priority.ts`, run with `node --import tsx`: one `RateLimiter` on a shared
 * `RedisRateLimitStore`. Gets `{ redisUrl, keyPrefix }` as JSON in argv[2], says "ready", then runs
 * each `RunSpec` it is sent (its share of the workload) and answers with the samples; "exit" ends it.
 */
import { RateLimiter } from "../../src/limits";
import { createRedisClient, RedisRateLimitStore } from "../../src/redis";
import { driveShare, type RunSpec, type Sample } from "./priority";

/** What the parent sends. */
export type WorkerCommand = { run: RunSpec } | "exit";
/** What the replica answers. */
export type WorkerReply = "ready" | { samples: Sample[] } | { error: string };

const { redisUrl, keyPrefix } = JSON.parse(process.argv[2] ?? "{}") as {
  redisUrl: string;
  keyPrefix: string;
};

async function main(): Promise<void> {
  const client = createRedisClient(redisUrl);
  await client.ping();
  const limiter = new RateLimiter({ store: new RedisRateLimitStore({ client, keyPrefix }) });
  const reply = (r: WorkerReply) => process.send?.(r);
  process.on("message", (raw) => {
    const cmd = raw as WorkerCommand;
    if (cmd === "exit") {
      void client.quit().finally(() => process.disconnect());
      return;
    }
    driveShare(limiter, cmd.run).then(
      (samples) => reply({ samples }),
      (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
  reply("ready");
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
  process.disconnect();
});
