/**
 * Shared by the Redis tests: connects to `REDIS_URL` (default redis://127.0.0.1:6379) or decides to
 * skip. When Redis is unreachable the suites are skipped with a warning, except under CI
 * (`CI=true`), where that is a failure.
 */
import { execFileSync } from "node:child_process";
import { Redis } from "ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A client with the options the package recommends (short timeouts, few retries). */
export function connect(url = REDIS_URL): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  client.on("error", () => undefined);
  return client;
}

/** A connected {@link connect} client (for `beforeAll`). */
export async function openClient(): Promise<Redis> {
  const client = connect();
  await client.connect();
  return client;
}

/** Deletes the test's keys and disconnects (for `afterAll`). */
export async function closeClient(client: Redis, prefix: string): Promise<void> {
  await cleanup(client, prefix);
  await client.quit();
}

/** Whether Redis answers PING, synchronously (describe blocks are built synchronously). */
function reachable(url: string): boolean {
  const script =
    `const {Redis}=require("ioredis");const c=new Redis(process.argv[1],{lazyConnect:true,connectTimeout:800,maxRetriesPerRequest:0,retryStrategy:()=>null});` +
    `c.on("error",()=>{});c.connect().then(()=>c.ping()).then(()=>{c.disconnect();process.exit(0)},()=>process.exit(1))`;
  try {
    execFileSync(process.execPath, ["-e", script, url], { stdio: "ignore", timeout: 3000 });
    return true;
  } catch {
    return false;
  }
}

const available = reachable(REDIS_URL);
if (!available) {
  if (process.env.CI === "true") throw new Error(`Redis is required in CI but ${REDIS_URL} is unreachable.`);
  console.warn(`Skipping Redis tests: ${REDIS_URL} is unreachable (set REDIS_URL or start redis-server).`);
}

/** `describe`, or `describe.skip` when Redis is unreachable outside CI. */
export const describeRedis: jest.Describe = available ? describe : describe.skip;

/** A key prefix unique to this test run. */
export function uniquePrefix(label: string): string {
  return `autopicker-test:${label}:${process.pid}:${Date.now().toString(36)}:`;
}

/** Deletes every key under `prefix`. */
export async function cleanup(client: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== "0");
}
